"""A modem worker is woken by the outbox, not by asking it every second (issue 11).

Each worker here is given an outbox fallback of an hour: between wake-ups it would not look at the outbox
for that long, so an SMS that goes out within seconds went out because of a wake-up — a commit of outbox
rows in this process (the store's listeners), another process's commit on PostgreSQL (NOTIFY, heard by the
service's `Wakeup`), or the next retry's due time. On SQLite another process's rows wait for the fallback
look, which is shown with a short fallback. Both backends (`db_url`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from absensi.drivers.gsm import ModemPool
from absensi.engine.app.wakeup import Wakeup
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store, queries
from absensi.engine.store.models import OutboxRow
from absensi.engine.store.store import OUTBOX_FALLBACK_POSTGRES, OUTBOX_FALLBACK_SQLITE, outbox_added

from .conftest import FAST, wait_for
from .emulator import ModemEmulator

AN_HOUR = 3600.0
T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # the engine's time (the row is due from then on)
NUMBER = "+6281234500001"


def now() -> datetime:
    return datetime.now(UTC)


def add_sms(store: Store, text: str, due: datetime | None = None, core: bool = False) -> None:
    """An outbox row as the engine writes it (Core multi-row insert) or as an ORM object."""
    at = now()
    values = {"channel": "sms", "recipient": NUMBER, "text": text, "payload": {}, "kind": "reply",
              "status": "pending", "attempts": 0, "next_try_at": due or at, "created_at": at, "priority": 50}
    with store.unit() as session:
        if core:  # as engine/core.commit_outbound writes them
            session.connection().execute(queries.ADD_OUTBOX, [values])
            outbox_added(session.connection())
        else:
            session.add(OutboxRow(**values))


def sent(modem: ModemEmulator, text: str) -> bool:
    return any(s.submit.text == text for s in modem.sent)


@pytest.fixture
def served(emulators, db_url: str) -> Iterator[tuple[Store, ModemEmulator, ModemPool]]:
    """A real store whose outbox fallback is an hour, one emulated modem, its worker idle after a first look."""
    store = Store(db_url)
    store.outbox_fallback = AN_HOUR
    modem = emulators("huawei-e173")
    pool = ModemPool([modem.port], store, store, clock=now, settings=replace(FAST, poll_interval=AN_HOUR))
    pool.start()
    worker = pool.workers[0]
    try:
        assert worker.claim_fallback == AN_HOUR, "the worker takes its fallback from the store it serves"
        wait_for(lambda: worker.state == "ready" and worker._next_claim > time.monotonic() + AN_HOUR / 2, 10,
                 "the worker to look at the empty outbox and settle for the fallback")
        yield store, modem, pool
    finally:
        pool.stop()
        store.close()


def test_an_outbox_row_committed_in_this_process_wakes_the_worker(served, rules, mini) -> None:  # type: ignore[no-untyped-def]
    store, modem, _ = served
    engine = Engine(rules, mini, store, T0)
    [reply] = engine.receive(InboundMessage(Channel.SMS, NUMBER, T0, "sms:1", "halo"), T0)  # a stranger: help
    wait_for(lambda: sent(modem, reply.text), 15, "the engine's reply to go out after the wake-up")
    add_sms(store, "lagi")  # an ORM insert wakes it too
    wait_for(lambda: sent(modem, "lagi"), 15, "the second SMS")


def test_a_retry_is_sent_when_it_falls_due_without_a_poll(served) -> None:  # type: ignore[no-untyped-def]
    store, modem, _ = served
    added = time.monotonic()
    add_sms(store, "nanti", due=now() + timedelta(seconds=1.5))  # wakes the worker: nothing due yet, but soon
    wait_for(lambda: sent(modem, "nanti"), 15, "the SMS to go out when it falls due")
    assert time.monotonic() - added >= 1.4, "it went out before it was due"


def test_another_process_s_outbox_row(served, db_url: str) -> None:  # type: ignore[no-untyped-def]
    store, modem, pool = served
    other = Store(db_url)  # another process's store: its commits call its own listeners, not this worker's
    try:
        if store.notifies:
            wakeup = Wakeup(store)  # the service's LISTEN connection also hears absensi_outbox
            try:
                add_sms(other, "dari proses lain")
                wait_for(lambda: sent(modem, "dari proses lain"), 15, "NOTIFY to wake the worker")
            finally:
                wakeup.close()
            return
        # SQLite: no signal crosses processes; the worker's fallback look finds the row
        assert Store(db_url).outbox_fallback == OUTBOX_FALLBACK_SQLITE
        worker = pool.workers[0]
        worker.claim_fallback = 1.0
        worker.wake()  # takes the shorter fallback after its next empty look
        wait_for(lambda: worker._next_claim < time.monotonic() + 2, 10, "the worker to use the short fallback")
        add_sms(other, "dari proses lain")
        wait_for(lambda: sent(modem, "dari proses lain"), 15, "the fallback look to find the row")
    finally:
        other.close()


def test_outbox_listeners_are_called_after_the_commit_and_not_for_a_read(db_url: str) -> None:
    store, other = Store(db_url), Store(db_url)
    seen: list[int] = []
    calls = threading.Event()

    def listener() -> None:  # what another connection sees when we are told: the commit has happened
        with other.unit() as session:
            seen.append(len(session.scalars(select(OutboxRow.id)).all()))
        calls.set()

    try:
        assert store.on_outbox(listener) == (OUTBOX_FALLBACK_POSTGRES if store.notifies else OUTBOX_FALLBACK_SQLITE)
        add_sms(store, "satu", core=True)
        assert seen == [1]
        add_sms(store, "dua")
        assert seen == [1, 2]
        with pytest.raises(RuntimeError), store.unit() as session:  # may wake a driver for nothing: allowed
            session.add(OutboxRow(channel="sms", recipient=NUMBER, text="batal", next_try_at=now(), created_at=now()))
            session.flush()
            raise RuntimeError("rolled back")
        told = len(seen)
        with store.unit() as session:  # a later transaction of the same pooled connection adds nothing
            session.scalars(select(OutboxRow.id)).all()
        assert len(seen) == told, "a transaction that only read told the listeners"
        add_sms(other, "di proses lain")  # another Store: not this one's listeners
        assert len(seen) == told
    finally:
        store.close()
        other.close()
