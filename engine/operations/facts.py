"""The running service's health as one snapshot (SPEC §9), read from the database only.

Each `absensi run` process publishes what it knows every `PUBLISH_SECONDS` (`publish`): one row per SMS device
(the driver's own health where it has one: port, operator, signal, registration, SIM storage, last send and
receive, failures today, pulsa), one per fingerprint machine it pulls (state, last pull, log size, clock), one
for the Telegram connection (connected, flood wait) and one for itself
(version, start time, whether it is the engine). `gather` adds what the store itself knows — the engine's
lease, the inbox and outbox, today's SMS, the database's size, the open incidents — so `absensi status` and
`/status` show the same facts and neither touches a serial port.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlmodel import Session

from ..store import usage
from ..store.claims import _alive, process_tag
from ..store.lease import ENGINE, HEARTBEAT
from ..store.models import EngineLease, InboxRow, Incident, OutboxRow, ServiceHealth

PUBLISH_SECONDS = 30.0
STALE = timedelta(seconds=PUBLISH_SECONDS * 4)  # published nothing for this long: its process is gone or stuck
ENGINE_SILENT = HEARTBEAT * 3  # no heartbeat for this long: no engine is handling messages
UNSENT = ("pending", "sending")


@dataclass(frozen=True)
class Published:
    """One published row: a device (`modem`, `gateway`), `telegram` or a `process`."""

    name: str
    kind: str
    holder: str
    updated_at: datetime
    data: dict[str, Any]

    def stale(self, now: datetime) -> bool:
        return now - self.updated_at > STALE

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def moment(self, key: str) -> datetime | None:
        """A time the publisher wrote as ISO 8601."""
        value = self.data.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None

    @property
    def port(self) -> str:
        return str(self.data.get("port") or self.name.partition(":")[2] or self.name)

    @property
    def working(self) -> bool:
        """A device that can send now: ready and (for a modem) registered on the network."""
        if self.kind == "modem":
            return self.data.get("state") == "ready" and bool(self.data.get("registered"))
        return self.data.get("state") == "ready"

    def down_since(self, now: datetime) -> datetime | None:
        """Since when the device (or the Telegram connection) has not been working; None while it works.
        A row nobody refreshes counts as down since its last update."""
        if self.stale(now):
            return self.updated_at
        if self.kind == "telegram":
            if not self.data.get("configured", True) or self.data.get("connected"):
                return None
            return self.moment("down_since") or self.updated_at
        if self.working:
            return None
        return self.moment("down_since") or self.updated_at


@dataclass
class Facts:
    now: datetime
    engine: EngineLease | None
    processes: list[Published]
    devices: list[Published]
    telegram: Published | None
    inbox_waiting: int
    oldest_waiting: datetime | None
    inbox_errors: int
    oldest_error: datetime | None
    outbox: dict[str, dict[str, int]]  # channel → status → count (unsent and failed)
    oldest_unsent: dict[str, datetime]  # channel → the oldest message still waiting to go out
    sms_today: usage.Cell
    database_bytes: int | None
    incidents: list[Incident] = field(default_factory=list)  # open ones
    fingers: list[Published] = field(default_factory=list)  # fingerprint machines pulled live (SPEC §10)

    @property
    def engine_alive(self) -> bool:
        return (self.engine is not None and self.engine.stopped_at is None
                and self.now - self.engine.heartbeat_at <= ENGINE_SILENT)

    @property
    def engine_process(self) -> Published | None:
        """The published row of the process holding the engine's lease."""
        holder = self.engine.holder if self.engine else None
        return next((p for p in self.processes if p.holder == holder), None)


