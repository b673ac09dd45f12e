"""`absensi status`: what the running service is doing, read from the database it shares (SPEC §8, §9).

The service publishes what its drivers know every 30 s (engine/app/monitor.py); this reads those rows and
what the store itself knows (`operations.facts`), and judges them with the same conditions and thresholds
as the alerts (`operations.conditions`, the service's own `settings.alerts`), so the command's exit code
and the admin's alerts agree. It never opens a serial port: the service holds them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from ..operations.conditions import Condition, conditions, describe
from ..operations.facts import ENGINE_SILENT, Facts, Published, gather
from ..rules.schema import Alerts
from ..store import Store
from .monitor import absensi_version

__all__ = ["ENGINE_SILENT", "Health", "health"]


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
    checked_at: str = ""
    version: str = ""  # of this command; the service's is in `service`
    service: dict[str, Any] | None = None  # the engine's process: holder, version, started_at, uptime_s
    standby: list[str] = field(default_factory=list)  # other processes serving drivers
    devices: list[dict[str, Any]] = field(default_factory=list)  # as published, plus `stale`, `down_since`
    telegram: dict[str, Any] | None = None
    sms_today: dict[str, int] = field(default_factory=dict)
    engine_stopped_at: str | None = None  # the lease holder stopped cleanly then (released the lease)
    database_bytes: int | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)  # open alerts
    watching: list[str] = field(default_factory=list)  # conditions within their grace (not yet problems)
    fingers: list[dict[str, Any]] = field(default_factory=list)  # fingerprint machines, as published, plus `stale`

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def health(store: Store, now: datetime) -> Health:
    with store.unit() as session:
        probe = gather(session, now, UTC)
        tz = _timezone(probe)
        facts = gather(session, now, tz) if tz is not UTC else probe
    found = conditions(facts, _limits(facts))
    return _health(facts, found)


def _timezone(facts: Facts) -> tzinfo:
    process = facts.engine_process or (facts.processes[0] if facts.processes else None)
    name = process.get("timezone") if process else None
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _limits(facts: Facts) -> Alerts:
    """The thresholds the running service uses (it publishes them), else the defaults."""
    process = facts.engine_process
    published = process.get("alerts") if process else None
    try:
        return Alerts(**published) if isinstance(published, dict) else Alerts()
    except ValidationError:
        return Alerts()


def _health(facts: Facts, found: list[Condition]) -> Health:
    now, lease = facts.now, facts.engine
    oldest_pending = min(facts.oldest_unsent.values(), default=None)
    process = facts.engine_process
    service = None
    if process is not None:
        started = process.moment("started_at")
        service = {"holder": process.holder, "version": process.get("version"), "started_at": process.get("started_at"),
                   "uptime_s": (now - started).total_seconds() if started else None,
                   "published_s_ago": (now - process.updated_at).total_seconds()}
    return Health(
        engine=lease.holder if lease else None, engine_since=lease.acquired_at.isoformat() if lease else None,
        engine_alive=facts.engine_alive,
        engine_stopped_at=lease.stopped_at.isoformat() if lease and lease.stopped_at else None,
        heartbeat_age_s=(now - lease.heartbeat_at).total_seconds() if lease else None,
        inbox_waiting=facts.inbox_waiting,
        oldest_waiting_s=(now - facts.oldest_waiting).total_seconds() if facts.oldest_waiting else None,
        inbox_errors=facts.inbox_errors, outbox=facts.outbox,
        oldest_pending_s=(now - oldest_pending).total_seconds() if oldest_pending else None,
        problems=[describe(c) for c in found if c.due], checked_at=now.isoformat(), version=absensi_version(),
        service=service,
        standby=[p.holder for p in facts.processes if (process is None or p.holder != process.holder)
                 and not p.stale(now)],
        devices=[_device(d, now) for d in facts.devices],
        telegram=_device(facts.telegram, now) if facts.telegram is not None else None,
        sms_today=asdict(facts.sms_today), database_bytes=facts.database_bytes,
        incidents=[{"key": i.key, "since": i.since.isoformat(), "opened_at": i.opened_at.isoformat(),
                    "detail": i.detail} for i in facts.incidents],
        watching=[describe(c) for c in found if not c.due],
        fingers=[_device(m, now) for m in facts.fingers])


def _device(row: Published, now: datetime) -> dict[str, Any]:
    down = row.down_since(now)
    return {**row.data, "name": row.name, "kind": row.kind, "holder": row.holder,
            "published_at": row.updated_at.isoformat(), "stale": row.stale(now),
            "working": down is None, "down_since": down.isoformat() if down else None}
