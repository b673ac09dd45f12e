"""`absensi status`: what the running service is doing, read from the database it shares (SPEC §8, §9).

Only what the store knows: which process is the engine and whether it shows life, the inbox (unhandled,
kept as errors) and the outbox per channel. A process that is not the engine still serves its drivers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..store import Store
from ..store.lease import HEARTBEAT, current_holder
from ..store.models import InboxRow, OutboxRow

ENGINE_SILENT = HEARTBEAT * 3  # no heartbeat for this long: no engine is handling messages
OLDEST_WAITING = timedelta(minutes=15)  # SPEC §9: an outbox message waiting this long needs attention


@dataclass
class Health:
    engine: str | None  # host:pid of the lease holder
    engine_since: str | None
    engine_alive: bool
    heartbeat_age_s: float | None
    inbox_waiting: int
    oldest_waiting_s: float | None
    inbox_errors: int
    outbox: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> status -> count
    oldest_pending_s: float | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def health(store: Store, now: datetime) -> Health:
    lease = current_holder(store)
    age = (now - lease.heartbeat_at).total_seconds() if lease else None
    with store.unit() as session:
        waiting, oldest = session.execute(select(func.count(), func.min(InboxRow.received_at))
                                          .where(InboxRow.status == "new")).one()
        errors = session.scalar(select(func.count()).where(InboxRow.status == "error")) or 0
        outbox: dict[str, dict[str, int]] = {}
        for channel, status, count in session.execute(
                select(OutboxRow.channel, OutboxRow.status, func.count())
                .where(OutboxRow.status.in_(("pending", "sending", "failed")))
                .group_by(OutboxRow.channel, OutboxRow.status)):
            outbox.setdefault(channel, {})[status] = count
        pending = session.scalar(select(func.min(OutboxRow.created_at)).where(OutboxRow.status == "pending"))
    result = Health(
        engine=lease.holder if lease else None, engine_since=lease.acquired_at.isoformat() if lease else None,
        engine_alive=age is not None and age <= ENGINE_SILENT.total_seconds(), heartbeat_age_s=age,
        inbox_waiting=waiting, oldest_waiting_s=(now - oldest).total_seconds() if oldest else None,
        inbox_errors=errors, outbox=outbox, oldest_pending_s=(now - pending).total_seconds() if pending else None)
    result.problems = _problems(result)
    return result


def _problems(h: Health) -> list[str]:
    problems = []
    if not h.engine_alive:
        problems.append("no engine is handling messages (is `absensi run` running?)")
    if h.inbox_errors:
        problems.append(f"{h.inbox_errors} message(s) kept in the error inbox: see `absensi inbox`")
    if h.oldest_pending_s is not None and h.oldest_pending_s > OLDEST_WAITING.total_seconds():
        problems.append(f"an outbox message has waited {h.oldest_pending_s / 60:.0f} min")
    return problems
