"""Scope and snapshot: what a viewer may see, read once from the store for one period.

Scope is decided here, in the engine, from the viewer's roles — never by a driver or a UI. A report
function only ever sees the `Snapshot` this module builds, so it cannot reach outside the scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from .calendar import days_between
from .reports import Change as ChangeRow
from .reports import ClassReport, ClassRow, Entry, Snapshot, StudentRow, Thresholds
from .rules import CompiledRules
from .school import School, StaffRole
from .store import queries


@dataclass(frozen=True)
class Scope:
    classes: frozenset[str]
    label: str


def scope_of(school: School, rules: CompiledRules, roles: Iterable[StaffRole]) -> Scope:
    """The union of what the roles may view: own class, own department, or the whole school."""
    classes: set[str] = set()
    labels: list[str] = []
    for staff in roles:
        view = rules.rules.roles[staff.role].view
        if view == "school":
            return Scope(frozenset(school.classes), "Sekolah")
        if view == "department":
            classes.update(school.classes_of_department(staff.scope))
            labels.append(f"Jurusan {staff.scope}")
        elif view == "class" and staff.scope in school.classes:
            classes.add(staff.scope)
            labels.append(staff.scope)
    return Scope(frozenset(classes), ", ".join(dict.fromkeys(labels)))


def school_scope(school: School, class_name: str | None = None, department: str | None = None) -> Scope:
    """The operator's scope on the command line: everything, or narrowed to a class or department."""
    if class_name:
        return Scope(frozenset({class_name}) & frozenset(school.classes), class_name)
    if department:
        return Scope(frozenset(school.classes_of_department(department)), f"Jurusan {department}")
    return Scope(frozenset(school.classes), "Sekolah")


def make_snapshot(session: Session, school: School, rules: CompiledRules, scope: Scope, start: date, end: date,
                  period_label: str, today: date | None = None, with_changes: bool = False) -> Snapshot:
    """Everything in `scope` for start..end. `with_changes` adds the correction history (riwayat).

    The reports count the school days up to `today` only (Hari Efektif, SPEC §7), for every report alike.
    """
    students = [s for s in school.students.values() if s.class_name in scope.classes]
    in_scope = {s.nis for s in students}
    classes = sorted(scope.classes)
    # Records are filtered by the student's current class (a moved student keeps their history).
    period = {"start": start, "end": end}
    whole_school = len(classes) == len(school.classes)
    query = queries.ABSENCES_IN_PERIOD if whole_school else queries.ABSENCES_OF_STUDENTS
    absences = [a for a in session.execute(query, {**period, "nis": sorted(in_scope)}) if a.nis in in_scope]
    changes = list(session.execute(queries.CHANGES_OF_STUDENTS, {**period, "nis": sorted(in_scope)})
                   ) if with_changes else []
    reports = session.execute(queries.CLASS_REPORTS_IN_PERIOD, {**period, "classes": classes})
    settings = rules.rules.settings
    return Snapshot(
        school_name=school.name, place=school.place, headmaster=_holder(school, "kepala_sekolah"),
        period_label=period_label, school_days=school.calendar.school_days(start, end),
        all_days=list(days_between(start, end)),
        students=[StudentRow(s.nis, s.nisn, s.name, s.class_name, s.absen_no, s.gender) for s in students],
        classes=[ClassRow(c.name, c.grade, c.department, _holder(school, "wali_kelas", c.name))
                 for c in school.classes.values() if c.name in scope.classes],
        entries=[Entry(a.nis, a.day, a.status or "", a.note, a.source, a.reporter, _local(school, a.reported_at),
                       a.parent_notified)
                 for a in absences],
        changes=[ChangeRow(c.nis, c.day, c.old, c.new, c.by, _local(school, c.at) or c.at, c.source) for c in changes],
        class_reports=[ClassReport(r.class_name, r.day, r.reporter, _local(school, r.at) or r.at, r.source)
                       for r in reports],
        counting={code: r.erapor for code, r in rules.rules.reasons.items()},
        thresholds=Thresholds(settings.thresholds.alfa_per_month, settings.thresholds.consecutive_days,
                              settings.thresholds.min_attendance_pct),
        statuses=tuple(rules.rules.reasons),
        status_labels={code: r.name for code, r in rules.rules.reasons.items()},
        scope_label=scope.label, printed_on=today, today=today,
    )


def _local(school: School, moment: datetime | None) -> datetime | None:
    """The store keeps UTC; reports print school time."""
    return school.calendar.local(moment) if moment is not None else None


def _holder(school: School, role: str, scope: str = "") -> str:
    return next((s.name for s in school.staff if s.role == role and s.scope == scope), "")
