"""Telegram unreachable for 10 minutes (SPEC §9): the alert goes by SMS to the admin's phone, once, and so does
its end — driven by a Telegram connection that fails (the driver's real reconnect loop with a failing client),
published by the service's monitor, judged by the engine's tick. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from absensi.engine.app.monitor import Monitor
from absensi.engine.core import Engine
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school
from absensi.engine.store import Store

from .fakes import T0, SimClock
from .test_service import Factory, run_until, service

ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PHONE = "7000002", "+6287775407301"  # the sample school's admin (staff.csv)


async def test_telegram_down_ten_minutes_is_told_by_sms_once_and_its_end_too(tmp_path: Path, store: Store) -> None:
    rules = load_rules(ROOT / "rules")
    school = load_school(ROOT / "sample_school", rules.rules)
    clock = SimClock()
    factory = Factory(clock, *[OSError("Network is unreachable")] * 20)  # then a client that connects
    telegram = service(tmp_path, factory, clock)
    monitor = Monitor(store, lambda: rules, ZoneInfo("Asia/Jakarta"), None, telegram, clock)
    engine = Engine(rules, school, store, clock())

    def look() -> list[tuple[str, str, str]]:
        monitor.round(clock())
        first = store.last_outbox_id()
        engine.tick(clock())
        return [(r.channel, r.recipient, r.text) for r in store.outbox_since(first) if r.kind == "alert"]

    await run_until(telegram, lambda: clock() >= T0 + timedelta(minutes=5))
    assert look() == []  # down, within its 10 minutes
    await run_until(telegram, lambda: clock() >= T0 + timedelta(minutes=10))
    alert = look()
    assert ("sms", ADMIN_PHONE, "SMK PGRI 1 Tangerang: Telegram tidak terhubung sejak 07.30. Pesan Telegram "
            "tertunda; periksa internet server absensi.") in alert
    assert ("telegram", ADMIN, "PERLU PERHATIAN: Telegram tidak terhubung sejak 07.30.") in alert
    assert len(alert) == 2
    assert look() == []
    assert Engine(rules, school, store, clock()).tick(clock()) == []  # a restarted engine says nothing again
    await run_until(telegram, lambda: factory.made[-1].started)  # the network is back
    cleared = look()
    assert ("sms", ADMIN_PHONE, "SMK PGRI 1 Tangerang: sudah normal kembali: Telegram tidak terhubung sejak 07.30.") \
        in cleared and len(cleared) == 2
    assert look() == []
