"""Scope and snapshot: what a viewer may see, read once from the store for one period.

Scope is decided here, in the engine, from the viewer's roles — never by a driver or a UI. A report
function only ever sees the `Snapshot` this module builds, so it cannot reach outside the scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from .calendar import days_between
from .reports import Change as ChangeRow
from .reports import ClassReport, ClassRow, Entry, Snapshot, StudentRow, Thresholds
from .rules import CompiledRules
from .school import School, StaffRole
from .store.models import Absence, AbsenceChange
from .store.models import ClassReport as ClassReportRow


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


def counted_days(school: School, start: date, end: date, today: date | None) -> list[date]:
    """School days of the period inside a semester, up to `today` (future days have not happened)."""
    last = min(end, today) if today else end
    calendar = school.calendar
    return [d for d in calendar.school_days(start, last)
            if not calendar.semesters or calendar.semester_of(d) is not None]


def make_snapshot(session: Session, school: School, rules: CompiledRules, scope: Scope, start: date, end: date,
                  period_label: str, today: date | None = None) -> Snapshot:
    students = [s for s in school.students.values() if s.class_name in scope.classes]
    nis = [s.nis for s in students]
    absences = _chunked(session, nis, lambda chunk: select(Absence).where(
        Absence.nis.in_(chunk), Absence.day >= start, Absence.day <= end, Absence.status.is_not(None)))
    changes = _chunked(session, nis, lambda chunk: select(AbsenceChange).where(
        AbsenceChange.nis.in_(chunk), AbsenceChange.day >= start, AbsenceChange.day <= end))
    reports = session.scalars(select(ClassReportRow).where(ClassReportRow.day >= start, ClassReportRow.day <= end))
    settings = rules.rules.settings
    return Snapshot(
        school_name=school.name, place=school.place, headmaster=_holder(school, "kepala_sekolah"),
        period_label=period_label, school_days=counted_days(school, start, end, today),
        all_days=list(days_between(start, end)),
        students=[StudentRow(s.nis, s.nisn, s.name, s.class_name, s.absen_no, s.gender) for s in students],
        classes=[ClassRow(c.name, c.grade, c.department, _holder(school, "wali_kelas", c.name))
                 for c in school.classes.values() if c.name in scope.classes],
        entries=[Entry(a.nis, a.day, a.status or "", a.note, a.source, a.reporter, a.reported_at, a.parent_notified)
                 for a in absences],
        changes=[ChangeRow(c.nis, c.day, c.old, c.new, c.by, c.at, c.source) for c in changes],
        class_reports=[ClassReport(r.class_name, r.day, r.reporter, r.at) for r in reports
                       if r.class_name in scope.classes],
        counting={code: r.erapor for code, r in rules.rules.reasons.items()},
        thresholds=Thresholds(settings.thresholds.alfa_per_month, settings.thresholds.consecutive_days,
                              settings.thresholds.min_attendance_pct),
        statuses=tuple(rules.rules.reasons),
        status_labels={code: r.name for code, r in rules.rules.reasons.items()},
        scope_label=scope.label, printed_on=today,
    )


def _chunked(session: Session, keys: list[str], query) -> list:  # type: ignore[no-untyped-def]
    """Run `query(chunk)` over chunks of keys: IN lists stay well under every backend's limits."""
    rows: list = []
    for i in range(0, len(keys), 500):
        rows.extend(session.scalars(query(keys[i : i + 500])))
    return rows


def _holder(school: School, role: str, scope: str = "") -> str:
    return next((s.name for s in school.staff if s.role == role and s.scope == scope), "")
