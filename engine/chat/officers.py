"""Class officers' reports (SPEC §4): `<REASON> <refs> [note]`, `NIHIL`, `BATAL <refs>`, for today only."""

from __future__ import annotations

from ..flows.absences import run_absence
from ..live import ReportRecord
from ..school.model import StaffRole, Student
from ..turn import Turn
from . import views
from .grammar import parse_officer


def officer_class(turn: Turn, roles: list[StaffRole]) -> StaffRole | None:
    """The first role that may report for a class (a role with the `absen` command and class scope)."""
    for staff in roles:
        spec = turn.rules.rules.roles[staff.role]
        if spec.scope == "class" and any(turn.rules.commands.get(c) and turn.rules.commands[c].action
                                         == "report_buttons" for c in spec.commands):
            return staff
    return None


def resolve_refs(turn: Turn, class_name: str, refs: list[str]) -> tuple[list[Student], list[str]]:
    members = turn.school.by_class.get(class_name, [])
    by_no = {str(s.absen_no): s for s in members}
    by_nis = {s.nis: s for s in members}
    found, unknown = [], []
    for ref in refs:
        student = by_no.get(ref.lstrip("0") or "0") or by_nis.get(ref)
        if student is None:
            unknown.append(ref)
        elif student not in found:
            found.append(student)
    return found, unknown


def officer_text(turn: Turn, user: int, roles: list[StaffRole], text: str) -> None:
    officer = officer_class(turn, roles)
    assert officer is not None
    line = parse_officer(text, turn.rules)
    if line.kind == "unknown":
        turn.to_staff(user, "tg_unknown_text")
        return
    apply_report(turn, user, officer, line.kind, line.reason, line.refs, line.note)


def apply_report(turn: Turn, user: int, officer: StaffRole, kind: str, reason: str | None, refs: list[str],
                 note: str) -> None:
    """Record an officer's one-line report for today, then answer with the class list."""
    if not turn.school.calendar.is_school_day(turn.today):
        turn.to_staff(user, "tg_not_school_day", date=turn.date_text(turn.today))
        return
    students: list[Student] = []
    if kind != "nihil":
        if not refs:
            turn.to_staff(user, "tg_report_needs_refs", example="A 3 7 12" if kind == "report" else "BATAL 5")
            return
        students, unknown = resolve_refs(turn, officer.scope, refs)
        if unknown:
            turn.to_staff(user, "tg_unknown_refs", refs=", ".join(unknown[:20]), **{"class": officer.scope})
            return
    trigger = "withdraw" if kind == "withdraw" else "officer_report"
    record_reports(turn, user, officer, [(s, trigger, reason) for s in students], note, nihil=kind == "nihil")


def record_reports(turn: Turn, user: int, officer: StaffRole, items: list[tuple[Student, str, str | None]],
                   note: str, nihil: bool = False) -> None:
    """Fire each (student, trigger, reason) for today; tell the officer what stood; show the class list."""
    notices: list[str] = []
    for student, trigger, reason in items:
        ctx = run_absence(turn, student, turn.today, trigger, reason=reason, note=note, source=officer.role,
                          reporter=officer.name)
        notices.extend(ctx.notices)
    mark_class_reported(turn, officer, nihil=nihil)
    for notice in notices:
        turn.to_staff_text(user, notice)
    views.class_list(turn, user, officer.scope, turn.today)


def mark_class_reported(turn: Turn, officer: StaffRole, nihil: bool) -> None:
    live, today = turn.live, turn.today
    report = live.class_report(turn.session, officer.scope, today, today)
    if report is None:
        live.mark_reported(turn.session, ReportRecord(officer.scope, today, officer.name, officer.role, turn.now,
                                                      nihil), today)
    elif nihil and not report.nihil:
        report.nihil = True
        live.mark_reported(turn.session, report, today)
