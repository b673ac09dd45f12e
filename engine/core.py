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
from sqlalchemy import event
from sqlmodel import Session

from .chat.parents import handle_parents
from .chat.staff import handle_staff
from .flows.routing import route_targets
from .flows.schedule import run_due_jobs
from .flows.startup import seed
from .live import HELD_TABLES, StaleLive
from .messages import InboundMessage, OutboundMessage
from .rules import CompiledRules
from .school.model import School
from .store import Store, enrolment, queries
from .store.models import OutboxRow
from .store.store import outbox_added
from .turn import Live, Turn

# A message fails for good within hours of being written (the delivery policy's attempts and waits); older
# failures were told before a restart or belong to a database restored from a backup.
FAILURES_TOLD_WITHIN = timedelta(days=2)
BATCH = 50  # inbox rows handled in one transaction (each in a savepoint of its own only when one fails)


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

    def process_pending(self, now: datetime, limit: int = BATCH) -> list[OutboundMessage]:
        """Handle what the inbox holds, in order, up to `limit` messages per transaction."""
        produced: list[OutboundMessage] = []
        while True:
            pending = self.store.pending_inbox(limit)
            if not pending:
                return produced
            produced.extend(self.handle_many(pending, now))
            if len(pending) < limit:
                return produced

    def handle(self, msg: InboundMessage, now: datetime, inbox_id: int | None = None) -> list[OutboundMessage]:
        """Process one message in one transaction; on a bug, the inbox row records it and nothing else changes."""
        return self.handle_many([(inbox_id, msg)], now)

    def handle_many(self, messages: list[tuple[int | None, InboundMessage]], now: datetime) -> list[OutboundMessage]:
        """Handle `messages` in one transaction. If any fails, that transaction is rolled back and they are
        handled again, each in a savepoint of its own: a failing one rolls back alone and its inbox row
        records the error; the rest are done as if it had never come."""
        try:
            with self.store.unit() as session:
                autoflush(session, self.live)
                batch = Batch(session, now)
                for inbox_id, msg in messages:
                    turn = Turn(self.live, session, now, inbox_id, msg.source_id, msg.address)
                    self._dispatch(turn, msg)
                    batch.add(inbox_id, turn)
                self.live.flush(session)
                return batch.commit()
        except Exception as exc:  # one bad message must not stop the others
            self.live.forget()  # it may hold what the rollback undid
            if len(messages) == 1 and not isinstance(exc, StaleLive):
                return self._failed(messages[0], exc, now)
            logger.debug("a batch of {} failed ({}); handling them one by one", len(messages), type(exc).__name__)
        with self.store.unit() as session:
            batch = Batch(session, now)
            for inbox_id, msg in messages:
                try:
                    with session.begin_nested():
                        turn = Turn(self.live, session, now, inbox_id, msg.source_id, msg.address)
                        self._dispatch(turn, msg)
                        self.live.flush(session)
                        batch.add(inbox_id, turn, write=True)
                except Exception as exc:
                    self.live.forget()
                    self._mark(session, inbox_id, "error", failure((inbox_id, msg), exc), now)
            return batch.commit()

    def _failed(self, message: tuple[int | None, InboundMessage], exc: Exception, now: datetime) -> list[OutboundMessage]:
        error = failure(message, exc)
        with self.store.unit() as session:
            self._mark(session, message[0], "error", error, now)
        return []

    def sync_roster(self, now: datetime) -> list[str]:
        """Seat the roster in the store for today's school year: stable absen numbers, class history.

        A new school day also starts the in-memory state afresh (yesterday's records go, and the retention
        purge runs)."""
        self.roster_day = self.school.calendar.today(now)
        self.live.forget()
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
            return commit_outbound(turn)

    def tick(self, now: datetime) -> list[OutboundMessage]:
        """Run the scheduled jobs that are due (reminders, retention purge); a new day re-seats the roster."""
        if self.school.calendar.today(now) != self.roster_day:
            self.sync_roster(now)
        try:
            with self.store.unit() as session:
                deleted = watch_deletes(session)
                turn = Turn(self.live, session, now)
                run_due_jobs(turn)
                self._tell_failures(turn)
                self.live.flush(session)
                produced = commit_outbound(turn)
        except Exception:
            self.live.forget()
            raise
        if deleted:  # the retention purge: rows the in-memory state holds may be gone
            self.live.forget()
        return produced

    def next_due(self, now: datetime) -> datetime:
        """The next moment after `now` a scheduled job falls due: a reminder or a fingerprint check's time later
        today, else the start of the next day (a new roster day, the retention purge). The service's engine
        sleeps until then at most."""
        local = self.school.calendar.local(now)
        due = [(local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)]
        finger = self.rules.rules.finger  # its times too: the late list, the NIHIL check, a held alfa SMS's cutoff
        times = [r.at for r in self.rules.rules.settings.reminders] + [finger.late_at, finger.alfa_sms_until]
        for at_text in times + ([finger.nihil_at] if finger.nihil_at else []):
            hh, mm = map(int, at_text.split(":"))
            at = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
            if at > local:
                due.append(at)
        return min(due)

    # ------------------------------------------------------------------------------------ internals

    def _dispatch(self, turn: Turn, msg: InboundMessage) -> None:
        """The conversation the message's channel carries (settings `conversations`) decides who answers."""
        if self.rules.conversation(msg.channel) == "parents":
            handle_parents(turn, msg)  # keycodes: REG, SAKIT/IZIN, INFO, STOP, help
        else:
            handle_staff(turn, msg)  # commands, buttons, officers' reports, replies bridged back

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


