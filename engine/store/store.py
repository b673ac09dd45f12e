"""The durable store: SQLite file by default, any SQLAlchemy URL (PostgreSQL included) by DATABASE_URL.

It implements the drivers' two ports: `submit` (the inbox, committed before it returns) and the outbox
claim/sent/retry/failed/delivery_report/recover cycle. The engine works inside `unit()` transactions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlmodel import Session, create_engine

from ..messages import Button, Channel, Contact, Document, InboundMessage
from ..ports import DeliveryPolicy, OutboxItem
from . import cleaning, queries
from .claims import claim_rows, owner_gone, process_tag
from .migrate import current, upgrade
from .models import InboxRow, OutboxRow

MAX_INTERRUPTIONS = 3
INBOX_CHANNEL = "absensi_inbox"  # PostgreSQL: the channel an inbox commit NOTIFYs and engines LISTEN on
NOTIFY_INBOX = text(f"NOTIFY {INBOX_CHANNEL}")
OUTBOX_CHANNEL = "absensi_outbox"  # PostgreSQL: NOTIFYed by a commit that added outbox rows; drivers' wakers LISTEN
# How long a driver waiting for outbox work may sleep without missing rows another process added: on
# PostgreSQL their commit NOTIFYs (this only covers a notification lost in a reconnect); SQLite has no
# signal between processes, so a standby's modem looks this often for what the leading engine wrote.
OUTBOX_FALLBACK_POSTGRES = 60.0
OUTBOX_FALLBACK_SQLITE = 10.0


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class MissingDatabase(Exception):
    """`Store.open_existing`: no absensi database at the URL (and none was created)."""


class Store:
    def __init__(self, url: str, *, create: bool = True) -> None:
        """The store at `url`, migrated to the current schema; a new database is created unless `create`
        is False (then a missing SQLite file, or a database without absensi's tables, is MissingDatabase)."""
        self.url = url
        # The drivers' policy (settings.yaml `delivery`); a retry past its attempts fails the item here too.
        self.policy = DeliveryPolicy()
        if url.startswith("sqlite:///") and create:
            _create_private(Path(url.removeprefix("sqlite:///")))
        if not create:
            _must_exist(url)
        # hide_parameters: SQL errors and logs never carry a number or a message text (SPEC §8).
        self.db: SAEngine = create_engine(url, connect_args=_connect_args(url), hide_parameters=True)
        self.notifies = self.db.dialect.name == "postgresql"  # other processes' engines LISTEN (wakeup.py)
        # PostgreSQL: the insert itself NOTIFYs (delivered when it commits), so a commit is one statement
        self._add_inbox = queries.ADD_INBOX.returning(func.pg_notify(INBOX_CHANNEL, "")) if self.notifies \
            else queries.ADD_INBOX
        self._listeners: list[Callable[[], None]] = []
        self._outbox_listeners: list[Callable[[], None]] = []
        self.outbox_fallback = OUTBOX_FALLBACK_POSTGRES if self.notifies else OUTBOX_FALLBACK_SQLITE
        if self.db.dialect.name == "sqlite":
            event.listen(self.db, "connect", _sqlite_pragmas)
        _watch_outbox(self)
        try:
            if not create and current(self.db) is None:
                raise MissingDatabase(f"no absensi tables in the database {self.db.url!r}")
            upgrade(self.db)
        except BaseException:
            self.db.dispose()
            raise

    @classmethod
    def open_existing(cls, url: str) -> Store:
        """For commands that only read: never creates a database (MissingDatabase instead)."""
        return cls(url, create=False)

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            yield session

    # ------------------------------------------------------------------------------------- inbox

    def submit(self, msg: InboundMessage) -> bool:
        """Commit `msg` to the inbox; any bytes in, nothing lost (SPEC §8).

        Text a backend cannot store (NUL, broken UTF-16) is cleaned and the original kept as raw bytes;
        if the row is still refused for its content, it is kept as an error row with the raw bytes only,
        for `absensi inbox`. A database that is down raises: the driver keeps the message at its source.
        Once committed, the engine is told (`on_inbox`; on PostgreSQL also other processes: NOTIFY).
        """
        values = cleaning.inbox_values(msg, _inbound_payload(msg))
        try:
            with self.db.begin() as connection:  # a Core insert: the ORM costs more than the row
                connection.execute(self._add_inbox, {**values, "status": "new", "error": None,
                                                     "processed_at": None})
        except IntegrityError:
            if self._known(values["source_id"]):
                logger.debug("inbox: message seen before, ignored")
                return False
            raise
        except (DataError, StatementError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            logger.warning("inbox: a message could not be stored as it came ({}); kept as raw bytes",
                           type(exc.orig if hasattr(exc, "orig") else exc).__name__)
            with self.unit() as session:
                session.add(InboxRow(**cleaning.error_values(values, f"cannot store: {type(exc).__name__}")))
            return True
        self.inbox_filled()
        return True

    def on_inbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the committing thread) whenever a message is committed to the inbox here."""
        self._listeners.append(listener)

    def inbox_filled(self) -> None:
        """Tell this process's listeners that the inbox has new rows (`submit` does; so may `inbox --retry`)."""
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not lose the message just committed
                logger.exception("inbox listener failed")

    def notify_inbox(self) -> None:
        """Tell engines in other processes that the inbox has new rows (PostgreSQL NOTIFY; SQLite: they poll)."""
        if self.notifies:
            with self.db.begin() as connection:
                connection.execute(NOTIFY_INBOX)
        self.inbox_filled()

    # ------------------------------------------------------------------------------ outbox wake-ups

    def on_outbox(self, listener: Callable[[], None]) -> float:
        """Call `listener` whenever a transaction that added outbox rows has ended (`outbox_added`): in this
        process (any thread) and, on PostgreSQL, in another one (its commit NOTIFYs `absensi_outbox`, which
        the service's `Wakeup` hears). Returns the longest a driver may sleep between looks at the outbox
        without missing another process's rows (`outbox_fallback`)."""
        self._outbox_listeners.append(listener)
        return self.outbox_fallback

    def outbox_filled(self) -> None:
        """Tell this process's outbox listeners that the outbox has new rows."""
        for listener in list(self._outbox_listeners):
            try:
                listener()
            except Exception:  # a driver's waker must not fail the commit that has already happened
                logger.exception("outbox listener failed")

    def next_due(self, channel: Channel) -> datetime | None:
        """When the earliest pending item of `channel` is due (a retry waits for its `next_try_at`)."""
        with self.db.connect() as connection:
            return connection.execute(queries.NEXT_DUE, {"channel": str(channel)}).scalar()

    def keep(self, msg: InboundMessage, reason: str) -> None:
        values = cleaning.inbox_values(msg, _inbound_payload(msg))
        try:
            with self.unit() as session:
                session.add(InboxRow(**cleaning.error_values(values, reason)))
        except IntegrityError:
            if not self._known(values["source_id"]):
                raise

    def _known(self, source_id: str) -> bool:
        with self.unit() as session:
            return session.scalar(select(InboxRow.id).where(InboxRow.source_id == source_id)) is not None

    def pending_inbox(self, limit: int = 100) -> list[tuple[int, InboundMessage]]:
        with self.db.connect() as connection:
            rows = connection.execute(queries.PENDING_INBOX, {"limit": limit}).all()
        return [(row.id, inbound_from_row(row)) for row in rows]

    # ------------------------------------------------------------------------------------ outbox

    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        """Take due items by priority, then age; safe with several processes claiming at once."""
        with self.unit() as session:
            rows = claim_rows(session, str(channel), now, limit, f"{worker}@{process_tag()}")
            return [outbox_item(row) for row in rows]

    def handing(self, item_id: int, part: int, now: datetime) -> None:
        """Part `part` (0-based) is about to be written to the modem: a crash from now until `part_sent`
        may have sent it, so recovery resends that part at most once and nothing before it."""
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is not None:
                row.payload = {**row.payload, "handing": part, "handing_at": now.isoformat()}

    def part_sent(self, item_id: int, native_ref: str) -> None:
        """The modem accepted one part of a multipart item: a resumed send continues after it."""
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is not None:
                payload = {k: v for k, v in row.payload.items() if k not in ("handing", "handing_at")}
                row.payload = {**payload, "parts": [*payload.get("parts", []), native_ref]}

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is not None:
                row.status, row.sent_at, row.native_id, row.error = "sent", now, native_id, None
                row.payload = {k: v for k, v in row.payload.items() if k not in ("handing", "handing_at")}

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is None:
                return
            row.attempts += 1
            row.error = reason
            if row.attempts >= self.policy.max_attempts:
                row.status = "failed"
                logger.warning("outbox {}: gave up after {} attempts: {}", item_id, row.attempts, reason)
            else:
                row.status, row.next_try_at = "pending", next_try

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is None:
                return
            row.status, row.error, row.attempts = "failed", reason, row.attempts + 1
            logger.warning("outbox {}: failed: {}", item_id, reason)

    def delivery_report(self, channel: Channel, native_ref: str, delivered: bool, now: datetime) -> bool:
        with self.unit() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.channel == str(channel), OutboxRow.native_id.is_not(None))
                .where(OutboxRow.native_id.contains(native_ref)).order_by(OutboxRow.id.desc()).limit(20)
            ).all()
            row = next((r for r in rows if native_ref in (r.native_id or "").split(",")), None)
            if row is None:
                return False
            row.status = "delivered" if delivered else "failed"
            row.payload = {**row.payload, "report_at": now.isoformat(), "delivered": delivered}
            return True

    def recover(self, channel: Channel, now: datetime, worker: str = "") -> int:
        """Items a crashed worker left `sending` go back to pending, resuming where the modem stopped.

        Only items whose claimant is gone are touched (this `worker` in an earlier process, or a process
        of this host that no longer runs, or a claim older than STALE_CLAIM): another live process's
        sends are left alone. An item interrupted while a part was being handed to the modem may have
        sent that part; that is the one repeat a crash can cause. After MAX_INTERRUPTIONS such crashes
        the item fails (and the admin is told), so one message cannot crash the service forever.
        """
        with self.unit() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.channel == str(channel), OutboxRow.status == "sending")
            ).all()
            recovered = 0
            for row in rows:
                if not owner_gone(row.payload, worker, now):
                    continue
                recovered += 1
                interrupted = int(row.payload.get("interrupted", 0)) + ("handing" in row.payload)
                payload = {k: v for k, v in row.payload.items() if k not in ("handing", "handing_at", "worker")}
                row.payload = {**payload, "interrupted": interrupted}
                if interrupted > MAX_INTERRUPTIONS:
                    row.status, row.error = "failed", f"interrupted {interrupted} times while sending"
                else:
                    row.status, row.next_try_at = "pending", now
            return recovered

    def _set(self, item_id: int, **values: Any) -> None:
        with self.unit() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))

    def outbox_since(self, first_id: int) -> list[OutboxRow]:
        with self.unit() as session:
            return list(session.scalars(select(OutboxRow).where(OutboxRow.id > first_id).order_by(OutboxRow.id)))

    def last_outbox_id(self) -> int:
        with self.unit() as session:
            return session.scalar(select(OutboxRow.id).order_by(OutboxRow.id.desc()).limit(1)) or 0


