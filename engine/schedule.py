"""Scheduled jobs, run by `Engine.tick(now)`: reminders on school days and the retention purge.

Each job runs once (a `JobRun` row per job and day); a clock that jumps forward runs what fell due,
but never a job of an earlier day — a reminder for yesterday is noise, not help.
"""

from __future__ import annotations

from datetime import date, datetime, time

from loguru import logger
from sqlalchemy import delete, select

from .routing import staff_for
from .store.models import Absence, AbsenceChange, ClassReport, InboxRow, JobRun, OutboxRow
from .turn import Turn


def run_due_jobs(turn: Turn) -> None:
    local = turn.school.calendar.local(turn.now)
    if _once(turn, f"purge:{local.date()}"):
        purge(turn)
    if not turn.school.calendar.is_school_day(local.date()):
        return
    for index, reminder in enumerate(turn.rules.rules.settings.reminders):
        hh, mm = map(int, reminder.at.split(":"))
        due = time(hh, mm) <= local.time() < turn.rules.cutoff  # after the cutoff a reminder is only noise
        if due and _once(turn, f"reminder:{local.date()}:{index}"):
            _remind(turn, local.date(), index, reminder.to, reminder.template)


def _once(turn: Turn, key: str) -> bool:
    if turn.session.get(JobRun, key) is not None:
        return False
    turn.session.add(JobRun(key=key, at=turn.now))
    return True


def _remind(turn: Turn, day: date, index: int, roles: list[str], template: str) -> None:
    reported = set(turn.session.scalars(select(ClassReport.class_name).where(ClassReport.day == day)))
    for class_name in sorted(set(turn.school.classes) - reported):
        for role in roles:
            for staff in staff_for(turn, role, class_name, day):
                chat = turn.telegram_id_of(staff)
                if chat is not None:
                    turn.tg(chat, template, key=f"remind:{day}:{index}:{class_name}:{chat}", kind="reminder",
                            date=turn.date_text(day), **{"class": class_name})


def retention_cutoff(today: date, years: int) -> date:
    """Records of school years that ended `years` school years ago or earlier are purged.

    A school year runs July–June. With years=2, on 2029-07-01 the year 2026/2027 is deleted: it ended,
    then 2027/2028 ("next") and 2028/2029 ("after next") ended too.
    """
    current_start = today.year if today.month >= 7 else today.year - 1
    return date(current_start - years, 7, 1)


def purge(turn: Turn) -> None:
    cutoff = retention_cutoff(turn.today, turn.rules.rules.settings.retention_school_years)
    session = turn.session
    removed = session.execute(delete(Absence).where(Absence.day < cutoff)).rowcount
    session.execute(delete(AbsenceChange).where(AbsenceChange.day < cutoff))
    session.execute(delete(ClassReport).where(ClassReport.day < cutoff))
    boundary = datetime.combine(cutoff, time(0), tzinfo=turn.school.calendar.tz)
    session.execute(delete(InboxRow).where(InboxRow.received_at < boundary))
    session.execute(delete(OutboxRow).where(OutboxRow.created_at < boundary, OutboxRow.status != "pending"))
    if removed:
        logger.info("retention: removed {} absence records before {}", removed, cutoff)
