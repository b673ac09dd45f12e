"""The registration flow's context: what `rules/flows.yaml` may name for `registration`.

One record per sending phone number (`SmsSender`): its state, the wrong-code counter that limits
guessing, and the block that follows too many wrong codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from ..live import Counter, ParentLinkRecord, Sender
from ..school.model import Student
from ..turn import Turn, fire
from .routing import route_targets


@dataclass
class RegistrationContext:
    turn: Turn
    sender: Sender
    student: Student | None = None
    code: str = ""

    @property
    def guards(self):
        return self.turn.rules.rules.settings.guards

    # ---------------------------------------------------------------------------------- conditions

    def already_linked(self) -> bool:
        link = self._link()
        return link is not None and link.active

    def student_has_room(self) -> bool:
        assert self.student is not None
        count = self.turn.live.parents(self.turn.session).active_count(self.student.nis)
        return count < self.turn.rules.rules.settings.max_parents_per_student

    def registration_blocked(self) -> bool:
        return self.sender.blocked_until is not None and self.turn.now < self.sender.blocked_until

    def wrong_code_limit_reached(self) -> bool:
        return len(self.sender.wrong_codes) >= self.guards.reg_wrong_limit

    # ------------------------------------------------------------------------------------- actions

    def link_child(self) -> None:
        assert self.student is not None
        parents = self.turn.live.parents(self.turn.session)
        parents.connect(self.turn.session.connection(), self.sender.phone, self.student.nis, self.turn.now,
                        self.turn.source_id)

    def reply_registered(self) -> None:
        assert self.student is not None
        self.turn.to_parent(self.sender.phone, "reg_ok", kind="registration", student=self.student.name,
                      nis=self.student.nis, **{"class": self.student.class_name})

    def reply_student_full(self) -> None:
        assert self.student is not None
        self.turn.to_parent(self.sender.phone, "reg_student_full", kind="registration", student=self.student.name,
                      nis=self.student.nis, max=self.turn.rules.rules.settings.max_parents_per_student,
                      **{"class": self.student.class_name})

    def count_wrong_code(self) -> None:
        """Keep the wrong codes of the last window (a sliding window: any 24 hours, not a fixed day)."""
        since = self.turn.now - timedelta(hours=self.guards.reg_wrong_window_hours)
        recent = [t for t in self.sender.wrong_codes if datetime.fromisoformat(t) > since]
        self.sender.wrong_codes = [*recent, self.turn.now.isoformat()]

    def reply_wrong_code(self) -> None:
        reply_to_stranger(self.turn, self.sender.phone, "reg_wrong_code", kind="registration",
                          code=self.code[:16] or "-")

    def block_registration(self) -> None:
        self.sender.blocked_until = self.turn.now + timedelta(hours=self.guards.reg_block_hours)
        self.sender.wrong_codes = []

    def unlink_all(self) -> None:
        parents = self.turn.live.parents(self.turn.session)
        parents.stop(self.turn.session.connection(), self.sender.phone, self.turn.now)

    def reply_stopped(self) -> None:
        self.turn.to_parent(self.sender.phone, "stop_ok")

    def reply_not_registered(self) -> None:
        reply_to_stranger(self.turn, self.sender.phone, "not_registered", kind="help")

    def _link(self) -> ParentLinkRecord | None:
        """This number's link to the student, active or stopped."""
        if self.student is None:
            return None
        return self.turn.live.parents(self.turn.session).link(self.sender.phone, self.student.nis)


def load_sender(turn: Turn, phone: str) -> Sender:
    """The number's registration state and counters (a new record if it has none), saved when the turn ends."""
    return turn.live.sender(turn.session, phone, turn.rules.rules.flows["registration"].initial)


def run_registration(turn: Turn, sender: Sender, trigger: str, student: Student | None = None,
                     code: str = "") -> None:
    machine = turn.rules.machines["registration"]
    sender.state = fire(machine, sender.state, trigger, RegistrationContext(turn, sender, student, code))


# ------------------------------------------------------------------ the school-wide cap on replies to strangers


def reply_to_stranger(turn: Turn, phone: str, template: str, /, *, kind: str, **values: object) -> None:
    """An automatic reply (help, wrong code, "register first"), within the school-wide cap when `phone` has no
    registered child (SPEC §3).

    Per-number guards cannot stop rotating numbers: 200 numbers each get their one help reply, and the school
    pays for every one. So replies to unregistered numbers share one budget per hour and per day; over it the
    reply is dropped and the admin is told, once per window. Registered parents are never capped.
    """
    if _is_registered(turn, phone) or _within_cap(turn):
        turn.to_parent(phone, template, kind=kind, **values)
    else:
        logger.debug("automatic reply {} dropped: the cap on replies to unregistered numbers is reached", template)


def _is_registered(turn: Turn, phone: str) -> bool:
    return bool(turn.live.parents(turn.session).children(phone))


def _within_cap(turn: Turn) -> bool:
    """Count one more reply in the day's and the hour's tally, or tell the admin that a cap is reached.

    Windows are school time; tally keys name only the window, never a number (`replies:2026-11-30T07`).
    """
    guards = turn.rules.rules.settings.guards
    local = turn.school.calendar.local(turn.now)
    tomorrow = turn.text("tg_cap_until_tomorrow")
    next_hour = turn.text("tg_cap_until_hour", hour=f"{local.hour + 1:02d}") if local.hour < 23 else tomorrow
    windows = ((f"replies:{local:%Y-%m-%d}", guards.unregistered_replies_per_day, "tg_cap_per_day", tomorrow),
               (f"replies:{local:%Y-%m-%dT%H}", guards.unregistered_replies_per_hour, "tg_cap_per_hour", next_hour))
    tallies = _tallies(turn, [key for key, *_ in windows])
    for tally, (key, limit, per, until) in zip(tallies, windows, strict=True):
        if tally.count >= limit:
            _bump(turn, *_tallies(turn, [f"replies-dropped:{local:%Y-%m-%d}"]))
            _tell_admin_cap(turn, key, turn.text(per, limit=limit), until)
            return False
    _bump(turn, *tallies)
    return True


def _tallies(turn: Turn, keys: list[str]) -> list[Counter]:
    """The counters named `keys`, in that order (held in memory once read); missing ones start at 0."""
    return turn.live.counters(turn.session, keys, turn.now)


def _bump(turn: Turn, *tallies: Counter) -> None:
    for tally in tallies:
        tally.count += 1
        tally.updated_at = turn.now


def _tell_admin_cap(turn: Turn, window: str, limit: str, until: str) -> None:
    """Once per window: the outbox keeps one row per key, so later drops in the same window add nothing."""
    for chat in route_targets(turn, "reply_cap", None, turn.today):
        turn.to_staff(chat, "tg_reply_cap", key=f"reply-cap:{window}:{chat}", kind="reply_cap", limit=limit, until=until)
