"""SMS usage and cost (SPEC §9: `/sms`, `absensi report sms`), per school-time day and message kind.

The figures come from the outbox and from what the retention purge kept of the rows it deleted, so a month's
figures do not change when its messages are purged (SPEC §8 keeps only counts). One function, `measure`, says
what one outbox row counts for, and the purge rolls the rows it deletes up with that same function (`rollup`)
into `tally` keys such as `purged:sms_day:2026-11-30:alfa:parts`: the live rows and the kept counts can never
be counted two ways.

What a row counts for:
- its day: the school-time day it went to the network (`sent_at`), else the day it was queued;
- `sent`: it went to the network (a delivery report that later says "failed" does not undo the bill);
- `parts`: the parts billed — as many as the text needs (`smslen.segments`, the modem driver's split) once
  it was sent, else the parts a modem accepted before the send stopped;
- `failed`: it is failed for good; `waiting`: it is still pending or being sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from ..rules.smslen import segments
from .models import OutboxRow, Tally

PREFIX = "purged:sms_day:"
MEASURES = ("messages", "sent", "parts", "failed", "waiting")
COLUMNS = ("kind", "status", "text", "sent_at", "created_at", "payload")  # what `measure` reads of a row


@dataclass
class Cell:
    """What one day × kind holds (or one row, or a total)."""

    messages: int = 0
    sent: int = 0
    parts: int = 0
    failed: int = 0
    waiting: int = 0

    def add(self, other: Cell) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def billed_parts(text: str, sent_at: datetime | None, payload: Mapping[str, Any]) -> int:
    if sent_at is not None:
        return segments(text)[0]
    return len(payload.get("parts") or ())  # a modem took these parts before the send stopped


def measure(kind: str, status: str, text: str, sent_at: datetime | None, created_at: datetime,
            payload: Mapping[str, Any] | None, tz: tzinfo) -> tuple[date, str, Cell]:
    """(day, kind, what it counts for) of one SMS outbox row; `tz` is the school's time zone."""
    day = (sent_at or created_at).astimezone(tz).date()
    cell = Cell(messages=1, sent=int(sent_at is not None), parts=billed_parts(text, sent_at, payload or {}),
                failed=int(status == "failed"), waiting=int(status in ("pending", "sending")))
    return day, kind or "reply", cell


def rollup(rows: Iterable[tuple[Any, ...]], tz: tzinfo) -> Counter[str]:
    """Tally keys for SMS rows about to be deleted: each row as `COLUMNS`, counted as `measure` does."""
    counts: Counter[str] = Counter()
    for row in rows:
        day, kind, cell = measure(*row, tz=tz)
        for name in MEASURES:
            value = getattr(cell, name)
            if value:
                counts[f"{PREFIX}{day.isoformat()}:{kind}:{name}"] += value
    return counts


Usage = dict[tuple[date, str], Cell]  # (day, kind) → cell


def usage(session: Session, start: date, end: date, tz: tzinfo) -> Usage:
    """Every SMS day × kind from `start` to `end` (school-time days, both included): live rows plus kept counts."""
    found: Usage = {}
    first = datetime.combine(start, time(0), tzinfo=tz)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    moment = func.coalesce(OutboxRow.sent_at, OutboxRow.created_at)
    rows = session.execute(select(*(getattr(OutboxRow, c) for c in COLUMNS))
                           .where(OutboxRow.channel == "sms", moment >= first, moment < after))
    for row in rows:
        day, kind, cell = measure(*row, tz=tz)
        if start <= day <= end:
            found.setdefault((day, kind), Cell()).add(cell)
    kept = session.execute(select(Tally.key, Tally.count).where(
        Tally.key >= f"{PREFIX}{start.isoformat()}", Tally.key < f"{PREFIX}{end.isoformat()}~"))
    for key, count in kept:
        day_text, kind, name = _parse(key)
        if day_text is not None and name in MEASURES:
            day = date.fromisoformat(day_text)
            if start <= day <= end:
                cell = found.setdefault((day, kind), Cell())
                setattr(cell, name, getattr(cell, name) + count)
    return found


def _parse(key: str) -> tuple[str | None, str, str]:
    rest = key.removeprefix(PREFIX)
    day, _, tail = rest.partition(":")
    kind, _, name = tail.rpartition(":")
    try:
        date.fromisoformat(day)
    except ValueError:
        return None, "", ""
    return day, kind, name


def total(cells: Iterable[Cell]) -> Cell:
    result = Cell()
    for cell in cells:
        result.add(cell)
    return result