def failure(message: tuple[int | None, InboundMessage], exc: Exception) -> str:
    """Log a message the engine failed on; returns what its inbox row records."""
    inbox_id, msg = message
    logger.opt(exception=exc).error("failed to handle inbox #{} ({}); kept for `absensi inbox`", inbox_id, msg.channel)
    return f"{type(exc).__name__}: {exc}"


class Batch:
    """Messages handled in one transaction: their outbox rows (minus keys already in the outbox, read once)
    and their inbox rows marked done, each in one statement when the batch commits. With `write`, a
    message's rows are written at once (inside its own savepoint)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.turns: list[Turn] = []
        self.done: list[int] = []
        self.produced: list[OutboundMessage] = []

    def add(self, inbox_id: int | None, turn: Turn, write: bool = False) -> None:
        if write:
            self.produced.extend(commit_outbound(turn))
            if inbox_id is not None:
                self.session.connection().execute(queries.INBOX_DONE, {"ids": [inbox_id], "done_at": self.now})
            return
        self.turns.append(turn)
        if inbox_id is not None:
            self.done.append(inbox_id)

    def commit(self) -> list[OutboundMessage]:
        produced = commit_outbound(*self.turns) if self.turns else []
        if self.done:
            self.session.connection().execute(queries.INBOX_DONE, {"ids": self.done, "done_at": self.now})
        return self.produced + produced


def commit_outbound(*turns: Turn) -> list[OutboundMessage]:
    """Outbox rows for what the turns produced, minus keys already in the outbox: one multi-row insert."""
    session = turns[0].session
    keys = {m.key for turn in turns for m in turn.out if m.key}
    existing = set(session.connection().execute(queries.EXISTING_KEYS, {"keys": sorted(keys)}).scalars()) \
        if keys else set()
    produced, rows = [], []
    for turn in turns:
        for message in turn.out:
            if message.key:
                if message.key in existing:
                    continue
                existing.add(message.key)
            produced.append(message)
            rows.append(outbox_values(message, turn.now, turn.inbox_id))
    if rows:
        session.connection().execute(queries.ADD_OUTBOX, rows)
        outbox_added(session.connection())  # the drivers are woken once this transaction commits
    return produced


def autoflush(session: Session, live: Live) -> None:
    """What the batch changed in memory is written before anything in it reads the store through the session
    (a report's snapshot): the in-memory state is written once per batch, not once per message."""

    def before(state: Any) -> None:
        if state.is_select and live.pending():
            live.flush(session)

    event.listen(session, "do_orm_execute", before)


def watch_deletes(session: Session) -> list[bool]:
    """A flag set when rows of a table `Live` holds are deleted through `session` by a statement (the retention
    purge does)."""
    seen: list[bool] = []

    def on_execute(state: Any) -> None:
        table = getattr(state.statement, "table", None)
        if state.is_delete and not seen and getattr(table, "name", None) in HELD_TABLES:
            seen.append(True)

    event.listen(session, "do_orm_execute", on_execute)
    return seen


def outbox_row(message: OutboundMessage, now: datetime, inbox_id: int | None) -> OutboxRow:
    return OutboxRow(**outbox_values(message, now, inbox_id))


def outbox_values(message: OutboundMessage, now: datetime, inbox_id: int | None) -> dict[str, Any]:
    """The outbox row of `message`, as column values; its send priority follows its kind (`Turn.priority`)."""
    payload: dict[str, Any] = {}
    if message.buttons:
        payload["buttons"] = [[[b.label, b.data] for b in line] for line in message.buttons]
    if message.request_contact is not None:
        payload["request_contact"] = message.request_contact  # the button's label (rows before it: true)
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
