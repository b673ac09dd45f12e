"""One unit of work: the session, the clock, and the outbound messages a message or a tick produces."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from loguru import logger
from sqlmodel import Session
from transitions import Machine

from .live import LINKS_TTL, Live
from .messages import Address, Button, Document, OutboundMessage
from .rules import CompiledRules
from .rules.smslen import fit_one
from .school.calendar import tanggal
from .school.model import School, StaffRole
from .school.phones import is_phone, mask, mobile

__all__ = ["LINKS_TTL", "Live", "Turn", "fire"]

# Outbox order by message kind (SPEC §3: lower goes first; `Store.claim` orders by priority, then time).
# One table for both channels, kept in code rather than in the rules: the kinds are the engine's own words
# (no rule names them), and the order is the SPEC's promise that junk can never delay an alfa notice, which
# a school's edit should not be able to undo. A kind missing here gets DEFAULT_PRIORITY.
PRIORITY: dict[str, int] = {
    "alfa": 10,  # SMS: a reason's notice to parents (the alfa SMS)
    "reply": 10,  # SMS: a parent's SAKIT/IZIN confirmed, which child?, STOP done; Telegram: answers to staff
    "push": 10,  # Telegram: an officer's alfa, pushed to the wali kelas
    "forward": 10,  # Telegram: a parent's message, forwarded to the class's teachers
    "delivery_failed": 20,  # Telegram, the admin: a message could not be delivered
    "reply_cap": 20,  # Telegram, the admin: automatic replies to unknown numbers are being dropped
    "admin": 20,  # Telegram, the admin: a rules or roster change applied or refused
    "alert": 20,  # the admin: an operations incident opened or cleared (Telegram, or SMS when Telegram is down)
    "bridge": 30,  # SMS: a teacher's or an official's reply relayed to the sender
    "info": 30,  # Telegram: the public's INFO, forwarded to the officials
    "reminder": 40,  # Telegram: a class has not reported yet
    "ack": 70,  # SMS: "your INFO was forwarded"
    "registration": 70,  # SMS: REG answered (registered, wrong code, no room for another number)
    "help": 70,  # SMS: the help reply, "register first"
}
DEFAULT_PRIORITY = 50
# SMS kinds sent whole; every other SMS is a reply and is trimmed to one segment (SPEC §3).
UNTRIMMED = frozenset({"alfa", "bridge"})


class _Token:
    """The live instance a flow machine drives: just a state, copied to and from the stored record."""

    def __init__(self, state: str) -> None:
        self.state = state


def fire(machine: Machine, state: str, trigger: str, ctx: Any) -> str:
    """Run one trigger on a record in `state`; returns the new state (DESIGN: one machine, many models).

    Each machine keeps one idle token per thread, set to `state` before the trigger: adding a model to a
    machine (and removing it) cost five times the trigger itself."""
    idle = machine.__dict__.get("_absensi_idle")
    if idle is None:
        idle = machine.__dict__.setdefault("_absensi_idle", threading.local())
    token: _Token | None = getattr(idle, "token", None)
    if token is None:  # the first trigger on this thread, or one fired from inside another's callback
        token = _Token(state)
        machine.add_model(token, initial=state)
    else:
        idle.token = None
        machine.set_state(state, model=token)
    try:
        token.trigger(trigger, ctx=ctx)  # type: ignore[attr-defined]
        return token.state
    finally:
        if getattr(idle, "token", None) is None:
            idle.token = token
        else:
            machine.remove_model(token)


@dataclass
class Turn:
    """Everything one message (or one clock tick) may touch, and what it produces."""

    live: Live
    session: Session
    now: datetime
    inbox_id: int | None = None
    source_id: str = ""
    origin: Address | None = None  # where the message being handled came from (None for a clock tick)
    out: list[OutboundMessage] = field(default_factory=list)

    @property
    def rules(self) -> CompiledRules:
        return self.live.rules

    @property
    def school(self) -> School:
        return self.live.school

    @cached_property
    def today(self) -> date:  # a turn's clock does not move
        return self.school.calendar.today(self.now)

    def text(self, template: str, /, **values: object) -> str:
        return self.rules.render(template, school=self.school.name, **values)

    @staticmethod
    def priority(kind: str) -> int:
        """The outbox priority of a message of `kind` (see PRIORITY)."""
        return PRIORITY.get(kind, DEFAULT_PRIORITY)

    # -------------------------------------------------------------------------------- contacts
    # The engine speaks to contacts — a parent (by phone number), a staff member or a group (by chat id) — and
    # never names a channel: a reply goes back on the channel the message came from, and a conversation the
    # engine starts goes on the channel the rules' `reach` names for that kind of contact (settings.yaml).

    def parent(self, phone: str) -> Address:
        """Where a parent (or any SMS-side sender) is reached: back where this message came from, if it did."""
        origin = self.origin
        if origin is not None and self.rules.conversation(origin.channel) == "parents" \
                and (origin.id == phone or mobile(origin.id, self.school.region) == phone):
            return Address(origin.channel, phone)
        return Address(self.rules.reach("parents"), phone)

    def staff(self, chat: int | str) -> Address:
        """Where a staff member or a group is reached: its chat, on the channel staff talk on."""
        origin, chat = self.origin, str(chat)
        if origin is not None and origin.id == chat and self.rules.conversation(origin.channel) == "staff":
            return origin
        return Address(self.rules.reach("staff"), chat)

    def to_parent(self, phone: str, template: str, /, **options: Any) -> None:
        self.send(self.parent(phone), template, **options)

    def to_staff(self, chat: int | str, template: str, /, **options: Any) -> None:
        self.send(self.staff(chat), template, **options)

    def to_staff_text(self, chat: int | str, body: str, /, **options: Any) -> None:
        self.send_text(self.staff(chat), body, **options)

    def send(self, to: Address, template: str, /, *, key: str | None = None, kind: str = "reply",
             bridge: str | None = None, buttons: tuple[tuple[Button, ...], ...] = (), request_contact: bool = False,
             remove_keyboard: bool = False, document: Document | None = None, edit: str | None = None,
             **values: object) -> None:
        label = None
        if request_contact:  # the share-contact button's label, which the text may name as `{button}`
            label = self.text("tg_contact_button")
            values.setdefault("button", label)
        self.send_text(to, self.text(template, **values), key=key, kind=kind, bridge=bridge, buttons=buttons,
                       request_contact=label, remove_keyboard=remove_keyboard, document=document, edit=edit)

    def send_text(self, to: Address, body: str, /, *, kind: str = "reply", **extra: Any) -> None:
        """One outbound message, shaped by what its channel can carry (`Channel.metered`): a metered channel
        (SMS) goes only to a valid mobile number (SPEC §3), carries no keyboard or file, and a reply is trimmed
        to one segment; a chat channel carries everything."""
        if to.channel.metered:
            if not is_phone(to.id, self.school.region):
                logger.info("no {} to {}: not a mobile number", to.channel, mask(to.id))
                return
            body = body if kind in UNTRIMMED else fit_one(body)
            extra = {k: v for k, v in extra.items() if k in ("key", "bridge")}
        self.out.append(OutboundMessage(to.channel, to.id, body, kind=kind, **extra))

    def date_text(self, day: date) -> str:
        return tanggal(day)

    # -------------------------------------------------------------------------------- identities

    def linked_phones(self) -> dict[str, int]:
        """E.164 phone → Telegram id for accounts linked by contact (held in `Live`, re-read after LINKS_TTL)."""
        return self.live.links(self.session, self.now).by_phone

    def forget_links(self) -> None:
        self.live.forget_links()

    def link_telegram(self, user: int, phone: str) -> None:
        """Link the account `user` to `phone` (it shared its own contact), replacing older links of either."""
        self.live.link_telegram(self.session, user, phone, self.now)

    def telegram_id_of(self, staff: StaffRole) -> int | None:
        if staff.telegram_id is not None:
            return staff.telegram_id
        return self.linked_phones().get(staff.phone or "")

    def roles_of(self, user_id: int) -> list[StaffRole]:
        """Every staff row this Telegram account holds: listed by id, or linked by its phone."""
        return self.live.roles_of(self.session, self.now, user_id)
