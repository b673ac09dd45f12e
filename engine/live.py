"""What the engine knows of the store, held in memory and indexed (issue 11).

A message needs a little of the store's state — who a Telegram account is and which roles it holds, a
phone's children and a student's parents, today's records of a class and who reported, a number's guard
counters, an officer's `/absen` draft, the reply caps' tallies — and reading it per message cost more than
handling the message. `Live` holds that state:

* each part is loaded from the store the first time a turn needs it (one statement for the whole part), so
  after a start, a reload (`Engine.switch`) or `forget()` it is as fresh as the store;
* it is changed only by the code that writes the store: a change marks its row, and `flush` writes the
  marked rows at the end of every message, in the message's own transaction (several rows of a kind in
  one statement);
* it is dropped whole (`forget`) when a transaction rolls back, and when a new school day begins (the
  retention purge runs then), so it never holds what the store does not.

Another process changes these tables only while no engine runs (`absensi inbox --retry` takes the engine
lease; a standby builds a new engine, and so a new `Live`, when it takes over) — except the Telegram links,
re-read after `LINKS_TTL` of message time as before, and `absensi purge`, which deletes rows a running
engine may hold: a write that finds its row gone raises `StaleLive`, and the engine redoes the messages on a
fresh load. Days before today are not held: a correction of a past day reads and writes its one row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection
from sqlmodel import Session

from .rules import CompiledRules
from .school.model import School, StaffRole
from .store import queries

LINKS_TTL = timedelta(minutes=1)
# the tables whose rows `Live` holds (a statement deleting from one of them outside `Live` makes it forget)
HELD_TABLES = frozenset({"absence", "class_report", "parent_link", "sms_sender", "tally", "draft", "telegram_link"})


class Record(Protocol):
    def values(self) -> tuple[Any, ...]: ...


R = TypeVar("R", bound=Record)


class StaleLive(Exception):
    """A row the in-memory state holds is not in the store as held (another process changed it)."""


# ---------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class AbsenceRecord:
    """One student's record for one day, as the flow sees it (a row of the `absence` table)."""

    nis: str
    day: date
    class_name: str
    state: str
    status: str | None = None
    note: str = ""
    source: str = ""
    reporter: str = ""
    reported_at: datetime | None = None
    parent_notified: bool = False

    def values(self) -> tuple[Any, ...]:
        return (self.state, self.status, self.note, self.source, self.reporter, self.reported_at,
                self.parent_notified)

    def row(self) -> dict[str, Any]:
        return {"nis": self.nis, "day": self.day, "class_name": self.class_name, "state": self.state,
                "status": self.status, "note": self.note, "source": self.source, "reporter": self.reporter,
                "reported_at": self.reported_at, "parent_notified": self.parent_notified}

    def changes(self) -> dict[str, Any]:
        return {"k_nis": self.nis, "k_day": self.day, "v_state": self.state, "v_status": self.status,
                "v_note": self.note, "v_source": self.source, "v_reporter": self.reporter,
                "v_reported_at": self.reported_at, "v_parent_notified": self.parent_notified}


ABSENCE_FIELDS = ("nis", "day", "class_name", "state", "status", "note", "source", "reporter", "reported_at",
                  "parent_notified")


@dataclass(slots=True)
class ReportRecord:
    """A class reported on a day (a row of `class_report`): any entry, or NIHIL."""

    class_name: str
    day: date
    reporter: str
    source: str
    at: datetime
    nihil: bool = False

    def values(self) -> tuple[Any, ...]:
        return self.reporter, self.source, self.at, self.nihil


