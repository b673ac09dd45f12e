"""SMS from parents and the public (SPEC §3): REG, SAKIT/IZIN, INFO, STOP and the help fallback."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from loguru import logger

from ..flows.absences import load_absence, run_absence
from ..flows.registration import load_sender, reply_to_stranger, run_registration
from ..flows.routing import route_targets
from ..live import Sender
from ..messages import InboundMessage
from ..rules.schema import Keycode, SmsAction
from ..school.model import Student
from ..school.phones import mask, mobile
from ..turn import Turn
from .grammar import MAX_TEXT, split_keyword


def handle_parents(turn: Turn, msg: InboundMessage) -> None:
    phone = mobile(msg.sender, turn.school.region)
    if phone is None:
        # SPEC §3: operator promotions, short codes, 7–8 digit senders: never answered, registered or forwarded.
        logger.debug("SMS from non-mobile sender {} ignored ({} characters)", mask(msg.sender[:20]), len(msg.text))
        return
    word, rest = split_keyword(msg.text)
    keycode = turn.rules.sms_words.get(word)
    name, spec = keycode if keycode else (word, None)
    ACTIONS[spec.action if spec else turn.rules.rules.sms.fallback](turn, phone, Said(name, spec, rest))


@dataclass(frozen=True, slots=True)
class Said:
    """What a parent's SMS said: its keycode (as the rules name it), the keycode's spec, and the rest."""

    keycode: str
    spec: Keycode | None
    rest: str


def _register(turn: Turn, phone: str, said: Said) -> None:
    rest = said.rest
    code = re.sub(r"[^A-Za-z0-9]", "", rest.split()[0] if rest.split() else "")
    if not code:  # SPEC §3: `REG` without a code gets the format reply (not a wrong-code count)
        _help(turn, phone)
        return
    student = turn.school.by_code.get(code.upper())
    sender = load_sender(turn, phone)
    run_registration(turn, sender, "reg_valid" if student else "reg_invalid", student, code)


def children_of(turn: Turn, phone: str) -> list[Student]:
    students = turn.school.students
    return [students[nis] for nis in turn.live.parents(turn.session).children(phone) if nis in students]


def pick_child(children: list[Student], rest: str) -> tuple[Student | None, str]:
    """The child named by the first word (NIS or a word of the name) and the remaining note."""
    if len(children) == 1:
        return children[0], rest
    first, _, note = rest.partition(" ")
    word = re.sub(r"[^\w]", "", first).lower()
    if not word:
        return None, rest
    matches = [c for c in children if c.nis == word or word in c.name.lower().split()]
    return (matches[0], note.strip()) if len(matches) == 1 else (None, rest)


def _parent_report(turn: Turn, phone: str, said: Said) -> None:
    assert said.spec is not None and said.spec.reason is not None  # the compiler requires a reason
    keyword, reason, rest = said.keycode, said.spec.reason, said.rest
    children = children_of(turn, phone)
    if not children:
        reply_to_stranger(turn, phone, "not_registered", kind="help")
        return
    child, note = pick_child(children, rest)
    if child is None:
        names = ", ".join(f"{c.name.split()[0]} ({c.nis})" for c in children)
        turn.to_parent(phone, "parent_choose_child", children=names,
                 example=f"{keyword} {children[0].name.split()[0]} {rest[:20] or turn.text('parent_example_note')}"
                 .strip())
        return
    # A parent answering today's alfa SMS after the cutoff corrects today rather than reporting for tomorrow.
    today = load_absence(turn, child, turn.today)
    day = turn.today if today.state == "alfa" else turn.school.calendar.effective_day(turn.now, turn.rules.cutoff)
    run_absence(turn, child, day, "parent_report", reason=reason, note=note[:MAX_TEXT], source="ortu",
                reporter=phone, reply_to=phone, record=today if day == turn.today else None)


def _count_today(turn: Turn, sender: Sender, day_attr: str, count_attr: str) -> int:
    """Bump a per-day counter on the sender; returns the count including this message."""
    today = turn.today
    if getattr(sender, day_attr) != today:
        setattr(sender, day_attr, today)
        setattr(sender, count_attr, 0)
    setattr(sender, count_attr, getattr(sender, count_attr) + 1)
    return int(getattr(sender, count_attr))


def _info(turn: Turn, phone: str, said: Said) -> None:
    text = said.rest
    if not text.strip(string.punctuation + string.whitespace):  # SPEC §3: an empty INFO gets the help reply, nothing forwarded
        _help(turn, phone)
        return
    sender = load_sender(turn, phone)
    if _count_today(turn, sender, "info_day", "info_count") > turn.rules.rules.settings.guards.info_per_day:
        logger.info("INFO from {} over today's limit: not forwarded", mask(phone))
        return
    children = children_of(turn, phone)
    about = turn.text("tg_info_sender", children=", ".join(f"{c.name}, {c.class_name}" for c in children)) \
        if children else ""
    for chat in route_targets(turn, "info", None, turn.today):
        turn.to_staff(chat, "tg_info_forward", key=f"info:{turn.source_id}:{chat}", kind="info", bridge=phone,
                phone=phone, sender=about, text=text[:MAX_TEXT] or "-", date=turn.date_text(turn.today))
    turn.to_parent(phone, "info_ok", kind="ack")


def _stop(turn: Turn, phone: str, said: Said) -> None:
    run_registration(turn, load_sender(turn, phone), "stop")


def _help(turn: Turn, phone: str, said: Said | None = None) -> None:
    sender = load_sender(turn, phone)
    if _count_today(turn, sender, "help_day", "help_count") <= turn.rules.rules.settings.guards.help_per_day:
        reply_to_stranger(turn, phone, "help", kind="help")


# The SMS actions a keycode may name in rules/keycodes.yaml, each with its handler, once. The names are the
# rules' vocabulary (`schema.SmsAction`, which `absensi check` validates); this table must cover them all.
ACTIONS: dict[str, Callable[[Turn, str, Said], None]] = {
    "register": _register,  # REG <code>: link this number to the child with that parent code
    "parent_report": _parent_report,  # SAKIT/IZIN [child] [note]: the keycode's `reason` for today
    "info": _info,  # INFO <text>: forwarded to the officials' group
    "stop": _stop,  # STOP: this number gets no more SMS
    "help": _help,  # anything else (the fallback): the format reply, once a day
}
if set(ACTIONS) != set(get_args(SmsAction)):  # pragma: no cover - a mistake caught at import, in every test
    raise RuntimeError(f"SMS actions and their handlers differ: {sorted(set(ACTIONS) ^ set(get_args(SmsAction)))}")
