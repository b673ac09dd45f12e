"""What wakes the engine thread of `absensi run` (issue 11): what it waits for, never a short poll.

* A driver of this process commits an inbox row: the store calls its `on_inbox` listeners, which set the
  event the engine waits on.
* A driver of another process (a standby's modem, `absensi inbox --retry`): on PostgreSQL the store NOTIFYs
  `absensi_inbox` with every inbox commit and `Wakeup` LISTENs on a connection of its own; on SQLite there is
  no such signal between processes, so the engine also looks at the inbox every `SQLITE_FALLBACK` seconds
  (5 s: what a message from a standby's modem may wait on SQLite; the same wake-up keeps the lease's
  heartbeat and looks at the rule files).
* The scheduler's next due time, the lease's heartbeat and the look at the rule files bound each wait
  (the engine loop computes them).

The same listening connection hears `absensi_outbox` too: another process's engine added outbox rows, and
this process's drivers are told through the store's outbox listeners (`Store.on_outbox`), so a standby's
modem sends what the leading engine wrote without polling the outbox.
"""

from __future__ import annotations

import os
import select
import threading
from typing import Any

from loguru import logger

from ..store import Store
from ..store.store import INBOX_CHANNEL, OUTBOX_CHANNEL

SQLITE_FALLBACK = 5.0  # seconds: SQLite cannot signal across processes; a standby's drivers wait this long at most
POSTGRES_FALLBACK = 60.0  # seconds: LISTEN signals at once; this only covers a notification lost in a reconnect
RECONNECT_SECONDS = 5.0


class Wakeup:
    """An event set by this process's inbox commits and, on PostgreSQL, by other processes' (LISTEN)."""

    def __init__(self, store: Store) -> None:
        self.event = threading.Event()
        self.fallback = POSTGRES_FALLBACK if store.notifies else SQLITE_FALLBACK
        store.on_inbox(self.event.set)
        self._store = store
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if store.notifies:
            self._pipe = os.pipe()  # close() writes to it to end the listening thread's wait at once
            self._thread = threading.Thread(target=self._listen, name="inbox-listen", daemon=True)
            self._thread.start()

    def set(self) -> None:
        self.event.set()

    def clear(self) -> None:
        self.event.clear()

    def wait(self, timeout: float) -> bool:
        return self.event.wait(max(0.0, timeout))

    def close(self) -> None:
        self._stopping.set()
        self.event.set()
        if self._thread is not None:
            os.write(self._pipe[1], b"x")
            self._thread.join(timeout=RECONNECT_SECONDS + 1)
            for end in self._pipe:
                os.close(end)

    # -------------------------------------------------------------------------------------- PostgreSQL

    def _listen(self) -> None:
        """LISTEN on a connection of its own (out of the pool), reconnecting when it drops."""
        while not self._stopping.is_set():
            raw: Any = None
            try:
                raw = self._store.db.raw_connection()
                connection = raw.driver_connection
                raw.detach()  # the pool forgets it: it only ever listens
                connection.autocommit = True
                connection.execute(f"LISTEN {INBOX_CHANNEL}")
                connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                self.event.set()  # anything committed while not listening is handled now
                self._store.outbox_filled()  # and the drivers look at the outbox
                while not self._stopping.is_set():
                    # sleep until the server sends something or close() writes to the pipe: no periodic wake
                    readable, _, _ = select.select([connection.fileno(), self._pipe[0]], [], [])
                    if self._pipe[0] in readable:
                        break
                    # reads what arrived (an error if the server went)
                    channels = {notice.channel for notice in connection.notifies(timeout=0)}
                    if INBOX_CHANNEL in channels:
                        self.event.set()
                    if OUTBOX_CHANNEL in channels:
                        self._store.outbox_filled()
            except Exception as exc:  # the server went away: listen again when it is back
                if self._stopping.is_set():
                    break
                logger.warning("inbox LISTEN connection lost ({}); reconnecting", type(exc).__name__)
                self._stopping.wait(RECONNECT_SECONDS)
            finally:
                if raw is not None:
                    try:
                        raw.close()
                    except Exception:  # a broken connection: nothing to close
                        logger.debug("closing the LISTEN connection failed")
