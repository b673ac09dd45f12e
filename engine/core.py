"""The engine: one inbound message in, state changes and outbound messages out, in one transaction.

`Engine.handle(msg, now)` never reads the wall clock and never calls a driver. Replies are data: they
become outbox rows in the same transaction as the state they describe, deduplicated by key, so a
message processed twice never sends a parent two SMS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlmodel import Session

from .chat.parents import handle_parents
from .chat.staff import handle_staff
from .flows.routing import route_targets
from .flows.schedule import run_due_jobs
from .flows.startup import seed
from .messages import InboundMessage, OutboundMessage
from .rules import CompiledRules
from .school.model import School
from .store import Store, enrolment, queries
from .store.models import OutboxRow
from .turn import Live, Turn

# A message fails for good within hours of being written (the delivery policy's attempts and waits); older
# failures were told before a restart or belong to a database restored from a backup.
FAILURES_TOLD_WITHIN = timedelta(days=2)


class Engine:
    def __init__(self, rules: CompiledRules, school: School, store: Store, now: datetime) -> None:
        self.live = Live(rules, own_copy(school))
        self.store = store
        self.failures_told = 0  # outbox id up to which failed messages were told to the admin (see tick)
        seed(self.school, store, now)
        self.roster_day = self.school.calendar.today(now)
        self.sync_roster(now)

    @property
    def rules(self) -> CompiledRules:
        return self.live.rules

    @property
    def school(self) -> School:
        return self.live.school

    # ---------------------------------------------------------------------------------- entry points

    def receive(self, msg: InboundMessage, now: datetime) -> list[OutboundMessage]:
        """Commit `msg` to the inbox, then handle it. A message seen before produces nothing."""
        if not self.store.submit(msg):
            return []
        return self.process_pending(now)

    def process_pending(self, now: datetime) -> list[OutboundMessage]:
        produced: list[OutboundMessage] = []
        for inbox_id, msg in self.store.pending_inbox():
            produced.extend(self.handle(msg, now, inbox_id))
        return produced

    def handle(self, msg: InboundMessage, now: datetime, inbox_id: int | None = None) -> list[OutboundMessage]:
        """Process one message in one transaction; on a bug, the inbox row records it and nothing else changes."""
        try:
            with self.store.unit() as session:
                turn = Turn(self.live, session, now, inbox_id, msg.source_id, msg.address)
                self._dispatch(turn, msg)
                produced = self._commit_outbound(turn)
                self._mark(session, inbox_id, "done", None, now)
            return produced
        except Exception as exc:  # one bad message must not stop the service
            self.live.forget()  # the cache may hold what the rollback undid
            logger.exception("failed to handle inbox #{} ({}); kept for `absensi inbox`", inbox_id, msg.channel)
            with self.store.unit() as session:
                self._mark(session, inbox_id, "error", f"{type(exc).__name__}: {exc}", now)
            return []

    def sync_roster(self, now: datetime) -> list[str]:
        """Seat the roster in the store for today's school year: stable absen numbers, class history."""
        self.roster_day = self.school.calendar.today(now)
        with self.store.unit() as session:
            lines = enrolment.sync(session, self.school, self.roster_day).lines
        for line in lines:
            logger.info("roster: {}", line)
        return lines

    def switch(self, rules: CompiledRules, school: School, now: datetime) -> list[OutboundMessage]:
        """Use a new, validated rule set and roster from the next message on (SPEC §2); tell the admin."""
        self.live = Live(rules, own_copy(school))
        seed(self.school, self.store, now)
        changes = self.sync_roster(now)
        return self.tell_admin("tg_reload_done", now, changes="\n".join(changes[:40]) or "-")

    def refuse(self, problems: str, count: int, now: datetime) -> list[OutboundMessage]:
        """A change that does not validate: the running set stays; the admin gets every error."""
        return self.tell_admin("tg_reload_failed", now, count=count, errors=problems[:3000])

    def tell_admin(self, template: str, now: datetime, **values: object) -> list[OutboundMessage]:
        with self.store.unit() as session:
            turn = Turn(self.live, session, now)
            for target in route_targets(turn, "school_reload", None, turn.today):
                turn.to_staff(target, template, kind="admin", **values)
            return self._commit_outbound(turn)

    def tick(self, now: datetime) -> list[OutboundMessage]:
        """Run the scheduled jobs that are due (reminders, retention purge); a new day re-seats the roster."""
        if self.school.calendar.today(now) != self.roster_day:
            self.sync_roster(now)
        with self.store.unit() as session:
            turn = Turn(self.live, session, now)
            run_due_jobs(turn)
            self._tell_failures(turn)
            return self._commit_outbound(turn)

    # ------------------------------------------------------------------------------------ internals

    def _dispatch(self, turn: Turn, msg: InboundMessage) -> None:
        """The conversation the message's channel carries (settings `conversations`) decides who answers."""
        if self.rules.conversation(msg.channel) == "parents":
            handle_parents(turn, msg)  # keycodes: REG, SAKIT/IZIN, INFO, STOP, help
        else:
            handle_staff(turn, msg)  # commands, buttons, officers' reports, replies bridged back

    def _commit_outbound(self, turn: Turn) -> list[OutboundMessage]:
        """Outbox rows for what the turn produced, minus keys already sent: one multi-row insert."""
        produced = []
        keys = {m.key for m in turn.out if m.key}
        existing = set(turn.session.scalars(queries.EXISTING_KEYS, {"keys": sorted(keys)})) if keys else set()
        for message in turn.out:
            if message.key and message.key in existing:
                continue
            if message.key:
                existing.add(message.key)
            produced.append(message)
        if produced:
            rows = [outbox_values(m, turn.now, turn.inbox_id) for m in produced]
            turn.session.connection().execute(queries.ADD_OUTBOX, rows)
        return produced

    @staticmethod
    def _mark(session: Session, inbox_id: int | None, status: str, error: str | None, now: datetime) -> None:
        if inbox_id is not None:  # a Core update: nothing in the session needs synchronising
            session.connection().execute(queries.MARK_INBOX, {"inbox_id": inbox_id, "new_status": status,
                                                              "new_error": error, "done_at": now})

    def _tell_failures(self, turn: Turn) -> None:
        """Messages a driver failed for good are told to the admin here, in the engine's thread and from the
        engine's state, whichever process's driver failed them; the notice's key makes telling twice (after a
        restart) impossible."""
        failed = turn.session.execute(queries.NEWLY_FAILED, {"after": self.failures_told,
                                                             "since": turn.now - FAILURES_TOLD_WITHIN}).all()
        for row_id, recipient, error, text in failed:
            for target in route_targets(turn, "delivery_failed", None, turn.today):
                turn.to_staff(target, "tg_delivery_failed", key=f"failed:{row_id}:{target}", kind="delivery_failed",
                              to=recipient, reason=error or "", text=text[:200])
            self.failures_told = max(self.failures_told, row_id)


