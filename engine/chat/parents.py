"""SMS from parents and the public (SPEC §3): REG, SAKIT/IZIN, INFO, STOP and the help fallback."""

from __future__ import annotations

import re
import string

from loguru import logger

from ..flows.absences import load_absence, run_absence
from ..flows.registration import load_sender, reply_to_stranger, run_registration
from ..flows.routing import route_targets
from ..messages import InboundMessage
from ..school.model import Student
from ..school.phones import mask, mobile
from ..store import queries
from ..store.models import SmsSender
from ..turn import Turn
from .grammar import MAX_TEXT, split_keyword


def handle_sms(turn: Turn, msg: InboundMessage) -> None:
    phone = mobile(msg.sender, turn.school.region)
    if phone is None:
        # SPEC §3: operator promotions, short codes, 7–8 digit senders: never answered, registered or forwarded.
        logger.debug("SMS from non-mobile sender {} ignored ({} characters)", mask(msg.sender[:20]), len(msg.text))
        return
    word, rest = split_keyword(msg.text)
    keycode = turn.rules.sms_words.get(word)
    action = keycode[1].action if keycode else turn.rules.rules.sms.fallback
    if action == "register":
        _register(turn, phone, rest)
    elif action == "parent_report":
        assert keycode is not None and keycode[1].reason is not None
        _parent_report(turn, phone, keycode[0], keycode[1].reason, rest)
    elif action == "info":
        _info(turn, phone, rest)
    elif action == "stop":
        run_registration(turn, load_sender(turn, phone), "stop")
    elif action == "help":
        _help(turn, phone)


def _register(turn: Turn, phone: str, rest: str) -> None:
    code = re.sub(r"[^A-Za-z0-9]", "", rest.split()[0] if rest.split() else "")
    if not code:  # SPEC §3: `REG` without a code gets the format reply (not a wrong-code count)
        _help(turn, phone)
        return
    student = turn.school.by_code.get(code.upper())
    sender = load_sender(turn, phone)
    run_registration(turn, sender, "reg_valid" if student else "reg_invalid", student, code)


def children_of(turn: Turn, phone: str) -> list[Student]:
    nis_list = turn.session.scalars(queries.CHILDREN, {"phone": phone})
    return [turn.school.students[nis] for nis in nis_list if nis in turn.school.students]


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


def _parent_report(turn: Turn, phone: str, keyword: str, reason: str, rest: str) -> None:
    children = children_of(turn, phone)
    if not children:
        reply_to_stranger(turn, phone, "not_registered", kind="help")
        return
    child, note = pick_child(children, rest)
    if child is None:
        names = ", ".join(f"{c.name.split()[0]} ({c.nis})" for c in children)
        turn.sms(phone, "parent_choose_child", children=names,
                 example=f"{keyword} {children[0].name.split()[0]} {rest[:20] or 'demam'}".strip())
        return
    # A parent answering today's alfa SMS after the cutoff corrects today rather than reporting for tomorrow.
    today = load_absence(turn, child, turn.today)
    day = turn.today if today.state == "alfa" else turn.school.calendar.effective_day(turn.now, turn.rules.cutoff)
    run_absence(turn, child, day, "parent_report", reason=reason, note=note[:MAX_TEXT], source="ortu",
                reporter=phone, reply_to=phone, record=today if day == turn.today else None)


def _count_today(turn: Turn, sender: SmsSender, day_attr: str, count_attr: str) -> int:
    """Bump a per-day counter on the sender; returns the count including this message."""
    today = turn.today
    if getattr(sender, day_attr) != today:
        setattr(sender, day_attr, today)
        setattr(sender, count_attr, 0)
    setattr(sender, count_attr, getattr(sender, count_attr) + 1)
    return int(getattr(sender, count_attr))


def _info(turn: Turn, phone: str, text: str) -> None:
    if not text.strip(string.punctuation + string.whitespace):  # SPEC §3: an empty INFO gets the help reply, nothing forwarded
        _help(turn, phone)
        return
    sender = load_sender(turn, phone)
    if _count_today(turn, sender, "info_day", "info_count") > turn.rules.rules.settings.guards.info_per_day:
        logger.info("INFO from {} over today's limit: not forwarded", mask(phone))
        return
    children = children_of(turn, phone)
    about = f" (ortu {', '.join(f'{c.name}, {c.class_name}' for c in children)})" if children else ""
    for chat in route_targets(turn, "info", None, turn.today):
        turn.tg(chat, "tg_info_forward", key=f"info:{turn.source_id}:{chat}", kind="info", bridge=phone,
                phone=phone, sender=about, text=text[:MAX_TEXT] or "-", date=turn.date_text(turn.today))
    turn.sms(phone, "info_ok", kind="ack")


def _help(turn: Turn, phone: str) -> None:
    sender = load_sender(turn, phone)
    if _count_today(turn, sender, "help_day", "help_count") <= turn.rules.rules.settings.guards.help_per_day:
        reply_to_stranger(turn, phone, "help", kind="help")
