"""The live pull from fingerprint machines (SPEC §10): `absensi finger pull HOST[:PORT]` once, and
`absensi run --finger HOST[:PORT]` every few minutes (rules/finger.yaml `poll_minutes`).

The machines' records go through the same code as the files (`finger/punches.store_punches`): stored once
per machine, user id and time, mapped to students by `finger_id` (else NIS), unknown ids kept without a
student and counted. A pull that fails stores nothing; the machine keeps its log for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer
from loguru import logger
from rich.console import Console

from ..finger.files import RawPunch, shifted
from ..finger.punches import ImportResult, store_punches
from ..rules.diagnostics import Problems
from ..school.model import School
from ..store import Store
from .finger import summary, tell_stored

if TYPE_CHECKING:
    from absensi.drivers.finger import FingerPollers, Record

DRIFT_MINUTES = 5  # a machine's clock further off than this is pointed out

console = Console(highlight=False)


def punches_of(device: str, records: list[Record]) -> list[RawPunch]:
    """The machine's records as punches; `line` is the record's place in the machine's log (1-based)."""
    return [RawPunch(device, n, r.user_id, r.at, device, "live") for n, r in enumerate(records, start=1)]


def drift_text(device: str, clock: datetime | None, school: School, now: datetime) -> str | None:
    """"the clock of … is 60 min ahead" when the machine's clock is more than DRIFT_MINUTES off."""
    if clock is None:
        return None
    local = now.astimezone(school.calendar.tz).replace(tzinfo=None)
    minutes = round((clock - local) / timedelta(minutes=1))
    if abs(minutes) <= DRIFT_MINUTES:
        return None
    way = "ahead" if minutes > 0 else "behind"
    return (f"the clock of {device} is {abs(minutes)} min {way} ({clock:%Y-%m-%d %H:%M}): its punches are stored "
            "as it wrote them; set the machine's clock (absensi finger pull --shift corrects a one-off pull)")


def store_pull(store: Store, school: School, device: str, records: list[Record], now: datetime,
               shift: int = 0) -> ImportResult:
    with store.unit() as session:
        return store_punches(session, school, shifted(punches_of(device, records), shift), now)


def live_sink(store: Store, school: Callable[[], School], wake: Callable[[], None],
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Callable[..., str]:
    """What `absensi run --finger` does with a machine's records: store them, and wake the engine's
    cross-checks when anything new came (or a punch stored earlier now has its student)."""
    told: dict[str, set[str]] = {}  # unknown ids already logged, per machine

    def sink(device: str, records: list[Record], machine_clock: datetime | None) -> str:
        now = clock()
        current = school()
        result = store_pull(store, current, device, records, now)
        if result.added or result.matched_later:
            wake()
        fresh = sorted(set(result.unknown) - told.setdefault(device, set()))
        if fresh:
            told[device].update(fresh)
            logger.warning("finger {}: unknown finger id(s) {} (a teacher, or a student without the right "
                           "finger_id in students.csv): their punches are kept without a student", device,
                           ", ".join(result.unknown[k].user_id for k in fresh))
        drift = drift_text(device, machine_clock, current, now)
        if drift:
            logger.warning("finger {}", drift)
        return summary(result)

    return sink


def start_pollers(addresses: list[str], store: Store, school: Callable[[], School], minutes: Callable[[], float],
                  wake: Callable[[], None]) -> FingerPollers:
    """A thread per machine (`--finger` addresses), pulling at once and then every `minutes()` minutes."""
    from absensi.drivers.finger import start

    return start(addresses, live_sink(store, school, wake), lambda: 60.0 * minutes(), reconnect=store.policy.reconnect)


def pull_once(address: str, loaded: School, open_store: Callable[[], Store], shift: int, timeout: float,
              listing: bool) -> None:
    """`absensi finger pull`: one pull, then what came, as `absensi finger import` says it."""
    from absensi.drivers.finger import ZkClient, ZkError, parse_address
    from absensi.drivers.finger.poller import device_name

    try:
        where = parse_address(address)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    device = device_name(address)
    try:
        with ZkClient(where.host, where.port, key=where.key, timeout=timeout, udp=where.udp) as zk:
            count = zk.record_count()
            machine_clock = zk.clock()
            records = zk.attendance(count)
            unreadable = zk.unreadable
    except ZkError as exc:
        console.print(f"[red]{exc}[/red]\nNothing was stored.", soft_wrap=True)
        raise typer.Exit(1) from None
    now = datetime.now(UTC)
    console.print(f"{device}: {count} record(s) on the machine, its clock {machine_clock:%Y-%m-%d %H:%M:%S}",
                  markup=False, soft_wrap=True)
    if records:
        first, last = min(r.at for r in records), max(r.at for r in records)
        console.print(f"from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}", markup=False)
    for problem in unreadable:
        console.print(f"{device}: {problem}: left out", style="yellow", markup=False, soft_wrap=True)
    if listing:  # the attlog.dat shape: user id, tab, time
        for record in records:
            typer.echo(f"{record.user_id:>9}\t{record.at:%Y-%m-%d %H:%M:%S}")
    store = open_store()
    try:
        result = store_pull(store, loaded, device, records, now, shift)
    finally:
        store.close()
    tell_stored(result, Problems(), device)
    drift = drift_text(device, machine_clock, loaded, now)
    if drift and not shift:
        console.print(drift[0].upper() + drift[1:], style="yellow", markup=False, soft_wrap=True)
