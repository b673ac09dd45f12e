"""Scope and snapshot: what a viewer may see, read once from the store for one period.

Scope is decided here, in the engine, from the viewer's roles — never by a driver or a UI. A report
function only ever sees the `Snapshot` this module builds, so it cannot reach outside the scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from ..finger.punches import gate_times
from ..rules import CompiledRules
from ..rules.finger import checked_reasons
from ..school.calendar import days_between
from ..school.model import ClassInfo, School, StaffRole
from ..store import queries
from . import Change as ChangeRow
from . import ClassReport, ClassRow, Entry, Snapshot, StudentRow, Thresholds, history
from .model import Gate


@dataclass(frozen=True)
class Scope:
    """What a viewer may see: classes by name, and whole departments or the whole school.

    A department or the school includes its past classes too (a class no longer in `classes.csv`, by the
    department its name gives); a class scope is that class only — and of a student who moved, only the
    days spent in it (SPEC §2).
    """

    classes: frozenset[str]
    label: str
    departments: frozenset[str] = frozenset()
    whole: bool = False

    def includes(self, class_name: str, department: str = "") -> bool:
        return self.whole or class_name in self.classes or (bool(department) and department in self.departments)

    @property
    def empty(self) -> bool:
        return not (self.whole or self.classes or self.departments)


def scope_of(school: School, rules: CompiledRules, roles: Iterable[StaffRole]) -> Scope:
    """The union of what the roles may view: own class, own department, or the whole school."""
    classes: set[str] = set()
    departments: set[str] = set()
    labels: list[str] = []
    for staff in roles:
        view = rules.rules.roles[staff.role].view
        if view == "school":
            return Scope(frozenset(school.classes), "Sekolah", whole=True)
        if view == "department":
            classes.update(school.classes_of_department(staff.scope))
            departments.add(staff.scope)
            labels.append(f"Jurusan {staff.scope}")
        elif view == "class" and staff.scope in school.classes:
            classes.add(staff.scope)
            labels.append(staff.scope)
    return Scope(frozenset(classes), ", ".join(dict.fromkeys(labels)), frozenset(departments))


def narrowed(scope: Scope, school: School, class_name: str = "", department: str = "") -> Scope | None:
    """The part of `scope` a viewer asks for: one class, one department, or (neither) all of it; None when
    the class or department asked for is not within `scope` (or does not exist) — never an empty scope
    that would read as "nothing happened there"."""
    if class_name:
        info = school.classes.get(class_name)
        if info is None or not scope.includes(class_name, info.department):
            return None
        return Scope(frozenset({class_name}), class_name)
    if department:
        if not school.classes_of_department(department) or not (scope.whole or department in scope.departments):
            return None
        return Scope(frozenset(school.classes_of_department(department)), f"Jurusan {department}",
                     frozenset({department}))
    return scope


def school_scope(school: School, class_name: str | None = None, department: str | None = None) -> Scope:
    """The operator's scope on the command line: everything, or narrowed to a class (one that is no longer in
    classes.csv too: its past periods) or a department."""
    if class_name:
        return Scope(frozenset({class_name}), class_name)
    if department:
        return Scope(frozenset(school.classes_of_department(department)), f"Jurusan {department}",
                     frozenset({department}))
    return Scope(frozenset(school.classes), "Sekolah", whole=True)


def make_snapshot(session: Session, school: School, rules: CompiledRules, scope: Scope, start: date, end: date,
                  period_label: str, today: date | None = None, with_changes: bool = False,
                  nis: str | None = None, students: list[StudentRow] | None = None,
                  records: tuple[Iterable[Any], Iterable[Any]] | None = None, with_gate: bool = False,
                  with_reports: bool = True) -> Snapshot:
    """Everything in `scope` for start..end (of one student only, with `nis`). `with_changes` adds the
    correction history (riwayat).

    History keeps its classes (SPEC §2): a row is a student's seat in a class, read from the store for the
    period — a student who moved has a row in each class, for the days spent there — and a record counts in
    the class it was made in. Students with no seat at all in the period's school years (a database from
    before seats) are where the roster has them, for the whole period. The reports count the school days
    up to `today` only (Hari Efektif, SPEC §7), for every report alike. `students`: what `student_rows` gives
    for the same scope, period and `nis`, when the caller holds it (the engine does: it changes only with the
    seats, that is with the roster). `records`: every absence record and class report of the period, when the
    caller holds them (the engine holds today's), read here instead of the store. `with_gate` adds the
    fingerprint punches of the (student, day)s with a record (harian, riwayat, perhatian: SPEC §10).
    `with_reports` False leaves the classes' reports out (only `status` reads them: a semester of a big
    school's is tens of thousands of rows).
    """
    students = student_rows(session, school, scope, start, end, nis) if students is None else students
    in_scope = sorted({s.nis for s in students})
    classes = _classes(school, scope, {s.class_name for s in students})
    period = {"start": start, "end": end}
    everyone = scope.whole and nis is None
    if records is None:
        query = queries.ABSENCES_IN_PERIOD if everyone else queries.ABSENCES_OF_STUDENTS
        absences: Iterable[Any] = list(session.execute(query, {**period, "nis": in_scope})
                                       ) if everyone or in_scope else []
        reports: Iterable[Any] = session.execute(queries.CLASS_REPORTS_IN_PERIOD, {
            **period, "classes": sorted(classes)}) if with_reports else []
    else:  # the same rows as the queries above select
        wanted = set(in_scope)
        absences = [a for a in records[0] if a.status is not None and start <= a.day <= end
                    and (everyone or a.nis in wanted)]
        reports = [r for r in records[1] if start <= r.day <= end and r.class_name in classes] if with_reports else []
    changes = list(session.execute(queries.CHANGES_OF_STUDENTS, {**period, "nis": in_scope})
                   ) if with_changes and in_scope else []
    settings = rules.rules.settings
    entries = [Entry(a.nis, a.day, a.status or "", a.note, a.source, a.reporter, _local(school, a.reported_at),
                     a.parent_notified, a.class_name)
               for a in absences]
    finger = rules.rules.finger
    gate = {key: Gate(a.first, a.last) for key, a in gate_times(
        session, school, ((e.nis, e.day) for e in entries), finger.min_stay_minutes).items()} if with_gate else {}
    return Snapshot(
        school_name=school.name, place=school.place, headmaster=_holder(school, "kepala_sekolah"),
        period_label=period_label, school_days=school.calendar.school_days(start, end),
        all_days=list(days_between(start, end)),
        students=students,
        classes=[ClassRow(c.name, c.grade, c.department, _holder(school, "wali_kelas", c.name))
                 for c in classes.values()],
        entries=entries,
        changes=[ChangeRow(c.nis, c.day, c.old, c.new, c.by, _local(school, c.at) or c.at, c.source) for c in changes],
        class_reports=[ClassReport(r.class_name, r.day, r.reporter, _local(school, r.at) or r.at, r.source)
                       for r in reports],
        counting={code: r.erapor for code, r in rules.rules.reasons.items()},
        thresholds=Thresholds(settings.thresholds.alfa_per_month, settings.thresholds.consecutive_days,
                              settings.thresholds.min_attendance_pct, finger.attention_days),
        statuses=tuple(rules.rules.reasons),
        status_labels={code: r.name for code, r in rules.rules.reasons.items()},
        scope_label=scope.label, printed_on=today, today=today,
        gate=gate, gate_reasons=frozenset(checked_reasons(finger, rules.rules.reasons)),
    )


NOT_ON_ROSTER = "(tidak lagi di daftar siswa)"


def student_rows(session: Session, school: School, scope: Scope, start: date, end: date, only: str | None,
                 seats: dict[str, list[history.Held]] | None = None) -> list[StudentRow]:
    """One row per student and class of the period within the scope: seats (`seats`, when the caller holds
    them: `history.seats_of_years`), else the roster."""
    seats = history.seats_of_years(session, start, end) if seats is None else seats
    rows: list[StudentRow] = []
    for nis, held in seats.items():
        if only is not None and nis != only:
            continue
        student = school.students.get(nis)
        by_class: dict[str, list[history.Held]] = defaultdict(list)
        for seat in held:
            if seat.first <= end and seat.last >= start:
                by_class[seat.class_name].append(seat)
        for class_name, mine in by_class.items():
            if not scope.includes(class_name, history.class_info(school, class_name).department):
                continue
            rows.append(StudentRow(
                nis, student.nisn if student else "", student.name if student else _left_name(held), class_name,
                mine[-1].absen_no, student.gender if student else "", history.seat_days(mine, start, end),
                history.move_note(held, mine, start, end)))  # fmt: skip
    for student in school.students.values():  # no seat in these school years: where the roster has them
        if student.nis in seats or (only is not None and student.nis != only):
            continue
        if scope.includes(student.class_name, history.class_info(school, student.class_name).department):
            rows.append(StudentRow(student.nis, student.nisn, student.name, student.class_name, student.absen_no,
                                   student.gender))
    return rows


def _left_name(held: list[history.Held]) -> str:
    """A student no longer on the roster: the name the latest seat kept, else that they are not listed."""
    return next((seat.name for seat in reversed(held) if seat.name), NOT_ON_ROSTER)


def _classes(school: School, scope: Scope, used: set[str]) -> dict[str, ClassInfo]:
    """The scope's classes of today and the past classes its rows were in."""
    found = {name: info for name, info in school.classes.items() if scope.includes(name, info.department)}
    for name in sorted(used - set(found)):
        found[name] = history.class_info(school, name)
    return found


def _local(school: School, moment: datetime | None) -> datetime | None:
    """The store keeps UTC; reports print school time."""
    return school.calendar.local(moment) if moment is not None else None


def _holder(school: School, role: str, scope: str = "") -> str:
    return next((s.name for s in school.staff if s.role == role and s.scope == scope), "")
