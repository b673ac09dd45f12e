"""The school calendar: which days are school days, semesters, and the effective day of a message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


@dataclass(frozen=True)
class Semester:
    name: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class SchoolCalendar:
    tz: ZoneInfo
    weekdays: frozenset[int]  # 0 = Monday
    holidays: frozenset[date]
    semesters: tuple[Semester, ...]

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def is_school_day(self, day: date) -> bool:
        """A school weekday, not a holiday, and inside a semester (when school.yaml lists semesters)."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return False
        return not self.semesters or any(day in s for s in self.semesters)

    def next_school_day(self, day: date) -> date:
        """The first school day after `day` (gives up after a year: a calendar without school days)."""
        for offset in range(1, 367):
            candidate = day + timedelta(days=offset)
            if self.is_school_day(candidate):
                return candidate
        return day + timedelta(days=1)

    def effective_day(self, now: datetime, cutoff: time) -> date:
        """Today before the cutoff on a school day, else the next school day."""
        local = self.local(now)
        if self.is_school_day(local.date()) and local.time() < cutoff:
            return local.date()
        return self.next_school_day(local.date())

    def school_days(self, start: date, end: date) -> list[date]:
        return [d for d in days_between(start, end) if self.is_school_day(d)]

    def semester_of(self, day: date) -> Semester | None:
        return next((s for s in self.semesters if day in s), None)

    def semester_named(self, name: str) -> Semester | None:
        """By its name in school.yaml, or by an unambiguous part of it ("ganjil", "2026/2027 genap")."""
        wanted = name.strip().lower()
        exact = [s for s in self.semesters if s.name.lower() == wanted]
        partial = [s for s in self.semesters if wanted and wanted in s.name.lower()]
        return exact[0] if exact else partial[0] if len(partial) == 1 else None


def days_between(start: date, end: date) -> Iterator[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def tanggal(day: date, with_weekday: bool = True) -> str:
    """`Senin, 30 November 2026` — dates as Indonesian readers expect them."""
    text = f"{day.day} {BULAN[day.month - 1]} {day.year}"
    return f"{HARI[day.weekday()]}, {text}" if with_weekday else text
