"""Fixtures: a fake phone on loopback, fast driver settings, a clock the test can move, outbox rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from timing import MovableClock, wait_until

from absensi.drivers.android import Gateways, GatewaySettings
from absensi.engine.ports import Backoff, DeliveryPolicy
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow, OutboxRow

from .fake_gateway import FakeGateway

KEY = "kunci-rahasia-sekolah"
RETRY = Backoff(30.0, 120.0)  # first wait, cap
FAST = GatewaySettings(
    signing_key=KEY, register_webhooks=True, connect_timeout=1.0, request_timeout=2.0, claim_interval=0.05,
    poll_interval=0.3, recover_interval=0.2, pause_after_loss=5.0,
    policy=DeliveryPolicy(max_attempts=8, retry=RETRY, reconnect=Backoff(0.05, 0.3)),
)


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    wait_until(predicate, timeout, what)


def add_sms(store: Store, to: str, text: str, now: datetime, **payload: Any) -> int:
    with store.unit() as session:
        row = OutboxRow(channel="sms", recipient=to, text=text, kind="reply", next_try_at=now, created_at=now,
                        payload=payload)
        session.add(row)
        session.flush()
        return row.id or 0


def row(store: Store, item_id: int) -> OutboxRow:
    with store.unit() as session:
        found = session.get(OutboxRow, item_id)
        assert found is not None
        return found


def inbox_rows(store: Store) -> list[InboxRow]:
    with store.unit() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))


@pytest.fixture
def phone() -> Iterator[FakeGateway]:
    gw = FakeGateway().start()
    yield gw
    gw.release()
    gw.stop()


@pytest.fixture
def gateways(store: Store, clock: MovableClock) -> Iterator[Callable[..., Gateways]]:
    """Start Gateways on the test's store (stopped after the test); `ready` waits for every phone."""
    started: list[Gateways] = []

    def start(urls: list[str], *, ready: bool = True, settings: GatewaySettings = FAST, **kw: Any) -> Gateways:
        gws = Gateways(urls, store, store, listen=kw.pop("listen", "127.0.0.1:0"), settings=settings, clock=clock,
                       **kw)
        gws.start()
        started.append(gws)
        if ready:
            wait_for(lambda: all(w.state == "ready" for w in gws.workers), what="phones ready")
        return gws

    yield start
    for gws in started:
        gws.stop()
