"""Tables. Everything the service learns lives here; the roster itself is re-read from the school files.

Times are stored as UTC (`UtcDateTime`), so SQLite and PostgreSQL behave the same. Nothing here is
SQLite-only: JSON columns use SQLAlchemy's portable JSON type, ids that can exceed 2^31 are BigInteger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def _ts(index: bool = False, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), index=index, nullable=nullable))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class InboxRow(SQLModel, table=True):
    __tablename__ = "inbox"
    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=200, unique=True)
    channel: str = Field(max_length=16)
    sender: str = Field(max_length=64, index=True)
    text: str = ""
    payload: dict[str, Any] = _json()
    received_at: datetime = _ts()
    status: str = Field(default="new", max_length=16, index=True)  # new, done, error
    error: str | None = None
    processed_at: datetime | None = _ts(nullable=True)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "channel", "status", "priority", "next_try_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=200, unique=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=64, index=True)
    text: str = ""
    payload: dict[str, Any] = _json()
    kind: str = Field(default="reply", max_length=32)
    status: str = Field(default="pending", max_length=16, index=True)  # pending sending sent delivered failed
    attempts: int = 0
    next_try_at: datetime = _ts(index=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    native_id: str | None = Field(default=None, max_length=200, index=True)
    error: str | None = None
    bridge: str | None = Field(default=None, max_length=64)
    inbox_id: int | None = Field(default=None, index=True)
    # Lower goes first (SPEC §3): alfa notices and parents' confirmations, then bridged replies, then help.
    priority: int = Field(default=50)


class Absence(SQLModel, table=True):
    """One student on one school day: the current status and its flow state."""

    __tablename__ = "absence"
    __table_args__ = (UniqueConstraint("nis", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    nis: str = Field(max_length=32, index=True)
    day: date = Field(index=True)
    class_name: str = Field(max_length=64, index=True)
    state: str = Field(max_length=32)
    status: str | None = Field(default=None, max_length=8)  # reason code; None = present
    note: str = ""
    source: str = Field(default="", max_length=32)  # ketua_kelas, sekretaris, ortu, …
    reporter: str = Field(default="", max_length=120)
    reported_at: datetime | None = _ts(nullable=True)
    parent_notified: bool = False


class AbsenceChange(SQLModel, table=True):
    """Every change to an absence record: who, when, old → new (SPEC §8)."""

    __tablename__ = "absence_change"
    id: int | None = Field(default=None, primary_key=True)
    nis: str = Field(max_length=32, index=True)
    day: date
    old: str | None = Field(default=None, max_length=8)
    new: str | None = Field(default=None, max_length=8)
    by: str = Field(max_length=120)
    source: str = Field(max_length=32)
    at: datetime = _ts()


class ParentLink(SQLModel, table=True):
    """A phone number registered for a student; `consent_at` records the parent's REG (UU PDP)."""

    __tablename__ = "parent_link"
    __table_args__ = (UniqueConstraint("phone", "nis"),)
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=32, index=True)
    nis: str = Field(max_length=32, index=True)
    active: bool = True
    origin: str = Field(default="sms", max_length=16)  # sms (REG) or import (parents.csv)
    consent_at: datetime = _ts()
    consent_source: str = Field(default="", max_length=200)
    stopped_at: datetime | None = _ts(nullable=True)


class SmsSender(SQLModel, table=True):
    """Per sending number: the registration flow's state and the abuse guards' counters."""

    __tablename__ = "sms_sender"
    phone: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=32)
    wrong_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ISO times
    blocked_until: datetime | None = _ts(nullable=True)
    help_day: date | None = None
    help_count: int = 0
    info_day: date | None = None
    info_count: int = 0


class TelegramLink(SQLModel, table=True):
    """A Telegram account linked by sharing its own contact (SPEC §4)."""

    __tablename__ = "telegram_link"
    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    phone: str = Field(max_length=32, index=True)
    linked_at: datetime = _ts()


