"""Recording fakes for the Telegram driver's tests: the ports, the network calls, the clock.

They record what the driver did so tests can assert behaviour; none of them patches module globals.
"""

from __future__ import annotations

import asyncio
import itertools
import selectors
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyrogram import Client, types

from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import OutboxItem

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday


class SimClock:
    """A clock that only moves when the code under test sleeps (or a test advances it)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps to the next timer instead of waiting for it.

    Concurrent sleepers then overlap as they would in real time, which a clock advanced by each
    sleeper in turn cannot show. Run a coroutine with `asyncio.Runner(loop_factory=VirtualTimeLoop)`.
    """

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is not None and timeout > 0:
            self._loop.virtual_now += timeout
        return super().select(0)


def loop_clock(start: datetime = T0) -> Any:
    """A `clock()` reading the running loop's (virtual) time."""
    return lambda: start + timedelta(seconds=asyncio.get_running_loop().time())


class RecordingInbox:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[InboundMessage] = []
        self.fail = fail

    def submit(self, msg: InboundMessage) -> bool:
        if self.fail:
            raise RuntimeError("database is locked")
        new = all(m.source_id != msg.source_id for m in self.messages)
        if new:
            self.messages.append(msg)
        return new


@dataclass
class Row:
    item: OutboxItem
    due: datetime
    state: str = "pending"
    native_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    sent_at: datetime | None = None


class RecordingOutbox:
    """An in-memory outbox with the port's semantics: claim due items oldest first, count attempts."""

    def __init__(self, clock: SimClock | None = None) -> None:
        self.rows: dict[int, Row] = {}
        self.calls: list[tuple[str, Any]] = []
        self._ids = itertools.count(1)

    def add(self, to: str, text: str = "halo", due: datetime = T0, **extra: Any) -> int:
        item_id = next(self._ids)
        item = OutboxItem(id=item_id, channel=Channel.TELEGRAM, to=to, text=text, **extra)
        self.rows[item_id] = Row(item, due)
        return item_id

    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        self.calls.append(("claim", limit))
        due = [r for r in self.rows.values() if r.state == "pending" and r.due <= now and r.item.channel == channel]
        due.sort(key=lambda r: (r.due, r.item.id))
        for row in due[:limit]:
            row.state = "sending"
        return [r.item for r in due[:limit]]

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        self.calls.append(("sent", item_id))
        row = self.rows[item_id]
        row.state, row.native_id, row.sent_at = "sent", native_id, now

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        self.calls.append(("retry", item_id))
        row = self.rows[item_id]
        attempts = row.item.attempts + 1
        row.item = OutboxItem(**{**_fields(row.item), "attempts": attempts})
        row.state, row.due = "pending", next_try
        row.reasons.append(reason)

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        self.calls.append(("failed", item_id))
        row = self.rows[item_id]
        row.state = "failed"
        row.reasons.append(reason)

    def delivery_report(self, channel: Channel, native_ref: str, delivered: bool, now: datetime) -> bool:
        return False

    def recover(self, channel: Channel, now: datetime, worker: str = "") -> int:
        self.calls.append(("recover", channel))
        stuck = [r for r in self.rows.values() if r.state == "sending"]
        for row in stuck:
            row.state = "pending"
        return len(stuck)

    def state(self, item_id: int) -> str:
        return self.rows[item_id].state

    def pending(self) -> int:
        return sum(r.state in ("pending", "sending") for r in self.rows.values())


def _fields(item: OutboxItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in OutboxItem.__slots__}


@dataclass
class Call:
    method: str
    chat_id: int
    kwargs: dict[str, Any]
    at: datetime | None = None


class FakeTelegram:
    """Stands in for the network calls of a pyrogram Client; can be told to raise.

    `fail_with` holds exceptions raised by the next calls, in order (None = succeed).
    """

    def __init__(self, clock: Any = None, latency: float = 0.0, fail_with: Iterable[Any] = (),
                 sleep: Any = None) -> None:
        self.clock = clock
        self.sleep = sleep or getattr(clock, "sleep", None)
        self.latency = latency
        self.fail_with = list(fail_with)
        self.calls: list[Call] = []
        self._ids = itertools.count(100)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> types.Message:
        return await self._call("send_message", chat_id, {"text": text, **kwargs})

    async def send_document(self, chat_id: int, document: Any, **kwargs: Any) -> types.Message:
        return await self._call("send_document", chat_id, {"document": document,
                                                             "content": document.getvalue(), **kwargs})

    async def edit_message_text(self, chat_id: int, message_id: int, text: str, **kwargs: Any) -> types.Message:
        return await self._call("edit_message_text", chat_id, {"message_id": message_id, "text": text, **kwargs})

    async def set_bot_commands(self, commands: list[types.BotCommand], scope: Any = None) -> bool:
        await self._call("set_bot_commands", getattr(scope, "chat_id", 0), {"commands": commands, "scope": scope})
        return True

    async def delete_bot_commands(self, scope: Any = None) -> bool:
        await self._call("delete_bot_commands", getattr(scope, "chat_id", 0), {"scope": scope})
        return True

    async def _call(self, method: str, chat_id: int, kwargs: dict[str, Any]) -> types.Message:
        at = self.clock() if self.clock else None
        if self.sleep and self.latency:
            await self.sleep(self.latency)
        if self.fail_with:
            error = self.fail_with.pop(0)
            if error is not None:
                self.calls.append(Call(f"{method}!", chat_id, kwargs, at))
                raise error
        self.calls.append(Call(method, chat_id, kwargs, at))
        return types.Message(id=next(self._ids), chat=types.Chat(id=chat_id))

    def sent(self, method: str = "send_message") -> list[Call]:
        return [c for c in self.calls if c.method == method]


class RecordingClient(Client):
    """A real, never-started kurigram Client whose network calls are recorded instead of made."""

    def __init__(self) -> None:
        super().__init__("t", api_id=1, api_hash="x", bot_token="1:x", in_memory=True)
        self.me = types.User(id=999, is_bot=True, first_name="Absensi", username="AbsensiSekolahBot")
        self.answered: list[tuple[str, str | None]] = []

    async def answer_callback_query(self, callback_query_id: str, text: str | None = None, *args: Any,
                                    **kwargs: Any) -> bool:
        self.answered.append((callback_query_id, text))
        return True
