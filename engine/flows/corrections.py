"""`/koreksi`: a teacher corrects a student's record of a past school day (e.g. A → S after a doctor's note).

Within the teacher's scope only, never a future day or a day without school; the absence flow's `correct`
trigger decides the new state, and the change lands in the history with who and when (SPEC §7 riwayat).
"""

from __future__ import annotations

import re
from datetime import date

from ..reports.snapshot import scope_of
from ..school.model import StaffRole, Student
from ..turn import Turn
from .absences import load_absence, run_absence

PRESENT = {"H", "HADIR"}
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$|^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")


def correct(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    parts = argument.split(maxsplit=3)
    if len(parts) < 3:
        _usage(turn, user)
        return
    ref, when, word, note = (*parts, "")[:4]
    day = parse_date(when)
    code = None if word.upper() in PRESENT else turn.rules.reason_words.get(word.upper())
    student = _student(turn, roles, ref)
    if day is None or (code is None and word.upper() not in PRESENT):
        _usage(turn, user)
    elif student is None:  # outside the scope looks exactly like unknown
        turn.to_staff(user, "tg_no_data", what=turn.text("tg_what_student", ref=ref[:20]))
    elif day > turn.today:
        turn.to_staff(user, "tg_correct_future", date=turn.date_text(day))
    elif not turn.school.calendar.is_school_day(day):
        turn.to_staff(user, "tg_not_school_day", date=turn.date_text(day))
    else:
        _apply(turn, user, roles, student, day, code, note)


def _apply(turn: Turn, user: int, roles: list[StaffRole], student: Student, day: date, code: str | None,
           note: str) -> None:
    old = load_absence(turn, student, day).status
    teacher = roles[0]
    run_absence(turn, student, day, "correct", reason=code, note=note, source=teacher.role, reporter=teacher.name)
    turn.to_staff(user, "tg_corrected", student=student.name, nis=student.nis, date=turn.date_text(day),
            old=_label(turn, old), new=_label(turn, code), note=note, **{"class": student.class_name})


def _label(turn: Turn, code: str | None) -> str:
    return f"{code} ({turn.rules.reason_name(code)})" if code else turn.text("tg_present")


def _student(turn: Turn, roles: list[StaffRole], ref: str) -> Student | None:
    scope = scope_of(turn.school, turn.rules, roles)
    student = turn.school.students.get(ref)
    if student is None and len(scope.classes) == 1 and ref.isdigit():  # an absen number in one's own class
        members = turn.school.by_class.get(next(iter(scope.classes)), [])
        student = next((s for s in members if s.absen_no == int(ref)), None)
    return student if student is not None and student.class_name in scope.classes else None


def parse_date(text: str) -> date | None:
    """2026-11-30, 30-11-2026 or 30/11/2026."""
    match = _DATE.match(text)
    if not match:
        return None
    year, month, day = (match.group(1), match.group(2), match.group(3)) if match.group(1) else (
        match.group(6), match.group(5), match.group(4))
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _usage(turn: Turn, user: int) -> None:
    turn.to_staff(user, "tg_correct_usage", example=f"/koreksi 1001 {turn.today.isoformat()} S surat dokter")
