"""Who holds an outbox item while it is being sent, and when a holder is gone.

A claim is one UPDATE of due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite takes its write lock
with the UPDATE), so two processes never take the same item. The claimant is written on the row as
`<worker>@<host>:<pid>`; at start-up a driver recovers only items whose claimant is gone, so a second
process's live sends are never handed out twice.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from .models import OutboxRow

# A claim this old from another host is abandoned (a send of 10 parts at the modems' 35 s timeout is < 6 min).
STALE_CLAIM = timedelta(minutes=10)


@cache
def _host() -> str:
    return socket.gethostname()


def process_tag() -> str:
    """`host:pid` of this process (not cached across fork: the pid is read each time)."""
    return f"{_host()}:{os.getpid()}"


def claim_rows(session: Session, channel: str, now: datetime, limit: int, claimant: str) -> list[OutboxRow]:
    """Mark up to `limit` due rows `sending`, lowest priority number first, then oldest."""
    due = (select(OutboxRow.id)
           .where(OutboxRow.channel == channel, OutboxRow.status == "pending", OutboxRow.next_try_at <= now)
           .order_by(OutboxRow.priority, OutboxRow.next_try_at, OutboxRow.id)
           .limit(limit)
           .with_for_update(skip_locked=True))
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # One statement: SQLite computes the subquery once and takes its write lock with the UPDATE (a
        # SELECT first would start a read that cannot become a write when another process commits between).
        wanted: Any = due.scalar_subquery()
    else:
        # PostgreSQL may run a LIMIT subquery inside UPDATE … IN (…) again per row (then one claim took
        # every due row): lock the rows first, then mark exactly those.
        wanted = list(connection.execute(due).scalars())
        if not wanted:
            return []
    taken = connection.execute(
        update(OutboxRow.__table__)  # type: ignore[attr-defined]
        .where(OutboxRow.id.in_(wanted), OutboxRow.status == "pending")
        .values(status="sending")
        .returning(OutboxRow.id)
    ).scalars().all()
    if not taken:
        return []
    rows = list(session.scalars(select(OutboxRow).where(OutboxRow.id.in_(taken))))
    for row in rows:
        row.payload = {**row.payload, "worker": claimant, "claimed_at": now.isoformat()}
    rows.sort(key=lambda r: (r.priority, r.next_try_at, r.id))
    return rows


def owner_gone(payload: dict[str, Any], worker: str, now: datetime) -> bool:
    """True when the claim in `payload` can no longer finish: recover it."""
    name, _, tag = str(payload.get("worker", "")).rpartition("@")
    if not tag:
        return True  # a claim from before claimants were recorded
    if tag == process_tag():
        return name == worker  # this process restarting that worker; its other workers are alive
    host, _, pid = tag.rpartition(":")
    if host == _host() and pid.isdigit():
        return not _alive(int(pid))
    claimed = payload.get("claimed_at")
    return claimed is None or now - datetime.fromisoformat(claimed) > STALE_CLAIM


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
