"""A modem that starts before the service does: `absensi run` opens and initialises it on a thread of its own
while the application still imports its modules, reads the rules and the roster and opens the database.

Initialising a modem is mostly waiting on it: a dozen AT round trips, `+CME ERROR: 14` (SIM busy) for a
while after power-up, the network registration. Started first, that waiting overlaps the application's own
start instead of following it. The worker that serves the port takes the modem over (`take`), with the
unsolicited lines that came meanwhile, or the error its start ended with, which the worker then handles as
the failure of its own first attempt (back-off, health, the log). Nothing is announced as ready before a
worker has taken the modem: the start line is the worker's, once it serves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .link import Unsolicited
from .modem import Modem
from .settings import ModemSettings

Event = tuple[float, Unsolicited]  # (monotonic time it came, the line), as a worker queues them


class WarmModem:
    """One port's modem, opened and initialised on its own thread; see the module docstring."""

    def __init__(self, url: str, pin: str | None = None, settings: ModemSettings | None = None) -> None:
        self.url = url
        self.modem = Modem(url, settings or ModemSettings(), self._event, pin)
        self.error: Exception | None = None  # what the start ended with, if it failed
        self.ready_at = 0.0  # monotonic time the modem was initialised
        self._lock = threading.Lock()
        self._early: list[Event] = []  # unsolicited lines before a worker took the modem
        self._sink: Callable[[Event], object] | None = None
        self._closed = self._taken = False
        self._thread = threading.Thread(target=self._start, name=f"gsm-warm:{url}", daemon=True)

    def start(self) -> WarmModem:
        self._thread.start()
        return self

    def _start(self) -> None:
        try:
            self.modem.open()
            if not self._closed:
                self.modem.start()
                self.ready_at = time.monotonic()
        except Exception as exc:  # a missing port, a silent or locked modem: the worker's to handle
            self.error = exc
        if self._closed:  # closed while it was opening: the port must not stay open behind it
            self.modem.close()

    def _event(self, event: Unsolicited) -> None:
        item = (time.monotonic(), event)
        with self._lock:
            if self._sink is not None:
                self._sink(item)
            else:
                self._early.append(item)

    def take(self, sink: Callable[[Event], object]) -> None:
        """Wait until the start has ended and hand the modem's unsolicited lines to `sink` from now on (those
        that came before first). Raises the error the start ended with; the modem is then closed."""
        self._thread.join()
        with self._lock:
            self._taken = True
            self._sink = sink
            early, self._early = self._early, []
            for item in early:
                sink(item)
        if self.error is not None:
            self.modem.close()
            raise self.error

    def close(self) -> None:
        """Stop and close the modem unless a worker took it (the service did not get that far, or stopped
        first). A command in flight ends at once: closing the link wakes it."""
        with self._lock:
            if self._taken:
                return
            self._closed = True
        self.modem.close()
        self._thread.join(timeout=5.0)
        self.modem.close()  # it may have opened the port while this closed the one before


def warm_up(address: str, pin: str | None) -> WarmModem:
    """The driver's early start (`engine.app.drivers.warm_up`): open and initialise the modem at `address` now."""
    return WarmModem(address, pin).start()
