"""Delivery of the Telegram outbox: claim, pace, send, and report each outcome to the outbox.

The deliverer holds the claimed items in one queue per chat and always sends the message whose
chat may take it soonest, so one busy chat (the officials' group at its 20-a-minute limit) never
holds back the replies to everyone else. Within a chat the order of the outbox is kept.

It looks at the outbox when told to (`wake`: the store's outbox listeners, NOTIFY from another process,
an engine reply), when the next retry falls due (`Outbox.next_due`) and otherwise only every `fallback`
seconds; without a `fallback` (an outbox that cannot wake anyone) it looks every `poll` seconds.

Time comes from two injected callables — `clock()` for "now" and `sleep(seconds)` for waiting — so
tests and the bench run a whole school morning on a simulated clock in milliseconds.
"""

from __future__ import annotations

import asyncio
import io
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from loguru import logger
from pyrogram import enums, errors, types

from absensi.engine.messages import Channel
from absensi.engine.ports import DeliveryPolicy, Outbox, OutboxItem, idle_wait

from .credentials import TelegramCredentialsError
from .failures import Failure, Kind, classify
from .pacing import Pacer
from .render import caption, driver_text, reply_markup, text_parts

Sleep = Callable[[float], Awaitable[None]]


class TelegramApi(Protocol):
    """The two pyrogram `Client` calls the deliverer uses; tests pass a recording fake."""

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> types.Message | None: ...

    async def send_document(self, chat_id: int, document: Any, **kwargs: Any) -> types.Message | None: ...

    async def edit_message_text(self, chat_id: int, message_id: int, text: str,
                                **kwargs: Any) -> types.Message | None: ...


