"""The durable store: SQLite file by default, any SQLAlchemy URL (PostgreSQL included) by DATABASE_URL.

It implements the drivers' two ports: `submit` (the inbox, committed before it returns) and the outbox
claim/sent/retry/failed/delivery_report/recover cycle. The engine works inside `unit()` transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine

from absensi.drivers.base import OutboxItem

from ..messages import Button, Channel, Contact, Document, InboundMessage
from .migrate import upgrade
from .models import InboxRow, OutboxRow

MAX_ATTEMPTS = 8


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        # Called inside the transaction that marks an item failed for good (the engine tells the admin).
        self.on_failure: Callable[[Session, OutboxRow, datetime], None] | None = None
        self.db: SAEngine = create_engine(url, connect_args=_connect_args(url))
        if self.db.dialect.name == "sqlite":
            event.listen(self.db, "connect", _sqlite_pragmas)
        upgrade(self.db)

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            yield session

    # ------------------------------------------------------------------------------------- inbox

    def submit(self, msg: InboundMessage) -> bool:
        row = InboxRow(source_id=msg.source_id, channel=str(msg.channel), sender=msg.sender, text=msg.text,
                       payload=_inbound_payload(msg), received_at=msg.received_at)
        try:
            with self.unit() as session:
                session.add(row)
        except IntegrityError:
            logger.debug("inbox: {} seen before, ignored", msg.source_id)
            return False
        return True

    def pending_inbox(self, limit: int = 100) -> list[tuple[int, InboundMessage]]:
        with self.unit() as session:
            rows = session.scalars(
                select(InboxRow).where(InboxRow.status == "new").order_by(InboxRow.id).limit(limit)
            ).all()
            return [(row.id or 0, inbound_from_row(row)) for row in rows]

    # ------------------------------------------------------------------------------------ outbox

    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        with self.unit() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.channel == str(channel), OutboxRow.status == "pending", OutboxRow.next_try_at <= now)
                .order_by(OutboxRow.next_try_at, OutboxRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.status = "sending"
                row.payload = {**row.payload, "worker": worker}
            return [outbox_item(row) for row in rows]

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        self._set(item_id, status="sent", sent_at=now, native_id=native_id, error=None)

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is None:
                return
            row.attempts += 1
            row.error = reason
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                logger.warning("outbox {}: gave up after {} attempts: {}", item_id, row.attempts, reason)
                self._tell_admin(session, row, now)
            else:
                row.status, row.next_try_at = "pending", next_try

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        with self.unit() as session:
            row = session.get(OutboxRow, item_id)
            if row is None:
                return
            row.status, row.error, row.attempts = "failed", reason, row.attempts + 1
            logger.warning("outbox {} to {}: failed: {}", item_id, row.recipient, reason)
            self._tell_admin(session, row, now)

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

    def recover(self, channel: Channel, now: datetime) -> int:
        """Items left `sending` by a crash go back to pending once: a second crash marks them failed."""
        with self.unit() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.channel == str(channel), OutboxRow.status == "sending")
            ).all()
            for row in rows:
                recovered = int(row.payload.get("recovered", 0))
                if recovered >= 1:
                    row.status, row.error = "failed", "interrupted twice while sending"
                else:
                    row.status, row.next_try_at = "pending", now
                    row.payload = {**row.payload, "recovered": recovered + 1}
            return len(rows)

    def _set(self, item_id: int, **values: Any) -> None:
        with self.unit() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))

    def _tell_admin(self, session: Session, row: OutboxRow, now: datetime) -> None:
        if self.on_failure is not None and row.kind != "delivery_failed":
            self.on_failure(session, row, now)

    def outbox_since(self, first_id: int) -> list[OutboxRow]:
        with self.unit() as session:
            return list(session.scalars(select(OutboxRow).where(OutboxRow.id > first_id).order_by(OutboxRow.id)))

    def last_outbox_id(self) -> int:
        with self.unit() as session:
            return session.scalar(select(OutboxRow.id).order_by(OutboxRow.id.desc()).limit(1)) or 0


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
    return payload


def inbound_from_row(row: InboxRow) -> InboundMessage:
    p = row.payload
    contact = Contact(p["contact"]["phone"], p["contact"].get("user_id")) if "contact" in p else None
    return InboundMessage(Channel(row.channel), row.sender, row.received_at, row.source_id, row.text,
                          chat=p.get("chat"), press=p.get("press"), contact=contact, reply_to=p.get("reply_to"),
                          incomplete=bool(p.get("incomplete")))


def outbox_item(row: OutboxRow) -> OutboxItem:
    p = row.payload
    buttons = tuple(tuple(Button(b[0], b[1]) for b in line) for line in p.get("buttons", []))
    document = Document(p["document"]["filename"], bytes.fromhex(p["document"]["hex"])) if "document" in p else None
    return OutboxItem(row.id or 0, Channel(row.channel), row.recipient, row.text, row.attempts, buttons,
                      bool(p.get("request_contact")), bool(p.get("remove_keyboard")), document, p.get("reply_to"),
                      p.get("edit"))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff for transient failures: 30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts, 0), 3600))