def outbox_added(connection: Any) -> None:
    """The transaction on `connection` adds outbox rows (the engine's insert calls this; an ORM insert of an
    `OutboxRow` does by itself). The connection is marked: once it is back in the pool — its transaction
    ended — the store's outbox listeners are called (`on_outbox`; after a rollback that wakes a driver for
    nothing, which costs one empty claim). On PostgreSQL the transaction also NOTIFYs `absensi_outbox`,
    delivered with its commit and never without it. A marker rather than an engine event on every
    statement and commit: those cost ≈ 10 µs per statement and 35 µs per transaction of every kind."""
    connection.info["outbox_added"] = True
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {OUTBOX_CHANNEL}")


event.listen(OutboxRow, "after_insert", lambda _mapper, connection, _row: outbox_added(connection))


def _watch_outbox(store: Store) -> None:
    """Call the store's outbox listeners when a connection that added outbox rows returns to the pool."""

    def returned(_dbapi: Any, record: Any) -> None:
        if record is not None and record.info.pop("outbox_added", False):
            store.outbox_filled()

    event.listen(store.db.pool, "checkin", returned)


def _must_exist(url: str) -> None:
    """A SQLite file that is not there is MissingDatabase before SQLite would create it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if not path.is_file():
            raise MissingDatabase(f"no database at {path}")


def _create_private(path: Path) -> None:
    """A new SQLite file is created readable by its owner only (SPEC §8), before SQLite opens it.

    SQLite gives its -wal and -shm files the main file's mode."""
    if str(path) in ("", ":memory:") or path.exists() or not path.parent.is_dir():
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _connect_args(url: str) -> dict[str, Any]:
    return {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _inbound_payload(msg: InboundMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for key in ("chat", "press", "reply_to"):
        if getattr(msg, key) is not None:
            payload[key] = getattr(msg, key)
    if msg.contact is not None:
        payload["contact"] = {"phone": msg.contact.phone, "user_id": msg.contact.user_id}
    if msg.incomplete:
        payload["incomplete"] = True
    if msg.raw:
        payload["raw"] = msg.raw
    return payload


def inbound_from_row(row: Any) -> InboundMessage:
    p = row.payload
    contact = Contact(p["contact"]["phone"], p["contact"].get("user_id")) if "contact" in p else None
    return InboundMessage(Channel(row.channel), row.sender, row.received_at, row.source_id, row.text,
                          chat=p.get("chat"), press=p.get("press"), contact=contact, reply_to=p.get("reply_to"),
                          incomplete=bool(p.get("incomplete")), raw=p.get("raw"))


def outbox_item(row: OutboxRow) -> OutboxItem:
    p = row.payload
    buttons = tuple(tuple(Button(b[0], b[1]) for b in line) for line in p.get("buttons", []))
    document = Document(p["document"]["filename"], bytes.fromhex(p["document"]["hex"])) if "document" in p else None
    return OutboxItem(row.id or 0, Channel(row.channel), row.recipient, row.text, row.attempts, buttons,
                      _contact_label(p.get("request_contact")), bool(p.get("remove_keyboard")), document,
                      p.get("reply_to"), p.get("edit"), tuple(p.get("parts", ())))


def _contact_label(value: object) -> str | None:
    """The share-contact button's label: the payload holds it as text; a row written before the engine put
    the label there holds `true` ("": the driver's own label)."""
    if isinstance(value, str):
        return value
    return "" if value else None
