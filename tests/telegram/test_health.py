"""What the Telegram driver tells `absensi status` and the alerts (SPEC §9): connected or since when not,
the last error, a flood wait in force."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pyrogram import errors

from absensi.drivers.telegram.deliver import Deliverer

from .fakes import T0, FakeTelegram, RecordingOutbox, SimClock
from .test_service import Factory, run_until, service


async def test_a_connection_that_fails_says_since_when_and_why_until_it_connects(tmp_path: Path) -> None:
    clock = SimClock()
    factory = Factory(clock, OSError("Network is unreachable"), OSError("Network is unreachable"), None)
    svc = service(tmp_path, factory, clock)
    before = svc.health()
    assert before["connected"] is False and before["down_since"] == T0.isoformat() and before["error"] is None
    await run_until(svc, lambda: len(factory.made) == 2)
    failing = svc.health()
    assert failing["connected"] is False and failing["down_since"] == T0.isoformat()
    assert failing["error"] == "OSError: Network is unreachable"
    await run_until(svc, lambda: factory.made[-1].started)
    up = svc.health()
    assert up["connected"] is True and up["down_since"] is None and up["error"] is None
    assert up["since"] == clock().isoformat() and up["configured"] is True


async def test_sends_failing_for_the_network_count_as_down_and_a_send_that_works_ends_it() -> None:
    clock = SimClock()
    outbox = RecordingOutbox()
    api = FakeTelegram(clock, fail_with=[OSError("Network is unreachable"), None])
    deliverer = Deliverer(outbox, api, clock=clock, sleep=clock.sleep, concurrency=1)
    first = outbox.add("700001", "satu")
    await deliverer.step()
    assert deliverer.network_down_since == T0 and outbox.state(first) == "pending"
    clock.advance(120)
    await deliverer.step()
    assert deliverer.network_down_since is None and outbox.state(first) == "sent"


async def test_a_flood_wait_is_shown_until_when() -> None:
    clock = SimClock()
    outbox = RecordingOutbox()
    api = FakeTelegram(clock, fail_with=[errors.FloodWait(value=42)])
    deliverer = Deliverer(outbox, api, clock=clock, sleep=clock.sleep, concurrency=1)
    outbox.add("700001", "halo")
    await deliverer.step()
    assert deliverer.flood_wait_until == T0 + timedelta(seconds=42)
