"""Punches in the store (SPEC §10): each machine user id mapped to a student, each punch stored once, and a
day's arrivals read back for the cross-checks and the reports.

A user id maps to the student whose `finger_id` (else NIS) it is, ignoring leading zeros (`roster.finger_key`).
A punch of an id no student has (a teacher, a visitor's test) is stored with no student, counted and listed,
never dropped: a later `finger_id` in students.csv gives it its student on the next import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlmodel import Session, SQLModel

from ..school.model import School
from ..school.roster import finger_key
from ..store import models  # noqa: F401  (registers the punch table)
from .files import RawPunch

P: Table = SQLModel.metadata.tables["punch"]  # Core columns (typed, unlike the model's attributes)


def finger_ids(school: School) -> dict[str, str]:
    """finger_key → NIS for every student of the roster."""
    return {finger_key(s.finger_id or s.nis): s.nis for s in school.students.values()}


@dataclass
class Unknown:
    user_id: str
    file: str
    line: int  # where it was first seen
    count: int = 0


@dataclass
class ImportResult:
    read: int = 0
    added: int = 0
    again: int = 0  # in the store already, or twice in what was read
    future: int = 0  # later than the import's own time: a machine clock ahead?
    matched_later: int = 0  # punches stored earlier with an unknown id that now have their student
    unknown: dict[str, Unknown] = field(default_factory=dict)  # by finger_key

    @property
    def unknown_punches(self) -> int:
        return sum(u.count for u in self.unknown.values())


def store_punches(session: Session, school: School, punches: list[RawPunch], now: datetime) -> ImportResult:
    """Add the punches not stored yet (by machine, user id and time); times are school time."""
    result = ImportResult(read=len(punches))
    ids = finger_ids(school)
    tz = school.calendar.tz
    fresh: dict[tuple[str, str, datetime], dict[str, object]] = {}
    for punch in punches:
        at = punch.at.replace(tzinfo=tz).astimezone(UTC)
        nis = ids.get(finger_key(punch.user_id))
        if nis is None:
            seen = result.unknown.setdefault(finger_key(punch.user_id), Unknown(punch.user_id, punch.file, punch.line))
            seen.count += 1
        if at > now:
            result.future += 1
        row: dict[str, object] = {"nis": nis, "user_id": punch.user_id[:32], "at": at, "device": punch.device[:64], "source": punch.source,
               "imported_at": now}
        fresh.setdefault((punch.device[:64], punch.user_id[:32], at), row)
    if fresh:
        devices = sorted({device for device, _, _ in fresh})
        moments = [at for _, _, at in fresh]
        stored = session.execute(select(P.c.device, P.c.user_id, P.c.at).where(
            P.c.device.in_(devices), P.c.at >= min(moments), P.c.at <= max(moments))).all()
        for known in stored:
            fresh.pop((known[0], known[1], known[2]), None)
    if fresh:
        session.execute(insert(P), list(fresh.values()))
    result.added = len(fresh)
    result.again = result.read - result.added
    result.matched_later = match_unknown(session, ids)
    return result


def match_unknown(session: Session, ids: dict[str, str]) -> int:
    """Give stored punches of ids that were unknown their student, now that the roster knows them."""
    count = 0
    for user_id in session.scalars(select(P.c.user_id).where(P.c.nis.is_(None)).distinct()).all():
        nis = ids.get(finger_key(user_id))
        if nis is not None:
            done = session.execute(update(P).where(P.c.nis.is_(None), P.c.user_id == user_id).values(nis=nis))
            count += done.rowcount or 0  # type: ignore[attr-defined]
    return count


# ------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Arrival:
    """A student's day at the gate, school time: the first punch, and the last when it is a departure."""

    first: datetime
    last: datetime | None


