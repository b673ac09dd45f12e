"""Telegram from students and staff (SPEC §4): linking, officers' reports, commands, the reply bridge.

Unlinked users get no school data, ever: every path below first resolves the sender's roles, and
every report is computed within the scope those roles give (`views.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from sqlalchemy import select

from ..finger import hold
from ..flows import corrections
from ..flows.routing import role_label
from ..messages import InboundMessage
from ..operations import views as operations
from ..rules.commands import command_for
from ..rules.schema import CommandAction
from ..rules.smslen import fitting_length, rupiah, segments
from ..school.calendar import HARI
from ..school.model import StaffRole
from ..school.phones import mask, national, normalize
from ..store import weblogin
from ..store.models import OutboxRow
from ..turn import Turn
from . import buttons, views
from .officers import officer_class, officer_text


def handle_staff(turn: Turn, msg: InboundMessage) -> None:
    user = int(msg.sender)
    if msg.chat is not None and msg.chat != msg.sender:
        if msg.reply_to:  # in groups only replies to the bot's messages reach us
            _bridge(turn, msg, user, int(msg.chat))
        return
    if msg.contact is not None:
        _link(turn, msg, user)
        return
    roles = turn.roles_of(user)
    bridgeable = msg.reply_to and msg.press is None and not msg.text.lstrip().startswith("/")
    if bridgeable and roles and _bridge(turn, msg, user, user, quiet=True):
        return
    text = msg.text.strip()
    if text.startswith("/"):
        _command(turn, user, roles, text)
    elif not roles:
        turn.to_staff(user, "tg_not_linked", request_contact=True)
    elif msg.press is not None and hold.is_hold_press(msg.press):
        hold.press(turn, user, roles, msg.press, msg.reply_to)  # a held alfa SMS: "Benar alfa" / "Salah lapor"
    elif msg.press is not None:
        buttons.press(turn, user, roles, msg.press, msg.reply_to)
    elif officer_class(turn, roles) is not None:
        officer_text(turn, user, roles, text)
    else:
        turn.to_staff(user, "tg_unknown_text")


# ---------------------------------------------------------------------------------------- linking


def _link(turn: Turn, msg: InboundMessage, user: int) -> None:
    assert msg.contact is not None
    if msg.contact.user_id != user:
        turn.to_staff(user, "tg_contact_not_own", request_contact=True)
        return
    phone = normalize(msg.contact.phone, turn.school.region)
    staff = turn.school.staff_with(phone=phone) if phone else []
    if not staff or phone is None:
        turn.to_staff(user, "tg_contact_unknown", phone=national(phone) if phone else msg.contact.phone[:20],
                remove_keyboard=True)
        return
    # One account per number: a re-link (new phone, new account) replaces the old link.
    turn.link_telegram(user, phone)
    turn.to_staff(user, "tg_linked", name=staff[0].name, roles=roles_text(turn, turn.roles_of(user)), remove_keyboard=True)


def roles_text(turn: Turn, roles: list[StaffRole]) -> str:
    return "\n".join(f"- {role_label(turn, r)}" + _duty(r) for r in roles)


def _duty(staff: StaffRole) -> str:
    if not staff.duty_days:
        return ""
    return " (" + ", ".join(HARI[d] for d in sorted(staff.duty_days)) + ")"  # the day names dates are written with


# ---------------------------------------------------------------------------------------- commands


def allowed_commands(turn: Turn, roles: list[StaffRole]) -> list[str]:
    allowed = {"start"}
    for staff in roles:
        allowed.update(turn.rules.rules.roles[staff.role].commands)
    return [name for name in turn.rules.commands if name in allowed]


def _command(turn: Turn, user: int, roles: list[StaffRole], text: str) -> None:
    head, _, argument = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    spec = turn.rules.commands.get(name)
    if spec is not None and spec.action == "start":  # the one command an account not linked yet may use
        _start(turn, user, roles, argument)
    elif not roles:
        turn.to_staff(user, "tg_not_linked", request_contact=True)
    elif spec is None or name not in allowed_commands(turn, roles):
        turn.to_staff(user, "tg_not_allowed", command=name[:32])
    else:  # a role's variant first: /status is the service's health for the admin (SPEC §9)
        action = (command_for(turn.rules.rules, name, [r.role for r in roles]) or spec).action
        ACTIONS[action](turn, user, roles, argument.strip())


CommandHandler = Callable[[Turn, int, list[StaffRole], str], None]


def _view(action: str) -> CommandHandler:
    """A monitoring command (`views.py`): its answer computed within the caller's scope."""
    def show(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
        views.command(turn, user, roles, action, argument)

    show.__name__ = f"view_{action}"
    return show


def _report_buttons(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    buttons.start(turn, user, roles)


def _correct(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    corrections.correct(turn, user, roles, argument)


def _service_status(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    operations.service_status(turn, user)


def _sms_usage(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    operations.sms_usage(turn, user, argument)


def _web_login(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    """`/web`: a one-time link to the running web console (issue 13); its token is stored hashed."""
    base = weblogin.console_url(turn.session, turn.now)
    if base is None:
        turn.to_staff(user, "tg_web_off")
        return
    token = weblogin.new_login(turn.session, user, turn.now)
    turn.to_staff(user, "tg_web_link", key=weblogin.outbox_key(weblogin.digest(token)), link=weblogin.link(base, token),
                  minutes=int(weblogin.LINK_LIFETIME.total_seconds() // 60))


def command_description(turn: Turn, name: str, roles: list[StaffRole]) -> str:
    """What command `name` does for these roles (a role's variant says it in its own words)."""
    spec = command_for(turn.rules.rules, name, [r.role for r in roles]) or turn.rules.commands[name]
    return spec.description


def _start(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    if roles:
        turn.to_staff(user, "tg_already_linked", name=roles[0].name, roles=roles_text(turn, roles))
    else:
        turn.to_staff(user, "tg_welcome", request_contact=True)


def _help(turn: Turn, user: int, roles: list[StaffRole], argument: str) -> None:
    lines = [f"/{n} - {command_description(turn, n, roles)}" for n in allowed_commands(turn, roles)]
    reporting = ""
    if officer_class(turn, roles) is not None:  # the one-line report grammar, for those who report
        reasons = ", ".join(f"{r.words[0]}/{code}" if r.words[0] != code else code
                            for code, r in turn.rules.rules.reasons.items())
        reporting = turn.text("tg_help_report", reasons=reasons, example=turn.text("tg_help_report_example"))
    turn.to_staff(user, "tg_help", commands="\n".join(lines), reporting=reporting)


# The command actions a command may name in rules/telegram.yaml, each with its handler, once. The names are the
# rules' vocabulary (`schema.CommandAction`, which `absensi check` validates); this table must cover them all.
# (The commands named in the comments are the sample rules' words for them.)
ACTIONS: dict[str, CommandHandler] = {
    "start": _start,  # /start: link this account by sharing its contact, or say who it is
    "help": _help,  # /bantuan: the commands the caller's roles allow, and the report grammar
    "report_buttons": _report_buttons,  # /absen: the officer's report with buttons
    "today": _view("today"),  # /hariini
    "month_recap": _view("month_recap"),  # /rekap [YYYY-MM]
    "semester_recap": _view("semester_recap"),  # /semester [name]
    "student_history": _view("student_history"),  # /riwayat NIS
    "report_status": _view("report_status"),  # /status: which classes reported today
    "attention": _view("attention"),  # /perhatian: students past the thresholds
    "correct": _correct,  # /koreksi: a past school day corrected
    "service_status": _service_status,  # /status for the admin: the service's health (SPEC §9)
    "sms_usage": _sms_usage,  # /sms [YYYY-MM]: SMS usage and cost
    "web_login": _web_login,  # /web: a one-time link to the web console
}
if set(ACTIONS) != set(get_args(CommandAction)):  # pragma: no cover - a mistake caught at import, in every test
    raise RuntimeError("command actions and their handlers differ: "
                       f"{sorted(set(ACTIONS) ^ set(get_args(CommandAction)))}")


# -------------------------------------------------------------------------------------- reply bridge


def _bridge(turn: Turn, msg: InboundMessage, user: int, chat: int, quiet: bool = False) -> bool:
    """A reply to a forwarded SMS goes back to its sender as an SMS, signed with the replier's role."""
    candidates = turn.session.scalars(
        select(OutboxRow).where(OutboxRow.channel == "telegram", OutboxRow.recipient == str(chat),
                                OutboxRow.native_id.contains(msg.reply_to or "")).order_by(OutboxRow.id.desc())
    )  # a long text may have gone out as several messages: native_id is then "100,101"
    row = next((r for r in candidates if msg.reply_to in (r.native_id or "").split(",")), None)
    # SPEC §4: staff answer ("a parent's message in a teacher's chat"); class officers are students (§8).
    roles = [r for r in turn.roles_of(user) if not turn.rules.rules.roles[r.role].student]
    if row is None or not row.bridge or not roles or not msg.text.strip():
        if not quiet and roles and chat == user:
            turn.to_staff(user, "tg_bridge_unknown")
        return False
    values = {"role": role_label(turn, roles[0]), "name": roles[0].name, "text": msg.text.strip()}
    if not _fits_bridge(turn, chat, turn.text("bridge_sms", **values), row.bridge):
        return True
    turn.to_parent(row.bridge, "bridge_sms", key=f"bridge:{turn.source_id}", kind="bridge", **values)
    turn.to_staff(chat, "tg_bridge_sent", to=mask(row.bridge))
    return True


def _fits_bridge(turn: Turn, chat: int, body: str, sender: str) -> bool:
    """SPEC §3: a bridged reply longer than the rules allow is not sent; the replier is told how many SMS it
    would take and what they would cost, so they can shorten it (rather than it being cut, or refused by
    the modem after they were told it went). The notice bridges to the same sender: the shorter text can
    simply answer it."""
    guards = turn.rules.rules.settings.guards
    parts, gsm = segments(body)
    if parts <= guards.bridge_max_parts:
        return True
    turn.to_staff(chat, "tg_bridge_too_long", bridge=sender, parts=parts, max=guards.bridge_max_parts,
            cost=rupiah(parts * guards.sms_part_price), over=len(body) - fitting_length(body, guards.bridge_max_parts),
            hint="" if gsm else turn.text("tg_bridge_emoji_hint"))
    return False
