"""One thread per fingerprint machine: pull its attendance log every `interval` seconds and hand it to a sink.

A pull connects, asks how many records the machine holds and, when that changed since the last pull that
the sink took (or the log is full, when a machine may overwrite its oldest records), reads them all with the
machine's clock and gives the sink those after the ones it already took — all of them when the log is not
the one seen before (cleared, or overwritten) — and the sink stores them (once: it is idempotent). A failed pull — the machine unreachable, closing mid-transfer, answering garbage,
or the sink's database down — hands nothing over and loses nothing: the machine keeps its log, and the next
pull reads it again. After a failure the thread tries again sooner, after the delivery policy's reconnect
wait (1 s doubling, never later than the next regular pull).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from loguru import logger

from absensi.engine.ports import Backoff

from .zk import MAX_CHUNK, Record, ZkClient, parse_address

RECONNECT = Backoff(1.0, 60.0)  # the delivery policy's default reconnect waits


class PullSink(Protocol):
    def __call__(self, device: str, records: list[Record], clock: datetime | None) -> str:
        """Store `records` of `device` (its clock read at the pull: `clock`, naive); a line for the log."""
        ...


def device_name(address: str) -> str:
    """The name punches of `address` are stored under: the host and port, never the communication key (nor
    whether it was reached over TCP or UDP: the same machine either way)."""
    where = parse_address(address)
    return f"zk {where.host}:{where.port}"


class DevicePoller:
    """Pulls one machine in a thread of its own; `state` says how the last pull went."""

    def __init__(self, address: str, sink: PullSink, interval: Callable[[], float], *,
                 reconnect: Backoff = RECONNECT, timeout: float = 10.0, chunk: int = MAX_CHUNK,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.address = parse_address(address)
        self.host, self.port, self.key = self.address.host, self.address.port, self.address.key
        self.name = device_name(address)
        self.sink, self.interval, self.reconnect = sink, interval, reconnect
        self.timeout, self.chunk, self.now = timeout, chunk, now
        self.state = "starting"
        self.failures = 0
        self.pulls = 0  # pulls the sink took
        self.last_count: int | None = None  # records held at the last pull the sink took
        self.taken = 0  # records of the machine's log the sink took
        self.last_record: Record | None = None  # the last of them
        self.full_said = False
        self.unreadable_said: set[str] = set()  # corrupt records already logged
        self.last_pull: datetime | None = None  # the last successful pull
        self.started_at = now()
        self.count: int | None = None  # records on the machine and what it can hold, at the last connect
        self.capacity: int | None = None
        self.machine_clock: datetime | None = None  # its clock (naive, as it shows it) as read at `clock_read_at`
        self.clock_read_at: datetime | None = None
        self.error: str | None = None  # why the last pull failed (None after one that worked)
        self.pulled = threading.Event()  # set after every attempt (for tests and the one-off pull)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"finger {self.host}:{self.port}", daemon=True)

    def start(self) -> DevicePoller:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def pull_once(self) -> str:
        """One pull now (the thread's step); raises ZkError (or the sink's error) when it fails."""
        with ZkClient(self.host, self.port, key=self.key, timeout=self.timeout, chunk=self.chunk,
                      udp=self.address.udp) as zk:
            count, capacity = zk.sizes()
            self.count, self.capacity = count, capacity or None
            full = bool(capacity) and count >= capacity
            self._say_full(count, capacity)
            if count == self.last_count and not full:
                return f"{count} record(s), none new"
            clock = zk.clock()
            self.machine_clock, self.clock_read_at = clock, self.now()
            got = zk.attendance(count)
            fresh = [problem for problem in zk.unreadable if problem not in self.unreadable_said]
            if fresh:
                self.unreadable_said.update(fresh)
                logger.warning("finger {}: {} corrupt record(s) of the machine's log left out: {}", self.name,
                               len(fresh), "; ".join(fresh[:5]))
        same_log = 0 < self.taken <= len(got) and got[self.taken - 1] == self.last_record
        said = self.sink(self.name, got[self.taken:] if same_log else got, clock)
        self.last_count, self.pulls = count, self.pulls + 1
        self.taken, self.last_record = len(got), got[-1] if got else None
        return said

    def health(self) -> dict[str, object]:
        """What the service publishes of this machine (engine/app/monitor.py): times as ISO 8601."""
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None
        return {"port": f"{self.host}:{self.port}", "device": self.name, "state": self.state.partition(":")[0],
                "error": self.error, "failures": self.failures, "interval_s": self.interval(),
                "started_at": iso(self.started_at),
                "last_pull": iso(self.last_pull), "records": self.count, "capacity": self.capacity,
                "machine_clock": iso(self.machine_clock), "clock_read_at": iso(self.clock_read_at)}

    def _say_full(self, count: int, capacity: int) -> None:
        """A log 90 % full is logged once (until it is cleared): a full machine stops taking punches, or
        overwrites its oldest ones."""
        nearly = bool(capacity) and count >= 0.9 * capacity
        if nearly and not self.full_said:
            logger.warning("finger {}: the machine's attendance log is {} % full ({} of {} records): clear it on "
                           "the machine after a pull", self.name, round(100 * count / capacity), count, capacity)
        self.full_said = nearly

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                said = self.pull_once()
            except Exception as exc:  # the machine, the network or the database: try again, keep running
                self.failures += 1
                self.state, self.error = f"failing: {exc}", str(exc) or type(exc).__name__
                if self.failures == 1 or self.failures % 10 == 0:
                    logger.warning("finger {}: pull failed ({} time(s) in a row): {}", self.name, self.failures, exc)
                wait = min(self.reconnect.delay(self.failures - 1), self.interval())
            else:
                if self.failures:
                    logger.info("finger {}: pulling again after {} failure(s)", self.name, self.failures)
                self.failures, self.state, self.last_pull, self.error = 0, "ready", self.now(), None
                logger.log("DEBUG" if said.endswith("none new") else "INFO", "finger {}: {}", self.name, said)
                wait = self.interval()
            self.pulled.set()
            self._stop.wait(wait)


class FingerPollers:
    """Every machine of `absensi run --finger …`, stopped together."""

    def __init__(self, pollers: list[DevicePoller]) -> None:
        self.pollers = pollers

    def stop(self, timeout: float = 10.0) -> None:
        for poller in self.pollers:
            poller._stop.set()
        for poller in self.pollers:
            poller.stop(timeout)

    def states(self) -> dict[str, str]:
        return {poller.name: poller.state for poller in self.pollers}

    def health(self) -> list[dict[str, object]]:
        return [poller.health() for poller in self.pollers]


def start(addresses: list[str], sink: PullSink, interval: Callable[[], float], *,
          reconnect: Backoff = RECONNECT, timeout: float = 10.0) -> FingerPollers:
    """A thread per address (`[udp://][KEY@]HOST[:PORT]`), each pulling at once and then every `interval()` seconds.
    A wrong address is a ValueError before any thread starts."""
    pollers = [DevicePoller(address, sink, interval, reconnect=reconnect, timeout=timeout) for address in addresses]
    names = [p.name for p in pollers]
    if len(set(names)) != len(names):
        raise ValueError(f"the same machine is given twice: {', '.join(sorted(n for n in names if names.count(n) > 1))}")
    return FingerPollers([poller.start() for poller in pollers])
