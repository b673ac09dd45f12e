"""How `absensi run` stops: SIGTERM and SIGINT ask for it, whenever they come.

`absensi run` installs `Stopping` as the first thing its command does, before it imports the service or
starts a modem (a modem starts while the service's modules import, `drivers.warm_up`): a signal during the
start-up ends the start-up at its next step and stops what was started, instead of the signal's default
action killing the process without any cleanup. Kept apart from service.py, which imports the heavy parts.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


class StopAsked(Exception):
    """Raised by `Stopping.check` between two steps of the start-up when a stop was asked meanwhile."""


class Stopping:
    """SIGTERM/SIGINT ask the service to stop, whenever they come: `serve` installs this first. The start-up
    looks between its steps (`check`); a SIGHUP during start-up is kept for when reloads are handled."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.reload_asked = False
        self._then: list[Callable[[], None]] = []
        self._saved = {sig: signal.signal(sig, self._stop) for sig in self.SIGNALS}
        self._saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._hup)

    def _stop(self, *_: object) -> None:
        self.asked.set()
        for then in list(self._then):
            then()

    def _hup(self, *_: object) -> None:
        self.reload_asked = True

    def then(self, action: Callable[[], None]) -> Callable[[], None]:
        """Also call `action` (from the signal handler) on a stop; at once if one was asked. Returns what
        forgets it again."""
        self._then.append(action)
        if self.asked.is_set():
            action()
        return lambda: self._then.remove(action)

    def check(self) -> None:
        if self.asked.is_set():
            raise StopAsked

    def restore(self) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
