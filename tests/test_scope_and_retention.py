"""Scopes are enforced in the engine (never more than the caller may see) and old data is purged."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.store import Store
from absensi.engine.store.models import Absence, InboxRow

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 07:30 in Jakarta
_count = iter(range(10**6))


def say(engine: Engine, user: int, text: str, at: datetime = T0) -> list[OutboundMessage]:
    return engine.receive(InboundMessage(Channel.TELEGRAM, str(user), at, f"m{next(_count)}", text), at)


def everything_shown(messages: list[OutboundMessage]) -> str:
    """All text a user receives, documents included (every cell of every sheet)."""
    parts = [m.text for m in messages]
    for m in messages:
        if m.document is not None and m.document.filename.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(m.document.content), read_only=True)
            for sheet in book.worksheets:
                parts.extend(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    return "\n".join(parts)


def absences_in_every_class(engine: Engine) -> None:
    say(engine, 700001, "S 5 demam")  # X TKJ 1: Budi Santoso
    say(engine, 700004, "A 1")  # X TKJ 2
    say(engine, 700011, "I 1")  # XI RPL 1


def test_a_wali_kelas_never_sees_another_class(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    absences_in_every_class(engine)
    others = [s.name for s in mini.students.values() if s.class_name != "X TKJ 1"]
    for command in ("/hariini", "/rekap 2026-11", "/semester", "/perhatian", "/status"):
        shown = everything_shown(say(engine, 700003, command))
        leaked = [name for name in others if name in shown]
        assert leaked == [], (command, leaked)
        assert "X TKJ 2" not in shown and "XI RPL 1" not in shown, command


def test_history_of_a_student_outside_the_scope_looks_like_no_student(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    absences_in_every_class(engine)
    other = next(s for s in mini.students.values() if s.class_name == "XI RPL 1")
    outside = say(engine, 700003, f"/riwayat {other.nis}")
    missing = say(engine, 700003, "/riwayat 999999")
    assert [m.text.replace(other.nis, "N") for m in outside] == [m.text.replace("999999", "N") for m in missing]
    assert all(m.document is None for m in outside)


def test_a_head_of_department_sees_the_department_only(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    absences_in_every_class(engine)
    shown = everything_shown(say(engine, 700006, "/hariini"))
    assert "X TKJ 1" in shown and "X TKJ 2" in shown and "XI RPL 1" not in shown


def test_unlinked_users_get_no_school_data(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    absences_in_every_class(engine)
    names = [s.name for s in mini.students.values()]
    for text in ("/hariini", "/rekap", "/riwayat 1001", "S 5", "/absen", "/semester"):
        out = say(engine, 999999, text)
        assert out and all(m.document is None for m in out)
        assert not [n for n in names if n in everything_shown(out)], text


def test_officers_see_parents_numbers_masked(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    engine.receive(InboundMessage(Channel.SMS, "081234500001", T0, "r1", "REG AB12CD"), T0)
    out = engine.receive(InboundMessage(Channel.SMS, "081234500001", T0, "r2", "SAKIT demam"), T0)
    to_officer = [m.text for m in out if m.to in ("700001", "700002")]
    to_wali = [m.text for m in out if m.to == "700003"]
    assert to_officer and all("0812****001" in t and "+6281234500001" not in t for t in to_officer)
    assert to_wali and "+6281234500001" in to_wali[0]


def test_records_older_than_the_retention_period_are_purged(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(rules, mini, store, T0)
    say(engine, 700001, "S 5 demam")
    engine.tick(datetime(2029, 6, 30, 1, 0, tzinfo=UTC))  # 2026/27 ended; 2027/28 and 2028/29 not yet
    with store.unit() as session:
        assert len(session.scalars(select(Absence)).all()) == 1
    engine.tick(datetime(2029, 7, 1, 1, 0, tzinfo=UTC) + timedelta(days=1))  # the school year after next ended
    with store.unit() as session:
        assert session.scalars(select(Absence)).all() == []
        assert session.scalars(select(InboxRow)).all() == []
