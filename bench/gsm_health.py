"""What the modem health check (issue 12) costs: one check's time and AT commands, and the send rate with
checks every 60 s (the default) against every 2 s.

    .venv/bin/python bench/gsm_health.py [--checks 20] [--latency 0.03] [--seconds 30]

The emulator (tests/gsm, in a child process, on a real pty) answers each command after `--latency` seconds
(real modems: ~10–100 ms) and takes 1 s per +CMGS. A check is what the worker runs between sends:
`AT+CMGF?` (settings lost?), `AT+CREG?`/`AT+CEREG?`/`AT+CGREG?`, `AT+CSQ`, `AT+CPMS?`, `AT+COPS?`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from benchlib import Figure, header, print_table
from gsm_common import HostedModems, fakes
from loguru import logger

from absensi.drivers.gsm import ModemPool, ModemSettings
from absensi.drivers.gsm.modem import Modem

CMGS_SECONDS = 1.0


def check_cost(checks: int, latency: float) -> tuple[Figure, Figure]:
    hosted = HostedModems(["sim800"], {"reply_delay": latency})
    seconds = Figure("one health check", "≪ 1 % of the 60 s interval", "ms", fmt="{:.0f}")
    commands = Figure("AT commands per check", "", "commands", fmt="{:.0f}")
    modem = Modem(hosted.ports[0], ModemSettings(register_timeout=5), lambda _e: None)
    modem.open()
    try:
        modem.initialise()
        for _ in range(checks):
            before = hosted.ask("stats")[0]["commands"]
            start = time.perf_counter()
            modem.settings_lost()
            modem.refresh()
            seconds.add((time.perf_counter() - start) * 1000)
            commands.add(hosted.ask("stats")[0]["commands"] - before)
    finally:
        modem.close()
        hosted.close()
    return seconds, commands


def send_rate(health_interval: float, seconds: float) -> float:
    inbox_cls, outbox_cls = fakes()
    hosted = HostedModems(["sim800"], {"send_delay": CMGS_SECONDS, "reply_delay": 0.03})
    outbox = outbox_cls()
    for n in range(int(seconds / CMGS_SECONDS) + 10):
        outbox.add(f"+62812{n:07d}", f"Ananda tidak hadir hari ini, pesan nomor {n}.")
    settings = replace(ModemSettings(register_timeout=5), health_interval=health_interval)
    pool = ModemPool(hosted.ports, inbox_cls(), outbox, settings=settings)
    pool.start()
    try:
        time.sleep(seconds + 3)
        stamps = hosted.ask("stats")[0]["sent_at"]
    finally:
        pool.stop()
        hosted.close()
    window = [t for t in stamps if t >= stamps[0] + 1.0]
    return 60.0 * (len(window) - 1) / (window[-1] - window[0]) if len(window) > 2 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    logger.remove()
    load = header("GSM health check (issue 12)")
    seconds, commands = check_cost(args.checks, args.latency)
    share = statistics.median(seconds.values) / 1000 / ModemSettings().health_interval * 100
    rates = {interval: Figure(f"sends/min, health every {interval:.0f} s", "≈ 60 (1 s per +CMGS)", "per min",
                              fmt="{:.1f}") for interval in (60.0, 2.0)}
    for _ in range(args.runs):
        for interval, figure in rates.items():
            figure.add(send_rate(interval, args.seconds))
    print_table("Health check", [seconds, commands, *rates.values()], [
        f"Emulator latency {args.latency * 1000:.0f} ms per command; the median check takes {share:.2f} % of "
        f"the default 60 s interval.", load.report()])


if __name__ == "__main__":
    main()
