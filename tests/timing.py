"""Time in driver tests: a clock the test can move, and a bounded wait for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta


class MovableClock:
    """Real time from `start` on, plus an offset the test can advance (reassembly timeouts, retry times)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0, self.offset = start, time.monotonic(), timedelta()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Return once `predicate()` is true; fail the test after `timeout` seconds, naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
