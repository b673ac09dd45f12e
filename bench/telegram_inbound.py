"""Bench: the driver's cost per inbound Telegram update, up to a trivial inbox.

Two figures:
- conversion: a parsed pyrogram `Message` (and a `CallbackQuery`) through the driver's handler into an
  inbox that only appends — what the driver itself adds per update;
- dispatcher: a raw MTProto update through kurigram's real Dispatcher (parsing included) and the
  driver's handler — what one update costs end to end before the store.

Run: python bench/telegram_inbound.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from pyrogram import Client, enums, raw, types

from absensi.drivers.telegram.inbound import InboundHandlers
from absensi.engine.messages import InboundMessage

ROUNDS, PER_ROUND = 30, 200
START = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


class AppendInbox:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    def submit(self, msg: InboundMessage) -> bool:
        self.messages.append(msg)
        return True


class QuietClient(Client):
    """Never started; answering a callback costs nothing."""

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        return True


def sample_message(n: int) -> types.Message:
    user = types.User(id=700001 + n % 30, first_name="Budi_Santoso", is_bot=False)
    return types.Message(id=n, from_user=user, chat=types.Chat(id=user.id, type=enums.ChatType.PRIVATE),
                         text=f"A {n % 36 + 1} {n % 7 + 1} demam", date=datetime.fromtimestamp(1764462665 + n))


def sample_press(n: int, client: Client) -> types.CallbackQuery:
    user = types.User(id=700001 + n % 30, first_name="Budi", is_bot=False)
    return types.CallbackQuery(client=client, id=str(n), from_user=user, data=f"abs:{n}:pick:{n % 36}")


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


async def bench_conversion() -> tuple[float, float]:
    client = QuietClient("bench", api_id=1, api_hash="x", bot_token="1:x", in_memory=True)
    client.me = types.User(id=999, is_bot=True, first_name="Absensi")
    handlers = InboundHandlers(AppendInbox(), lambda: START)
    messages = [sample_message(n) for n in range(PER_ROUND)]
    presses = [sample_press(n, client) for n in range(PER_ROUND)]
    text_rounds, press_rounds = [], []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        for message in messages:
            await handlers.on_message(client, message)
        text_rounds.append((time.perf_counter() - began) / PER_ROUND)
        began = time.perf_counter()
        for press in presses:
            await handlers.on_callback(client, press)
        press_rounds.append((time.perf_counter() - began) / PER_ROUND)
    return median_us(text_rounds), median_us(press_rounds)


def raw_update(n: int) -> tuple[Any, dict[int, Any], dict[int, Any]]:
    user_id = 700001 + n % 30
    user = raw.types.User(id=user_id, first_name="Budi_Santoso", access_hash=1, restriction_reason=[], usernames=[])
    message = raw.types.Message(id=n + 1, peer_id=raw.types.PeerUser(user_id=user_id), date=1764462665 + n,
                                message=f"A {n % 36 + 1} demam", from_id=raw.types.PeerUser(user_id=user_id),
                                entities=[], restriction_reason=[])
    return raw.types.UpdateNewMessage(message=message, pts=n + 1, pts_count=1), {user_id: user}, {}


async def bench_dispatcher() -> float:
    inbox = AppendInbox()
    client = QuietClient("bench", api_id=1, api_hash="x", bot_token="1:x", in_memory=True, workers=1)
    client.me = types.User(id=999, is_bot=True, first_name="Absensi")
    InboundHandlers(inbox, lambda: START).register(client)
    await client.dispatcher.start()
    await asyncio.sleep(0)
    rounds = []
    for r in range(ROUNDS):
        updates = [raw_update(r * PER_ROUND + n) for n in range(PER_ROUND)]
        target = len(inbox.messages) + PER_ROUND
        began = time.perf_counter()
        for update in updates:
            client.dispatcher.updates_queue.put_nowait(update)
        while len(inbox.messages) < target:
            await asyncio.sleep(0)
        rounds.append((time.perf_counter() - began) / PER_ROUND)
    await client.dispatcher.stop()
    return median_us(rounds)


def main() -> None:
    text_us, press_us = asyncio.run(bench_conversion())
    dispatch_us = asyncio.run(bench_dispatcher())
    print(f"driver conversion + trivial inbox: text {text_us:.1f} µs/update, press {press_us:.1f} µs/update (median of {ROUNDS} rounds × {PER_ROUND})")
    print(f"raw update through kurigram's Dispatcher + driver + trivial inbox: {dispatch_us:.1f} µs/update")


if __name__ == "__main__":
    main()
