"""The service's engine loop: handles the inbox, runs due jobs, and wakes the Telegram driver for replies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from absensi.engine.app.service import engine_loop
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


def test_engine_loop_handles_the_inbox_and_wakes_telegram(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    woken = threading.Event()
    stop = threading.Event()
    loop = threading.Thread(target=engine_loop, args=(engine, stop, lambda: T0, 0.01, woken.set), daemon=True)
    loop.start()
    try:
        store.submit(InboundMessage(Channel.TELEGRAM, "700003", T0, "tg:1", "/hariini"))  # as a driver does
        assert woken.wait(10), "the Telegram driver was not woken for the reply"
        assert store.claim(Channel.TELEGRAM, T0, limit=10), "the reply is in the outbox"
    finally:
        stop.set()
        loop.join(timeout=5)
