"""`absensi run`'s stop handling (`service.Stopping`) in process: a SIGTERM ends the Telegram loop, one asked
before the loop started ends it at once, and the handlers in force before are back afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

from absensi.engine.app.service import Stopping, _run_telegram


class WaitingService:
    """Stands in for TelegramService: runs until its stop event is set."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = False

    async def run(self, stop: asyncio.Event) -> None:
        self.started.set()
        await stop.wait()
        self.stopped = True


def test_sigterm_ends_the_telegram_loop_and_the_old_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stopping = Stopping()
    service = WaitingService()
    try:
        def kill_when_started() -> None:
            service.started.wait(10)
            time.sleep(0.2)  # the loop sleeps in select() now
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=kill_when_started, daemon=True).start()
        began = time.monotonic()
        asyncio.run(asyncio.wait_for(_run_telegram(service, stopping), timeout=10))
        assert service.stopped and stopping.asked.is_set()
        assert time.monotonic() - began < 5
        assert stopping._then == [], "the closed loop is not called by a later signal"
        os.kill(os.getpid(), signal.SIGTERM)  # a second one during the cleanup only sets the flag again
        assert stopping.asked.is_set()
    finally:
        stopping.restore()
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_asked_before_the_loop_ends_it_at_once() -> None:
    stopping = Stopping()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stopping.asked.wait(5)
        service = WaitingService()
        asyncio.run(asyncio.wait_for(_run_telegram(service, stopping), timeout=5))
        assert service.stopped
        os.kill(os.getpid(), signal.SIGHUP)  # during start-up a reload request is kept, not the process killed
        deadline = time.monotonic() + 5
        while not stopping.reload_asked and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stopping.reload_asked
    finally:
        stopping.restore()