class Deliverer:
    """Takes Telegram items from the outbox and delivers them within Telegram's limits."""

    def __init__(
        self,
        outbox: Outbox,
        api: TelegramApi,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        pacer: Pacer | None = None,
        policy: DeliveryPolicy | None = None,
        hold: int = 500,
        poll: float = 1.0,
        fallback: float | None = None,
        concurrency: int = 4,
        send_timeout: float = 120.0,
        worker: str = "telegram",
        texts: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self.outbox, self.api, self.clock, self.sleep = outbox, api, clock, sleep
        self.texts = texts  # what the driver says itself (engine.ports.DRIVER_TEXTS), as the rules say it now
        self.pacer = pacer or Pacer()
        self.policy = policy or DeliveryPolicy()  # the one policy of every driver (settings.yaml)
        self.hold, self.poll, self.worker = hold, poll, worker
        self.fallback = fallback  # idle with wake-ups: the longest wait between looks (None: every `poll`)
        self.concurrency = max(1, concurrency)
        self.send_timeout = send_timeout  # a call hanging longer than this is retried like a network error
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._queues: dict[str, deque[OutboxItem]] = {}
        self._last_claim = float("-inf")
        self._network_failures = 0
        self._network_paused_until = 0.0
        self._woken = asyncio.Event()
        self.network_down_since: datetime | None = None  # sends failing for the network since (health)
        self.flood_wait_until: datetime | None = None  # the latest FloodWait Telegram imposed (health)

    # ---- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; held items go back to the outbox on the way out."""
        self.outbox.recover(Channel.TELEGRAM, self.clock(), worker=self.worker)
        try:
            while not stop.is_set():
                wait = await self.step()
                if wait > 0:
                    await self._idle(wait, stop)
        finally:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
            self._inflight.clear()
            self.release_all("delivery stopped")

    def wake(self) -> None:
        """New outbox rows exist: claim them now instead of at the next poll."""
        self._woken.set()

    @property
    def held(self) -> int:
        """Items claimed and not yet handed to a send (in-flight sends not counted)."""
        return sum(len(q) for q in self._queues.values())

    async def step(self) -> float:
        """Claim new work and start at most one send; return how long nothing can be done (seconds).

        With `concurrency` 1 the send completes inside the step; otherwise it runs as a task, one per
        chat at a time (so a chat's order is kept), at most `concurrency` at once.
        """
        self._reap()
        now = self._seconds()
        if now < self._network_paused_until:
            return self._network_paused_until - now
        self._refill(now)
        if len(self._inflight) >= self.concurrency:
            await asyncio.wait(list(self._inflight.values()), return_when=asyncio.FIRST_COMPLETED)
            self._reap()
            return 0.0
        chat_id, ready = self._next_chat(now)
        if chat_id is None:
            return self._claim_wait()
        if ready > now:
            return min(ready - now, self.poll)
        item = self._take(chat_id)
        self.pacer.record(chat_id, now)  # reserve the slot before the send starts
        if self.concurrency == 1:
            await self.deliver(item, reserved=True)
        else:
            self._inflight[chat_id] = asyncio.ensure_future(self.deliver(item, reserved=True))
        return 0.0

    def _take(self, chat_id: str) -> OutboxItem:
        item = self._queues[chat_id].popleft()
        if not self._queues[chat_id]:
            del self._queues[chat_id]
        return item

    def _reap(self) -> None:
        """Forget finished sends; an error that must stop delivery (credentials) is raised here."""
        for chat_id, task in list(self._inflight.items()):
            if task.done():
                del self._inflight[chat_id]
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        """Sleep, but wake early for new work, for stop, or when a send finishes."""
        if not self._woken.is_set():
            waiters = [asyncio.ensure_future(self.sleep(seconds)), asyncio.ensure_future(self._woken.wait()),
                       asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait([*waiters, *self._inflight.values()], return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when cancelled: leave no waiter behind (in-flight sends are not ours to cancel)
                for task in waiters:
                    task.cancel()
        if self._woken.is_set():
            self._woken.clear()
            self._last_claim = float("-inf")

    def _refill(self, now: float) -> None:
        room = self.hold - self.held
        if room <= 0 or now - self._last_claim < self.poll:
            return
        self._last_claim = now
        for item in self.outbox.claim(Channel.TELEGRAM, self.clock(), limit=room, worker=self.worker):
            self._queues.setdefault(item.to, deque()).append(item)
        self.pacer.forget_before(now)

    def _claim_wait(self) -> float:
        """Nothing to send: seconds until the next look at the outbox, unless `wake` comes first. The earliest
        pending item's due time (a retry) bounds the fallback; one due already but not claimable (another
        process holds it) is looked at again after `poll`, not in a loop."""
        fallback = self.poll if self.fallback is None else max(self.poll, self.fallback)
        return idle_wait(self.outbox, Channel.TELEGRAM, self.clock(), self.poll, fallback)

    def _next_chat(self, now: float) -> tuple[str | None, float]:
        """The chat whose next message may go soonest; chats with a send in flight wait their turn."""
        best: str | None = None
        best_at = float("inf")
        for chat_id in self._queues:
            if chat_id in self._inflight:
                continue
            at = self.pacer.ready_at(chat_id, now)
            if at < best_at:
                best, best_at = chat_id, at
        return best, best_at

    # ---- one item -------------------------------------------------------------------------------

    async def deliver(self, item: OutboxItem, reserved: bool = False) -> None:
        """Send one item and record the outcome (sent / retry / failed) in the outbox.

        `reserved`: the caller already took the pacing slot for the first message of the item.
        """
        try:
            native_ids = await self._send(item, reserved)
        except Exception as exc:
            self._on_failure(item, classify(exc))
            return
        self._network_failures = 0
        self.network_down_since = None
        self.outbox.sent(item.id, self.clock(), native_id=",".join(i for i in native_ids if i) or None)

    def _contact_label(self, item: OutboxItem) -> str:
        """The driver's own label for a share-contact button whose row does not carry one (an older row)."""
        if item.request_contact != "":
            return ""
        return driver_text(self.texts, "contact_button")

    async def _send(self, item: OutboxItem, reserved: bool) -> list[str]:
        chat_id = int(item.to)
        markup = reply_markup(item, self._contact_label(item))  # raises RenderError before anything is sent
        parts = text_parts(item)
        if item.edit and item.document is None and len(parts) == 1:
            edited = await self._paced(reserved, item.to, self._edit_text, chat_id, item.edit, parts[0], markup)
            if edited is not None:
                return [item.edit]
        ids: list[str] = []
        for index, text in enumerate(parts):
            last = index == len(parts) - 1 and item.document is None
            sent = await self._paced(reserved and not ids, item.to, self._send_text, chat_id, text,
                                     markup if last else None, item.reply_to if index == 0 else None)
            ids.append(_message_id(sent))
        if item.document is not None:
            sent = await self._paced(reserved and not ids, item.to, self._send_document, chat_id, item,
                                     markup, None if parts else item.reply_to)
            ids.append(_message_id(sent))
        return ids

    async def _paced(self, reserved: bool, chat: str, send: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Send once the pacer allows (further parts of a long item wait their turn like any message)."""
        if not reserved:
            ready = self.pacer.ready_at(chat, self._seconds())
            if ready > self._seconds():
                await self.sleep(ready - self._seconds())
            self.pacer.record(chat, self._seconds())
        return await asyncio.wait_for(send(*args), self.send_timeout)

    async def _send_text(self, chat_id: int, text: str, markup: Any, reply_to: str | None) -> Any:
        return await self._with_reply(
            lambda reply: self.api.send_message(
                chat_id, text, parse_mode=enums.ParseMode.DISABLED, reply_markup=markup,
                reply_parameters=reply),
            reply_to)

    async def _edit_text(self, chat_id: int, message_id: str, text: str, markup: Any) -> Any:
        """Replace a keyboard message in place; None (send anew) when it can no longer be edited."""
        try:
            await self.api.edit_message_text(chat_id, int(message_id), text, parse_mode=enums.ParseMode.DISABLED,
                                             reply_markup=markup)
        except errors.MessageNotModified:
            pass  # pressed twice to the same state: nothing to change
        except (errors.MessageIdInvalid, errors.MessageEditTimeExpired, errors.MessageAuthorRequired):
            logger.info("message {} can no longer be edited; sending a new one", message_id)
            return None
        return message_id

    async def _send_document(self, chat_id: int, item: OutboxItem, markup: Any, reply_to: str | None) -> Any:
        assert item.document is not None
        def send(reply: types.ReplyParameters | None) -> Awaitable[Any]:
            assert item.document is not None
            file = io.BytesIO(item.document.content)
            file.name = item.document.filename
            return self.api.send_document(
                chat_id, file, file_name=item.document.filename, caption=caption(item),
                parse_mode=enums.ParseMode.DISABLED, reply_markup=markup, reply_parameters=reply,
                force_document=True)
        return await self._with_reply(send, reply_to)

    @staticmethod
    async def _with_reply(send: Callable[[types.ReplyParameters | None], Awaitable[Any]],
                          reply_to: str | None) -> Any:
        """Send as a reply; if the original message is gone, send it plainly rather than lose it."""
        if reply_to is None:
            return await send(None)
        try:
            return await send(types.ReplyParameters(message_id=int(reply_to)))
        except (errors.ReplyMessageIdInvalid, errors.MessageIdInvalid):
            logger.info("reply target {} is gone; sending without reply", reply_to)
            return await send(None)

    # ---- outcomes -------------------------------------------------------------------------------

    def _on_failure(self, item: OutboxItem, failure: Failure) -> None:
        now = self.clock()
        logger.warning("telegram item {} to {}: {} ({})", item.id, item.to, failure.reason, failure.kind)
        if failure.kind is Kind.PERMANENT:
            self.outbox.failed(item.id, now, failure.reason)
        elif self.policy.exhausted(item.attempts):
            self.outbox.failed(item.id, now, f"gave up after {item.attempts + 1} attempts: {failure.reason}")
        elif failure.kind is Kind.FLOOD:
            self._flood(item, failure, now)
        elif failure.kind is Kind.CREDENTIALS:
            self.outbox.retry(item.id, now, failure.reason, now + timedelta(seconds=self.policy.retry.first))
            raise TelegramCredentialsError(failure.reason)
        else:
            self._transient(item, failure, now)

    def _flood(self, item: OutboxItem, failure: Failure, now: datetime) -> None:
        """Wait exactly what Telegram named; the chat's later items wait too, to keep their order."""
        until = now + timedelta(seconds=failure.wait)
        self.flood_wait_until = max(until, self.flood_wait_until or until)
        self.pacer.pause(item.to, self._seconds() + failure.wait)
        self.outbox.retry(item.id, now, failure.reason, until)
        for later in self._queues.pop(item.to, deque()):
            self.outbox.retry(later.id, now, "waiting behind a FloodWait in this chat", until)

    def _transient(self, item: OutboxItem, failure: Failure, now: datetime) -> None:
        next_try = now + timedelta(seconds=self.policy.retry.delay(item.attempts))
        self.outbox.retry(item.id, now, failure.reason, next_try)
        if failure.network:
            self._network_failures += 1
            self.network_down_since = self.network_down_since or now
            pause = self.policy.reconnect.delay(self._network_failures)  # all sending waits for the network
            self._network_paused_until = self._seconds() + pause

    def release_all(self, reason: str) -> None:
        """Give every held, unsent item back to the outbox, due now."""
        now = self.clock()
        for queue in self._queues.values():
            for item in queue:
                self.outbox.retry(item.id, now, reason, now)
        self._queues.clear()

    def _seconds(self) -> float:
        return self.clock().timestamp()


def _message_id(sent: Any) -> str:
    return "" if sent is None else str(sent.id)
