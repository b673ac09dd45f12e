"""What needs the admin's attention in a snapshot of the service (SPEC §9), with the rules' thresholds.

One list, used by `absensi status` (its exit code), `/status` and the alerts alike, so the three never
disagree. A condition is `due` once it has lasted its grace (`settings.alerts`: a modem unreachable or
unregistered for 5 minutes, Telegram unreachable for 10, an outbox message waiting over 15); the others
(SIM storage nearly full, pulsa under the threshold, a message in the error inbox) are due at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from .facts import Facts, Published

KINDS = ("no_engine", "modem_down", "sim_full", "pulsa_low", "outbox_waiting", "inbox_error", "telegram_down",
         "finger_down", "finger_full")


class Limits(Protocol):
    """The rules' `settings.alerts` (or the defaults)."""

    @property
    def modem_down_minutes(self) -> int: ...

    @property
    def telegram_down_minutes(self) -> int: ...

    @property
    def outbox_waiting_minutes(self) -> int: ...

    @property
    def sim_storage_percent(self) -> int: ...

    @property
    def pulsa_below(self) -> int: ...

    @property
    def finger_down_minutes(self) -> int: ...

    @property
    def finger_log_percent(self) -> int: ...


@dataclass(frozen=True)
class Condition:
    key: str  # one incident per key: "modem_down:/dev/ttyUSB0", "outbox_waiting:sms", "inbox_error"
    kind: str  # one of KINDS
    since: datetime
    due: bool
    values: dict[str, object] = field(default_factory=dict)  # device, channel, count, used, total, pulsa …


def conditions(facts: Facts, limits: Limits) -> list[Condition]:
    now = facts.now
    found: list[Condition] = []
    if not facts.engine_alive:
        since = facts.engine.heartbeat_at if facts.engine else now
        found.append(Condition("no_engine", "no_engine", since, True, {"engine": facts.engine.holder if facts.engine
                                                                       else ""}))
    for device in facts.devices:
        found.extend(_device(device, now, limits))
    for machine in facts.fingers:
        found.extend(_finger(machine, now, limits))
    found.extend(_queues(facts, limits))
    if facts.inbox_errors:
        found.append(Condition("inbox_error", "inbox_error", facts.oldest_error or now, True,
                               {"count": facts.inbox_errors}))
    telegram = facts.telegram
    down = telegram.down_since(now) if telegram is not None else None
    if down is not None:
        found.append(Condition("telegram_down", "telegram_down", down,
                               now - down >= timedelta(minutes=limits.telegram_down_minutes),
                               {"error": str(telegram.get("error") or "") if telegram else ""}))
    return found


def _device(device: Published, now: datetime, limits: Limits) -> list[Condition]:
    port, found = device.port, []
    values: dict[str, object] = {"device": port, "kind": device.kind}
    down = device.down_since(now)
    if down is not None:
        state = "stale" if device.stale(now) else str(device.get("state") or "?")
        if device.kind == "modem" and state == "ready":
            state = str(device.get("registration") or "not registered")
        found.append(Condition(f"modem_down:{port}", "modem_down", down,
                               now - down >= timedelta(minutes=limits.modem_down_minutes), {**values, "state": state}))
    if device.stale(now):
        return found
    used, total = device.get("sim_used"), device.get("sim_total")
    if isinstance(used, int) and isinstance(total, int) and total and used * 100 >= limits.sim_storage_percent * total:
        found.append(Condition(f"sim_full:{port}", "sim_full", device.moment("checked_at") or device.updated_at, True,
                               {**values, "used": used, "total": total}))
    pulsa = device.get("pulsa")
    if isinstance(pulsa, int) and pulsa < limits.pulsa_below:
        found.append(Condition(f"pulsa_low:{port}", "pulsa_low", device.moment("pulsa_at") or device.updated_at, True,
                               {**values, "pulsa": pulsa, "threshold": limits.pulsa_below}))
    return found


