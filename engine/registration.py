"""The registration flow's context: what `rules/flows.yaml` may name for `registration`.

One record per sending phone number (`SmsSender`): its state, the wrong-code counter that limits
guessing, and the block that follows too many wrong codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .school import Student
from .store import queries
from .store.models import ParentLink, SmsSender
from .turn import Turn, fire


@dataclass
class RegistrationContext:
    turn: Turn
    sender: SmsSender
    student: Student | None = None
    code: str = ""
    _link_row: ParentLink | None = None
    _link_read: bool = False  # the link may be None: remember that it was looked up

    @property
    def guards(self):
        return self.turn.rules.rules.settings.guards

    # ---------------------------------------------------------------------------------- conditions

    def already_linked(self) -> bool:
        link = self._link()
        return link is not None and link.active

    def student_has_room(self) -> bool:
        assert self.student is not None
        count = self.turn.session.scalar(queries.ACTIVE_PARENT_COUNT, {"nis": self.student.nis})
        return (count or 0) < self.turn.rules.rules.settings.max_parents_per_student

    def registration_blocked(self) -> bool:
        return self.sender.blocked_until is not None and self.turn.now < self.sender.blocked_until

    def wrong_code_limit_reached(self) -> bool:
        return len(self.sender.wrong_codes) >= self.guards.reg_wrong_limit

    # ------------------------------------------------------------------------------------- actions

    def link_child(self) -> None:
        assert self.student is not None
        link = self._link() or ParentLink(phone=self.sender.phone, nis=self.student.nis)
        link.active, link.origin, link.stopped_at = True, "sms", None
        link.consent_at, link.consent_source = self.turn.now, self.turn.source_id
        self.turn.session.add(link)

    def reply_registered(self) -> None:
        assert self.student is not None
        self.turn.sms(self.sender.phone, "reg_ok", student=self.student.name, **{"class": self.student.class_name},
                      nis=self.student.nis)

    def reply_student_full(self) -> None:
        assert self.student is not None
        self.turn.sms(self.sender.phone, "reg_student_full", student=self.student.name, nis=self.student.nis,
                      max=self.turn.rules.rules.settings.max_parents_per_student, **{"class": self.student.class_name})

    def count_wrong_code(self) -> None:
        """Keep the wrong codes of the last window (a sliding window: any 24 hours, not a fixed day)."""
        since = self.turn.now - timedelta(hours=self.guards.reg_wrong_window_hours)
        recent = [t for t in self.sender.wrong_codes if datetime.fromisoformat(t) > since]
        self.sender.wrong_codes = [*recent, self.turn.now.isoformat()]

    def reply_wrong_code(self) -> None:
        self.turn.sms(self.sender.phone, "reg_wrong_code", code=self.code[:16] or "-")

    def block_registration(self) -> None:
        self.sender.blocked_until = self.turn.now + timedelta(hours=self.guards.reg_block_hours)
        self.sender.wrong_codes = []

    def unlink_all(self) -> None:
        links = self.turn.session.scalars(queries.ACTIVE_LINKS_OF_PHONE, {"phone": self.sender.phone})
        for link in links:
            link.active, link.stopped_at = False, self.turn.now

    def reply_stopped(self) -> None:
        self.turn.sms(self.sender.phone, "stop_ok")

    def reply_not_registered(self) -> None:
        self.turn.sms(self.sender.phone, "not_registered")

    def _link(self) -> ParentLink | None:
        """This number's link to the student (read once per event: several conditions ask)."""
        if self.student is None:
            return None
        if not self._link_read:
            self._link_row = self.turn.session.scalars(
                queries.LINK, {"phone": self.sender.phone, "nis": self.student.nis}).first()
            self._link_read = True
        return self._link_row


def load_sender(turn: Turn, phone: str) -> SmsSender:
    sender = turn.session.get(SmsSender, phone)
    if sender is None:
        sender = SmsSender(phone=phone, state=turn.rules.rules.flows["registration"].initial)
        turn.session.add(sender)
    return sender


def run_registration(turn: Turn, sender: SmsSender, trigger: str, student: Student | None = None,
                     code: str = "") -> None:
    machine = turn.rules.machines["registration"]
    sender.state = fire(machine, sender.state, trigger, RegistrationContext(turn, sender, student, code))