@dataclass(slots=True)
class Sender:
    """A sending number's registration state and guard counters (a row of `sms_sender`)."""

    phone: str
    state: str
    wrong_codes: list[str] = field(default_factory=list)  # ISO times
    blocked_until: datetime | None = None
    help_day: date | None = None
    help_count: int = 0
    info_day: date | None = None
    info_count: int = 0

    def values(self) -> tuple[Any, ...]:
        return (self.state, tuple(self.wrong_codes), self.blocked_until, self.help_day, self.help_count,
                self.info_day, self.info_count)

    def row(self) -> dict[str, Any]:
        return {"phone": self.phone, "state": self.state, "wrong_codes": list(self.wrong_codes),
                "blocked_until": self.blocked_until, "help_day": self.help_day, "help_count": self.help_count,
                "info_day": self.info_day, "info_count": self.info_count}

    def changes(self) -> dict[str, Any]:
        return {"k_phone": self.phone, "v_state": self.state, "v_wrong_codes": list(self.wrong_codes),
                "v_blocked_until": self.blocked_until, "v_help_day": self.help_day,
                "v_help_count": self.help_count, "v_info_day": self.info_day, "v_info_count": self.info_count}


@dataclass(slots=True)
class Counter:
    """A named counter (a row of `tally`)."""

    key: str
    count: int
    updated_at: datetime

    def values(self) -> tuple[Any, ...]:
        return self.count, self.updated_at


@dataclass(slots=True)
class DraftRecord:
    """An officer's `/absen` keyboard in progress (a row of `draft`)."""

    telegram_id: int
    day: date
    class_name: str
    picks: dict[str, Any] = field(default_factory=dict)
    page: int = 0

    def values(self) -> tuple[Any, ...]:
        return self.day, self.class_name, tuple(sorted(self.picks.items())), self.page


@dataclass(slots=True)
class ParentLinkRecord:
    """A phone registered for a student (a row of `parent_link`); `id` orders a phone's children."""

    id: int
    phone: str
    nis: str
    active: bool


# ---------------------------------------------------------------------------------------------- parts


class Rows(Generic[R]):
    """Rows of one kind keyed by their identity, with what the store holds of each (`stored`; no entry for a
    row not written yet) and the keys a turn touched, in order; `flush` writes the touched rows that differ."""

    def __init__(self) -> None:
        self.rows: dict[Any, R] = {}
        self.stored: dict[Any, tuple[Any, ...]] = {}
        self.touched: dict[Any, None] = {}  # an ordered set: rows are written in the order they were touched
        self.dropped: dict[Any, None] = {}

    def load(self, key: Any, record: R) -> None:
        self.rows[key] = record
        self.stored[key] = record.values()

    def touch(self, key: Any) -> None:
        self.touched[key] = None

    def put(self, key: Any, record: R) -> R:
        self.rows[key] = record
        self.dropped.pop(key, None)
        self.touched[key] = None
        return record

    def drop(self, key: Any) -> None:
        if self.rows.pop(key, None) is not None:
            self.touched.pop(key, None)
            if key in self.stored:
                self.dropped[key] = None

    def due(self) -> tuple[list[R], list[R], list[Any]]:
        """(new rows, changed rows, dropped keys) since the last flush; marks them written."""
        new, changed = [], []
        for key in self.touched:
            record = self.rows.get(key)
            if record is None:
                continue
            values = record.values()
            before = self.stored.get(key)
            if before is None:
                new.append(record)
            elif before != values:
                changed.append(record)
            self.stored[key] = values
        dropped = list(self.dropped)
        for key in dropped:
            self.stored.pop(key, None)
        self.touched.clear()
        self.dropped.clear()
        return new, changed, dropped


class Day:
    """The absence records and class reports of one school day (today or later: every row of the day;
    an earlier day: only the rows a turn asked for)."""

    def __init__(self, day: date, whole: bool) -> None:
        self.day = day
        self.whole = whole
        self.records: Rows[AbsenceRecord] = Rows()  # by nis
        self.by_class: dict[str, dict[str, AbsenceRecord]] = defaultdict(dict)
        self.reports: Rows[ReportRecord] = Rows()  # by class name
        self.asked: set[str] = set()  # an earlier day: the students whose row was read

    def add(self, record: AbsenceRecord, stored: bool) -> None:
        if stored:
            self.records.load(record.nis, record)
        else:
            self.records.put(record.nis, record)
        self.by_class[record.class_name][record.nis] = record


