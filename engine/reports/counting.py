"""The single place where absences are counted.

Decisions (SPEC §1, §7), written once here so that every report agrees:

* Only school days count. An entry on any other day is ignored (the snapshot index drops it).
* A student with no entry on a school day was present.
* **Hadir** = school days − days with any status (S, I, A, D or P). A student on dispensasi or sent
  home is not in class, so it is not a day present; therefore S + I + A + D + P + Hadir = Hari Efektif
  for every student, and **% Kehadiran** = Hadir ÷ Hari Efektif × 100 (SPEC: days present ÷ school days).
* The e-Rapor columns (Sakit, Izin, Tanpa Keterangan) follow the rules' `counting` map: by default
  D is not counted at all and P is counted as Tanpa Keterangan (and still shown under Dipulangkan).
* Class absence % = Σ(S + I + A) ÷ (students × school days) × 100, the SPEC formula as written,
  using the raw S, I and A marks of the monthly book.
* "Absent" for the counsellor's consecutive-days rule means a status the rules count as absence
  (default: all but D), so a student away on a school competition is not flagged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .fmt import percentage
from .model import IZIN, SAKIT, TANPA_KETERANGAN, Entry, Snapshot, StudentRow


@dataclass(frozen=True, slots=True)
class Tally:
    """One student's (or one group's) counts over a set of school days."""

    counts: Counter[str]
    school_days: int
    students: int = 1

    @property
    def absent_days(self) -> int:
        return sum(self.counts.values())

    @property
    def hadir(self) -> int:
        return self.students * self.school_days - self.absent_days

    @property
    def pct_hadir(self) -> float | None:
        return percentage(self.hadir, self.students * self.school_days)

    @property
    def pct_absence_sia(self) -> float | None:
        """The class-book formula: Σ(S+I+A) ÷ (students × school days) × 100."""
        sia = self.counts["S"] + self.counts["I"] + self.counts["A"]
        return percentage(sia, self.students * self.school_days)

    def count(self, status: str) -> int:
        return self.counts[status]

    def __add__(self, other: Tally) -> Tally:
        if self.school_days != other.school_days:
            raise ValueError("cannot add tallies over different periods")
        return Tally(self.counts + other.counts, self.school_days, self.students + other.students)


def empty_tally(school_days: int, students: int = 0) -> Tally:
    return Tally(Counter(), school_days, students)


def student_days(snap: Snapshot, nis: str, days: Iterable[date] | None = None) -> dict[date, Entry]:
    """The student's counted entries (school days only), optionally limited to some days."""
    entries = snap.entries_by_student.get(nis, {})
    if days is None:
        return dict(entries)
    return {d: entries[d] for d in days if d in entries}


def tally_student(snap: Snapshot, nis: str, days: Sequence[date] | None = None) -> Tally:
    """Counts for one student over `days` (default: all school days of the snapshot)."""
    chosen = snap.sorted_school_days if days is None else [d for d in days if d in snap.school_day_set]
    entries = student_days(snap, nis, chosen)
    return Tally(Counter(e.status for e in entries.values()), len(chosen))


def sum_tallies(snap: Snapshot, tallies: Iterable[Tally]) -> Tally:
    """A group's tally (class, department, grade, school) is the sum of its members' tallies."""
    total = empty_tally(len(snap.sorted_school_days))
    for tally in tallies:
        total = total + tally
    return total


def tally_students(snap: Snapshot, nis_list: Iterable[str]) -> Tally:
    return sum_tallies(snap, (tally_student(snap, nis) for nis in nis_list))


def day_counts(snap: Snapshot, students: Iterable[StudentRow], day: date) -> Counter[str]:
    """Statuses of some students on one day (empty on a non-school day)."""
    return Counter(
        entry.status
        for student in students
        if (entry := snap.entries_by_student.get(student.nis, {}).get(day)) is not None
    )


def erapor_buckets(snap: Snapshot, tally: Tally) -> dict[str, int]:
    """Sakit / Izin / Tanpa Keterangan after the rules' D/P setting."""
    buckets = {SAKIT: 0, IZIN: 0, TANPA_KETERANGAN: 0}
    for status, n in tally.counts.items():
        bucket = snap.counting.get(status)
        if bucket in buckets:
            buckets[bucket] += n
    return buckets
