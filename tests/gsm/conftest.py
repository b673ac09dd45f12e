"""Fixtures: emulated modems on ptys, fast driver settings, a clock the test can move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from timing import MovableClock, wait_until

from absensi.drivers.gsm import ModemPool
from absensi.drivers.gsm.settings import ModemSettings
from absensi.engine.ports import Backoff, DeliveryPolicy

from .emulator import ModemEmulator
from .fakes import RecordingInbox, RecordingOutbox

FAST = ModemSettings(
    command_timeout=1.0, list_timeout=2.0, prompt_timeout=1.0, send_timeout=2.0, sim_busy_timeout=3.0,
    sim_busy_retry=0.05, register_timeout=0.3, poll_interval=0.4, health_interval=0.3, claim_interval=0.05,
    policy=DeliveryPolicy(retry=Backoff(0.01, 0.05), reconnect=Backoff(0.05, 0.4)), pause_after_loss=0.0,
)


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    wait_until(predicate, timeout, what)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 11, 28, 7, 0, tzinfo=UTC))


@pytest.fixture
def emulators(tmp_path) -> Iterator[Callable[..., ModemEmulator]]:
    made: list[ModemEmulator] = []

    def make(profile: str = "sim800", **kw) -> ModemEmulator:
        emu = ModemEmulator(tmp_path, profile, name=f"m{len(made)}", **kw).start()
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.close()


@pytest.fixture
def emulator(emulators) -> ModemEmulator:
    return emulators()


@pytest.fixture
def pool_for(clock):
    """Start a ModemPool on emulated modems (stopped after the test); `wait_ready` waits for every modem."""
    pools = []

    def start(emus, outbox=None, inbox=None, *, wait_ready=False, **kw):
        pool = ModemPool([e.port for e in emus], inbox or RecordingInbox(), outbox or RecordingOutbox(),
                         clock=clock, settings=kw.pop("settings", FAST), **kw)
        pool.start()
        pools.append(pool)
        if wait_ready:
            wait_for(lambda: all(w.state == "ready" for w in pool.workers), what="modems ready")
        return pool

    yield start
    for pool in pools:
        pool.stop()
