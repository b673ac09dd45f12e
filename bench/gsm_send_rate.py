"""Sustained send rate with the emulator taking 1 s per +CMGS, for 1, 2 and 4 modems.

Prints sends per minute per modem as a ratio of the emulator's limit (target ≥ 0.95) and the scaling
with more modems (target: near-linear). Usage: python bench/gsm_send_rate.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import time

from gsm_common import HostedModems, fakes
from loguru import logger

from absensi.drivers.gsm import ModemPool, ModemSettings

CMGS_SECONDS = 1.0


def run(modems: int, seconds: float) -> tuple[float, list[int]]:
    inbox_cls, outbox_cls = fakes()
    hosted = HostedModems(["sim800"] * modems, {"send_delay": CMGS_SECONDS})
    outbox = outbox_cls()
    for n in range(int(seconds * modems / CMGS_SECONDS) + 10 * modems):
        outbox.add(f"+62812{n:07d}", f"Ananda tidak hadir hari ini, pesan nomor {n}.")
    pool = ModemPool(hosted.ports, inbox_cls(), outbox, settings=ModemSettings(register_timeout=5))
    pool.start()
    try:
        time.sleep(seconds + 3)
        stats = hosted.ask("stats")
    finally:
        pool.stop()
        hosted.close()
    rates = []
    for s in stats:
        stamps = s["sent_at"]
        window = [t for t in stamps if t >= stamps[0] + 1.0]  # skip the first send (start-up)
        rates.append(60.0 * (len(window) - 1) / (window[-1] - window[0]) if len(window) > 2 else 0.0)
    return sum(rates) / len(rates), [s["sent"] for s in stats]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--modems", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()
    logger.remove()
    limit = 60.0 / CMGS_SECONDS
    base = None
    print(f"emulator limit: {limit:.0f} sends/min/modem (1 s per +CMGS); {args.seconds:.0f} s per run")
    for n in args.modems:
        per_modem, counts = run(n, args.seconds)
        total = per_modem * n
        base = base or per_modem
        print(f"{n} modem(s): {per_modem:5.1f} sends/min/modem = {per_modem / limit:.3f} of limit; "
              f"total {total:6.1f}/min = {total / base:.2f}x one modem; parts per modem {counts}")


if __name__ == "__main__":
    main()
