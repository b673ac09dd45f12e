"""What the web console's admin pages read that the Telegram commands do not (issue 13): the SMS log in and
out, the error inbox and its retry, and the last hours of the outbox queue and of SMS sent.

Numbers leave this module masked (`0812****890`, SPEC §8): the pages never see a full one. Texts are given
as stored; the console hides the numbers in them before showing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlmodel import Session

from ..school.phones import mask
from ..store.models import InboxRow, OutboxRow

SMS = "sms"
LOG_LIMIT = 500
INBOX_STATES = ("new", "done", "error")
OUTBOX_STATES = ("pending", "sending", "sent", "delivered", "failed")
# the states of both tables as the log's readers say them
STATE_WORDS = {"new": "menunggu diproses", "done": "selesai", "error": "gagal diproses", "pending": "menunggu",
               "sending": "sedang dikirim", "sent": "terkirim", "delivered": "sampai", "failed": "gagal"}
INCOMING = "masuk"  # the log's kind for SMS received (outgoing ones carry the outbox's kind)


@dataclass(frozen=True)
class SmsLine:
    at: datetime
    incoming: bool
    number: str  # masked
    kind: str  # `masuk`, or the outbox kind (alfa, reply, bridge, …)
    state: str
    text: str
    attempts: int = 0
    error: str = ""


def sms_log(session: Session, start: datetime, end: datetime, kind: str | None = None, state: str | None = None,
            limit: int = LOG_LIMIT) -> list[SmsLine]:
    """SMS received and sent (or queued) in [start, end), newest first; `kind` `masuk` is the received ones,
    another kind the outgoing ones of that kind; `state` a status of either table."""
    lines: list[SmsLine] = []
    if kind in (None, INCOMING) and (state is None or state in INBOX_STATES):
        query = select(InboxRow).where(InboxRow.channel == SMS, InboxRow.received_at >= start,
                                       InboxRow.received_at < end)
        if state is not None:
            query = query.where(InboxRow.status == state)
        for row in session.scalars(query.order_by(InboxRow.received_at.desc()).limit(limit)):
            lines.append(SmsLine(row.received_at, True, mask(row.sender), INCOMING, row.status, row.text,
                                 error=row.error or ""))
    if kind != INCOMING and (state is None or state in OUTBOX_STATES):
        moment = func.coalesce(OutboxRow.sent_at, OutboxRow.created_at)
        out = select(OutboxRow).where(OutboxRow.channel == SMS, moment >= start, moment < end)
        if kind is not None:
            out = out.where(OutboxRow.kind == kind)
        if state is not None:
            out = out.where(OutboxRow.status == state)
        for row in session.scalars(out.order_by(moment.desc()).limit(limit)):
            lines.append(SmsLine(row.sent_at or row.created_at, False, mask(row.recipient), row.kind, row.status,
                                 row.text, row.attempts, row.error or ""))
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:limit]


def sms_kinds(session: Session) -> list[str]:
    """The kinds of outgoing SMS the outbox holds (for the log's filter)."""
    return sorted(k for k in session.scalars(select(OutboxRow.kind).where(OutboxRow.channel == SMS).distinct()) if k)


# ------------------------------------------------------------------------------------------ error inbox


@dataclass(frozen=True)
class Failed:
    id: int
    received_at: datetime
    channel: str
    sender: str  # masked (a Telegram sender is a chat id, shown as it is)
    text: str
    error: str


def failed_inbox(session: Session, limit: int = LOG_LIMIT) -> list[Failed]:
    rows = session.scalars(select(InboxRow).where(InboxRow.status == "error").order_by(InboxRow.id).limit(limit))
    return [Failed(int(r.id or 0), r.received_at, r.channel, mask(r.sender) if r.channel == SMS else r.sender,
                   r.text, r.error or "") for r in rows]


def requeue(session: Session, ids: Sequence[int] | None = None) -> int:
    """Put failed messages (these `ids`, or all) back in the inbox for the engine, as `absensi inbox --retry`
    does; the caller then wakes the engine (`Store.notify_inbox`). Returns how many went back."""
    query = update(InboxRow).where(InboxRow.status == "error")
    if ids is not None:
        query = query.where(InboxRow.id.in_(list(ids)))
    return int(session.execute(query.values(status="new")).rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ last hours


@dataclass(frozen=True)
class Hour:
    start: datetime
    queued: int  # outbox messages (any channel) waiting at the start of the hour
    sent: int  # SMS handed to the network during the hour


def last_hours(session: Session, now: datetime, hours: int = 24) -> list[Hour]:
    """The outbox queue and the SMS sent, hour by hour, for the `hours` before `now`.

    The store keeps no samples: the queue at a moment is read back from the rows themselves — created by
    then and not yet sent (a failed message counts until its last attempt, `next_try_at`). Rows the retention
    purge deleted are not there any more (it keeps far more than a day)."""
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    starts = [first + timedelta(hours=i) for i in range(hours)]
    rows = session.execute(select(OutboxRow.channel, OutboxRow.status, OutboxRow.created_at, OutboxRow.sent_at,
                                  OutboxRow.next_try_at).where(
        OutboxRow.created_at <= now,
        or_(OutboxRow.sent_at.is_(None), OutboxRow.sent_at >= first),
        or_(OutboxRow.status != "failed", OutboxRow.sent_at.is_not(None), OutboxRow.next_try_at >= first),
        or_(and_(OutboxRow.sent_at.is_(None), OutboxRow.status.in_(("pending", "sending", "failed"))),
            OutboxRow.sent_at.is_not(None)))).all()
    queued = [0] * hours
    sent = [0] * hours
    for channel, status, created, sent_at, next_try in rows:
        left = sent_at if sent_at is not None else (next_try if status == "failed" else None)
        for i, moment in enumerate(starts):
            if created <= moment and (left is None or left > moment):
                queued[i] += 1
        if channel == SMS and sent_at is not None and sent_at >= first:
            index = int((sent_at - first).total_seconds() // 3600)
            if 0 <= index < hours:
                sent[index] += 1
    return [Hour(s, q, n) for s, q, n in zip(starts, queued, sent, strict=True)]