class ParentLinks:
    """Every parent link: a phone's children and a student's parents, in registration (id) order."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.by_pair: dict[tuple[str, str], ParentLinkRecord] = {}
        self.by_phone: dict[str, list[ParentLinkRecord]] = defaultdict(list)
        self.by_nis: dict[str, list[ParentLinkRecord]] = defaultdict(list)
        for row in rows:
            self._add(ParentLinkRecord(row.id, row.phone, row.nis, bool(row.active)))

    def _add(self, link: ParentLinkRecord) -> None:
        self.by_pair[(link.phone, link.nis)] = link
        self.by_phone[link.phone].append(link)
        self.by_nis[link.nis].append(link)

    def children(self, phone: str) -> list[str]:
        return [link.nis for link in self.by_phone.get(phone, ()) if link.active]

    def phones(self, nis: str) -> list[str]:
        return [link.phone for link in self.by_nis.get(nis, ()) if link.active]

    def link(self, phone: str, nis: str) -> ParentLinkRecord | None:
        return self.by_pair.get((phone, nis))

    def active_count(self, nis: str) -> int:
        return sum(1 for link in self.by_nis.get(nis, ()) if link.active)

    def connect(self, connection: Connection, phone: str, nis: str, now: datetime, source: str) -> None:
        """Link `phone` to `nis` (a new row, or a stopped one made active again) with the parent's consent."""
        link = self.by_pair.get((phone, nis))
        if link is not None:
            done = connection.execute(queries.RELINK, {"k_id": link.id, "v_at": now, "v_source": source})
            if done.rowcount != 1:
                raise StaleLive(f"parent link #{link.id} is gone")
            link.active = True
            return
        result = connection.execute(queries.ADD_PARENT_LINK, {
            "phone": phone, "nis": nis, "active": True, "origin": "sms", "consent_at": now,
            "consent_source": source, "stopped_at": None})
        key = result.inserted_primary_key
        assert key is not None
        self._add(ParentLinkRecord(int(key[0]), phone, nis, True))

    def stop(self, connection: Connection, phone: str, now: datetime) -> None:
        """Every active link of `phone` stopped (STOP)."""
        active = [link for link in self.by_phone.get(phone, ()) if link.active]
        if not active:
            return
        done = connection.execute(queries.UNLINK_PHONE, {"k_phone": phone, "v_at": now})
        if done.rowcount != len(active):
            raise StaleLive("a phone's parent links changed")
        for link in active:
            link.active = False


class TelegramLinks:
    """Telegram accounts linked by sharing their contact: phone → account, and account → phones."""

    def __init__(self, rows: Iterable[Any], read: datetime) -> None:
        self.read = read
        self.by_phone: dict[str, int] = {}
        self.by_user: dict[int, set[str]] = defaultdict(set)
        for user, phone in rows:
            self._add(int(user), phone)

    def _add(self, user: int, phone: str) -> None:
        self.by_phone[phone] = user
        self.by_user[user].add(phone)

    def replace(self, user: int, phone: str) -> None:
        """One account per number and one number per account: a re-link replaces both old links."""
        old_user = self.by_phone.pop(phone, None)
        if old_user is not None:
            self.by_user[old_user].discard(phone)
        for old_phone in self.by_user.pop(user, set()):
            self.by_phone.pop(old_phone, None)
        self._add(user, phone)


# ---------------------------------------------------------------------------------------------- Live