def _finger(machine: Published, now: datetime, limits: Limits) -> list[Condition]:
    """A fingerprint machine not pulled for `finger_down_minutes` (due only while its publisher says it is
    school hours, `watched`: a gate machine switched off at night is no incident, but one already open stays
    open until a pull works), and a log `finger_log_percent` full (due at once). A machine pulled less often
    (`poll_minutes`) is given two of its intervals."""
    port, found = machine.port, []
    values: dict[str, object] = {"device": port}
    since = machine.moment("last_pull") or machine.moment("started_at") or machine.updated_at
    interval = machine.get("interval_s")
    grace = timedelta(minutes=limits.finger_down_minutes)
    if isinstance(interval, (int, float)):
        grace = max(grace, timedelta(seconds=2 * interval))
    if now - since >= grace:  # a row nobody refreshes keeps its last pull
        error = "stale" if machine.stale(now) else str(machine.get("error") or "")
        found.append(Condition(f"finger_down:{port}", "finger_down", since, bool(machine.get("watched")),
                               {**values, "error": error}))
    if machine.stale(now):
        return found
    count, capacity = machine.get("records"), machine.get("capacity")
    if isinstance(count, int) and isinstance(capacity, int) and capacity and \
            count * 100 >= limits.finger_log_percent * capacity:
        found.append(Condition(f"finger_full:{port}", "finger_full", machine.moment("last_pull") or machine.updated_at,
                               True, {**values, "count": count, "capacity": capacity,
                                      "percent": count * 100 // capacity}))
    return found


def _queues(facts: Facts, limits: Limits) -> list[Condition]:
    """An outbox message waiting too long. Telegram's queue counts only where Telegram is run: a service
    started without it says so, and its Telegram messages wait by design."""
    found = []
    grace = timedelta(minutes=limits.outbox_waiting_minutes)
    telegram_run = facts.telegram is not None and bool(facts.telegram.get("configured", True))
    for channel, oldest in sorted(facts.oldest_unsent.items()):
        if channel == "telegram" and not telegram_run:
            continue
        if facts.now - oldest >= grace:
            waiting = sum(facts.outbox.get(channel, {}).get(s, 0) for s in ("pending", "sending"))
            found.append(Condition(f"outbox_waiting:{channel}", "outbox_waiting", oldest, True,
                                   {"channel": channel, "count": waiting,
                                    "minutes": int((facts.now - oldest).total_seconds() // 60)}))
    return found


def describe(condition: Condition) -> str:
    """The condition in English, for the command line."""
    v = condition.values
    return {
        "no_engine": lambda: "no engine is handling messages (is `absensi run` running?)",
        "modem_down": lambda: f"{v['kind']} {v['device']} not working ({v['state']}) since {_at(condition.since)}",
        "sim_full": lambda: f"modem {v['device']}: SIM storage {v['used']}/{v['total']} nearly full",
        "pulsa_low": lambda: f"modem {v['device']}: pulsa Rp {v['pulsa']:,} under Rp {v['threshold']:,}".replace(",", "."),
        "outbox_waiting": lambda: f"{v['count']} {v['channel']} message(s) waiting, the oldest for {v['minutes']} min",
        "inbox_error": lambda: f"{v['count']} message(s) kept in the error inbox: see `absensi inbox`",
        "telegram_down": lambda: f"Telegram unreachable since {_at(condition.since)}"
                                 + (f" ({v['error']})" if v.get("error") else ""),
        "finger_down": lambda: f"fingerprint machine {v['device']} not pulled since {_at(condition.since)}"
                               + (f" ({v['error']})" if v.get("error") else ""),
        "finger_full": lambda: f"fingerprint machine {v['device']}: attendance log {v['percent']} % full "
                               f"({v['count']}/{v['capacity']}): clear it on the machine after a pull",
    }[condition.kind]()


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
