"""Scheduled jobs, run by `Engine.tick(now)`: reminders on school days and the retention purge.

Each job runs once (a `JobRun` row per job and day); a clock that jumps forward runs what fell due,
but never a job of an earlier day — a reminder for yesterday is noise, not help.
"""

from __future__ import annotations

from datetime import date, time

from loguru import logger
from sqlalchemy import select

from ..finger import checks as finger_checks
from ..operations import alerts
from ..school.staging import purge_files
from ..store.models import ClassReport, JobRun
from ..store.purge import purge as purge_due
from ..turn import Turn
from .routing import staff_for


def run_due_jobs(turn: Turn) -> None:
    local = turn.school.calendar.local(turn.now)
    if _once(turn, f"purge:{local.date()}"):
        purge(turn)
    alerts.run(turn)  # operations (SPEC §9): incidents opened and cleared, the daily summary, pulsa answers
    if not turn.school.calendar.is_school_day(local.date()):
        return
    for index, reminder in enumerate(turn.rules.rules.settings.reminders):
        hh, mm = map(int, reminder.at.split(":"))
        due = time(hh, mm) <= local.time() < turn.rules.cutoff  # after the cutoff a reminder is only noise
        if due and _once(turn, f"reminder:{local.date()}:{index}"):
            _remind(turn, local.date(), index, reminder.to, reminder.template)
    finger_checks.run(turn)  # fingerprint punches against the reports (SPEC §10, rules/finger.yaml)


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
                    turn.to_staff(chat, template, key=f"remind:{day}:{index}:{class_name}:{chat}", kind="reminder",
                            date=turn.date_text(day), **{"class": class_name})


def purge(turn: Turn) -> None:
    """The daily retention purge (SPEC §8); the policies live in engine/store/purge.py."""
    gone = purge_due(turn.session, turn.rules, turn.school, turn.now)
    if any(gone.values()):
        logger.info("retention: removed {}", ", ".join(f"{n} {table}" for table, n in gone.items() if n))
    try:  # the roster backups and stale uploads in the school directory
        folders = purge_files(turn.school.directory, turn.rules.directory, turn.now,
                              turn.rules.rules.settings.retention_backup_days)
    except OSError as exc:  # a folder that cannot be deleted must not stop the jobs; the next day tries again
        logger.warning("retention: could not delete old folders of the school directory: {}", exc)
    else:
        if any(folders.values()):
            logger.info("retention: removed {}", ", ".join(f"{n} {kind} folder(s)" for kind, n in folders.items() if n))
