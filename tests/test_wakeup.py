"""The engine thread is woken by what it waits for, not by a short poll (issue 11).

Each loop here waits up to an hour between rounds (its poll and its scheduler's tick are an hour) unless
something wakes it, so a reply that comes back at all came because of the wake-up: a driver's inbox commit in this process (the store's listeners), another
process's commit (PostgreSQL LISTEN/NOTIFY; a second `Store` on the same database stands for it), or the
scheduler's next due time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from absensi.engine.app import service
from absensi.engine.app.service import Ticks, engine_loop
from absensi.engine.app.wakeup import SQLITE_FALLBACK, Wakeup
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday
AN_HOUR = 3600.0


@pytest.fixture
def running(store: Store, rules, mini, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Wakeup, threading.Event]]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(service, "TICK_SECONDS", AN_HOUR)  # no scheduled round either: only a wake-up brings one
    engine = Engine(rules, mini, store, T0)
    wakeup = Wakeup(store)
    stop = threading.Event()
    replies = threading.Event()
    loop = threading.Thread(target=engine_loop, args=(engine, stop, lambda: T0, AN_HOUR, replies.set, wakeup),
                            daemon=True)
    loop.start()
    try:
        yield engine, wakeup, replies
    finally:
        stop.set()
        wakeup.close()
        loop.join(timeout=5)
        assert not loop.is_alive(), "the engine loop did not stop when asked"


def test_an_inbox_commit_in_this_process_wakes_the_engine(store: Store, running) -> None:  # type: ignore[no-untyped-def]
    _, _, replies = running
    store.submit(InboundMessage(Channel.TELEGRAM, "700003", T0, "tg:1", "/hariini"))  # as a driver does
    assert replies.wait(30), "the engine did not wake for the new inbox row"
    assert store.claim(Channel.TELEGRAM, T0, limit=10), "the reply is in the outbox"


def test_another_process_commit_wakes_the_engine_on_postgresql(store: Store, running) -> None:  # type: ignore[no-untyped-def]
    _, wakeup, replies = running
    if not store.notifies:
        assert wakeup.fallback == SQLITE_FALLBACK  # SQLite: no signal between processes; the loop looks again
        pytest.skip("SQLite has no LISTEN/NOTIFY: another process's commit waits for the fallback look")
    other = Store(store.url)  # another process's store: its listeners are not this engine's
    try:
        assert other.submit(InboundMessage(Channel.TELEGRAM, "700003", T0, "tg:2", "/hariini"))
        assert replies.wait(30), "NOTIFY did not wake the engine"
    finally:
        other.close()


def test_the_scheduler_s_next_due_time_bounds_the_wait(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    ticks = Ticks()
    assert ticks.until_due(T0) == 0.0  # never ran: at once
    before_reminder = T0.replace(hour=1, minute=59, second=30)  # 08:59:30 in Jakarta; a reminder at 09:00
    ticks.ran(engine, before_reminder)
    assert ticks.until_due(before_reminder) == pytest.approx(30.0, abs=0.5)
    assert ticks.due(before_reminder + timedelta(seconds=30))
    late = T0.replace(hour=16)  # 23:00 in Jakarta: nothing more today but the new day at midnight
    assert engine.next_due(late) == datetime(2026, 12, 1, tzinfo=mini.calendar.tz)


def test_the_listening_connection_comes_back_after_the_server_drops_it(store: Store, running) -> None:  # type: ignore[no-untyped-def]
    _, _, replies = running
    if not store.notifies:
        pytest.skip("SQLite has no LISTEN/NOTIFY")
    from sqlalchemy import text

    other = Store(store.url)
    try:
        with other.db.begin() as connection:  # the server ends the LISTEN session (a restart, an admin)
            dropped = connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'")).scalars().all()
        assert dropped == [True], "the engine's LISTEN connection was not found"
        assert other.submit(InboundMessage(Channel.TELEGRAM, "700003", T0, "tg:3", "/hariini"))
        assert replies.wait(60), "the engine was not woken after its LISTEN connection was dropped"
    finally:
        other.close()
