"""The fingerprint cross-checks (SPEC §10, rules/finger.yaml), run at every tick on school days.

- reported absent, yet clocked in that day → the wali kelas and guru BK (`absent_but_present`) are told the
  time, and the officer who reported is asked to check (`ask_reporter`);
- first punch after the bell → listed once a day at `late_at` for the guru piket on duty (`late_to`);
- a class that reported NIHIL with students who have no punch by `nihil_at` → the class's officers and wali
  kelas (`nihil_to`) are told who.

Each check tells once (a `JobRun` key per student or class and day) and changes no record. The late list and
the NIHIL check wait until the machines have reported anything that day: no punch at all means the logs are
not in yet, not that every student is missing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Table, select
from sqlmodel import SQLModel

from ..flows.absences import HELD
from ..flows.routing import staff_for
from ..messages import Button
from ..rules.finger import Finger, checked_reasons, clock
from ..store.models import JobRun
from ..turn import Turn
from . import hold
from .punches import Arrival, any_punch, arrivals

DEFAULT_NIHIL_AT = "09:00"
A: Table = SQLModel.metadata.tables["absence"]  # Core columns (typed, unlike the models' attributes)
R: Table = SQLModel.metadata.tables["class_report"]


def run(turn: Turn) -> None:
    finger = turn.rules.rules.finger
    local = turn.school.calendar.local(turn.now)
    day = local.date()
    hold.release_due(turn)  # before the flag: an SMS the cutoff sent is not offered for holding any more
    absent_but_present(turn, day, finger)
    if local.time() >= clock(finger.late_at):
        late_arrivals(turn, day, finger)
    nihil_at = finger.nihil_at or next((r.at for r in turn.rules.rules.settings.reminders), DEFAULT_NIHIL_AT)
    if local.time() >= clock(nihil_at):
        nihil_without_punch(turn, day, finger, nihil_at)


def absent_but_present(turn: Turn, day: date, finger: Finger) -> None:
    reasons = checked_reasons(finger, turn.rules.rules.reasons)
    records = turn.session.execute(select(A.c.nis, A.c.class_name, A.c.status, A.c.source, A.c.reporter, A.c.state)
                                   .where(A.c.day == day, A.c.status.in_(sorted(reasons)))).all()
    if not records:
        return
    came = arrivals(turn.session, turn.school, day, until=turn.now, students=[r.nis for r in records])
    for nis, class_name, status, source, reporter, state in records:
        student = turn.school.students.get(nis)
        arrival = came.get(nis)
        if student is None or arrival is None or not _once(turn, f"finger-absent:{day}:{nis}"):
            continue
        values = {"student": student.name, "class": class_name, "nis": nis, "date": turn.date_text(day),
                  "reason": turn.rules.reason_name(status or ""), "time": f"{arrival.first:%H:%M}"}
        told = _chats(turn, finger.absent_but_present, class_name, day)
        # a held alfa SMS: whoever may release it gets the flag with the two buttons (hold.py)
        deciders = _chats(turn, finger.alfa_sms_confirm, class_name, day) if state == HELD else []
        for chat in told + [c for c in deciders if c not in told]:
            text = turn.text("tg_finger_absent", reporter=reporter or "-", **values)
            buttons: tuple[tuple[Button, ...], ...] = ()
            if chat in deciders:
                text += "\n" + turn.text("tg_finger_hold", until=finger.alfa_sms_until)
                buttons = hold.buttons(day, nis)
            turn.to_staff_text(chat, text, key=f"finger-absent:{day}:{nis}:{chat}", kind="push", buttons=buttons)
        if finger.ask_reporter:
            for staff in staff_for(turn, source, class_name, day):
                officer = turn.telegram_id_of(staff)
                if staff.name == reporter and officer is not None and officer not in told:
                    turn.to_staff(officer, "tg_finger_absent_reporter", key=f"finger-ask:{day}:{nis}:{officer}",
                                  kind="push", **values)


def late_arrivals(turn: Turn, day: date, finger: Finger) -> None:
    if not any_punch(turn.session, turn.school, day, turn.now) or not _once(turn, f"finger-late:{day}"):
        return
    bell = clock(finger.bell)
    came = arrivals(turn.session, turn.school, day, until=turn.now)
    late = sorted(((a, nis) for nis, a in came.items() if a.first.time() > bell and nis in turn.school.students),
                  key=lambda pair: (pair[0].first, pair[1]))
    if not late:
        return
    lines = [f"- {a.first:%H:%M} {turn.school.students[nis].name} ({turn.school.students[nis].class_name})"
             for a, nis in late]
    for chat in _chats(turn, finger.late_to, None, day):
        turn.to_staff(chat, "tg_finger_late", key=f"finger-late:{day}:{chat}", kind="reminder",
                      date=turn.date_text(day), bell=finger.bell, count=len(late), list="\n".join(lines))


def nihil_without_punch(turn: Turn, day: date, finger: Finger, at: str) -> None:
    if not any_punch(turn.session, turn.school, day, turn.now):
        return
    nihil = turn.session.scalars(select(R.c.class_name).where(R.c.day == day, R.c.nihil.is_(True))).all()
    for class_name in sorted(nihil):
        if not _once(turn, f"finger-nihil:{day}:{class_name}"):
            continue
        members = sorted((s for s in turn.school.students.values() if s.class_name == class_name),
                         key=lambda s: (s.absen_no, s.name))
        came: dict[str, Arrival] = arrivals(turn.session, turn.school, day, until=turn.now,
                                            students=[s.nis for s in members])
        excused = set(turn.session.scalars(select(A.c.nis).where(
            A.c.day == day, A.c.class_name == class_name, A.c.status.is_not(None))))
        missing = [s for s in members if s.nis not in came and s.nis not in excused]
        if not missing:
            continue
        lines = [f"- {s.absen_no}. {s.name}" for s in missing]
        for chat in _chats(turn, finger.nihil_to, class_name, day):
            turn.to_staff(chat, "tg_finger_nihil", key=f"finger-nihil:{day}:{class_name}:{chat}", kind="reminder",
                          date=turn.date_text(day), time=at, count=len(missing), list="\n".join(lines),
                          **{"class": class_name})


def _chats(turn: Turn, roles: list[str], class_name: str | None, day: date) -> list[int]:
    chats: list[int] = []
    for role in roles:
        for staff in staff_for(turn, role, class_name, day):
            chat = turn.telegram_id_of(staff)
            if chat is not None and chat not in chats:
                chats.append(chat)
    return chats


def _once(turn: Turn, key: str) -> bool:
    if turn.session.get(JobRun, key) is not None:
        return False
    turn.session.add(JobRun(key=key, at=turn.now))
    return True
