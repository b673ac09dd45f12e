"""`/absen` with buttons: the class list as an inline keyboard, each press cycling a student's reason.

The draft lives in the database (`Draft`, held in memory by `Live`); a button carries only a short token
with its day, so it stays far under Telegram's 64-byte `callback_data` limit and a keyboard from an earlier
day is refused.
"""

from __future__ import annotations

import re
from datetime import date

from ..live import DraftRecord
from ..messages import Button
from ..school.model import StaffRole
from ..turn import Turn
from .officers import officer_class, record_reports

PAGE = 12
_DATA = re.compile(r"^a(\d{8})([tpkx])(\d{0,4})$")


def start(turn: Turn, user: int, roles: list[StaffRole]) -> None:
    officer = officer_class(turn, roles)
    if officer is None:
        turn.to_staff(user, "tg_not_allowed", command="absen")
        return
    if not turn.school.calendar.is_school_day(turn.today):
        turn.to_staff(user, "tg_not_school_day", date=turn.date_text(turn.today))
        return
    draft = DraftRecord(user, turn.today, officer.scope)
    turn.live.put_draft(turn.session, draft)
    _show(turn, user, draft)


def _show(turn: Turn, user: int, draft: DraftRecord, edit: str | None = None) -> None:
    """The keyboard; after a press it replaces the message that carried it instead of stacking up."""
    turn.to_staff(user, "tg_buttons_intro", date=turn.date_text(draft.day), buttons=keyboard(turn, draft), edit=edit,
            **{"class": draft.class_name})


def keyboard(turn: Turn, draft: DraftRecord) -> tuple[tuple[Button, ...], ...]:
    tag = f"a{draft.day:%Y%m%d}"
    members = turn.school.by_class.get(draft.class_name, [])
    pages = max(1, -(-len(members) // PAGE))
    page = min(draft.page, pages - 1)
    rows: list[tuple[Button, ...]] = []
    shown = members[page * PAGE : (page + 1) * PAGE]
    for i in range(0, len(shown), 2):
        rows.append(tuple(Button(_label(s.absen_no, s.name, draft.picks.get(s.nis)), f"{tag}t{s.absen_no}")
                          for s in shown[i : i + 2]))
    if pages > 1:
        rows.append((Button("« Sebelumnya", f"{tag}p{(page - 1) % pages}"),
                     Button(f"{page + 1}/{pages}", f"{tag}p{page}"),
                     Button("Berikutnya »", f"{tag}p{(page + 1) % pages}")))
    rows.append((Button("Kirim", f"{tag}k"), Button("Batal", f"{tag}x")))
    return tuple(rows)


def _label(number: int, name: str, code: str | None) -> str:
    short = name if len(name) <= 18 else name[:17] + "."
    return f"{number}. {short} [{code}]" if code else f"{number}. {short}"


def press(turn: Turn, user: int, roles: list[StaffRole], data: str, message: str | None = None) -> None:
    match = _DATA.match(data)
    draft = turn.live.draft(turn.session, user)
    day = _day(match.group(1)) if match else None
    officer = officer_class(turn, roles)
    if match is None or draft is None or officer is None or day != turn.today or draft.day != day:
        turn.to_staff(user, "tg_button_stale", date=turn.date_text(day) if day else turn.text("tg_other_day"))
        return
    action, number = match.group(2), match.group(3)
    if action == "t" and number:
        _toggle(turn, draft, int(number))
    elif action == "p" and number:
        draft.page = int(number)
    elif action == "x":
        turn.live.drop_draft(turn.session, user)
        turn.to_staff(user, "tg_buttons_cancelled")
        return
    elif action == "k":
        _submit(turn, user, officer, draft)
        return
    _show(turn, user, draft, edit=message)


def _day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _toggle(turn: Turn, draft: DraftRecord, number: int) -> None:
    student = next((s for s in turn.school.by_class.get(draft.class_name, []) if s.absen_no == number), None)
    if student is None:
        return
    cycle = [*turn.rules.rules.reasons, None]
    current = draft.picks.get(student.nis)
    following = cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else cycle[0]
    picks = {k: v for k, v in draft.picks.items() if k != student.nis}
    if following is not None:
        picks[student.nis] = following
    draft.picks = picks


def _submit(turn: Turn, user: int, officer: StaffRole, draft: DraftRecord) -> None:
    if not draft.picks:
        turn.to_staff(user, "tg_buttons_empty")
        return
    students = turn.school.students
    items = [(students[nis], "officer_report", code) for nis, code in draft.picks.items() if nis in students]
    turn.live.drop_draft(turn.session, user)
    record_reports(turn, user, officer, items, note="")
