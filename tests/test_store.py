"""The store on every backend (a real SQLite file and a real PostgreSQL server): inbox, outbox, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.store import Store
from absensi.engine.store.models import Absence, AbsenceChange, InboxRow, OutboxRow, ParentLink

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday


def sms(text: str, sender: str = "081234500001", source: str = "s1", at: datetime = T0) -> InboundMessage:
    return InboundMessage(Channel.SMS, sender, at, source, text)


def tg(user: int, text: str, source: str, at: datetime = T0) -> InboundMessage:
    return InboundMessage(Channel.TELEGRAM, str(user), at, source, text)


def test_a_message_submitted_twice_is_kept_once(store: Store) -> None:
    assert store.submit(sms("REG AB12CD")) is True
    assert store.submit(sms("REG AB12CD")) is False
    pending = store.pending_inbox()
    assert [m.text for _, m in pending] == ["REG AB12CD"]
    assert pending[0][1].received_at == T0  # aware UTC in, aware UTC out


def test_outbox_claim_sent_and_delivery_report(store: Store) -> None:
    from absensi.engine.core import outbox_row

    with store.unit() as session:
        session.add(outbox_row(OutboundMessage(Channel.SMS, "+6281234500001", "halo", key="k1"), T0, None))
    first = store.claim(Channel.SMS, T0, limit=5)
    assert [i.text for i in first] == ["halo"]
    assert store.claim(Channel.SMS, T0, limit=5) == []  # claimed items are not handed out twice
    store.sent(first[0].id, T0, native_id="17,18")
    assert store.delivery_report(Channel.SMS, "18", True, T0 + timedelta(seconds=5)) is True
    assert store.delivery_report(Channel.SMS, "99", True, T0) is False
    with store.unit() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert row.status == "delivered" and row.native_id == "17,18"


def test_retry_backs_off_and_a_send_interrupted_before_the_modem_is_resumed_without_counting(store: Store) -> None:
    from absensi.engine.core import outbox_row

    with store.unit() as session:
        session.add(outbox_row(OutboundMessage(Channel.SMS, "+6281234500001", "a"), T0, None))
    item = store.claim(Channel.SMS, T0)[0]
    store.retry(item.id, T0, "CMS ERROR 500", T0 + timedelta(minutes=1))
    assert store.claim(Channel.SMS, T0) == []
    again = store.claim(Channel.SMS, T0 + timedelta(minutes=1))
    assert again and again[0].attempts == 1
    # crashes while `sending` but before any part reached the modem: nothing can have gone out twice
    for minute in range(2, 8):
        assert store.recover(Channel.SMS, T0) == 1
        assert len(store.claim(Channel.SMS, T0 + timedelta(minutes=minute))) == 1
    with store.unit() as session:
        assert session.scalars(select(OutboxRow.status)).one() == "sending"


def test_crashes_while_a_part_is_in_the_modems_hands_resume_from_that_part_then_give_up(store: Store) -> None:
    from absensi.engine.core import outbox_row
    from absensi.engine.store.store import MAX_INTERRUPTIONS

    with store.unit() as session:
        session.add(outbox_row(OutboundMessage(Channel.SMS, "+6281234500001", "long " * 80), T0, None))
    item = store.claim(Channel.SMS, T0)[0]
    store.handing(item.id, 0, T0)
    store.part_sent(item.id, "m1/007")
    store.handing(item.id, 1, T0)  # … and the process dies here
    assert store.recover(Channel.SMS, T0) == 1
    resumed = store.claim(Channel.SMS, T0)[0]
    assert resumed.parts_sent == ("m1/007",)  # part 0 is not sent again; part 1 may be (the one repeat)
    for _ in range(MAX_INTERRUPTIONS):
        store.handing(item.id, 1, T0)
        store.recover(Channel.SMS, T0)
        store.claim(Channel.SMS, T0)
    with store.unit() as session:
        row = session.scalars(select(OutboxRow)).one()
    assert row.status == "failed" and "interrupted" in (row.error or "")


def test_recovery_leaves_a_live_process_s_sends_alone_and_takes_a_dead_one_s(store: Store) -> None:
    import subprocess
    import sys

    from absensi.engine.core import outbox_row
    from absensi.engine.store.claims import process_tag

    host = process_tag().rpartition(":")[0]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with store.unit() as session:
        for text in ("live", "dead"):
            session.add(outbox_row(OutboundMessage(Channel.SMS, "+6281234500001", text), T0, None))
    items = {i.text: i for i in store.claim(Channel.SMS, T0, limit=2, worker="gsm:x")}
    with store.unit() as session:
        for text, pid in (("live", 1), ("dead", int(dead.stdout))):
            row = session.get(OutboxRow, items[text].id)
            row.payload = {**row.payload, "worker": f"gsm:x@{host}:{pid}"}
    assert store.recover(Channel.SMS, T0, worker="gsm:x") == 1
    assert [i.text for i in store.claim(Channel.SMS, T0, limit=5)] == ["dead"]


def test_claims_take_the_lowest_priority_number_first_then_the_oldest(store: Store) -> None:
    from absensi.engine.core import outbox_values

    with store.unit() as session:
        for n, priority in enumerate((90, 10, 50, 10)):
            values = outbox_values(OutboundMessage(Channel.SMS, "+6281234500001", f"m{n}"), T0, None)
            session.add(OutboxRow(**{**values, "priority": priority}))
    assert [i.text for i in store.claim(Channel.SMS, T0, limit=4)] == ["m1", "m3", "m2", "m0"]


def test_a_claim_takes_at_most_its_limit_and_leaves_the_rest_pending(store: Store) -> None:
    """On PostgreSQL an UPDATE … IN (SELECT … LIMIT n) may run its subquery per row and take them all."""
    from absensi.engine.core import outbox_row

    with store.unit() as session:
        for n in range(3):
            session.add(outbox_row(OutboundMessage(Channel.SMS, "+6281234500001", f"m{n}"), T0, None))
    assert [i.text for i in store.claim(Channel.SMS, T0, limit=1)] == ["m0"]
    with store.unit() as session:
        statuses = session.scalars(select(OutboxRow.status).order_by(OutboxRow.id)).all()
    assert statuses == ["sending", "pending", "pending"]
    assert [i.text for i in store.claim(Channel.SMS, T0, limit=5)] == ["m1", "m2"]


def test_engine_alfa_sms_once_even_if_the_report_is_processed_twice(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    engine.receive(sms("REG AB12CD"), T0)
    first = engine.receive(tg(700001, "A 5", "t1"), T0)
    assert [m.to for m in first if m.channel == Channel.SMS] == ["+6281234500001"]
    # the same event handled again (e.g. replayed after a crash) adds no SMS
    again = engine.handle(tg(700001, "A 5", "t1-replay"), T0)
    assert not [m for m in again if m.channel == Channel.SMS]
    with store.unit() as session:
        alfa = session.scalars(select(OutboxRow).where(OutboxRow.kind == "alfa")).all()
        assert len(alfa) == 1
        record = session.scalars(select(Absence)).one()
        assert (record.nis, record.status, record.state) == ("1001", "A", "alfa")


def test_every_change_is_kept_with_who_and_when(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    engine.receive(sms("REG AB12CD"), T0)
    engine.receive(tg(700001, "A 5", "t1"), T0)
    engine.receive(sms("SAKIT demam", source="s2"), T0 + timedelta(minutes=5))
    with store.unit() as session:
        changes = session.scalars(select(AbsenceChange).order_by(AbsenceChange.id)).all()
        assert [(c.old, c.new, c.source) for c in changes] == [(None, "A", "ketua_kelas"), ("A", "S", "ortu")]
        assert changes[0].by == "Bayu Pratama" and changes[1].by == "+6281234500001"
        consent = session.scalars(select(ParentLink)).one()
        assert consent.consent_at == T0 and consent.consent_source == "s1"


def test_a_crashing_message_is_marked_and_changes_nothing(store: Store, rules, mini, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)

    def boom(turn, msg):  # type: ignore[no-untyped-def]
        turn.session.add(ParentLink(phone="+6281111111111", nis="1001", consent_at=T0))
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("absensi.engine.core.handle_parents", boom)
    assert engine.receive(sms("REG AB12CD"), T0) == []
    with store.unit() as session:
        row = session.scalars(select(InboxRow)).one()
        assert row.status == "error" and "simulated bug" in (row.error or "")
        assert session.scalars(select(ParentLink)).all() == []  # rolled back


def test_failed_messages_are_listed_and_retried_from_the_command_line(db_url, rules, mini, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from absensi.engine.app.cli import app

    store = Store(db_url)
    engine = Engine(rules, mini, store, T0)
    monkeypatch.setattr("absensi.engine.core.handle_parents", lambda turn, msg: 1 / 0)
    engine.receive(sms("REG AB12CD"), T0)
    monkeypatch.undo()  # "the fix is deployed"
    store.close()
    school = str(Path(__file__).parent / "schools" / "mini")
    listed = CliRunner().invoke(app, ["inbox", "--school", school, "--db", db_url])
    assert "ZeroDivisionError" in listed.output and "1 failed message(s)" in listed.output
    retried = CliRunner().invoke(app, ["inbox", "--school", school, "--db", db_url, "--retry"])
    assert "retried: 1 handled, 0 still failing" in retried.output
    store = Store(db_url)
    with store.unit() as session:
        assert session.scalars(select(InboxRow.status)).all() == ["done"]
        assert session.scalars(select(OutboxRow.recipient)).all() == ["+6281234500001"]
    store.close()


def test_a_permanent_failure_is_reported_to_the_admin_once(store: Store, rules) -> None:  # type: ignore[no-untyped-def]
    from absensi.engine.core import outbox_row
    from absensi.engine.school.files import load_school

    school = load_school(Path(__file__).resolve().parent.parent / "sample_school", rules.rules)
    admin = next(s.telegram_id for s in school.staff if s.role == "admin")
    engine = Engine(rules, school, store, T0)
    with store.unit() as session:
        session.add(outbox_row(OutboundMessage(Channel.TELEGRAM, "700123", "halo"), T0, None))
    item = store.claim(Channel.TELEGRAM, T0)[0]
    store.failed(item.id, T0, "bot diblokir oleh pengguna")  # in a driver's thread: only the row changes
    engine.tick(T0)  # the engine's thread tells the admin
    Engine(rules, school, store, T0).tick(T0)  # a restarted engine does not tell again
    with store.unit() as session:
        notes = session.scalars(select(OutboxRow).where(OutboxRow.kind == "delivery_failed")).all()
        assert [(n.recipient, "diblokir" in n.text) for n in notes] == [(str(admin), True)]
    # the notice itself failing does not start a loop of notices
    notice = store.claim(Channel.TELEGRAM, T0)[0]
    store.failed(notice.id, T0, "admin juga memblokir bot")
    engine.tick(T0)
    with store.unit() as session:
        assert len(session.scalars(select(OutboxRow).where(OutboxRow.kind == "delivery_failed")).all()) == 1


def test_backup_copies_a_live_sqlite_database(tmp_path, rules, mini) -> None:  # type: ignore[no-untyped-def]
    """SQLite only: `absensi backup` copies a SQLite file (for PostgreSQL the command points to pg_dump)."""
    from typer.testing import CliRunner

    from absensi.engine.app.cli import app
    from absensi.engine.store import sqlite_url

    url = sqlite_url(tmp_path / "absensi.db")
    store = Store(url)  # stays open, like the running service
    Engine(rules, mini, store, T0).receive(sms("REG AB12CD"), T0)
    copy = tmp_path / "copy.db"
    result = CliRunner().invoke(app, ["backup", "--school", str(tmp_path), "--db", url, "-o", str(copy)])
    assert result.exit_code == 0, result.output
    assert copy.stat().st_mode & 0o777 == 0o600
    restored = Store(sqlite_url(copy))
    with restored.unit() as session:
        assert session.scalars(select(OutboxRow.recipient)).all() == ["+6281234500001"]
    restored.close()
    store.close()


def test_migrations_build_exactly_the_tables_the_models_declare(store) -> None:
    """A model change without its migration would work on a fresh test database and fail at a school."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with store.db.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