def day_bounds(school: School, day: date) -> tuple[datetime, datetime]:
    tz = school.calendar.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def arrivals(session: Session, school: School, day: date, *, until: datetime | None = None,
             min_stay_minutes: int = 60, students: Iterable[str] | None = None) -> dict[str, Arrival]:
    """NIS → the day's first and last punch (the last only when at least `min_stay_minutes` after the first:
    a second press at the gate is not going home). `until`: only punches up to that moment."""
    start, end = day_bounds(school, day)
    if until is not None:
        end = min(end, until + timedelta(microseconds=1))
    values: dict[str, object] = {"start": start, "end": end}
    if students is not None:
        values["students"] = sorted(students)
    tz = school.calendar.tz
    found: dict[str, Arrival] = {}
    # on the session's connection: a Core read of a table the engine's in-memory state does not hold, so it
    # needs no flush of that state first (an ORM execute would trigger `core.autoflush`)
    rows = session.connection().execute(_ARRIVALS if students is None else _ARRIVALS_OF, values).all()
    for nis, first, last in rows:
        gone = last if last - first >= timedelta(minutes=min_stay_minutes) else None
        found[nis] = Arrival(first.astimezone(tz), gone.astimezone(tz) if gone is not None else None)
    return found


# arrivals' statements, built once (the absence flow runs one for every alfa reported today: issue 11)
_ARRIVALS = (select(P.c.nis, func.min(P.c.at), func.max(P.c.at))
             .where(P.c.nis.is_not(None), P.c.at >= bindparam("start"), P.c.at < bindparam("end")).group_by(P.c.nis))
_ARRIVALS_OF = _ARRIVALS.where(P.c.nis.in_(bindparam("students", expanding=True)))


def any_punch(session: Session, school: School, day: date, until: datetime) -> bool:
    """Did any machine report anything that day up to `until`? (No punch at all: the logs are not in yet.)"""
    start, _ = day_bounds(school, day)
    return session.scalar(select(P.c.id).where(P.c.at >= start, P.c.at <= until).limit(1)) is not None


def gate_times(session: Session, school: School, wanted: Iterable[tuple[str, date]],
               min_stay_minutes: int = 60) -> dict[tuple[str, date], Arrival]:
    """(NIS, day) → that day's Arrival, for the pairs asked only (a report's records: Jam Datang, Jam Pulang):
    per day, the punches of that day's students (an index range each), GATE_DAYS days to a statement."""
    by_day: dict[date, set[str]] = {}
    for nis, day in wanted:
        by_day.setdefault(day, set()).add(nis)
    tz = school.calendar.tz
    spans: dict[tuple[str, date], tuple[datetime, datetime]] = {}
    days = sorted(by_day)
    if not days:
        return {}
    connection = session.connection()  # Core: no flush of the engine's in-memory state first (see `arrivals`)
    for i in range(0, len(days), GATE_DAYS):
        if len(days) == 1:  # one day (/hariini, harian): the statement built once
            start, end = day_bounds(school, days[0])
            rows = connection.execute(_GATE_DAY, {"students": sorted(by_day[days[0]]), "start": start, "end": end})
        else:
            terms = []
            for day in days[i : i + GATE_DAYS]:
                start, end = day_bounds(school, day)
                terms.append(and_(P.c.nis.in_(sorted(by_day[day])), P.c.at >= start, P.c.at < end))
            rows = connection.execute(select(P.c.nis, P.c.at).where(or_(*terms)))
        for nis, at in rows.all():
            local = at.astimezone(tz)
            key = (nis, local.date())
            first, last = spans.get(key, (local, local))
            spans[key] = (min(first, local), max(last, local))
    stay = timedelta(minutes=min_stay_minutes)
    return {key: Arrival(first, last if last - first >= stay else None) for key, (first, last) in spans.items()}


GATE_DAYS = 40  # days per statement: a semester in three, far under the backends' limits on parameters
_GATE_DAY = select(P.c.nis, P.c.at).where(P.c.nis.in_(bindparam("students", expanding=True)),
                                          P.c.at >= bindparam("start"), P.c.at < bindparam("end"))