class ClassReport(SQLModel, table=True):
    """A class reported today (any entry or NIHIL): feeds reminders and the status report."""

    __tablename__ = "class_report"
    __table_args__ = (UniqueConstraint("class_name", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    class_name: str = Field(max_length=64)
    day: date = Field(index=True)
    reporter: str = Field(max_length=120)
    source: str = Field(default="", max_length=32)  # the reporter's role
    at: datetime = _ts()
    nihil: bool = False


class Draft(SQLModel, table=True):
    """An officer's /absen keyboard in progress; buttons carry only short tokens."""

    __tablename__ = "draft"
    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    day: date
    class_name: str = Field(max_length=64)
    picks: dict[str, Any] = _json()
    page: int = 0


class JobRun(SQLModel, table=True):
    """Scheduled jobs that ran (reminders, purges), so each runs once."""

    __tablename__ = "job_run"
    key: str = Field(primary_key=True, max_length=200)
    at: datetime = _ts()


class EngineLease(SQLModel, table=True):
    """Who handles the inbox for this database (SPEC §8: one engine at a time).

    The lock itself is the backend's (a PostgreSQL advisory lock, a file lock beside a SQLite file); this
    row only says who holds it, for `absensi status`, and is refreshed while it is held.
    """

    __tablename__ = "engine_lease"
    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)  # host:pid
    acquired_at: datetime = _ts()
    heartbeat_at: datetime = _ts()
    stopped_at: datetime | None = _ts(nullable=True)  # its holder stopped cleanly (released it); None while held


class Tally(SQLModel, table=True):
    """Named counters: the school-wide reply caps per hour and day, and the counts a purge keeps."""

    __tablename__ = "tally"
    key: str = Field(primary_key=True, max_length=200)
    count: int = 0
    updated_at: datetime = _ts()


class Enrolment(SQLModel, table=True):
    """A student's seat in a class for part of a school year, with the absen number held there (SPEC §2).

    Numbers are stable for the year: a new student gets the next number after the class's highest, and a
    number once given is never given to another student that year (the unique constraint). `end_day` is
    set when the student leaves the class (moved, left the school); None while the seat is held.
    """

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("school_year", "class_name", "absen_no"),)
    id: int | None = Field(default=None, primary_key=True)
    school_year: str = Field(max_length=9, index=True)  # "2026/2027"
    nis: str = Field(max_length=32, index=True)
    class_name: str = Field(max_length=64)
    absen_no: int
    start_day: date
    end_day: date | None = None
    # the roster's name while the seat was held: a student who left is still named in past periods' reports
    name: str | None = Field(default=None, max_length=200)


class ServiceHealth(SQLModel, table=True):
    """What a running `absensi run` process knows, published every ~30 s (SPEC §9): one row per SMS device
    (its driver's health), the Telegram connection and the process itself. `absensi status` and `/status` read
    these rows, so neither ever opens the serial port the service holds. No phone number, no message."""

    __tablename__ = "service_health"
    name: str = Field(primary_key=True, max_length=200)  # "sms:/dev/ttyUSB0", "telegram", "process:host:pid"
    kind: str = Field(max_length=16)  # modem, gateway, telegram, process
    holder: str = Field(max_length=200)  # host:pid of the process that published it
    data: dict[str, Any] = _json()
    updated_at: datetime = _ts()


class Incident(SQLModel, table=True):
    """One operations alert (SPEC §9): told to the admin once when it opens and once when it clears, so a
    restart neither repeats nor forgets it. `key` names the condition ("modem_down:/dev/ttyUSB0")."""

    __tablename__ = "incident"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=32)
    detail: str = ""
    since: datetime = _ts()  # when the condition began (as far as the service saw)
    opened_at: datetime = _ts()  # when the admin was told
    cleared_at: datetime | None = _ts(nullable=True)  # None while it lasts


class Punch(SQLModel, table=True):
    """One fingerprint punch at the school's gate (SPEC §10): as the machine reported it, with the student it
    maps to (`nis` None: an id no student has — a teacher, a test finger, a typo in `finger_id`, kept so that
    nothing is dropped silently). The unique key makes importing the same file twice add nothing."""

    __tablename__ = "punch"
    __table_args__ = (UniqueConstraint("device", "user_id", "at"), Index("ix_punch_nis_at", "nis", "at"))
    id: int | None = Field(default=None, primary_key=True)
    nis: str | None = Field(default=None, max_length=32)
    user_id: str = Field(max_length=32)  # the id the machine reports, without padding
    at: datetime = _ts(index=True)
    device: str = Field(max_length=64)  # "mesin 1", a serial number, a host:port
    source: str = Field(max_length=16)  # usb (attlog.dat), export (xlsx/CSV), live (pulled), scenario
    imported_at: datetime = _ts()


class WebLogin(SQLModel, table=True):
    """A one-time link to the web console, asked for with `/web` (issue 13): only the SHA-256 of its token
    is kept, so a copy of the database opens nothing. Valid until `expires_at`, once (`used_at`)."""

    __tablename__ = "web_login"
    token_hash: str = Field(primary_key=True, max_length=64)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)


class WebSession(SQLModel, table=True):
    """A browser logged in through a `WebLogin`: the signed cookie names this row by the SHA-256 of its
    id; a logout or the end of its 8 hours (`expires_at`) ends it (`ended_at`)."""

    __tablename__ = "web_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    created_at: datetime = _ts()
    expires_at: datetime = _ts(index=True)
    ended_at: datetime | None = _ts(nullable=True)
