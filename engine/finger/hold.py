"""A parent's alfa SMS held for the wali kelas (SPEC §10, rules/finger.yaml `alfa_sms: wait`).

A student reported absent who clocked in that day may be a reporting mistake or truancy: the absence flow
(rules/flows.yaml) records the absence in the state `ditahan` instead of sending the parents' SMS. The state
is the hold: it lives in the `absence` row, so a restart neither forgets nor repeats it. It ends one of three
ways, each a trigger of the flow:

- `confirm_alfa`: the wali kelas presses "Benar alfa — kirim SMS" on the flag message → the SMS goes;
- `deny_alfa`: "Salah lapor" → no SMS; the officer who reported is asked to correct the report (the record
  is not changed here: the officer withdraws it, or the wali kelas uses /koreksi);
- `hold_expired`: at `alfa_sms_until` (or at once when the rule is `send` again) the tick sends it.

The SMS keeps the key `notify_parents` always gives it, so however the hold ends (and if two ends race)
the outbox holds one SMS per parent.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import Table, select
from sqlmodel import SQLModel

from ..flows.absences import HELD, load_absence, run_absence
from ..flows.routing import role_label, staff_for
from ..messages import Button
from ..rules.finger import clock
from ..school.model import StaffRole
from ..school.phones import mask
from ..store import models  # noqa: F401  (registers the absence table)
from ..turn import Turn

PREFIX = "f"  # callback data "f20261130y24101": day, y (confirm) or n (deny), NIS — far under 64 bytes
_DATA = re.compile(r"^f(\d{8})([yn])(\S{1,40})$")
CONFIRM_LABEL = "Benar alfa — kirim SMS"
DENY_LABEL = "Salah lapor"
A: Table = SQLModel.metadata.tables["absence"]  # Core columns (typed, unlike the model's attributes)
LOOK_BACK = timedelta(days=14)  # a hold an earlier day left (the service stopped) is sent within this


def buttons(day: date, nis: str) -> tuple[tuple[Button, ...], ...]:
    tag = f"{PREFIX}{day:%Y%m%d}"
    return ((Button(CONFIRM_LABEL, f"{tag}y{nis}"), Button(DENY_LABEL, f"{tag}n{nis}")),)


def is_hold_press(data: str) -> bool:
    return _DATA.match(data) is not None


def release_due(turn: Turn) -> None:
    """Send the held SMS whose time has come: today's at `alfa_sms_until`, an earlier day's at once (the
    service was not running at that day's cutoff), every one when the rule is no longer `wait`. Days older
    than LOOK_BACK are not looked at (every tick runs this; a stop that long makes the SMS pointless)."""
    finger = turn.rules.rules.finger
    local = turn.school.calendar.local(turn.now)
    due_today = finger.alfa_sms != "wait" or local.time() >= clock(finger.alfa_sms_until)
    held = turn.session.execute(select(A.c.nis, A.c.day).where(
        A.c.day >= turn.today - LOOK_BACK, A.c.day <= turn.today, A.c.state == HELD).order_by(A.c.day, A.c.nis)).all()
    for nis, day in held:
        student = turn.school.students.get(nis)
        if student is None or (day == turn.today and not due_today):
            continue
        record = load_absence(turn, student, day)
        if record.state == HELD:
            run_absence(turn, student, day, "hold_expired", reason=record.status, note=record.note,
                        source=record.source, reporter=record.reporter, record=record)


def press(turn: Turn, user: int, roles: list[StaffRole], data: str, message: str | None = None) -> None:
    """A press of "Benar alfa — kirim SMS" or "Salah lapor" on a flag message (`message`: its id). The decision
    replaces the flag, buttons and all, so that it cannot be pressed twice; any other answer is a new message."""
    match = _DATA.match(data)
    day = _day(match.group(1)) if match else None
    student = turn.school.students.get(match.group(3)) if match else None
    if match is None or day is None or student is None:
        turn.to_staff(user, "tg_button_stale", date=turn.date_text(day) if day else turn.text("tg_other_day"))
        return
    record = load_absence(turn, student, day)
    values = {"student": student.name, "class": record.class_name, "nis": student.nis, "date": turn.date_text(day),
              "reason": turn.rules.reason_name(record.status or "")}
    finger = turn.rules.rules.finger
    decider = next((s for role in finger.alfa_sms_confirm for s in staff_for(turn, role, record.class_name, day)
                    if turn.telegram_id_of(s) == user), None)
    if decider is None:
        labels = " atau ".join(turn.rules.rules.roles[r].label for r in finger.alfa_sms_confirm
                               if r in turn.rules.rules.roles) or "wali kelas"
        turn.to_staff(user, "tg_finger_hold_over", what=f"hanya {labels} kelas ini yang dapat memilih.", **values)
        return
    if record.state != HELD:
        turn.to_staff(user, "tg_finger_hold_over", what=_why_not_held(turn, record.status, record.parent_notified),
                      **values)
        return
    confirm = match.group(2) == "y"
    ctx = run_absence(turn, student, day, "confirm_alfa" if confirm else "deny_alfa", reason=record.status,
                      note=record.note, source=decider.role, reporter=f"{decider.name}, {role_label(turn, decider)}",
                      record=record)
    if confirm:
        phones = ctx.parents()
        parents = ", ".join(mask(p) for p in phones) if phones else "belum ada nomor terdaftar"
        turn.to_staff(user, "tg_finger_confirmed", parents=parents, edit=message, **values)
    else:
        turn.to_staff(user, "tg_finger_denied", edit=message, **{**values, "reporter": record.reporter or "Pelapor"})


def _why_not_held(turn: Turn, status: str | None, notified: bool) -> str:
    if notified:
        return "SMS sudah dikirim ke orang tua (batas waktu lewat, atau sudah dikonfirmasi)."
    if status is None:
        return "laporannya sudah dibatalkan; tidak ada SMS."
    return f"tercatat {turn.rules.reason_name(status)}; tidak ada SMS yang menunggu."


def _day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
