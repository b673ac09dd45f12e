"""History keeps its classes (SPEC §2): which class each student was in on each day of a period.

Read from the store's seats (`enrolment`, kept by `enrolment.sync`): a student's seat in a class runs from
its start day to its end day (None while held). Two readings make the seats mean days of the school year:

* the seats made by the first sync of a school year (the year's earliest start day: the service's first
  start, or the day the seats table came to a database that had records before it) hold from the start of
  the school year (1 July), since the roster of that day is the best knowledge of the days before it;
* a seat still open holds until the end of its school year (30 June): the next year has its own seats.

A class that is no longer in `classes.csv` keeps its seats, so it stays reportable for the periods it
existed; its grade and department are read from its name (`X TKJ 1` → grade 10, department TKJ).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from ..school.model import ClassInfo, School
from ..store.enrolment import school_year
from ..store.models import Absence, Enrolment

GRADES = {"VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12, "XIII": 13}
_CLASS_NAME = re.compile(r"^(XIII|XII|XI|IX|X|VIII|VII|1[0-3]|[7-9])\s+([A-Za-z][\w.&-]*)?", re.IGNORECASE)
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True)
class Held:
    """A seat as days: the student held `absen_no` in `class_name` from `first` to `last` (both included)."""

    nis: str
    class_name: str
    absen_no: int
    first: date
    last: date
    name: str | None = None  # as the roster had it while seated (None: a seat from before names were kept)


def years_of(start: date, end: date) -> list[str]:
    """The school years a period touches ('2026/2027', …)."""
    first, last = int(school_year(start)[:4]), int(school_year(end)[:4])
    return [f"{y}/{y + 1}" for y in range(first, last + 1)]


def seats_of_years(session: Session, start: date, end: date) -> dict[str, list[Held]]:
    """nis → every seat of the school years of start..end, as days, earliest first (any class, any scope)."""
    years = years_of(start, end)
    firsts = dict(session.execute(select(Enrolment.school_year, func.min(Enrolment.start_day))
                                  .where(Enrolment.school_year.in_(years)).group_by(Enrolment.school_year)).all())
    rows = session.execute(select(Enrolment.school_year, Enrolment.nis, Enrolment.class_name, Enrolment.absen_no,
                                  Enrolment.start_day, Enrolment.end_day, Enrolment.name)
                           .where(Enrolment.school_year.in_(years)).order_by(Enrolment.id))
    seats: dict[str, list[Held]] = defaultdict(list)
    for year, nis, class_name, absen_no, start_day, end_day, name in rows:
        begins = int(year[:4])
        first = date(begins, 7, 1) if start_day == firsts.get(year) else start_day
        last = end_day if end_day is not None else date(begins + 1, 6, 30)
        if first <= last:
            seats[nis].append(Held(nis, class_name, absen_no, first, last, name))
    for held in seats.values():
        held.sort(key=lambda h: h.first)
    return seats


def class_info(school: School, name: str) -> ClassInfo:
    """The class as `classes.csv` has it; a class no longer there: grade and department from its name
    (`XII AKL 2` → 12, AKL; a name without them: grade 0, no department)."""
    info = school.classes.get(name)
    if info is not None:
        return info
    match = _CLASS_NAME.match(name.strip())
    if match is None:
        return ClassInfo(name, 0, "")
    word, department = match.group(1).upper(), match.group(2) or ""
    grade = int(word) if word.isdigit() else GRADES[word]
    known = {c.department.lower(): c.department for c in school.classes.values()}
    return ClassInfo(name, grade, known.get(department.lower(), department.upper()))


def class_existed(session: Session, class_name: str, start: date, end: date) -> bool:
    """A class not in `classes.csv` that had a seat or an absence record in start..end (it is reportable)."""
    if any(h.class_name == class_name and h.first <= end and h.last >= start
           for held in seats_of_years(session, start, end).values() for h in held):
        return True
    found = session.execute(select(Absence.id).where(Absence.class_name == class_name, Absence.day >= start,
                                                     Absence.day <= end).limit(1)).first()
    return found is not None


def ever_seated(session: Session, nis: str) -> bool:
    """A student with a seat in the store, on the roster or not (one who left stays reportable, SPEC §2)."""
    return session.execute(select(Enrolment.id).where(Enrolment.nis == nis).limit(1)).first() is not None


def seat_days(held: list[Held], start: date, end: date) -> frozenset[date] | None:
    """The days of start..end the seats hold; None when they hold the whole period."""
    reach = start - timedelta(days=1)  # seats' spans in order: the whole period unless one leaves a gap
    for first, last in sorted((max(h.first, start), min(h.last, end)) for h in held if h.first <= end and h.last >= start):
        if first > reach + timedelta(days=1):
            break
        reach = max(reach, last)
    else:
        if reach >= end:  # (most students: one seat over the whole period, no day set built)
            return None
    days = {max(h.first, start) + timedelta(days=i) for h in held
            for i in range((min(h.last, end) - max(h.first, start)).days + 1)}  # none when they do not overlap
    return None if len(days) == (end - start).days + 1 else frozenset(days)


def move_note(seats: list[Held], mine: list[Held], start: date, end: date) -> str:
    """'pindah dari X TKJ 1 (2 Des)', 'pindah ke X TKJ 2 (2 Des)', 'masuk (1 Des)', 'keluar (3 Des)': how the
    student came into or left the class within the period (`mine`: the seats in this class, `seats`: all)."""
    notes = []
    first, last = min(h.first for h in mine), max(h.last for h in mine)
    if start < first <= end:
        before = next((h for h in seats if h.last == first - timedelta(days=1) and h not in mine), None)
        notes.append(f"pindah dari {before.class_name} ({day_month(first)})" if before else
                     f"masuk ({day_month(first)})")
    if start <= last < end:
        after = next((h for h in seats if h.first == last + timedelta(days=1) and h not in mine), None)
        moved = last + timedelta(days=1)
        notes.append(f"pindah ke {after.class_name} ({day_month(moved)})" if after else
                     f"keluar ({day_month(moved)})")
    return "; ".join(notes)


def day_month(day: date) -> str:
    """'2 Des'."""
    return f"{day.day} {SHORT_MONTHS[day.month - 1]}"
