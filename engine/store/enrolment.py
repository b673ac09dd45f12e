"""Stable absen numbers and class history (SPEC §2), kept in the store per class per school year.

The roster files say who is in which class today; the store remembers who held which number since the
school year began. `plan` compares the two and decides, without touching anything:
- a class used for the first time this year is numbered as the file says (explicit `absen_no`, else the
  position by name);
- a student already seated keeps the number; an explicit `absen_no` that differs wins if it is free;
- a student new to a class gets the next number after the class's highest this year (never one that a
  student who left or moved held);
- a student no longer in a class leaves it (the seat ends the day before): moved, or left the school.
`sync` applies the plan in the caller's transaction; `apply_numbers` puts the year's numbers on the
loaded `School` so officers' `A 5` means the student who holds 5 today. Every change is described in
one line, for `absensi check` and the reload ("X TKJ 1: + Abdul Aziz → 8").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from ..school.model import School, Student
from .models import Enrolment


def school_year(day: date) -> str:
    """`2026/2027` for any day from July 2026 to June 2027 (the Indonesian school year)."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}/{start + 1}"


@dataclass(frozen=True)
class Seat:
    nis: str
    class_name: str
    absen_no: int
    start_day: date
    end_day: date | None = None
    id: int | None = None
    name: str | None = None  # the student's name on the roster while seated (reports name a student who left)


