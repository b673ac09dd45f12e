"""The absence flow's context: the conditions and actions `rules/flows.yaml` names for `absence`.

One record per student per school day. The machine decides which transition applies; these methods
only do what their names say, so a school can rewire the flow without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..finger.punches import Arrival, arrivals
from ..live import AbsenceRecord
from ..rules.finger import HELD_STATE, checked_reasons, clock
from ..school.model import Student
from ..school.phones import mask
from ..turn import Turn, fire
from .routing import route_targets, staff_for

# The state of a record whose parents' SMS waits for the wali kelas (rules/flows.yaml, rules/finger.yaml
# `alfa_sms: wait`): the tick sends it at the cutoff, the flag's buttons before (engine/finger/hold.py).
HELD = HELD_STATE


@dataclass
class AbsenceContext:
    turn: Turn
    row: AbsenceRecord
    student: Student
    reason: str | None  # the reported reason code (None for withdraw)
    note: str
    source: str  # ketua_kelas, sekretaris, ortu, …
    reporter: str  # a name or a phone number
    reply_to: str | None = None  # who sent it (the parent's number for confirm_parent)
    notices: list[str] = field(default_factory=list)  # lines for the officer's reply
    _parents: list[str] | None = None
    _held: bool = False  # hold_parents_sms ran: the push says the SMS waits

    # ---------------------------------------------------------------------------------- conditions

    def reason_notifies_parents(self) -> bool:
        spec = self.turn.rules.rules.reasons.get(self.reason or "")
        return bool(spec and spec.notify_parents)

    def reported_by_parent(self) -> bool:
        return self.row.source == "ortu"

    def same_reason(self) -> bool:
        return self.row.status == self.reason

    def correction_clears(self) -> bool:
        """A teacher's correction to "present" (no reason)."""
        return self.reason is None

    def school_decision_recorded(self) -> bool:
        """Staff recorded a reason the school decides (D, P: `school_decision` in the rules)."""
        spec = self.turn.rules.rules.reasons.get(self.row.status or "")
        return bool(spec and spec.school_decision) and self.row.source != "ortu"

    def finger_holds_parents_sms(self) -> bool:
        """rules/finger.yaml `alfa_sms: wait`: a reason the finger checks look at, reported for today before
        `alfa_sms_until`, of a student who clocked in today before the report."""
        finger = self.turn.rules.rules.finger
        if finger.alfa_sms != "wait" or self.row.day != self.turn.today:
            return False
        if self.reason not in checked_reasons(finger, self.turn.rules.rules.reasons):
            return False
        if self.turn.school.calendar.local(self.turn.now).time() >= clock(finger.alfa_sms_until):
            return False
        return self._arrival() is not None

    # ------------------------------------------------------------------------------------- actions

    def record(self) -> None:
        self._change(self.reason, self.note)

    def erase(self) -> None:
        self._change(None, "")

    def parents(self) -> list[str]:
        """The student's registered parent numbers (read once per event: two actions need them)."""
        if self._parents is None:
            self._parents = parent_numbers(self.turn, self.student.nis)
        return self._parents

    def notify_parents(self) -> None:
        """The reason's notice (`parent_sms`: the alfa SMS for A; one naming the reason otherwise)."""
        spec = self.turn.rules.rules.reasons.get(self.reason or "")
        template = spec.parent_sms if spec else "reason_parent"
        for phone in self.parents():
            self.turn.to_parent(phone, template, key=f"alfa:{self.student.nis}:{self.row.day}:{phone}", kind="alfa",
                          **self._values())
            self.row.parent_notified = True

    def hold_parents_sms(self) -> None:
        """The parents' SMS is not sent now: the record's state (HELD) holds it; push_homeroom says so."""
        self._held = True

    def tell_reporter_denied(self) -> None:
        """The wali kelas pressed "Salah lapor" (`reporter` is who pressed): the officer who reported is asked
        to correct the report. The record stays as it is."""
        arrival = self._arrival()
        values = {**self._values(), "time": f"{arrival.first:%H:%M}" if arrival else "-", "by": self.reporter}
        for staff in staff_for(self.turn, self.row.source, self.row.class_name, self.row.day):
            chat = self.turn.telegram_id_of(staff)
            if staff.name == self.row.reporter and chat is not None:
                self.turn.to_staff(chat, "tg_finger_denied_reporter",
                                   key=f"finger-denied:{self.row.nis}:{self.row.day}:{chat}", kind="push", **values)

    def push_homeroom(self) -> None:
        phones = self.parents()
        parents = ", ".join(mask(p) for p in phones) if phones else self.turn.text("tg_no_parent_phone")
        if self._held:
            arrival = self._arrival()
            parents = self.turn.text("tg_alfa_held", time=f"{arrival.first:%H:%M}" if arrival else "-",
                                     until=self.turn.rules.rules.finger.alfa_sms_until)
        for chat in route_targets(self.turn, "alfa_push", self.student.class_name, self.row.day):
            self.turn.to_staff(chat, "tg_alfa_push", key=f"alfa-push:{self.student.nis}:{self.row.day}:{chat}",
                         kind="push", reporter=self.reporter, parents=parents, **self._values())

    def forward_parent_message(self) -> None:
        values = self._values()  # once for the class's four or five chats
        for chat in route_targets(self.turn, "parent_report", self.student.class_name, self.row.day):
            key = f"parent:{self.turn.source_id}:{chat}"
            if _is_student_chat(self.turn, chat):  # officers: masked number, and they cannot answer by SMS
                self.turn.to_staff(chat, "tg_parent_forward_officer", key=key, kind="forward", phone=mask(self.reporter),
                             note=self.note or "-", **values)
            else:
                self.turn.to_staff(chat, "tg_parent_forward", key=key, kind="forward", bridge=self.reporter,
                             phone=self.reporter, note=self.note or "-", **values)

    def confirm_parent(self) -> None:
        if self.reply_to:
            self.turn.to_parent(self.reply_to, "parent_report_ok", **self._values())

    def tell_parent_decision_stands(self) -> None:
        """A parent's SAKIT/IZIN against the school's D/P: the record stays, and the parent is told so."""
        if self.reply_to:
            values = {**self._values(), "reason": self.turn.rules.reason_name(self.row.status or "")}
            self.turn.to_parent(self.reply_to, "parent_report_stands", **values)

    def tell_parent_reason_stands(self) -> None:
        """The officer's entry meets a parent's reason of the day, which stands: the officer is told, and — for a
        reason that would have sent the parents an SMS (the alfa notice) — that no SMS went."""
        values = {**self._values(), "reason": self.turn.rules.reason_name(self.row.status or "")}
        reported = self.turn.rules.rules.reasons.get(self.reason or "")
        if reported is not None and reported.notify_parents:
            self.notices.append(self.turn.text("tg_parent_stands", reported=reported.name.lower(), **values))
        else:
            self.notices.append(self.turn.text("tg_parent_stands_kept", **values))

    # -------------------------------------------------------------------------------------- helpers

    def _arrival(self) -> Arrival | None:
        """The student's punches of the record's day, up to now."""
        nis = self.student.nis
        return arrivals(self.turn.session, self.turn.school, self.row.day, until=self.turn.now,
                        students=[nis]).get(nis)

    def _values(self) -> dict[str, object]:
        code = self.reason or self.row.status or ""
        return {"student": self.student.name, "class": self.student.class_name, "nis": self.student.nis,
                "date": self.turn.date_text(self.row.day), "reason": self.turn.rules.reason_name(code)}

    def _change(self, status: str | None, note: str) -> None:
        old = self.row.status
        rec = self.row
        rec.status, rec.note = status, note
        rec.source, rec.reporter, rec.reported_at = self.source, self.reporter, self.turn.now
        if old != status:  # the history is append-only: written with the record
            self.turn.live.record_change(rec.nis, rec.day, old, status, self.reporter, self.source, self.turn.now)