def gather(session: Session, now: datetime, tz: tzinfo) -> Facts:
    """Everything the database knows of the running service at `now` (`tz`: the school's, for "today")."""
    published = [Published(r.name, r.kind, r.holder, r.updated_at, dict(r.data))
                 for r in session.scalars(select(ServiceHealth).order_by(ServiceHealth.name))]
    waiting, oldest_waiting = session.execute(select(func.count(), func.min(InboxRow.received_at))
                                              .where(InboxRow.status == "new")).one()
    errors, oldest_error = session.execute(select(func.count(), func.min(InboxRow.received_at))
                                           .where(InboxRow.status == "error")).one()
    outbox: dict[str, dict[str, int]] = {}
    for channel, status, count in session.execute(
            select(OutboxRow.channel, OutboxRow.status, func.count())
            .where(OutboxRow.status.in_((*UNSENT, "failed"))).group_by(OutboxRow.channel, OutboxRow.status)):
        outbox.setdefault(channel, {})[status] = count
    oldest = dict(session.execute(select(OutboxRow.channel, func.min(OutboxRow.created_at))
                                  .where(OutboxRow.status.in_(UNSENT)).group_by(OutboxRow.channel)).all())
    today = now.astimezone(tz).date()
    cells = usage.usage(session, today, today, tz)
    return Facts(
        now=now, engine=session.get(EngineLease, ENGINE),
        processes=[p for p in published if p.kind == "process"],
        devices=[p for p in published if p.kind in ("modem", "gateway")],
        telegram=_telegram(published, now),
        inbox_waiting=waiting, oldest_waiting=oldest_waiting, inbox_errors=errors, oldest_error=oldest_error,
        outbox=outbox, oldest_unsent=oldest, sms_today=usage.total(cells.values()),
        database_bytes=database_size(session),
        incidents=list(session.scalars(select(Incident).where(Incident.cleared_at.is_(None)).order_by(Incident.id))),
        fingers=[p for p in published if p.kind == "finger"])


def _telegram(published: list[Published], now: datetime) -> Published | None:
    """The Telegram connection: of the processes that publish one, a fresh one that runs Telegram, connected
    if any is (each process publishes `telegram:<host:pid>`; usually only the engine's runs it)."""
    rows = [p for p in published if p.kind == "telegram"]
    if not rows:
        return None
    return max(rows, key=lambda p: (not p.stale(now), bool(p.get("configured", True)), p.down_since(now) is None,
                                    p.updated_at))


def day_usage(session: Session, day: date, tz: tzinfo) -> usage.Usage:
    return usage.usage(session, day, day, tz)


def database_size(session: Session) -> int | None:
    """Bytes the database takes: the SQLite file (with its write-ahead log), or pg_database_size."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return int(session.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    if bind.dialect.name == "sqlite":
        path = bind.url.database
        if not path or path == ":memory:":
            return None
        return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
    return None


# ------------------------------------------------------------------------------------------ publishing


def publish(session: Session, holder: str, rows: list[tuple[str, str, dict[str, Any]]], now: datetime) -> None:
    """Write this process's rows (`name`, `kind`, `data`), replacing what was published under those names."""
    for name, kind, data in rows:
        row = session.get(ServiceHealth, name) or ServiceHealth(name=name, kind=kind, holder=holder, updated_at=now)
        row.kind, row.holder, row.data, row.updated_at = kind, holder, data, now
        session.add(row)


def withdraw(session: Session, holder: str) -> None:
    """A process that stops cleanly takes its rows away: its devices are not missing, they were stopped."""
    session.execute(delete(ServiceHealth).where(ServiceHealth.holder == holder))


def forget_the_dead(session: Session) -> int:
    """Rows of earlier processes of this host that no longer run (a restart publishes its devices afresh);
    rows of other hosts stay until they grow stale and old (the retention purge)."""
    gone = []
    here = process_tag().rpartition(":")[0]
    for row in session.scalars(select(ServiceHealth)):
        host, _, pid = row.holder.rpartition(":")
        if host == here and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            gone.append(row.name)
    if gone:
        session.execute(delete(ServiceHealth).where(ServiceHealth.name.in_(gone)))
    return len(gone)
