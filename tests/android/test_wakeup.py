"""A gateway worker is woken by the outbox, not by asking it every second (issue 11): with an outbox fallback
of an hour, an SMS added in this process reaches the phone within seconds only because the store's commit
woke the worker. Both backends (`store`)."""

from __future__ import annotations

import time
from dataclasses import replace

from absensi.engine.store import Store

from .conftest import FAST, add_sms, wait_for
from .fake_gateway import FakeGateway

PARENT = "+6281234500002"


def test_an_outbox_row_committed_in_this_process_wakes_the_gateway_worker(store: Store, phone: FakeGateway,
                                                                          gateways, clock) -> None:
    store.outbox_fallback = 3600.0
    gws = gateways([phone.url], settings=replace(FAST, recover_interval=3600.0))  # no other look either
    worker = gws.workers[0]
    assert worker.claim_fallback == 3600.0
    wait_for(lambda: worker._claim_wait > 1000, what="the worker to find the outbox empty and settle")
    time.sleep(0.3)  # asleep now: the next look would be in an hour
    add_sms(store, PARENT, "bangun", clock())
    wait_for(lambda: phone.ids_for("bangun"), what="the send after the wake-up")