def _is_student_chat(turn: Turn, chat: int) -> bool:
    """Class officers are students: they see parents' numbers masked (SPEC §8)."""
    roles = turn.roles_of(chat)
    return bool(roles) and all(turn.rules.rules.roles[r.role].student for r in roles)


def parent_numbers(turn: Turn, nis: str) -> list[str]:
    return turn.live.parents(turn.session).phones(nis)


def load_absence(turn: Turn, student: Student, day: date) -> AbsenceRecord:
    """The student's record of `day` (held in memory for today and later; a new one if there is none)."""
    return turn.live.absence(turn.session, student.nis, student.class_name, day, turn.today)


def run_absence(turn: Turn, student: Student, day: date, trigger: str, *, reason: str | None, note: str,
                source: str, reporter: str, reply_to: str | None = None,
                record: AbsenceRecord | None = None) -> AbsenceContext:
    """Fire `trigger` on the student's record for `day` (`record`, when the caller has read it already),
    then save the record if it changed (written when the message's turn ends)."""
    record = record or load_absence(turn, student, day)
    before = record.values()
    ctx = AbsenceContext(turn, record, student, reason, note, source, reporter, reply_to)
    record.state = fire(turn.rules.machines["absence"], record.state, trigger, ctx)
    if record.values() != before:
        save_absence(turn, record)
    return ctx


def save_absence(turn: Turn, record: AbsenceRecord) -> None:
    turn.live.save_absence(turn.session, record, turn.today)
