"""Drivers found by name: the scheme of an address on the command line names the driver that serves it.

`--modem /dev/ttyUSB0` and `--gateway http://user:pass@phone:8080` are both just addresses. A serial port
or a pyserial URL is a GSM modem; an `http(s)` URL is an Android phone running SMS Gateway for Android.
Another package adds a driver without touching this file by declaring an entry point in the group
`absensi.drivers`, named by the scheme it serves, pointing at its `StartDriver` callable (as RapidSMS and
Errbot load their backends). A driver module is imported only when an address needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from ..ports import DriverOptions, Inbox, Outbox, Running, StartDriver

# scheme → "module:callable". The built-in drivers; entry points may add schemes (they never replace these).
BUILT_IN: dict[str, str] = {
    "serial": "absensi.drivers.gsm:start",  # a device path or COM port (no scheme)
    "socket": "absensi.drivers.gsm:start",  # pyserial URLs: a modem behind a TCP bridge …
    "rfc2217": "absensi.drivers.gsm:start",  # … or a terminal server
    "loop": "absensi.drivers.gsm:start",
    "http": "absensi.drivers.android:start",  # SMS Gateway for Android in local-server mode
    "https": "absensi.drivers.android:start",
}
GROUP = "absensi.drivers"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class UnknownDriver(ValueError):
    """No driver serves an address's scheme."""


def scheme_of(address: str) -> str:
    """`socket://…` → `socket`; a device path or `COM3` → `serial`."""
    found = _SCHEME.match(address)
    return found.group(1).lower() if found else "serial"


def shown(address: str) -> str:
    """The address without the credentials it may carry (`http://user:pass@host` → `http://***@host`)."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1***@", address)


def known_schemes() -> dict[str, str]:
    """Every scheme a driver serves: the built-in ones, then those of installed entry points."""
    table = dict(BUILT_IN)
    for point in entry_points(group=GROUP):
        table.setdefault(point.name.lower(), point.value)
    return table


def find(scheme: str) -> StartDriver:
    """The driver's entry point for `scheme`, imported now."""
    target = known_schemes().get(scheme)
    if target is None:
        raise UnknownDriver(f"no driver for addresses starting {scheme}:// "
                            f"(known: {', '.join(sorted(known_schemes()))})")
    module, _, name = target.partition(":")
    start: StartDriver = getattr(import_module(module), name)
    return start


@dataclass
class Started:
    """Every running driver, stopped together."""

    running: list[tuple[str, Running]]

    def stop(self, timeout: float = 10.0) -> None:
        for _, driver in self.running:
            driver.stop(timeout)

    def states(self) -> dict[str, str]:
        return {address: state for _, driver in self.running for address, state in driver.states().items()}


def start_all(addresses: list[str], inbox: Inbox, outbox: Outbox, options: DriverOptions,
              say: Callable[[str], None] = lambda _: None) -> Started:
    """Group `addresses` by the driver that serves them and start each driver once, in the order given."""
    groups: dict[str, list[str]] = {}
    for address in addresses:
        groups.setdefault(known_schemes().get(scheme_of(address), scheme_of(address)), []).append(address)
    started: list[tuple[str, Running]] = []
    try:
        for target, group in groups.items():
            start = find(scheme_of(group[0]))
            started.append((target, start(group, inbox, outbox, options)))
            module = import_module(target.partition(":")[0])
            device = getattr(module, "DEVICE", module.__name__.rsplit(".", 1)[-1])  # what one address is
            say(f"SMS: {len(group)} {device}(s): {', '.join(map(shown, group))}")
    except Exception:
        Started(started).stop()
        raise
    return Started(started)


class Warm:
    """Devices drivers began to start before the service was built (`warm_up`), by address. A driver takes
    over those it serves (`DriverOptions.warm`); `close` ends those none took (a start-up that failed or
    was stopped first)."""

    def __init__(self, started: dict[str, Any] | None = None) -> None:
        self.started: dict[str, Any] = started or {}

    def close(self) -> None:
        for device in self.started.values():
            device.close()


def warm_up(addresses: list[str], pin: str | None) -> Warm:
    """Let the drivers start their devices now, before the rules, the roster and the store are read: a GSM
    modem spends about half a second initialising, mostly waiting on the modem (SIM busy after power-up,
    AT round trips), which then overlaps the service's own start. Only built-in drivers are asked, through
    their module's `warm_up(address, pin)` (an installed driver's entry point is not loaded this early);
    drivers without one start their devices in `start_all`, as before."""
    warm = Warm()
    for address in addresses:
        target = BUILT_IN.get(scheme_of(address))
        if target is None or address in warm.started:
            continue
        early = getattr(import_module(target.partition(":")[0]), "warm_up", None)
        if callable(early):
            warm.started[address] = early(address, pin)
    return warm