class Live:
    """What every turn reads besides the store: the rules and roster in force, and the store's state a
    message needs, in memory. The engine owns one; a reload replaces it."""

    def __init__(self, rules: CompiledRules, school: School) -> None:
        self.rules = rules
        self.school = school
        self._staff_by_user: dict[int, list[int]] = defaultdict(list)
        self._staff_by_phone: dict[str, list[int]] = defaultdict(list)
        self._staff_by_role: dict[str, list[StaffRole]] = defaultdict(list)
        for index, staff in enumerate(school.staff):
            self._staff_by_role[staff.role].append(staff)
            if staff.telegram_id is not None:
                self._staff_by_user[staff.telegram_id].append(index)
            if staff.phone:
                self._staff_by_phone[staff.phone].append(index)
        self.forget()

    def forget(self) -> None:
        """Drop everything read from the store (a rollback, or another process, may have changed it)."""
        self._links: TelegramLinks | None = None
        self._parents: ParentLinks | None = None
        self._senders: Rows[Sender] | None = None
        self._tallies: Rows[Counter] = Rows()
        self._days: dict[date, Day] = {}
        self._drafts: Rows[DraftRecord] | None = None
        self._seats: dict[tuple[str, ...], Any] = {}  # school years → enrolment seats (reports.history)
        self._student_rows: dict[tuple[Any, ...], Any] = {}
        self._changes: list[dict[str, Any]] = []  # absence history rows not written yet

    def forget_links(self) -> None:
        self._links = None

    # ------------------------------------------------------------------------------------ identities

    def links(self, session: Session, now: datetime) -> TelegramLinks:
        """Telegram links, re-read after LINKS_TTL of message time (another process may link: `inbox --retry`)."""
        links = self._links
        if links is None or now - links.read > LINKS_TTL or now < links.read:
            links = self._links = TelegramLinks(session.connection().execute(queries.ALL_TELEGRAM_LINKS), now)
        return links

    def link_telegram(self, session: Session, user: int, phone: str, now: datetime) -> None:
        """Link `user` to `phone`, replacing any other link of either."""
        links = self.links(session, now)
        connection = session.connection()
        connection.execute(queries.UNLINK_TELEGRAM, {"phone": phone, "user": user})
        connection.execute(queries.ADD_TELEGRAM_LINK, {"telegram_id": user, "phone": phone, "linked_at": now})
        links.replace(user, phone)

    def staff_with_role(self, role: str) -> list[StaffRole]:
        """The staff rows of `role`, in staff.csv's order."""
        return self._staff_by_role.get(role, [])

    def roles_of(self, session: Session, now: datetime, user: int) -> list[StaffRole]:
        """Every staff row this Telegram account holds, in staff.csv's order: listed by id, or linked by phone."""
        found = list(self._staff_by_user.get(user, ()))
        for phone in self.links(session, now).by_user.get(user, ()):
            found.extend(self._staff_by_phone.get(phone, ()))
        if not found:
            return []
        staff = self.school.staff
        return [staff[i] for i in sorted(set(found))]

    # ------------------------------------------------------------------------------------ parents

    def parents(self, session: Session) -> ParentLinks:
        if self._parents is None:
            self._parents = ParentLinks(session.connection().execute(queries.ALL_PARENT_LINKS))
        return self._parents

    def senders(self, session: Session) -> Rows[Sender]:
        if self._senders is None:
            rows: Rows[Sender] = Rows()
            for row in session.connection().execute(queries.ALL_SENDERS):
                rows.load(row.phone, Sender(row.phone, row.state, list(row.wrong_codes or []), row.blocked_until,
                                            row.help_day, row.help_count, row.info_day, row.info_count))
            self._senders = rows
        return self._senders

    def sender(self, session: Session, phone: str, initial: str) -> Sender:
        """The number's record, a new one in `initial` state if it has none; written at the flush if changed."""
        senders = self.senders(session)
        record = senders.rows.get(phone)
        if record is None:
            return senders.put(phone, Sender(phone, initial))
        senders.touch(phone)
        return record

    def counters(self, session: Session, keys: list[str], now: datetime) -> list[Counter]:
        """The counters named `keys`, in that order (missing ones at 0); written at the flush if changed."""
        tallies = self._tallies
        missing = [key for key in keys if key not in tallies.rows]
        if missing:
            rows = session.connection().execute(queries.TALLIES_NAMED, {"keys": missing})
            found = {key: (count, at) for key, count, at in rows}
            for key in missing:
                if key in found:
                    tallies.load(key, Counter(key, *found[key]))
                else:
                    tallies.put(key, Counter(key, 0, now))
        for key in keys:
            tallies.touch(key)
        return [tallies.rows[key] for key in keys]

    # ------------------------------------------------------------------------------------ days

    def day(self, session: Session, day: date, today: date) -> Day:
        found = self._days.get(day)
        if found is not None:
            return found
        whole = day >= today
        held = self._days[day] = Day(day, whole)
        if whole:
            connection = session.connection()
            for row in connection.execute(queries.ABSENCES_OF_DAY, {"day": day}):
                held.add(AbsenceRecord(*(getattr(row, name) for name in ABSENCE_FIELDS)), stored=True)
            for row in connection.execute(queries.REPORTS_OF_DAY, {"day": day}):
                held.reports.load(row.class_name, ReportRecord(row.class_name, row.day, row.reporter, row.source,
                                                               row.at, row.nihil))
        return held

    def absence(self, session: Session, nis: str, class_name: str, day: date, today: date) -> AbsenceRecord:
        """The student's record of `day`: the held one, or a new one in the flow's initial state (held once
        saved)."""
        held = self.day(session, day, today)
        record = held.records.rows.get(nis)
        if record is None and not held.whole and nis not in held.asked:
            held.asked.add(nis)
            row = session.connection().execute(queries.ABSENCE_OF_DAY, {"nis": nis, "day": day}).first()
            if row is not None:
                record = AbsenceRecord(*(getattr(row, name) for name in ABSENCE_FIELDS))
                held.add(record, stored=True)
        if record is None:
            return AbsenceRecord(nis, day, class_name, self.rules.rules.flows["absence"].initial)
        return record

    def save_absence(self, session: Session, record: AbsenceRecord, today: date) -> None:
        held = self.day(session, record.day, today)
        if held.records.rows.get(record.nis) is not record:
            held.add(record, stored=False)
        held.records.touch(record.nis)

    def record_change(self, nis: str, day: date, old: str | None, new: str | None, by: str, source: str,
                      at: datetime) -> None:
        """A line of the absence history (append-only): written at the flush."""
        self._changes.append({"nis": nis, "day": day, "old": old, "new": new, "by": by, "source": source, "at": at})

    def class_records(self, session: Session, class_name: str, day: date, today: date) -> list[AbsenceRecord]:
        """The class's records of `day` that hold a reason (today or later)."""
        held = self.day(session, day, today)
        return [r for r in held.by_class.get(class_name, {}).values() if r.status is not None]

    def class_report(self, session: Session, class_name: str, day: date, today: date) -> ReportRecord | None:
        return self.day(session, day, today).reports.rows.get(class_name)

    def mark_reported(self, session: Session, report: ReportRecord, today: date) -> None:
        reports = self.day(session, report.day, today).reports
        if reports.rows.get(report.class_name) is not report:
            reports.put(report.class_name, report)
        reports.touch(report.class_name)

    # ------------------------------------------------------------------------------------ drafts

    def drafts(self, session: Session) -> Rows[DraftRecord]:
        if self._drafts is None:
            rows: Rows[DraftRecord] = Rows()
            for row in session.connection().execute(queries.ALL_DRAFTS):
                rows.load(row.telegram_id, DraftRecord(row.telegram_id, row.day, row.class_name, dict(row.picks),
                                                       row.page))
            self._drafts = rows
        return self._drafts

    def draft(self, session: Session, user: int) -> DraftRecord | None:
        drafts = self.drafts(session)
        record = drafts.rows.get(user)
        if record is not None:
            drafts.touch(user)
        return record

    def put_draft(self, session: Session, record: DraftRecord) -> None:
        self.drafts(session).put(record.telegram_id, record)

    def drop_draft(self, session: Session, user: int) -> None:
        self.drafts(session).drop(user)

    # ------------------------------------------------------------------------------------ seats

    def student_rows(self, session: Session, scope: Any, start: date, end: date, nis: str | None) -> Any:
        """The students of a report's scope and period (`reports.snapshot.student_rows`: who sat in which class
        when), computed once: they change only when the roster is seated (`Engine.sync_roster` forgets them)."""
        from .reports import history  # the reports package only when a view is asked for
        from .reports.snapshot import student_rows

        key = (scope, start, end, nis)
        rows = self._student_rows.get(key)
        if rows is None:
            years = tuple(history.years_of(start, end))
            seats = self._seats.get(years)
            if seats is None:
                seats = self._seats[years] = history.seats_of_years(session, start, end)
            rows = self._student_rows[key] = student_rows(session, self.school, scope, start, end, nis, seats)
        return rows

    # ------------------------------------------------------------------------------------ writing

    def flush(self, session: Session) -> None:
        """Write what the turn changed: each kind of row in one statement per insert, update and delete."""
        connection: Connection | None = None

        def run(statement: Any, rows: list[dict[str, Any]], expect: bool = False) -> None:
            nonlocal connection
            if not rows:
                return
            connection = connection or session.connection()
            result = connection.execute(statement, rows)
            if expect and result.rowcount >= 0 and connection.dialect.supports_sane_multi_rowcount \
                    and result.rowcount != len(rows):
                raise StaleLive(f"{len(rows) - result.rowcount} row(s) gone from the store ({statement.table})")

        for held in self._days.values():
            records, changed_records, _ = held.records.due()
            run(queries.ADD_ABSENCE, [r.row() for r in records])
            run(queries.UPDATE_ABSENCE, [r.changes() for r in changed_records], expect=True)
            reports, changed_reports, _ = held.reports.due()
            run(queries.ADD_REPORT, [{"class_name": r.class_name, "day": r.day, "reporter": r.reporter,
                                      "source": r.source, "at": r.at, "nihil": r.nihil} for r in reports])
            run(queries.UPDATE_REPORT, [{"k_class": r.class_name, "k_day": r.day, "v_reporter": r.reporter,
                                         "v_source": r.source, "v_at": r.at, "v_nihil": r.nihil}
                                        for r in changed_reports], expect=True)
        changes, self._changes = self._changes, []
        run(queries.ADD_CHANGE, changes)
        if self._senders is not None:
            senders, changed_senders, _ = self._senders.due()
            run(queries.ADD_SENDER, [r.row() for r in senders])
            run(queries.UPDATE_SENDER, [r.changes() for r in changed_senders], expect=True)
        counters, changed_counters, _ = self._tallies.due()
        run(queries.ADD_TALLY, [{"key": r.key, "count": r.count, "updated_at": r.updated_at} for r in counters])
        run(queries.UPDATE_TALLY, [{"k_key": r.key, "v_count": r.count, "v_at": r.updated_at}
                                   for r in changed_counters], expect=True)
        if self._drafts is not None:
            drafts, changed_drafts, dropped = self._drafts.due()
            run(queries.ADD_DRAFT, [{"telegram_id": r.telegram_id, "day": r.day, "class_name": r.class_name,
                                     "picks": dict(r.picks), "page": r.page} for r in drafts])
            run(queries.UPDATE_DRAFT, [{"k_user": r.telegram_id, "v_day": r.day, "v_class": r.class_name,
                                        "v_picks": dict(r.picks), "v_page": r.page} for r in changed_drafts],
                expect=True)
            run(queries.DROP_DRAFT, [{"k_user": user} for user in dropped], expect=True)

    # ------------------------------------------------------------------------------------ checking

    def snapshot(self) -> dict[str, Any]:
        """What is held, as plain values (the test that it equals a fresh load from the store compares them);
        None for a part not loaded."""
        parents = self._parents

        def rows(part: Rows[Any] | None) -> dict[Any, tuple[Any, ...]] | None:
            return None if part is None else {key: record.values() for key, record in part.rows.items()}

        return {
            "parents": None if parents is None else sorted(
                (link.id, link.phone, link.nis, link.active) for link in parents.by_pair.values()),
            "senders": rows(self._senders),
            "tallies": rows(self._tallies),
            "days": {day: (rows(held.records), rows(held.reports)) for day, held in self._days.items() if held.whole},
            "drafts": rows(self._drafts),
            "links": None if self._links is None else dict(self._links.by_phone),
        }

    def pending(self) -> bool:
        """Whether anything changed in memory is not written yet (never so between two messages)."""
        parts = [self._senders, self._tallies, self._drafts] + [p for held in self._days.values()
                                                                 for p in (held.records, held.reports)]
        return bool(self._changes) or any(part is not None and (part.touched or part.dropped) for part in parts)
