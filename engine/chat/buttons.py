"""`/absen` with buttons (SPEC §4): pick students, pick a reason, send.

The class list is an inline keyboard: pressing a student without a reason selects it (✓) or unselects it; a
row of the rules' reasons gives every selected student that reason (shown as `[A]`, no longer selected);
pressing a student who has a reason clears it. Kirim records the reasons as the one-line report does; Batal
drops them.

The draft lives in the database (`Draft`, held in memory by `Live`): `picks` maps a student's NIS to its
reason code, or to None while it is selected and waits for one. A button carries only a short token with its
day, so it stays far under Telegram's 64-byte `callback_data` limit and a keyboard from an earlier day is
refused.
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
REASON_ROW = 36  # characters of reason labels a row holds before the next reason starts a new one …
REASON_BUTTONS = 3  # … and how many reasons, so that a label fits a phone-wide row uncut
_DATA = re.compile(r"^a(\d{8})(?:([tp])(\d{1,4})|([kx])|r(\S{1,50}))$")


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


def _show(turn: Turn, user: int, draft: DraftRecord, edit: str | None = None, template: str = "tg_buttons_intro",
          **values: object) -> None:
    """The keyboard under `template`; after a press it replaces the message that carried it instead of
    stacking up."""
    turn.to_staff(user, template, date=turn.date_text(draft.day), buttons=keyboard(turn, draft), edit=edit,
                  **{"class": draft.class_name}, **values)


def keyboard(turn: Turn, draft: DraftRecord) -> tuple[tuple[Button, ...], ...]:
    tag = f"a{draft.day:%Y%m%d}"
    members = turn.school.by_class.get(draft.class_name, [])
    pages = max(1, -(-len(members) // PAGE))
    page = min(draft.page, pages - 1)
    rows: list[tuple[Button, ...]] = []
    shown = members[page * PAGE : (page + 1) * PAGE]
    for i in range(0, len(shown), 2):
        rows.append(tuple(Button(_label(s.absen_no, s.name, s.nis in draft.picks, draft.picks.get(s.nis)),
                                 f"{tag}t{s.absen_no}") for s in shown[i : i + 2]))
    if pages > 1:
        rows.append((Button("« Sebelumnya", f"{tag}p{(page - 1) % pages}"),
                     Button(f"{page + 1}/{pages}", f"{tag}p{page}"),
                     Button("Berikutnya »", f"{tag}p{(page + 1) % pages}")))
    rows.extend(_reason_rows(turn, tag))
    rows.append((Button("Kirim", f"{tag}k"), Button("Batal", f"{tag}x")))
    return tuple(rows)


def _reason_rows(turn: Turn, tag: str) -> list[tuple[Button, ...]]:
    """One button per reason in the rules, named as the rules name it, in the rules' order, in rows of at most
    `REASON_BUTTONS` buttons and `REASON_ROW` characters (a longer label gets a row of its own)."""
    rows: list[list[Button]] = [[]]
    for code, reason in turn.rules.rules.reasons.items():
        button = Button(reason.name, f"{tag}r{code}")
        row = rows[-1]
        if row and (len(row) == REASON_BUTTONS or sum(len(b.label) for b in row) + len(button.label) > REASON_ROW):
            rows.append([])
        rows[-1].append(button)
    return [tuple(row) for row in rows if row]


def _label(number: int, name: str, picked: bool, code: str | None) -> str:
    short = name if len(name) <= 18 else name[:17] + "."
    if code:
        return f"{number}. {short} [{code}]"
    return f"{number}. {short} ✓" if picked else f"{number}. {short}"


def press(turn: Turn, user: int, roles: list[StaffRole], data: str, message: str | None = None) -> None:
    match = _DATA.match(data)
    draft = turn.live.draft(turn.session, user)
    day = _day(match.group(1)) if match else None
    officer = officer_class(turn, roles)
    if match is None or draft is None or officer is None or day != turn.today or draft.day != day:
        turn.to_staff(user, "tg_button_stale", date=turn.date_text(day) if day else turn.text("tg_other_day"))
        return
    action, number, code = match.group(2) or match.group(4), match.group(3), match.group(5)
    if action == "t":
        _toggle(turn, draft, int(number))
    elif action == "p":
        draft.page = int(number)
    elif code is not None:
        if code not in turn.rules.rules.reasons:  # a keyboard from before the rules dropped that reason
            _show(turn, user, draft, edit=message)
            return
        if all(reason is not None for reason in draft.picks.values()):
            _show(turn, user, draft, edit=message, template="tg_buttons_pick_first")
            return
        draft.picks = {nis: code if reason is None else reason for nis, reason in draft.picks.items()}
    elif action == "x":
        turn.live.drop_draft(turn.session, user)
        turn.to_staff(user, "tg_buttons_cancelled")
        return
    else:  # Kirim
        _submit(turn, user, officer, draft, message)
        return
    _show(turn, user, draft, edit=message)


def _day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _toggle(turn: Turn, draft: DraftRecord, number: int) -> None:
    """A student without a reason is selected or unselected; one with a reason is cleared (present again)."""
    student = next((s for s in turn.school.by_class.get(draft.class_name, []) if s.absen_no == number), None)
    if student is None:
        return
    picks = {k: v for k, v in draft.picks.items() if k != student.nis}
    if student.nis not in draft.picks:
        picks[student.nis] = None
    draft.picks = picks


def _submit(turn: Turn, user: int, officer: StaffRole, draft: DraftRecord, message: str | None) -> None:
    students = turn.school.students
    waiting = [students[nis] for nis, code in draft.picks.items() if code is None and nis in students]
    if waiting:  # selected but given no reason: never sent as present without a word
        names = ", ".join(f"{s.absen_no}. {s.name}" for s in sorted(waiting, key=lambda s: s.absen_no))
        _show(turn, user, draft, edit=message, template="tg_buttons_no_reason", students=names)
        return
    if not draft.picks:
        turn.to_staff(user, "tg_buttons_empty")
        return
    picked = sorted((students[nis] for nis in draft.picks if nis in students), key=lambda s: s.absen_no)
    items = [(student, "officer_report", draft.picks[student.nis]) for student in picked]
    turn.live.drop_draft(turn.session, user)
    record_reports(turn, user, officer, items, note="")
