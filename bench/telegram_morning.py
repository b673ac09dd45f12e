"""Bench: a 30-class school morning delivered through the Telegram deliverer on a simulated clock.

All of the morning's outbound Telegram items are due at once (the worst case: the service was offline
and comes back, or everything is reported in the same minutes): replies to 30 class officers (3 each),
alfa pushes to wali kelas, parents' SAKIT/IZIN forwarded to wali kelas, officers and the guru piket,
and INFO messages forwarded to the officials' group. The real `Deliverer` (its `run` loop, with up to
4 sends in flight) and `Pacer` send them to a fake Telegram with a fixed per-call latency, on an event
loop whose clock jumps to the next timer instead of waiting: an hour of sending takes milliseconds.

Printed: items, chats, the minimum time Telegram's limits allow for this load (per chat 1/s, per group
20/min, overall 30/s), the time the deliverer took, and their ratio (target ≤ 1.2).

Run: python bench/telegram_morning.py
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyrogram import types

from absensi.drivers.telegram.deliver import Deliverer
from absensi.drivers.telegram.pacing import Limits, is_group
from absensi.engine.messages import Button, Channel
from absensi.engine.ports import OutboxItem

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from telegram.fakes import VirtualTimeLoop

GROUP = "-1001234567890"
LIMITS = Limits()
START = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


def clock() -> datetime:
    return START + timedelta(seconds=asyncio.get_running_loop().time())


class Outbox:
    """The outbox port, in memory: every item due at START, claimed oldest first."""

    def __init__(self, items: list[OutboxItem]) -> None:
        self.pending = {i.id: i for i in items}
        self.due = dict.fromkeys(self.pending, START)
        self.done: dict[int, str] = {}

    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        ready = sorted(i for i, due in self.due.items() if due <= now)[:limit]
        for item_id in ready:
            del self.due[item_id]
        return [self.pending[i] for i in ready]

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        self.done[item_id] = "sent"

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        self.pending[item_id] = replace(self.pending[item_id], attempts=self.pending[item_id].attempts + 1)
        self.due[item_id] = next_try

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        self.done[item_id] = "failed"

    def recover(self, channel: Channel, now: datetime) -> int:
        return 0


class Telegram:
    """Records when each message went out; every call takes `latency` (virtual) seconds."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.sends: list[tuple[str, float]] = []
        self._ids = itertools.count(1)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> types.Message:
        self.sends.append((str(chat_id), (clock() - START).total_seconds()))
        await asyncio.sleep(self.latency)
        return types.Message(id=next(self._ids), chat=types.Chat(id=chat_id))

    send_document = send_message


def morning(seed: int = 7) -> list[OutboxItem]:
    """The outbound Telegram items of one busy morning, in the order the engine would write them."""
    rng = random.Random(seed)
    officers = [str(700001 + n) for n in range(30)]
    walis = [str(800001 + n) for n in range(30)]
    piket = "900001"
    events: list[tuple[float, str, str]] = []
    for n, officer in enumerate(officers):
        for k in range(3):
            at = rng.uniform(0, 3600)
            events.append((at, officer, f"Absensi {n} hari ini: …"))
            if k == 0 and rng.random() < 0.8:
                events.append((at, walis[n], "Alfa dilaporkan: …"))
            if k == 1 and rng.random() < 0.45:
                events.append((at, walis[n], "Alfa dilaporkan: …"))
    for _ in range(14):  # parents' SAKIT/IZIN forwarded to wali, ketua and guru piket
        at, cls = rng.uniform(0, 3600), rng.randrange(30)
        events += [(at, walis[cls], "SAKIT dari ortu …"), (at, officers[cls], "SAKIT dari ortu …"),
                   (at, piket, "SAKIT dari ortu …")]
    events += [(rng.uniform(0, 3600), GROUP, "INFO dari 0812…: …") for _ in range(27)]
    events.sort()
    buttons = ((Button("Kirim", "abs:1:ok"),),)
    return [OutboxItem(id=i + 1, channel=Channel.TELEGRAM, to=to, text=text,
                       buttons=buttons if to.startswith("7") and i % 5 == 0 else ())
            for i, (_, to, text) in enumerate(events)]


def minimum_seconds(items: list[OutboxItem], limits: Limits = LIMITS) -> float:
    """The earliest the last message can start under Telegram's limits, all items being due at 0."""
    per_chat = Counter(item.to for item in items)
    bounds = [math.ceil(len(items) / limits.global_max - 1) * limits.global_window]
    for chat, count in per_chat.items():
        times: list[float] = []
        for k in range(count):
            at = k * limits.per_chat_interval
            if is_group(chat) and k >= limits.group_max:
                at = max(at, times[k - limits.group_max] + limits.group_window)
            times.append(at)
        bounds.append(times[-1])
    return max(bounds)


async def deliver_all(items: list[OutboxItem], latency: float, concurrency: int) -> tuple[float, Telegram, Outbox]:
    outbox, api = Outbox(items), Telegram(latency)
    deliverer = Deliverer(outbox, api, clock=clock, concurrency=concurrency)
    stop = asyncio.Event()
    running = asyncio.ensure_future(deliverer.run(stop))
    while len(outbox.done) < len(items):
        await asyncio.sleep(0.05)
    stop.set()
    await running
    return api.sends[-1][1], api, outbox


def check_limits(sends: list[tuple[str, float]], limits: Limits = LIMITS) -> None:
    """Fail loudly if the deliverer broke any of Telegram's limits."""
    eps = 1e-9
    for chat in {c for c, _ in sends}:
        times = [t for c, t in sends if c == chat]
        assert all(b - a >= limits.per_chat_interval - eps for a, b in itertools.pairwise(times)), chat
        if is_group(chat):
            n = limits.group_max
            assert all(times[i + n] - times[i] >= limits.group_window - eps for i in range(len(times) - n))
    times = sorted(t for _, t in sends)
    n = limits.global_max
    assert all(times[i + n] - times[i] >= limits.global_window - eps for i in range(len(times) - n))


def report(title: str, items: list[OutboxItem]) -> None:
    chats = Counter(i.to for i in items)
    floor = minimum_seconds(items)
    print(f"{title}: {len(items)} items, {len(chats)} chats ({chats[GROUP]} to the group); "
          f"minimum allowed by Telegram's limits {floor:.1f} s")
    for concurrency in (1, 4):
        for latency in (0.0, 0.08, 0.25):
            wall = time.perf_counter()
            with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
                took, api, outbox = runner.run(deliver_all(items, latency, concurrency))
            wall = time.perf_counter() - wall
            assert set(outbox.done.values()) == {"sent"} and len(api.sends) == len(items)
            check_limits(api.sends)
            print(f"  {concurrency} in flight, latency {latency * 1000:>3.0f} ms/call: last message starts at "
                  f"{took:6.1f} s, ratio {took / floor:.3f} (simulated in {wall * 1000:.0f} ms)")


def main() -> None:
    items = morning()
    report("whole morning", items)
    report("private chats only", [i for i in items if i.to != GROUP])


if __name__ == "__main__":
    main()
