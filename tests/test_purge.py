"""Retention (SPEC §8): every table has a policy, and a purge leaves no old number or message anywhere.

Each test runs on SQLite and on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from absensi.drivers.simulator import Simulator
from absensi.engine.app.cli import app
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store
from absensi.engine.store.models import (
    Absence,
    AbsenceChange,
    ClassReport,
    Draft,
    EngineLease,
    Enrolment,
    InboxRow,
    Incident,
    JobRun,
    OutboxRow,
    ParentLink,
    Punch,
    ServiceHealth,
    SmsSender,
    Tally,
    TelegramLink,
    WebLogin,
    WebSession,
)
from absensi.engine.store.purge import RETENTION, purge

MINI = Path(__file__).parent / "schools" / "mini"
OLD_PHONE = "+6281299990001"
OLD_DIGITS = "81299990001"  # in every spelling of the number: +62…, 62…, 0062…, 0…
OLD_TEXT = "anak saya demam tinggi sejak kemarin malam"
PARENT = "+6281234500001"  # registered for 1001, whose records are recent
STAFF = "+6281311110001"  # Bayu Pratama in the mini school's staff.csv
NOW = datetime(2029, 7, 10, 3, 0, tzinfo=UTC)  # school year 2029/30: 2026/27 has been over for two years
OLD = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=1)


# ------------------------------------------------------------------ one old and one recent row per table


def _inbox(old: bool) -> InboxRow:
    sender, at, text = ("081299990001", OLD, OLD_TEXT) if old else (PARENT, RECENT, "SAKIT batuk")
    return InboxRow(source_id=f"sms:{sender}:{at.isoformat()}:abc", channel="sms", sender=sender, text=text,
                    payload={"raw": "0791261850", "contact": {"phone": sender}}, received_at=at, status="done",
                    error=f"ValueError: {text}" if old else None)


def _outbox(old: bool) -> OutboxRow:
    to, at, text = (OLD_PHONE, OLD, OLD_TEXT) if old else (PARENT, RECENT, "Terima kasih")
    return OutboxRow(key=f"info:sms:{to}:{at.isoformat()}", channel="sms", recipient=to, text=text, kind="reply",
                     status="sent", payload={"note": text}, next_try_at=at, created_at=at, bridge=to)


def _absence(old: bool) -> Absence:
    day, who, note = (OLD.date(), OLD_PHONE, OLD_TEXT) if old else (RECENT.date(), PARENT, "batuk")
    return Absence(nis="1001", day=day, class_name="X TKJ 1", state="sakit", status="S", note=note, source="ortu",
                   reporter=who, reported_at=OLD if old else RECENT)


def _absence_change(old: bool) -> AbsenceChange:
    day, who = (OLD.date(), OLD_PHONE) if old else (RECENT.date(), PARENT)
    return AbsenceChange(nis="1001", day=day, old=None, new="S", by=who, source="ortu", at=OLD if old else RECENT)


def _parent_link(old: bool) -> ParentLink:
    if old:  # sent STOP in 2026
        return ParentLink(phone=OLD_PHONE, nis="1002", active=False, consent_at=OLD,
                          consent_source=f"sms:{OLD_PHONE}:{OLD_TEXT}", stopped_at=OLD + timedelta(days=1))
    return ParentLink(phone=PARENT, nis="1001", active=True, consent_at=OLD, consent_source=f"sms:{PARENT}")


def _sms_sender(old: bool) -> SmsSender:
    phone = OLD_PHONE if old else PARENT
    return SmsSender(phone=phone, state="berhenti" if old else "terdaftar", wrong_codes=[OLD.isoformat()] if old else [])


def _telegram_link(old: bool) -> TelegramLink:
    return TelegramLink(telegram_id=555001 if old else 700001, phone=OLD_PHONE if old else STAFF,
                        linked_at=OLD if old else RECENT)


def _class_report(old: bool) -> ClassReport:
    return ClassReport(class_name="X TKJ 1", day=(OLD if old else RECENT).date(), reporter=OLD_PHONE if old else "Bayu",
                       source="ketua_kelas", at=OLD if old else RECENT)


def _draft(old: bool) -> Draft:
    return Draft(telegram_id=700001 if old else 700002, day=(OLD if old else RECENT).date(), class_name="X TKJ 1",
                 picks={"5": "S", "note": OLD_TEXT} if old else {"1": "A"})


def _enrolment(old: bool) -> Enrolment:
    year, start = ("2026/2027", date(2026, 7, 13)) if old else ("2029/2030", date(2029, 7, 13))
    return Enrolment(school_year=year, nis="1001", class_name="X TKJ 1", absen_no=5, start_day=start)


def _job_run(old: bool) -> JobRun:
    return JobRun(key=f"purge:{(OLD if old else RECENT).date()}", at=OLD if old else RECENT)


def _engine_lease(old: bool) -> EngineLease:  # no personal data: kept whatever its age
    return EngineLease(name="engine" if old else "standby", holder="host:123", acquired_at=OLD, heartbeat_at=OLD)


def _tally(old: bool) -> Tally:  # an hourly cap counter of 2026 goes; a recent one stays
    return Tally(key="cap:unregistered:2026-11-30T08" if old else "cap:unregistered:2029-07-09T08", count=3,
                 updated_at=OLD if old else RECENT)


def _service_health(old: bool) -> ServiceHealth:  # a modem last heard of in 2026 is no longer used
    return ServiceHealth(name="sms:/dev/ttyUSB9" if old else "sms:/dev/ttyUSB0", kind="modem", holder="host:123",
                         data={"state": "ready"}, updated_at=OLD if old else RECENT)


def _incident(old: bool) -> Incident:  # an alert of 2026, long cleared, goes; one still open stays
    return Incident(key="modem_down:/dev/ttyUSB0", kind="modem_down", detail="", since=OLD if old else RECENT,
                    opened_at=OLD if old else RECENT, cleared_at=OLD + timedelta(hours=1) if old else None)


def _punch(old: bool) -> Punch:  # a student's arrival in 2026 goes with that year's records
    at = OLD if old else RECENT
    return Punch(nis="1001", user_id="1001", at=at, device="mesin 1", source="usb", imported_at=at)


def _web_login(old: bool) -> WebLogin:  # a link of 2026 goes; yesterday's stays (a day, for a login problem)
    at = OLD if old else RECENT
    return WebLogin(token_hash=("a" if old else "b") * 64, telegram_id=700001, created_at=at,
                    expires_at=at + timedelta(minutes=5), used_at=at + timedelta(minutes=1))


def _web_session(old: bool) -> WebSession:  # a session ended in 2026 goes; one of yesterday stays
    at = OLD if old else RECENT
    return WebSession(id_hash=("c" if old else "d") * 64, telegram_id=700001, created_at=at,
                      expires_at=at + timedelta(hours=8), ended_at=at + timedelta(hours=2) if old else None)


FILL: dict[str, Callable[[bool], SQLModel]] = {
    "inbox": _inbox, "outbox": _outbox, "absence": _absence, "absence_change": _absence_change,
    "parent_link": _parent_link, "sms_sender": _sms_sender, "telegram_link": _telegram_link,
    "class_report": _class_report, "enrolment": _enrolment, "draft": _draft, "job_run": _job_run, "engine_lease": _engine_lease,
    "tally": _tally, "service_health": _service_health, "incident": _incident, "punch": _punch,
    "web_login": _web_login, "web_session": _web_session,
}
KEPT_WHATEVER_THEIR_AGE = {"engine_lease"}


def fill(store: Store) -> dict[str, set[tuple[Any, ...]]]:
    """One old and one recent row in every table; returns the primary keys of the rows that must stay."""
    stays: dict[str, set[tuple[Any, ...]]] = {}
    with store.unit() as session:
        for table, make in FILL.items():
            rows = {old: make(old) for old in (True, False)}
            session.add_all(rows.values())
            session.flush()
            kept = [rows[False], rows[True]] if table in KEPT_WHATEVER_THEIR_AGE else [rows[False]]
            stays[table] = {tuple(sa_inspect(r).identity or ()) for r in kept}
    return stays


def dump(session: Session) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every row of every table, by primary key."""
    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for name, table in SQLModel.metadata.tables.items():
        pk = [c.name for c in table.primary_key.columns]
        out[name] = {tuple(r[c] for c in pk): dict(r) for r in session.execute(select(table)).mappings()}
    return out