@dataclass
class Plan:
    """What a roster would change: seats to add, seats to end (by id), numbers to change (by id)."""

    add: list[Seat] = field(default_factory=list)
    end: dict[int, date] = field(default_factory=dict)
    renumber: dict[int, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # one per change, for people
    numbers: dict[str, int] = field(default_factory=dict)  # nis -> absen number after the change
    names: dict[int, str] = field(default_factory=dict)  # seat id -> the roster's name, where the seat's differs

    @property
    def changes(self) -> bool:
        return bool(self.add or self.end or self.renumber)


def plan(seats: list[Seat], school: School, today: date) -> Plan:
    """The changes that make this year's `seats` match the roster of `school` from `today` on."""
    result = Plan()
    open_seats = {s.nis: s for s in seats if s.end_day is None}
    used: dict[str, set[int]] = defaultdict(set)
    for seat in seats:
        used[seat.class_name].add(seat.absen_no)
    members: dict[str, list[Student]] = defaultdict(list)
    for student in school.students.values():
        members[student.class_name].append(student)
    for class_name in sorted(members):
        fresh = first_numbers(members[class_name]) if class_name not in used else None
        for student in sorted(members[class_name], key=lambda s: (s.name.lower(), s.nis)):
            _seat_student(result, student, open_seats.get(student.nis), used[class_name], fresh, today)
    for seat in seats:  # the names the seats keep follow the roster (a seat from before names were kept: filled)
        student = school.students.get(seat.nis)
        if student is not None and seat.id is not None and seat.name != student.name:
            result.names[seat.id] = student.name
    for nis, seat in sorted(open_seats.items()):
        if nis not in school.students:
            result.end[_id(seat)] = today - timedelta(days=1)
            result.lines.append(f"{seat.class_name}: - {nis} (no. {seat.absen_no}) is no longer on the roster; "
                                "the number stays free this year")
    return result


def first_numbers(members: list[Student]) -> dict[str, int]:
    """A class's numbers the first time its list is used in a year: explicit ones, then by name."""
    taken = {s.absen_no for s in members if s.explicit_no}
    free = (n for n in range(1, 10_000) if n not in taken)
    return {s.nis: s.absen_no if s.explicit_no else next(free)
            for s in sorted(members, key=lambda s: (s.name.lower(), s.nis))}


def _seat_student(result: Plan, student: Student, seat: Seat | None, used: set[int], fresh: dict[str, int] | None,
                  today: date) -> None:
    if seat is not None and seat.class_name == student.class_name:
        result.numbers[student.nis] = seat.absen_no
        if student.explicit_no and student.absen_no != seat.absen_no:
            _renumber(result, student, seat, used)
        return
    number = _new_number(student, used, fresh)
    used.add(number)
    result.numbers[student.nis] = number
    result.add.append(Seat(student.nis, student.class_name, number, today, name=student.name))
    if seat is None:
        if fresh is None:
            result.lines.append(f"{student.class_name}: + {student.name} → {number}")
        return
    result.end[_id(seat)] = today - timedelta(days=1)
    result.lines.append(f"{student.name}: {seat.class_name} no. {seat.absen_no} → {student.class_name}, no. {number}")


def _new_number(student: Student, used: set[int], fresh: dict[str, int] | None) -> int:
    wanted = fresh[student.nis] if fresh is not None else student.absen_no if student.explicit_no else None
    if wanted is not None and wanted not in used:
        return wanted
    return max(used, default=0) + 1


def _renumber(result: Plan, student: Student, seat: Seat, used: set[int]) -> None:
    if student.absen_no in used:
        result.lines.append(f"{student.class_name}: absen_no {student.absen_no} for {student.name} is held by "
                            f"another student this year; {student.name} keeps no. {seat.absen_no}")
        return
    used.add(student.absen_no)
    result.renumber[_id(seat)] = student.absen_no
    result.numbers[student.nis] = student.absen_no
    result.lines.append(f"{student.class_name}: {student.name} no. {seat.absen_no} → {student.absen_no} "
                        "(absen_no in the file)")


def _id(seat: Seat) -> int:
    assert seat.id is not None, "seats from the store carry their id"
    return seat.id


# ------------------------------------------------------------------------------------------ the store


def seats_of_year(session: Session, year: str) -> list[Seat]:
    rows = session.scalars(select(Enrolment).where(Enrolment.school_year == year).order_by(Enrolment.id))
    return [Seat(r.nis, r.class_name, r.absen_no, r.start_day, r.end_day, r.id, r.name) for r in rows]


def sync(session: Session, school: School, today: date) -> Plan:
    """Make the store's seats match the roster from `today`, then number `school` as the store says."""
    year = school_year(today)
    result = plan(seats_of_year(session, year), school, today)
    if result.changes:
        for seat_id, end in result.end.items():
            row = session.get(Enrolment, seat_id)
            if row is not None:
                row.end_day = end
        for seat_id, number in result.renumber.items():
            row = session.get(Enrolment, seat_id)
            if row is not None:
                row.absen_no = number
        session.flush()  # ends and renumbers first: the (class, number) pairs stay unique at every step
        for seat in result.add:
            session.add(Enrolment(school_year=year, nis=seat.nis, class_name=seat.class_name,
                                  absen_no=seat.absen_no, start_day=seat.start_day, name=seat.name))
        session.flush()
    if result.names:  # one statement for all (the first start after the upgrade names every seat)
        session.connection().execute(_NAME, [{"k_id": i, "v_name": n} for i, n in result.names.items()])
    seat_numbers(school, result.numbers)
    return result


def preview(session: Session | None, school: School, today: date) -> Plan:
    """What `sync` would change, changing nothing (no database yet: the first numbering, no lines)."""
    seats = seats_of_year(session, school_year(today)) if session is not None else []
    return plan(seats, school, today)


def apply_numbers(session: Session, school: School, today: date) -> None:
    """Number `school` as the store says, for readers that must not write (reports from the CLI)."""
    seat_numbers(school, preview(session, school, today).numbers)


def seat_numbers(school: School, numbers: dict[str, int]) -> None:
    for nis, absen_no in numbers.items():
        student = school.students.get(nis)
        if student is not None and student.absen_no != absen_no:
            school.students[nis] = replace(student, absen_no=absen_no)
    school.index()


_SEATS = Enrolment.__table__  # type: ignore[attr-defined]
_NAME = update(_SEATS).where(_SEATS.c.id == bindparam("k_id")).values(name=bindparam("v_name"))
