"""The Telegram deliverer is woken by the outbox, not by asking it every second (issue 11).

The store here tells its outbox listeners that a look may wait an hour (`outbox_fallback`): an item that
goes out within seconds went out because of a wake-up — an outbox commit in this process (the store's
listeners, as the engine's replies commit), another process's commit on PostgreSQL (NOTIFY, heard by the
service's `Wakeup`), or the next retry's due time. On SQLite another process's rows wait for the fallback
look, shown with a short fallback. The bot is the offline fake client of test_service; both backends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from absensi.drivers.telegram import TelegramService
from absensi.engine.app.wakeup import Wakeup
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store
from absensi.engine.store.models import OutboxRow
from absensi.engine.store.store import OUTBOX_FALLBACK_SQLITE

from .test_service import HASH, TOKEN, Factory

AN_HOUR = 3600.0
CHAT = "700001"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Served:
    store: Store
    service: TelegramService
    factory: Factory
    claims: list[float]  # monotonic moments of the deliverer's looks at the outbox

    def texts(self) -> list[str]:
        return [c.kwargs["text"] for client in self.factory.made for c in client.calls if c.method == "send_message"]

    async def until(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, f"timed out waiting for {what}; sent: {self.texts()}"
            await asyncio.sleep(0.02)


def add_telegram(store: Store, text: str, due: datetime | None = None) -> None:
    """An outbox row for a Telegram chat, inserted as an ORM object (any code path wakes the drivers)."""
    at = now()
    with store.unit() as session:
        session.add(OutboxRow(channel="telegram", recipient=CHAT, text=text, payload={}, kind="reply",
                              status="pending", attempts=0, next_try_at=due or at, created_at=at, priority=50))


@asynccontextmanager
async def served(db_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """A TelegramService on a real store whose outbox fallback is an hour, idle after its first look."""
    store = Store(db_url)
    store.outbox_fallback = AN_HOUR
    claims: list[float] = []
    claim = store.claim

    def counted(*args: Any, **kwargs: Any) -> Any:
        claims.append(time.monotonic())
        return claim(*args, **kwargs)

    store.claim = counted  # type: ignore[method-assign]
    factory = Factory(now, None)  # type: ignore[arg-type]  # the fake client only reads the time
    service = TelegramService(store, store, session_dir=tmp_path / "school", clock=now, token=TOKEN,
                              api_id="123456", api_hash=HASH, client_factory=factory)
    assert service.fallback == AN_HOUR, "the service takes its fallback from the store it serves"
    stop = asyncio.Event()
    task = asyncio.ensure_future(service.run(stop))
    box = Served(store, service, factory, claims)
    try:
        await box.until(lambda: claims, 10, "the first look at the outbox")
        await asyncio.sleep(0.3)
        deliverer = service._deliverer
        assert deliverer is not None and deliverer._claim_wait() == AN_HOUR, "an empty outbox: the fallback"
        yield box
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        store.close()


async def test_an_engine_reply_committed_in_this_process_wakes_the_deliverer(db_url: str, tmp_path: Path, rules,  # type: ignore[no-untyped-def]
                                                                           mini):
    async with served(db_url, tmp_path) as box:
        looked = len(box.claims)
        await asyncio.sleep(2.5)
        assert len(box.claims) == looked, "the idle deliverer looked at the outbox without a reason"
        engine = Engine(rules, mini, box.store, now())
        # a stranger's message, handled in another thread as the engine thread does: the reply is committed
        replies = await asyncio.to_thread(engine.receive, InboundMessage(Channel.TELEGRAM, CHAT, now(), "tg:1",
                                                                         "halo"), now())
        [reply] = [r for r in replies if r.channel == Channel.TELEGRAM]
        await box.until(lambda: reply.text in box.texts(), 10, "the engine's reply to go out after the wake-up")
        await asyncio.to_thread(add_telegram, box.store, "lagi")
        await box.until(lambda: "lagi" in box.texts(), 10, "an ORM insert to wake it too")


async def test_a_retry_is_sent_when_it_falls_due_without_a_poll(db_url: str, tmp_path: Path):
    async with served(db_url, tmp_path) as box:
        added = time.monotonic()
        await asyncio.to_thread(add_telegram, box.store, "nanti", now() + timedelta(seconds=1.5))
        await box.until(lambda: "nanti" in box.texts(), 10, "the item to go out when it falls due")
        assert time.monotonic() - added >= 1.4, "it went out before it was due"
        assert len([c for c in box.claims if c > added]) <= 3, "it was polled for rather than waited for"


async def test_another_process_s_outbox_row(db_url: str, tmp_path: Path):
    async with served(db_url, tmp_path) as box:
        other = Store(db_url)  # another process's store: its commits call its own listeners, not this service's
        try:
            if box.store.notifies:
                wakeup = Wakeup(box.store)  # the service's LISTEN connection also hears absensi_outbox
                try:
                    await asyncio.sleep(0.5)  # listening (its first connect also wakes the drivers once)
                    await asyncio.to_thread(add_telegram, other, "dari proses lain")
                    await box.until(lambda: "dari proses lain" in box.texts(), 10, "NOTIFY to wake the deliverer")
                finally:
                    await asyncio.to_thread(wakeup.close)
                return
            # SQLite: no signal crosses processes; the deliverer's fallback look finds the row
            assert other.outbox_fallback == OUTBOX_FALLBACK_SQLITE
            deliverer = box.service._deliverer
            assert deliverer is not None
            deliverer.fallback = 1.0
            box.service.wake()  # takes the shorter fallback after its next empty look
            await asyncio.sleep(0.3)
            await asyncio.to_thread(add_telegram, other, "dari proses lain")
            await box.until(lambda: "dari proses lain" in box.texts(), 10, "the fallback look to find the row")
        finally:
            other.close()