def texts(rows: dict[str, Any]) -> str:
    """Every text and JSON value of a row, as stored."""
    return " ".join(json.dumps(v) if isinstance(v, dict | list) else str(v) for v in rows.values() if v is not None)


# ------------------------------------------------------------------------------------------------ tests


def test_every_table_has_exactly_one_retention_policy() -> None:
    """A new table without a policy fails here, so nothing personal is kept by forgetting it."""
    tables = set(SQLModel.metadata.tables)
    assert tables - set(RETENTION) == set(), "tables without a retention policy in engine/store/purge.py"
    assert set(RETENTION) - tables == set(), "policies for tables that do not exist"
    assert set(FILL) == tables, "the purge test below must fill every table"
    assert all(policy.rule for policy in RETENTION.values())


def test_a_purge_leaves_no_old_number_or_text_in_any_column_and_keeps_recent_rows(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    stays = fill(store)
    with store.unit() as session:
        before = dump(session)
        purge(session, rules, mini, NOW)
    with store.unit() as session:
        after = dump(session)
    for table, rows in after.items():
        leaked = [pk for pk, row in rows.items() if OLD_DIGITS in texts(row) or OLD_TEXT in texts(row)]
        assert leaked == [], f"{table} still holds the old number or text"
        if table != "tally":  # the purge adds its counts there
            assert rows == {pk: before[table][pk] for pk in stays[table]}, f"{table}: recent rows changed"
    tally = {row["key"]: row["count"] for row in after["tally"].values()}
    assert tally["cap:unregistered:2029-07-09T08"] == 3 and "cap:unregistered:2026-11-30T08" not in tally
    assert tally["purged:sms_in:2026-11"] == 1 and tally["purged:sms_out:2026-11:reply"] == 1
    assert tally["purged:absence:2026-11:S"] == 1
    assert not [key for key in tally if re.search(r"\d{9}", key)], "a tally key must never hold a number"


def test_kept_counts_add_up_over_purges(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    fill(store)
    with store.unit() as session:
        purge(session, rules, mini, NOW)
        again = _outbox(True)
        again.key = "another"
        session.add(again)
        session.flush()
        purge(session, rules, mini, NOW)
        assert session.get(Tally, "purged:sms_out:2026-11").count == 2


def say(engine: Engine, sender: str, text: str, at: datetime) -> None:
    """An SMS in, and whatever the engine answers sent (as a driver would)."""
    engine.receive(InboundMessage(Channel.SMS, sender, at, f"{sender}:{at.isoformat()}:{text}", text), at)
    Simulator(engine.store).deliver(at)


def phones_in(session: Session) -> str:
    return " ".join(texts(row) for rows in dump(session).values() for row in rows.values())


def test_numbers_that_never_registered_are_forgotten_after_their_window(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
    before_window = now - timedelta(days=rules.rules.settings.retention_unregistered_days + 5)
    engine = Engine(rules, mini, store, before_window)
    say(engine, "081234500001", "REG AB12CD", before_window)  # a parent: kept for the retention period
    say(engine, "081277770001", "REG SALAH1", before_window)  # never registers, silent since
    say(engine, "081277770001", "INFO jalan depan sekolah banjir", before_window)  # forwarded with its number
    say(engine, "081277770002", "halo", before_window)  # never registers, but writes again lately
    say(engine, "081277770002", "halo lagi", now - timedelta(days=2))
    with store.unit() as session:
        purge(session, rules, mini, now)
    with store.unit() as session:
        left = phones_in(session)
        assert "81277770001" not in left and "banjir" not in left  # inbox, outbox, forward, sms_sender
        assert "81234500001" in left and "REG AB12CD" in left
        senders = set(session.scalars(select(SmsSender.phone)))
        assert senders == {"+6281234500001", "+6281277770002"}
        recent = session.scalars(select(InboxRow.text).where(InboxRow.sender == "081277770002")).all()
        assert recent == ["halo lagi"]


def test_a_number_that_sent_stop_is_forgotten_after_the_retention_period_not_before(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    engine = Engine(rules, mini, store, start)
    say(engine, "081234500009", "REG AB12CD", start)
    say(engine, "081234500009", "STOP", start + timedelta(days=1))
    with store.unit() as session:
        purge(session, rules, mini, datetime(2029, 6, 30, 3, 0, tzinfo=UTC))  # 2026/27 not yet two years over
        assert session.scalars(select(ParentLink.active)).all() == [False]
        assert "81234500009" in phones_in(session)
    with store.unit() as session:
        purge(session, rules, mini, datetime(2029, 7, 2, 3, 0, tzinfo=UTC))
        assert "81234500009" not in phones_in(session)


def test_a_departed_students_links_go_once_their_records_have(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    """A student no longer on the roster is no longer anyone's child (SPEC §2); the link goes when the
    student's last record is past the retention period, not while records within it remain."""
    with store.unit() as session:
        for phone, nis in ((OLD_PHONE, "9001"), (PARENT, "9002")):
            session.add(ParentLink(phone=phone, nis=nis, active=True, consent_at=OLD, consent_source="REG"))
        session.add(Absence(nis="9002", day=RECENT.date(), class_name="XII TKJ 1", state="sakit", status="S"))
        purge(session, rules, mini, NOW)
    with store.unit() as session:
        assert session.scalars(select(ParentLink.nis)).all() == ["9002"]


def test_the_daily_job_runs_the_same_purge(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    fill(store)
    Engine(rules, mini, store, NOW).tick(NOW)
    with store.unit() as session:
        assert OLD_DIGITS not in phones_in(session)


def test_dry_run_lists_what_would_go_per_table_and_deletes_nothing(store: Store) -> None:
    """`absensi purge --dry-run` then `absensi purge`: the same counts, and only the second deletes."""
    now = datetime.now(UTC)
    with store.unit() as session:
        session.add(InboxRow(source_id="old", channel="sms", sender="081299990001", text=OLD_TEXT,
                             received_at=now - timedelta(days=4 * 366), status="done"))
        session.add(Absence(nis="1001", day=(now - timedelta(days=4 * 366)).date(), class_name="X TKJ 1",
                            state="sakit", status="S"))
        session.add(Absence(nis="1001", day=date.today(), class_name="X TKJ 1", state="sakit", status="S"))
    with store.unit() as session:
        before = dump(session)
    runner = CliRunner()
    args = ["purge", "--school", str(MINI), "--db", store.url]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    with store.unit() as session:
        assert dump(session) == before
    real = runner.invoke(app, args)
    assert real.exit_code == 0, real.output
    for table in RETENTION:
        assert _count(dry.output, table) == _count(real.output, table), table
    assert _count(dry.output, "inbox") == 1 and _count(dry.output, "absence") == 1
    assert "dry run" in dry.output and "dry run" not in real.output
    with store.unit() as session:
        assert session.scalars(select(InboxRow)).all() == [] and len(session.scalars(select(Absence)).all()) == 1


def _count(output: str, table: str) -> int:
    found = re.search(rf"^{table}\s+(\d+)\s", output, re.MULTILINE)
    assert found is not None, (table, output)
    return int(found.group(1))
