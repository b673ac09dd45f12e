"""500 messages waiting in SIM storage drained into the inbox: how long, and where the time goes.

The emulator answers instantly unless --reply-delay is given; a real modem takes roughly 10–100 ms per
command, and draining costs one +CMGL plus one +CMGD per message. Usage: python bench/gsm_drain.py
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from gsm_common import HostedModems, fakes
from loguru import logger

from absensi.drivers.gsm import ModemPool, ModemSettings, inbound, modem, pdu

SPENT: dict[str, float] = defaultdict(float)


def timed(name: str, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[name] += time.perf_counter() - start
    return wrapper


def instrument(inbox) -> None:
    modem.Modem.initialise = timed("start-up (initialise)", modem.Modem.initialise)
    modem.Modem.list_messages = timed("AT+CMGL (list + read)", modem.Modem.list_messages)
    modem.Modem.delete = timed("AT+CMGD (delete)", modem.Modem.delete)
    inbound.Reassembler.add = timed("decode + reassembly", inbound.Reassembler.add)
    inbox.submit = timed("inbox.submit (commit)", inbox.submit)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--reply-delay", type=float, default=0.0, help="emulated seconds per AT command")
    args = parser.parse_args()
    logger.remove()
    inbox_cls, outbox_cls = fakes()
    stamp = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    pdus = [pdu.encode_deliver(f"+62812{n:07d}", f"IZIN {n} sakit demam, mohon dimaklumi. Terima kasih.",
                               stamp + timedelta(seconds=n)) for n in range(args.messages)]
    hosted = HostedModems(["sim800"], {"reply_delay": args.reply_delay}, capacity=args.messages + 10)
    hosted.ask("preload", 0, pdus)
    inbox = inbox_cls()
    instrument(inbox)
    pool = ModemPool(hosted.ports, inbox, outbox_cls(), settings=ModemSettings(register_timeout=5))
    start = time.perf_counter()
    pool.start()
    try:
        while len(inbox.messages) < args.messages or hosted.ask("stats")[0]["storage"]:
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        ready_at = pool.workers[0].stats["inits"]
    finally:
        pool.stop()
        hosted.close()
    print(f"{args.messages} stored messages drained into the inbox in {elapsed:.2f} s "
          f"({args.messages / elapsed:.0f} msg/s), emulated reply delay {args.reply_delay * 1000:.0f} ms/command, "
          f"{ready_at} initialisation(s)")
    accounted = sum(SPENT.values())
    for name, spent in sorted(SPENT.items(), key=lambda kv: -kv[1]):
        print(f"  {name:26s} {spent:7.2f} s  {100 * spent / elapsed:5.1f} %")
    print(f"  {'the rest (threads, waits)':26s} {elapsed - accounted:7.2f} s  {100 * (elapsed - accounted) / elapsed:5.1f} %")


if __name__ == "__main__":
    main()
