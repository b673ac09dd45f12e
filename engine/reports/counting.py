"""The single place where absences are counted: every report, view and text reads its figures here.

Decisions (SPEC §1, §2, §7), written once so that every report agrees:

* **Hari Efektif** = the school days of the period (weekdays of `school_days`, minus holidays) up to
  the period's last day and never after the snapshot's `today` (a day that has not happened is not
  counted, and neither is a record already made for it, e.g. a parent's SAKIT for tomorrow). The
  snapshot's `school_day_set` applies this once; nothing else may be counted.
* History keeps its classes: a row of a report is a student's seat in one class. A student who moved
  mid-period has a row in each class, and each row's Hari Efektif is the counted school days spent in
  that class (`Snapshot.days_by_row`); a record counts in the row of the class it was made in.
* A student with no record on a school day of their row was present.
* **How a reason counts** follows the rules (`reasons.yaml`, `erapor`): a reason with an e-Rapor total
  (`sakit`, `izin`, `tanpa_keterangan`) counts as absent, in exactly that total; a reason without one
  (default: D dispensasi) is a day present, so it is in **Hadir**, not in any absence total.
* Hence, for every row, **Hadir + the absence columns that count as absent = Hari Efektif**, and for
  a group the same with its **student-days** (hari-siswa: the sum of its rows' Hari Efektif, which is
  Jumlah Siswa × Hari Efektif when nobody moved). The e-Rapor totals Sakit + Izin + Tanpa Keterangan
  are exactly the days counted as absent, each in one total.
* **% Kehadiran** = Hadir ÷ Hari Efektif × 100 and **% Ketidakhadiran** = counted absences ÷ Hari
  Efektif × 100 (for a group: ÷ its student-days). Both describe one whole, so they are rounded
  together to 2 decimals by the largest-remainder method and always add up to 100,00 %.
  For two parts this is ordinary rounding half up (a tie goes to Hadir).
* The counsellor's consecutive-days rule uses the same "counts as absent".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .model import BUCKET_LABELS, BUCKETS, Entry, Snapshot, StudentRow

PCT_DIGITS = 2
HARI_EFEKTIF_NOTE = (
    "Hari Efektif = hari sekolah pada periode ini (tanpa hari libur dan hari di luar hari sekolah), "
    "sampai hari ini: hari yang belum berlalu tidak dihitung."
)
ROUNDING_NOTE = (
    "Persentase dibulatkan 2 desimal dengan metode sisa terbesar (largest remainder), "
    "sehingga % kehadiran + % ketidakhadiran = 100 %."
)


def shares(parts: Sequence[int], digits: int = PCT_DIGITS) -> list[float] | None:
    """Each part as a percentage of their sum, rounded by largest remainder so they add up to exactly 100.

    Exact integer arithmetic: each part gets the floor of its share in units of 10^-digits %, then the
    units left over go to the parts with the largest remainders (ties: the earlier part). None when
    the sum is zero (nothing to divide by).
    """
    whole = sum(parts)
    if whole <= 0:
        return None
    units = 100 * 10**digits
    floors = [p * units // whole for p in parts]
    remainders = [p * units % whole for p in parts]
    left = units - sum(floors)
    for i in sorted(range(len(parts)), key=lambda k: (-remainders[k], k))[:left]:
        floors[i] += 1
    return [f / 10**digits for f in floors]


@dataclass(frozen=True, slots=True)
class Tally:
    """One row's (or one group's) counts over the counted school days it covers.

    `counting` is the rules' map reason → e-Rapor total (None = not absent); it travels with the counts
    so that every figure below is derived from one definition. `school_days` is the Hari Efektif shown
    (a row's own; a group's is the period's), `person_days` the whole the percentages divide (a row: its
    Hari Efektif; a group: the sum of its rows'), `members` the students counted (a moved student once).
    """

    counts: Counter[str]
    school_days: int  # Hari Efektif
    counting: Mapping[str, str | None]
    person_days: int
    members: frozenset[str] = frozenset()

    @property
    def students(self) -> int:
        return len(self.members)

    @property
    def everyone_all_days(self) -> bool:
        """Every student counted over all the Hari Efektif: the group's whole is Jumlah Siswa × Hari Efektif."""
        return self.person_days == self.students * self.school_days

    def count(self, status: str) -> int:
        return self.counts[status]

    def counts_as_absent(self, status: str) -> bool:
        return self.counting.get(status) is not None

    @property
    def absent_days(self) -> int:
        """Days counted as absent (= Sakit + Izin + Tanpa Keterangan)."""
        return sum(n for status, n in self.counts.items() if self.counts_as_absent(status))

    @property
    def hadir(self) -> int:
        return self.person_days - self.absent_days

    @property
    def buckets(self) -> dict[str, int]:
        """The e-Rapor totals (sakit, izin, tanpa_keterangan) after the rules' D/P setting."""
        totals = dict.fromkeys(BUCKETS, 0)
        for status, n in self.counts.items():
            bucket = self.counting.get(status)
            if bucket is not None:
                totals[bucket] = totals.get(bucket, 0) + n
        return totals

    @property
    def _split(self) -> list[float] | None:
        return shares([self.hadir, self.absent_days])

    @property
    def pct_hadir(self) -> float | None:
        split = self._split
        return split[0] if split else None

    @property
    def pct_absent(self) -> float | None:
        split = self._split
        return split[1] if split else None

    def __add__(self, other: Tally) -> Tally:
        """The group of both: counts and student-days add up; a student in both is one member."""
        return Tally(self.counts + other.counts, max(self.school_days, other.school_days), self.counting,
                     self.person_days + other.person_days, self.members | other.members)


def empty_tally(snap: Snapshot) -> Tally:
    """A group of nobody over the period's Hari Efektif."""
    return Tally(Counter(), hari_efektif(snap), snap.counting, 0)


def hari_efektif(snap: Snapshot) -> int:
    """The period's Hari Efektif (a row's own may be fewer: see `row_days`)."""
    return len(snap.sorted_school_days)


def row_days(snap: Snapshot, row: StudentRow) -> tuple[date, ...]:
    """The counted school days the student spent in the row's class: the row's Hari Efektif."""
    return snap.days_by_row.get(row.key, snap.sorted_school_days)


def student_days(snap: Snapshot, nis: str, days: Iterable[date] | None = None) -> dict[date, Entry]:
    """The student's counted entries (counted school days only), optionally limited to some days."""
    entries = snap.entries_by_student.get(nis, {})
    if days is None:
        return dict(entries)
    return {d: entries[d] for d in days if d in entries}


def tally_row(snap: Snapshot, row: StudentRow) -> Tally:
    """Counts for one row (a student in one class) over the counted school days spent in that class."""
    entries = snap.entries_of(row)
    days = len(row_days(snap, row))
    return Tally(Counter(e.status for e in entries.values()), days, snap.counting, days, frozenset({row.nis}))


def tally_student(snap: Snapshot, student: StudentRow | str) -> Tally:
    """Counts for a row, or for a student (by NIS) over all their rows in the snapshot (their classes in scope)."""
    if isinstance(student, StudentRow):
        return tally_row(snap, student)
    rows = snap.rows_by_student.get(student, ())
    days = len({d for row in rows for d in row_days(snap, row)})
    entries = snap.entries_by_student.get(student, {})
    return Tally(Counter(e.status for e in entries.values()), days, snap.counting, days, frozenset({student}))


def sum_tallies(snap: Snapshot, tallies: Iterable[Tally]) -> Tally:
    """A group's tally (class, department, grade, school) is the sum of its rows' tallies."""
    total = empty_tally(snap)
    for tally in tallies:
        total = total + tally
    return total


def tally_rows(snap: Snapshot, rows: Iterable[StudentRow]) -> Tally:
    return sum_tallies(snap, (tally_row(snap, row) for row in rows))


def rows_on(rows: Iterable[StudentRow], day: date) -> list[StudentRow]:
    """The rows whose student was in that class on `day`."""
    return [row for row in rows if row.holds(day)]


def day_counts(snap: Snapshot, students: Iterable[StudentRow], day: date) -> Counter[str]:
    """Statuses of some rows on one day (empty on a day that is not counted)."""
    return Counter(
        entry.status
        for student in students
        if (entry := snap.entries_of(student).get(day)) is not None
    )


def day_tally(snap: Snapshot, students: Sequence[StudentRow], day: date) -> Tally:
    """Some rows on one counted day: a group of one day, so Hadir + absences = the students in class that day."""
    present = rows_on(students, day)
    members = frozenset(row.nis for row in present)
    return Tally(day_counts(snap, present, day), 1, snap.counting, len(members), members)


# --- the words that state these rules (footnotes and texts use them, so they match the numbers) ----------


def absent_codes(snap: Snapshot) -> list[str]:
    return [s for s in snap.statuses if snap.is_absence(s)]


def present_codes(snap: Snapshot) -> list[str]:
    return [s for s in snap.statuses if not snap.is_absence(s)]


def named(snap: Snapshot, status: str) -> str:
    """'S Sakit': the letter with the reason's name beside it, as every view shows it (SPEC §4)."""
    return f"{status} {snap.label(status)}"


def hadir_formula(snap: Snapshot) -> str:
    """'Hadir = Hari Efektif − (S + I + A + P)' with the reasons the rules count as absent."""
    codes = absent_codes(snap)
    return f"Hadir = Hari Efektif − ({' + '.join(codes)})" if codes else "Hadir = Hari Efektif"


def counting_note(snap: Snapshot) -> str:
    """How the rules count each reason: its e-Rapor total, or a day present."""
    parts = []
    for status in snap.statuses:
        bucket = snap.counting.get(status)
        target = BUCKET_LABELS.get(bucket, bucket) if bucket else "dihitung hadir (bukan ketidakhadiran)"
        parts.append(f"{status} ({snap.label(status)}) → {target}")
    return "Penghitungan (aturan reasons.yaml): " + "; ".join(parts) + f". {hadir_formula(snap)}."


def absence_note(reasons: Mapping[str, str], absent: Iterable[str]) -> str:
    """One line for a chat text: which reasons count as absent and which as present (from a table's extra)."""
    absent = set(absent)
    named_ = {s: f"{s} {name}" for s, name in reasons.items()}
    counted = ", ".join(n for s, n in named_.items() if s in absent)
    present = ", ".join(n for s, n in named_.items() if s not in absent)
    line = f"Dihitung tidak hadir: {counted or '-'}"
    return f"{line}; dihitung hadir: {present}." if present else f"{line}."
