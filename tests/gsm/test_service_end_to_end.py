"""`absensi run --modem`, end to end: the engine loop and a modem on a real pty serve the sample school.

REG, SAKIT and INFO come in through the emulated modem; confirmations and the alfa SMS go out through
it; every expected SMS goes out exactly once. On SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from absensi.drivers.gsm import ModemPool
from absensi.engine.app.service import engine_loop
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school
from absensi.engine.store import Store
from absensi.engine.store.models import OutboxRow

from .conftest import FAST, wait_for

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 07:00 in Jakarta


def test_school_served_by_sms_through_the_modem(emulators, db_url: str) -> None:
    t0 = time.monotonic()

    def now() -> datetime:
        return MONDAY + timedelta(seconds=time.monotonic() - t0)

    rules = load_rules(ROOT / "rules")
    school = load_school(ROOT / "sample_school", rules.rules)
    officer = next(s for s in school.staff if s.role == "ketua_kelas" and s.telegram_id)
    child = school.by_class[officer.scope][0]
    store = Store(db_url)
    engine = Engine(rules, school, store, now())
    modem = emulators("huawei-e173")
    pool = ModemPool([modem.port], store, store, clock=now, settings=FAST)
    stop = threading.Event()
    loop = threading.Thread(target=engine_loop, args=(engine, stop, now, 0.05), daemon=True)
    loop.start()
    pool.start()
    try:
        parent = "+6285712345678"

        def sent_to(number: str, needle: str) -> list[str]:
            return [s.submit.text for s in modem.sent if s.submit.recipient == number and needle in s.submit.text]

        modem.deliver_text(parent, f"REG {child.parent_code}", now())
        wait_for(lambda: sent_to(parent, child.name), 15, "the REG confirmation")

        report = f"A {child.absen_no}"  # the ketua kelas, on Telegram
        store.submit(InboundMessage(Channel.TELEGRAM, str(officer.telegram_id), now(), "tg:1", report))
        wait_for(lambda: sent_to(parent, "ALFA"), 15, "the alfa SMS")

        modem.deliver_text(parent, "SAKIT demam sejak semalam", now())
        wait_for(lambda: sent_to(parent, "dicatat Sakit"), 15, "the SAKIT confirmation")

        modem.deliver_text("+6281398765432", "INFO pohon tumbang di depan gerbang", now())
        wait_for(lambda: sent_to("+6281398765432", "diteruskan"), 15, "the INFO reply")
        time.sleep(0.5)  # anything duplicated would have gone out by now

        assert len(sent_to(parent, "Terdaftar")) == 1 and len(sent_to(parent, "ALFA")) == 1
        assert len(sent_to(parent, "dicatat Sakit")) == 1 and len(modem.sent) == 4
        with store.unit() as session:
            group = session.scalars(select(OutboxRow).where(OutboxRow.recipient == "-1001234567890")).all()
            assert len(group) == 1 and "pohon tumbang" in group[0].text  # waits for Telegram
            sms_rows = session.scalars(select(OutboxRow).where(OutboxRow.channel == "sms")).all()
            assert {r.status for r in sms_rows} <= {"sent", "delivered"}
    finally:
        pool.stop()
        stop.set()
        loop.join(timeout=5)
        store.close()
