"""One engine at a time per database (SPEC §8): a lease the engine holds while it handles the inbox.

The lock is the backend's own, so it is released by the operating system or the database server the
moment its holder dies, `kill -9` included: a PostgreSQL session advisory lock on a connection kept for
the purpose, or an exclusive `flock` on a file beside a SQLite database. The `engine_lease` row only tells
`absensi status` who holds it and when it last showed life. A process that cannot take the lease is a
standby: its drivers serve (sharing the inbox and outbox), and it tries again every `RETRY_SECONDS`.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from loguru import logger
from sqlalchemy import bindparam, text, update

from . import Store
from .claims import process_tag
from .models import EngineLease

LOCK_KEY = 0x61627365  # "abse": the advisory lock's number, the same for every absensi process
RETRY_SECONDS = 2.0  # a standby takes over within this (plus the database's notice of the holder's death)
HEARTBEAT = timedelta(seconds=5)
ENGINE = "engine"


class Lease:
    """`acquire()` without waiting; `held` says whether this process still holds it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.holder = process_tag()
        self._file: IO[str] | None = None
        self._connection: Any = None
        self._beat: datetime | None = None
        self._local = False  # an in-memory database: nobody else can reach it

    @property
    def held(self) -> bool:
        return self._local or self._file is not None or self._connection is not None

    def acquire(self, now: datetime) -> bool:
        """Take the lease if nobody holds it; True when this process now holds it."""
        if self.held:
            return True
        if self.store.db.dialect.name != "sqlite":
            got = self._lock_server()
        elif not self.store.url.startswith("sqlite:///") or self.store.url.endswith(":memory:"):
            got = self._local = True
        else:
            got = self._lock_file()
        if got:
            self._record(now, acquired=True)
            logger.info("engine lease taken by {}", self.holder)
        return got

    def keep(self, now: datetime) -> bool:
        """Refresh the row every HEARTBEAT; False when the lease was lost (the database connection died)."""
        if not self.held:
            return False
        if self._connection is not None and not self._connection_alive():
            logger.warning("engine lease lost: the database connection holding it closed; standing by")
            self._connection = None
            return False
        if self._beat is None or now - self._beat >= HEARTBEAT:
            self._record(now, acquired=False)
        return True

    def until_beat(self, now: datetime) -> float:
        """Seconds until `keep` refreshes the row again (the engine wakes for it)."""
        if self._beat is None:
            return 0.0
        return max(0.0, (HEARTBEAT - (now - self._beat)).total_seconds())

    def release(self) -> None:
        """Give the lease up (a clean stop): the row says when, so `absensi status` shows the engine stopped
        at once rather than after a minute of silence; the next holder clears it."""
        if self.held:
            try:
                with self.store.db.begin() as connection:
                    connection.execute(_STOPPED, {"k_holder": self.holder, "v_now": datetime.now(UTC)})
            except Exception:  # the database is gone: status will see the silence instead
                pass
        self._local = False
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._connection.close()
            except Exception:  # the server is gone: so is the lock
                pass
            self._connection = None

    # ------------------------------------------------------------------------------------ internals

    def _lock_file(self) -> bool:
        path = lock_path(self.store.url)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(descriptor, "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _lock_server(self) -> bool:
        connection = self.store.db.connect()
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def _connection_alive(self) -> bool:
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            return False
        return True

    def _record(self, now: datetime, acquired: bool) -> None:
        if not acquired:  # the heartbeat: one UPDATE of this holder's row, every HEARTBEAT
            with self.store.db.begin() as connection:
                beaten = connection.execute(_BEAT, {"k_holder": self.holder, "v_now": now}).rowcount
            if beaten == 1:
                self._beat = now
                return
        with self.store.unit() as session:
            row = session.get(EngineLease, ENGINE)
            if row is None:
                row = EngineLease(name=ENGINE, holder=self.holder, acquired_at=now, heartbeat_at=now)
            if acquired or row.holder != self.holder:
                row.holder, row.acquired_at, row.stopped_at = self.holder, now, None
            row.heartbeat_at = now
            session.add(row)
        self._beat = now


_LEASE = EngineLease.__table__  # type: ignore[attr-defined]
_BEAT = (update(_LEASE).where(_LEASE.c.name == ENGINE, _LEASE.c.holder == bindparam("k_holder"))
         .values(heartbeat_at=bindparam("v_now")))
_STOPPED = (update(_LEASE).where(_LEASE.c.name == ENGINE, _LEASE.c.holder == bindparam("k_holder"))
            .values(stopped_at=bindparam("v_now")))


def lock_path(url: str) -> Path:
    """The lock file of a SQLite database: beside it, `<file>.lease`."""
    return Path(url.removeprefix("sqlite:///") + ".lease")


def current_holder(store: Store) -> EngineLease | None:
    """The lease row: who holds (or last held) the engine, for `absensi status`."""
    with store.unit() as session:
        return session.get(EngineLease, ENGINE)
