"""Bench: the Telegram deliverer at rest — how often it looks at the outbox, and what that costs.

    .venv/bin/python bench/telegram_idle.py [--backend sqlite|postgres] [--runs 3] [--seconds 60]

`absensi run` cannot reach Telegram offline (the real client would sit in its reconnect backoff, which is
not the service at rest), so this runs the real `TelegramService` in this process on a real store, with an
offline client that logs in at once and records what it is asked to send. Two ways, each `--runs` times:
- polled: the outbox is handed over without its listeners (`on_outbox`), so the deliverer looks every
  `poll` second — what it did before it was woken by the outbox;
- woken: the store itself — the deliverer looks when an outbox commit tells it, when the next retry falls
  due, or after the store's fallback (10 s SQLite, 60 s PostgreSQL).
Per run: the deliverer's looks at the outbox (claims and next-due queries) per minute and the CPU of this
process (the service's event loop is all that runs) over `--seconds` of an empty outbox, after 2 s of
settling; then, woken only, the time from an outbox commit in another thread (as the engine's) to the send.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import Figure, header, own_cpu, postgres, print_table, quiet_loguru
from pyrogram import types

from absensi.drivers.telegram import TelegramService
from absensi.engine.messages import Channel
from absensi.engine.store import Store, sqlite_url
from absensi.engine.store.models import OutboxRow

TOKEN = "7712345678:AAH3kd9_Zx-0123456789abcdefghijklmno"
HASH = "0123456789abcdef0123456789abcdef"
CHAT = "70000"  # a chat per sample: Telegram's pacing of one chat does not count
LATENCY_SAMPLES = 5


def now() -> datetime:
    return datetime.now(UTC)


class OfflineClient:
    """What the service asks of a kurigram Client, answered at once without a network."""

    def __init__(self) -> None:
        self.me = types.User(id=999, is_bot=True, first_name="Absensi", username="AbsensiBenchBot")
        self.sent: list[tuple[float, str]] = []
        self._ids = iter(range(100, 10**9))

    def add_handler(self, handler: Any, group: int = 0) -> None:
        pass

    async def start(self) -> OfflineClient:
        return self

    async def stop(self) -> None:
        pass

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        self.sent.append((time.monotonic(), text))
        return types.Message(id=next(self._ids))


class Counting:
    """The store's outbox as the deliverer uses it, counting its looks; `listeners=False` hides `on_outbox`
    (the deliverer then polls) — every other call goes to the store."""

    def __init__(self, store: Store, listeners: bool) -> None:
        self.store, self.looks, self.listeners = store, 0, listeners

    def claim(self, *args: Any, **kwargs: Any) -> Any:
        self.looks += 1
        return self.store.claim(*args, **kwargs)

    def next_due(self, channel: Channel) -> Any:
        self.looks += 1
        return self.store.next_due(channel)

    def __getattr__(self, name: str) -> Any:
        if name == "on_outbox" and not self.listeners:
            raise AttributeError(name)
        return getattr(self.store, name)


def add_row(store: Store, text: str, chat: str) -> None:
    at = now()
    with store.unit() as session:
        session.add(OutboxRow(channel="telegram", recipient=chat, text=text, payload={}, kind="reply",
                              status="pending", attempts=0, next_try_at=at, created_at=at, priority=50))


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="absensi-bench-") as name:
            yield sqlite_url(Path(name) / "absensi.db")
    else:
        with postgres() as server, server.database() as url:
            yield url


def one_run(url: str, woken: bool, seconds: float) -> dict[str, float]:
    store = Store(url)
    outbox = Counting(store, listeners=woken)
    client = OfflineClient()
    with tempfile.TemporaryDirectory(prefix="absensi-tg-") as session_dir:
        service = TelegramService(store, outbox, session_dir=Path(session_dir), clock=now, token=TOKEN,
                                  api_id="123456", api_hash=HASH, client_factory=lambda *_: client)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        thread = threading.Thread(target=loop.run_until_complete, args=(service.run(stop),), daemon=True)
        thread.start()
        try:
            time.sleep(2.0)  # logged in, first look done
            looks0, cpu0, t0 = outbox.looks, own_cpu(), time.monotonic()
            time.sleep(seconds)
            looks1, cpu1, t1 = outbox.looks, own_cpu(), time.monotonic()
            figures = {"looks": 60 * (looks1 - looks0) / (t1 - t0), "cpu": 100 * (cpu1 - cpu0) / (t1 - t0)}
            if woken:
                waits = []
                for n in range(LATENCY_SAMPLES):
                    text = f"balasan {n}"
                    added = time.monotonic()
                    threading.Thread(target=add_row, args=(store, text, f"{CHAT}{n}")).start()  # as the engine thread commits
                    while not any(t == text for _, t in client.sent):
                        if time.monotonic() - added > 30:
                            raise SystemExit(f"{text!r} was not sent within 30 s")
                        time.sleep(0.001)
                    waits.append(next(at for at, t in client.sent if t == text) - added)
                    time.sleep(0.5)
                figures["latency"] = 1000 * sorted(waits)[len(waits) // 2]
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
            loop.close()
            store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each idle measurement")
    args = parser.parse_args()
    quiet_loguru()
    load = header(f"Telegram deliverer at rest, {args.backend}, {args.seconds:.0f} s per run")
    polled_looks = Figure("looks at the outbox, polled every 1 s (before)", "", "per minute", fmt="{:.1f}")
    woken_looks = Figure("looks at the outbox, woken (now)", "", "per minute", fmt="{:.1f}")
    polled_cpu = Figure("CPU of the service at rest, polled (before)", "", "% of a core", fmt="{:.3f}")
    woken_cpu = Figure("CPU of the service at rest, woken (now)", "", "% of a core", fmt="{:.3f}")
    latency = Figure(f"outbox commit → sent, woken (median of {LATENCY_SAMPLES} per run)", "", "ms", fmt="{:.1f}")
    with database(args.backend) as url:
        for _ in range(args.runs):
            for woken in (False, True):
                got = one_run(url, woken, args.seconds)
                (woken_looks if woken else polled_looks).add(got["looks"])
                (woken_cpu if woken else polled_cpu).add(got["cpu"])
                if woken:
                    latency.add(got["latency"])
    print_table(f"Telegram deliverer at rest ({args.backend})",
                [polled_looks, woken_looks, polled_cpu, woken_cpu, latency], [load.report()])


if __name__ == "__main__":
    main()
