"""Monitoring commands (SPEC §4, §7): each answer computed within the caller's scope, never more.

Every figure comes from `reports` (one definition, SPEC §7) over a snapshot that counts school days up to
today; every text spells the reason's name beside its letter (`S Sakit`), with the rules' names.
"""

from __future__ import annotations

import re
from datetime import date

from .. import reports
from ..messages import Document
from ..reports.snapshot import Scope, make_snapshot, scope_of
from ..rules.commands import command_doing
from ..school.calendar import month_bounds
from ..school.model import StaffRole
from ..turn import Turn

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def class_list(turn: Turn, user: int, class_name: str, day: date) -> None:
    """The officer's answer: the class's absence list for the day (today's, held in memory)."""
    rows = turn.live.class_records(turn.session, class_name, day, turn.today)
    students = turn.school.students
    lines = []
    for row in sorted(rows, key=lambda r: students[r.nis].absen_no if r.nis in students else 0):
        student = students.get(row.nis)
        if student is None:
            continue
        note = f" ({row.note})" if row.note else ""
        by = turn.text("tg_class_list_by_parent") if row.source == "ortu" else ""
        lines.append(f"{student.absen_no}. {student.name}: {row.status} {turn.rules.reason_name(row.status or '')}"
                     f"{note}{by}")
    if lines:
        turn.to_staff(user, "tg_class_list", list="\n".join(lines), date=turn.date_text(day), **{"class": class_name})
    else:
        turn.to_staff(user, "tg_class_list_empty", date=turn.date_text(day), **{"class": class_name})


def command(turn: Turn, user: int, roles: list[StaffRole], action: str, argument: str) -> None:
    scope = scope_of(turn.school, turn.rules, roles)
    if scope.empty:
        turn.to_staff(user, "tg_no_data", what=turn.text("tg_what_scope"))
        return
    handler = {
        "today": _today, "month_recap": _month, "semester_recap": _semester, "student_history": _history,
        "report_status": _status, "attention": _attention,
    }[action]
    handler(turn, user, scope, argument)


def _snapshot(turn: Turn, scope: Scope, start: date, end: date, label: str, today: date,
              **options: object) -> reports.Snapshot:
    """The scope's snapshot of start..end, with its students as the engine holds them (they change only with
    the roster), and for today the day's records it holds."""
    nis = options.get("nis")
    students = turn.live.student_rows(turn.session, scope, start, end, nis if isinstance(nis, str) else None)
    records = None
    if start == end >= turn.today:  # a day the engine holds: its records from memory, not the store
        held = turn.live.day(turn.session, start, turn.today)
        records = (list(held.records.rows.values()), list(held.reports.rows.values()))
    return make_snapshot(turn.session, turn.school, turn.rules, scope, start, end, label, today,
                         students=list(students), records=records, **options)  # type: ignore[arg-type]


snapshot = _snapshot  # the web console's pages are built from the same snapshot (engine/web/pages.py)


def _send(turn: Turn, user: int, text: str, document: tuple[str, bytes] | None = None) -> None:
    turn.to_staff_text(user, text)
    if document is not None:
        turn.to_staff_text(user, document[0], document=Document(document[0], document[1]))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "sekolah"


def _today(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    day = turn.today
    # harian never reads the classes' reports (only status does)
    snap = _snapshot(turn, scope, day, day, turn.date_text(day), day, with_gate=True, with_reports=False)
    _send(turn, user, reports.export_text("harian", snap, day=day))


def _status(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    day = turn.today
    snap = _snapshot(turn, scope, day, day, turn.date_text(day), day)
    _send(turn, user, reports.export_text("status", snap, day=day))


def _month(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    match = _MONTH.match(argument) if argument else None
    if argument and (match is None or not 1 <= int(match.group(2)) <= 12):
        turn.to_staff(user, "tg_month_format", command=command_doing(turn.rules.rules, "month_recap"),
                      example=f"{turn.today:%Y-%m}")
        return
    year, month = (int(match.group(1)), int(match.group(2))) if match else (turn.today.year, turn.today.month)
    start, end = month_bounds(year, month)
    label = f"{reports.fmt.month_label(year, month)}"
    snap = _snapshot(turn, scope, start, end, label, turn.today)
    # Per student, as SPEC §4 asks: one sheet per class; the text is summarised when it cannot fit.
    stem = f"{_slug(scope.label)}-{year}-{month:02d}"
    _send(turn, user, reports.export_text("rekap-kelas", snap),
          (f"rekap-{stem}.xlsx", reports.export_xlsx("rekap-kelas", snap)))
    if len(scope.classes) > 1:  # and the overview with its charts for heads of department and the school
        name = f"rekap-kelas-per-{stem}.xlsx"
        turn.to_staff_text(user, name, document=Document(name, reports.export_xlsx("rekap-sekolah", snap)))


def _semester_bounds(turn: Turn, argument: str) -> tuple[date, date, str] | None:
    calendar = turn.school.calendar
    semester = calendar.semester_named(argument) if argument else calendar.semester_of(turn.today)
    if semester is None and not argument:
        past = [s for s in calendar.semesters if s.end < turn.today]
        semester = past[-1] if past else None
    if semester is None:
        return None
    return semester.start, semester.end, f"Semester {semester.name}"


def _semester(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    bounds = _semester_bounds(turn, argument)
    if bounds is None:
        turn.to_staff(user, "tg_no_data", what=turn.text("tg_what_semester", semester=argument[:20]).strip())
        return
    snap = _snapshot(turn, scope, *bounds, turn.today)
    text = reports.export_text("semester", snap)
    content = reports.export_xlsx("semester", snap)
    _send(turn, user, text, (f"semester-{_slug(scope.label)}-{_slug(bounds[2])}.xlsx", content))


def _history(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    nis = argument.split()[0] if argument.split() else ""
    # Outside any semester: this calendar year so far (never an empty period label).
    bounds = _semester_bounds(turn, "") or (turn.today.replace(month=1, day=1), turn.today, f"Tahun {turn.today.year}")
    # The student's days in the viewer's classes (a wali kelas sees a moved student's days in her class only);
    # a student outside the scope is answered exactly like one that does not exist.
    snap = _snapshot(turn, scope, *bounds, turn.today, with_changes=True, with_gate=True,
                     nis=nis) if nis else None  # one who left too: the seats name them, in the classes of then
    if snap is None or nis not in snap.rows_by_student:
        what = turn.text("tg_what_nis", nis=nis[:20]) if nis else turn.text(
            "tg_what_nis_example", command=command_doing(turn.rules.rules, "student_history"))
        turn.to_staff(user, "tg_no_data", what=what)
        return
    text = reports.export_text("riwayat", snap, nis=nis)
    _send(turn, user, text, (f"riwayat-{nis}.xlsx", reports.export_xlsx("riwayat", snap, nis=nis)))


def _attention(turn: Turn, user: int, scope: Scope, argument: str) -> None:
    bounds = _semester_bounds(turn, "")
    if bounds is None:
        turn.to_staff(user, "tg_no_data", what=turn.text("tg_what_current_semester"))
        return
    snap = _snapshot(turn, scope, *bounds, turn.today, with_gate=True)
    _send(turn, user, reports.export_text("perhatian", snap),
          (f"perhatian-{_slug(scope.label)}.xlsx", reports.export_xlsx("perhatian", snap)))