def own_copy(school: School) -> School:
    """The engine's own roster: seating it (absen numbers from the store) never changes the caller's."""
    copy = replace(school, students=dict(school.students))
    copy.index()
    return copy


def outbox_row(message: OutboundMessage, now: datetime, inbox_id: int | None) -> OutboxRow:
    return OutboxRow(**outbox_values(message, now, inbox_id))


def outbox_values(message: OutboundMessage, now: datetime, inbox_id: int | None) -> dict[str, Any]:
    """The outbox row of `message`, as column values; its send priority follows its kind (`Turn.priority`)."""
    payload: dict[str, Any] = {}
    if message.buttons:
        payload["buttons"] = [[[b.label, b.data] for b in line] for line in message.buttons]
    if message.request_contact:
        payload["request_contact"] = True
    if message.remove_keyboard:
        payload["remove_keyboard"] = True
    if message.edit is not None:
        payload["edit"] = message.edit
    if message.document is not None:
        payload["document"] = {"filename": message.document.filename, "hex": message.document.content.hex()}
    return {"key": message.key, "channel": str(message.channel), "recipient": message.to, "text": message.text,
            "payload": payload, "kind": message.kind, "status": "pending", "attempts": 0, "next_try_at": now,
            "created_at": now, "bridge": message.bridge, "inbox_id": inbox_id,
            "priority": Turn.priority(message.kind)}
