"""Stable absen numbers for the school year and the class each student held on each day (SPEC §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from absensi.engine.school.model import School, Student
from absensi.engine.store import Store
from absensi.engine.store.enrolment import plan, preview, school_year, sync
from absensi.engine.store.models import Enrolment

MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def _copy(school: School) -> School:
    clone = replace(school, students=dict(school.students))
    clone.index()
    return clone


def _numbers(school: School, class_name: str) -> dict[str, int]:
    return {s.name: s.absen_no for s in school.by_class[class_name]}


def _add(school: School, nis: str, name: str, class_name: str, number: int = 0) -> None:
    school.students[nis] = Student(nis, name, class_name, f"ZZ{nis}", number, explicit_no=bool(number))


def test_the_school_year_runs_from_july_to_june() -> None:
    assert school_year(date(2026, 7, 1)) == school_year(date(2027, 6, 30)) == "2026/2027"
    assert school_year(date(2026, 6, 30)) == "2025/2026"


def test_a_student_appended_to_the_file_gets_the_next_number_and_nobody_else_moves(store: Store, mini) -> None:  # type: ignore[no-untyped-def]
    school = _copy(mini)
    with store.unit() as session:
        sync(session, school, MONDAY)
    before = _numbers(school, "X TKJ 1")
    changed = _copy(mini)
    _add(changed, "1013", "Abdul Aziz", "X TKJ 1")  # sorts first by name: would have become no. 1
    with store.unit() as session:
        result = sync(session, changed, TUESDAY)
    after = _numbers(changed, "X TKJ 1")
    assert after == {**before, "Abdul Aziz": max(before.values()) + 1}
    assert result.lines == [f"X TKJ 1: + Abdul Aziz → {max(before.values()) + 1}"]


def test_a_moved_student_keeps_her_old_seat_until_the_day_before_and_her_number_is_not_reused(store: Store, mini) -> None:  # type: ignore[no-untyped-def]
    school = _copy(mini)
    with store.unit() as session:
        sync(session, school, MONDAY)
    siti = school.students["1002"]
    moved = _copy(mini)
    moved.students["1002"] = replace(siti, class_name="X TKJ 2")
    with store.unit() as session:
        result = sync(session, moved, TUESDAY)
    assert result.lines == [f"Siti Rahma: X TKJ 1 no. {siti.absen_no} → X TKJ 2, no. 7"]
    arrived = _copy(moved)
    _add(arrived, "1014", "Zaki Akbar", "X TKJ 1")
    with store.unit() as session:
        sync(session, arrived, WEDNESDAY)
        seats = session.scalars(select(Enrolment).where(Enrolment.nis == "1002").order_by(Enrolment.id)).all()
    assert [(s.class_name, s.start_day, s.end_day) for s in seats] == [
        ("X TKJ 1", MONDAY, MONDAY), ("X TKJ 2", TUESDAY, None)]
    assert arrived.students["1014"].absen_no == 7  # after the class's highest (6): Siti's 2 stays free
    assert siti.absen_no not in _numbers(arrived, "X TKJ 1").values()


def test_an_explicit_absen_no_wins_when_it_is_free_and_is_refused_when_someone_holds_it(store: Store, mini) -> None:  # type: ignore[no-untyped-def]
    school = _copy(mini)
    with store.unit() as session:
        sync(session, school, MONDAY)
    budi = school.students["1001"]
    asked = _copy(mini)
    asked.students["1001"] = replace(budi, absen_no=20, explicit_no=True)
    asked.students["1002"] = replace(asked.students["1002"], absen_no=3, explicit_no=True)  # 3 is taken
    with store.unit() as session:
        result = sync(session, asked, TUESDAY)
    assert asked.students["1001"].absen_no == 20
    assert asked.students["1002"].absen_no == school.students["1002"].absen_no
    assert any("held by another student" in line for line in result.lines)


def test_a_student_who_left_frees_nothing_and_the_numbers_restart_next_school_year(store: Store, mini) -> None:  # type: ignore[no-untyped-def]
    school = _copy(mini)
    with store.unit() as session:
        sync(session, school, MONDAY)
    left = _copy(mini)
    del left.students["1006"]
    with store.unit() as session:
        result = sync(session, left, TUESDAY)
        assert any("1006" in line and "no longer on the roster" in line for line in result.lines)
        fresh = _copy(left)
        sync(session, fresh, date(2027, 7, 13))
    assert sorted(_numbers(fresh, "X TKJ 1").values()) == [1, 2, 3, 4, 5]


def test_preview_changes_nothing_and_a_class_s_first_use_is_numbered_by_name(store: Store, mini) -> None:  # type: ignore[no-untyped-def]
    school = _copy(mini)
    with store.unit() as session:
        result = preview(session, school, MONDAY)
        assert session.scalars(select(Enrolment)).all() == []
    by_name = sorted(school.by_class["X TKJ 1"], key=lambda s: s.name.lower())
    assert [result.numbers[s.nis] for s in by_name] == [1, 2, 3, 4, 5, 6]
    assert result.lines == []  # the first numbering of a year is not a change
    assert plan([], school, MONDAY).numbers == result.numbers
