"""The service's watch over its drivers (SPEC §9): publish what they know, ask the modems for their pulsa.

Every `PUBLISH_SECONDS` each `absensi run` process writes into the database what its drivers know
(`operations.facts.publish`): each SMS device — the driver's own `health()` where it has one (a GSM modem's
signal, registration, SIM storage, sends and failures, pulsa), else its state (an Android phone, whose pulsa
nobody can ask) —, each fingerprint machine `--finger` pulls (its thread's state, last pull, log size and
clock), the Telegram connection, and the process itself. `absensi status`, `/status` and the
alerts (which the engine runs, reading these rows) never touch a port.

The pulsa is asked by USSD through the modem driver, daily at `settings.alerts.balance_check_at` and when a
`/status` asks (`operations.alerts.ask_pulsa`), with the code and the pattern `rules/operators.yaml` gives
for the modem's operator; the answer lands in the driver's health and so in the next publish. This is the
only part of the operations that talks to drivers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, time
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger
from sqlalchemy.exc import IntegrityError

from ..operations.alerts import ASKED
from ..operations.facts import PUBLISH_SECONDS, Published, forget_the_dead, publish, withdraw
from ..rules import CompiledRules
from ..rules.operators import operator_key
from ..school.calendar import SchoolCalendar
from ..store import Store
from ..store.claims import process_tag
from ..store.models import JobRun, Tally
from .drivers import Started, shown

STARTING_SECONDS, STARTING_WINDOW = 2.0, 60.0


def absensi_version() -> str:
    try:
        return version("absensi")
    except PackageNotFoundError:
        return "?"


@dataclass
class _Check:
    future: Future[Any]
    asked_at: datetime


class Monitor:
    """See the module docstring. `round(now)` does one publish (tests call it directly); `start()` runs
    rounds in a thread every `interval` seconds until `stop()`, which withdraws this process's rows."""

    def __init__(self, store: Store, rules: Callable[[], CompiledRules], tz: ZoneInfo, drivers: Started | None,
                 telegram: Any | None, clock: Callable[[], datetime], *, leading: Callable[[], bool] = lambda: True,
                 interval: float = PUBLISH_SECONDS, telegram_reason: str = "", fingers: Any = None,
                 calendar: Callable[[], SchoolCalendar] | None = None) -> None:
        self.store, self.rules, self.tz, self.drivers, self.telegram = store, rules, tz, drivers, telegram
        self.fingers, self.calendar = fingers, calendar  # `absensi run --finger`'s pollers, the school's days
        self.clock, self.leading, self.interval = clock, leading, interval
        self.telegram_reason = telegram_reason
        self.holder = process_tag()
        self.started_at = clock()
        self.down_since: dict[str, datetime] = {}  # device name → since when it has not been working
        self.balance: dict[str, dict[str, Any]] = {}  # device name → balance_at, balance_error of the last check
        self.checks: dict[str, _Check] = {}
        self.asked_seen = self._asked()
        self._first = True
        self.starting = True  # a device was still starting at the last round
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------------- lifecycle

    def start(self) -> Monitor:
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            with self.store.unit() as session:
                withdraw(session, self.holder)
        except Exception:  # the database is gone: the rows go stale and say so
            logger.warning("monitor: could not withdraw this process's health rows")

    def _run(self) -> None:
        """A round every `interval`; every STARTING_SECONDS in the first minute while a device is still
        starting, so `absensi status` right after a start shows the modems ready rather than starting (once
        none is starting, a service at rest publishes every `interval` only)."""
        while not self._stop.is_set():
            try:
                self.round(self.clock())
            except Exception:
                logger.exception("monitor: publishing the service's health failed; trying again")
            young = (self.clock() - self.started_at).total_seconds() < STARTING_WINDOW
            self._stop.wait(min(self.interval, STARTING_SECONDS) if young and self.starting else self.interval)

    # ---------------------------------------------------------------------------------- one round

    def round(self, now: datetime) -> None:
        if self._first:
            with self.store.unit() as session:
                forgotten = forget_the_dead(session)
            if forgotten:
                logger.info("monitor: {} health row(s) of earlier runs forgotten", forgotten)
            self._first = False
        self._collect(now)
        rows = self.rows(now)
        self.starting = any(data.get("state") == "starting" for _, kind, data in rows if kind in ("modem", "gateway"))
        with self.store.unit() as session:
            publish(session, self.holder, rows, now)
        self._ask_if_due(now, {name: data for name, kind, data in rows if kind == "modem"})

    def rows(self, now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        devices = self.devices(now)
        rules = self.rules()
        process = {"holder": self.holder, "started_at": self.started_at.isoformat(), "version": absensi_version(),
                   "engine": self.leading(), "timezone": str(self.tz),
                   "alerts": rules.rules.settings.alerts.model_dump(), "devices": [name for name, _, _ in devices]}
        return [(f"process:{self.holder}", "process", process), *devices, *self.finger_rows(now),
                (f"telegram:{self.holder}", "telegram", self.telegram_health())]

    def finger_rows(self, now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        """Each fingerprint machine as its polling thread knows it, with its clock's offset from this computer's
        (minutes, school time) and whether a silent machine is an incident now (`watched`: school hours)."""
        if self.fingers is None:
            return []
        alerts = self.rules().rules.settings.alerts
        local = now.astimezone(self.tz)
        start, end = (time(*map(int, at.split(":"))) for at in (alerts.finger_watch_from, alerts.finger_watch_until))
        school_day = self.calendar is None or self.calendar().is_school_day(local.date())
        watched = school_day and start <= local.time() < end
        rows = []
        for health in self.fingers.health():
            data = dict(health)
            clock, read = data.get("machine_clock"), data.get("clock_read_at")
            offset = None
            if isinstance(clock, str) and isinstance(read, str):
                shown_then = datetime.fromisoformat(read).astimezone(self.tz).replace(tzinfo=None)
                offset = round((datetime.fromisoformat(clock) - shown_then).total_seconds() / 60)
            data.update(clock_offset_minutes=offset, watched=watched)
            rows.append((f"finger:{data['port']}", "finger", data))
        return rows

    def devices(self, now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        found: list[tuple[str, str, dict[str, Any]]] = []
        for _, driver in self.drivers.running if self.drivers is not None else []:
            health = getattr(driver, "health", None)
            if callable(health):
                for item in health():
                    data = item.as_dict() if hasattr(item, "as_dict") else dict(item)
                    data["port"] = shown(str(data.get("port", "?")))
                    found.append((f"sms:{data['port']}", "modem", self._modem(data)))
            else:  # a driver without health(): its states only; nobody can ask its pulsa (an Android phone)
                for address, state in driver.states().items():
                    found.append((f"sms:{shown(address)}", "gateway",
                                  {"port": shown(address), "state": state, "pulsa": None, "pulsa_known": False}))
        for name, kind, data in found:
            working = Published(name, kind, self.holder, now, data).working
            since = None if working else self.down_since.setdefault(name, now)
            if working:
                self.down_since.pop(name, None)
            data["down_since"] = since.isoformat() if since else None
        return found

    def _modem(self, data: dict[str, Any]) -> dict[str, Any]:
        """The driver's health, plus the operator as the rules name it and the last balance check's outcome."""
        operators = self.rules().rules.operators
        key = operator_key(operators, data.get("operator"), data.get("mcc_mnc") or (data.get("imsi") or "")[:5])
        data["operator_key"] = key
        data["operator_name"] = operators[key].name if key else None
        data.update({k: v.isoformat() if isinstance(v, datetime) else v
                     for k, v in self.balance.get(f"sms:{data['port']}", {}).items()})
        return data

    def telegram_health(self) -> dict[str, Any]:
        if self.telegram is None:
            return {"configured": False, "connected": False, "reason": self.telegram_reason}
        health = getattr(self.telegram, "health", None)
        return dict(health()) if callable(health) else {"configured": True, "connected": True}

    # ---------------------------------------------------------------------------------- pulsa

    def _asked(self) -> datetime | None:
        with self.store.unit() as session:
            row = session.get(Tally, ASKED)
            return row.updated_at if row is not None else None

    def _ask_if_due(self, now: datetime, modems: dict[str, dict[str, Any]]) -> None:
        if not modems:
            return
        asked = self._asked()
        wanted = set()
        if asked is not None and (self.asked_seen is None or asked > self.asked_seen):
            self.asked_seen = asked
            wanted = set(modems)
        local = now.astimezone(self.tz)
        hh, mm = map(int, self.rules().rules.settings.alerts.balance_check_at.split(":"))
        if local.time() >= time(hh, mm):  # daily, from that time on, once the modem works
            wanted |= {name for name, data in modems.items() if name not in wanted
                       and Published(name, "modem", self.holder, now, data).working
                       and self._first_today(name, local.date(), now)}
        for name in sorted(wanted):
            self.ask(name, modems[name], now)

    def _first_today(self, name: str, day: Any, now: datetime) -> bool:
        """True once per device and day (a `job_run` row: several processes, restarts)."""
        try:
            with self.store.unit() as session:
                key = f"pulsa:{day}:{name}"[:200]
                if session.get(JobRun, key) is not None:
                    return False
                session.add(JobRun(key=key, at=now))
        except IntegrityError:
            return False
        return True

    def ask(self, name: str, data: dict[str, Any], now: datetime) -> None:
        """One balance check of one modem, with its operator's code and pattern from the rules."""
        if name in self.checks:
            return
        worker = self._worker(str(data.get("port")))
        key = data.get("operator_key")
        if worker is None or not Published(name, "modem", self.holder, now, data).working:
            self.balance[name] = {"balance_at": now, "balance_error": "modem tidak siap"}
            return
        if key is None:
            self.balance[name] = {"balance_at": now, "balance_error":
                                  f"operator {data.get('operator') or data.get('mcc_mnc') or '?'} tidak dikenal: "
                                  "tambahkan di rules/operators.yaml"}
            return
        operator = self.rules().rules.operators[key]
        logger.info("monitor: asking the pulsa of {} ({} {})", name, operator.name, operator.balance_code)
        self.checks[name] = _Check(worker.check_balance(operator.balance_code, operator.balance_pattern), now)

    def _worker(self, port: str) -> Any:
        for _, driver in self.drivers.running if self.drivers is not None else []:
            for worker in getattr(driver, "workers", []):
                if shown(str(getattr(worker, "url", ""))) == port and hasattr(worker, "check_balance"):
                    return worker
        return None

    def _collect(self, now: datetime) -> None:
        """Balance checks that finished: their outcome is published with the device."""
        for name, check in list(self.checks.items()):
            if not check.future.done():
                continue
            del self.checks[name]
            error = check.future.exception()
            if error is not None:
                self.balance[name] = {"balance_at": now, "balance_error": str(error)[:200] or type(error).__name__}
                continue
            answer = check.future.result()
            read = self._pulsa_at(name)
            unread = read is None or read < check.asked_at
            self.balance[name] = {"balance_at": now, "balance_error":
                                  f"jawaban operator tidak terbaca: {str(getattr(answer, 'text', ''))[:120]}"
                                  if unread else None}

    def _pulsa_at(self, name: str) -> datetime | None:
        port = name.removeprefix("sms:")
        for _, driver in self.drivers.running if self.drivers is not None else []:
            health = getattr(driver, "health", None)
            for item in health() if callable(health) else []:
                if shown(str(getattr(item, "port", ""))) == port:
                    value = getattr(item, "pulsa_at", None)
                    return value if isinstance(value, datetime) else None
        return None
