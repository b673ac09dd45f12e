"""The input seam of the reports: a plain, in-memory snapshot of one scope and one period.

The engine (which owns the store, the calendar and the viewer's scope) builds a `Snapshot` and hands
it over; the report code never touches the database and never reads the clock. Everything in a
snapshot is already limited to what the viewer may see, so a report can only show less, never more.

Datetimes are expected in school-local time (they are printed as they are).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

# The shipped rules' reasons (rules/reasons.yaml), for a Snapshot built without rules (tests, benchmarks).
# The engine always passes the reasons, names and counting of the rules in force: reports never assume these.
STATUSES: tuple[str, ...] = ("S", "I", "A", "D", "P")

STATUS_LABELS: Mapping[str, str] = {
    "S": "Sakit",
    "I": "Izin",
    "A": "Alfa",
    "D": "Dispensasi",
    "P": "Dipulangkan",
}

# e-Rapor buckets. The report card only knows these three; D and P are mapped by a rule setting.
SAKIT, IZIN, TANPA_KETERANGAN = "sakit", "izin", "tanpa_keterangan"
BUCKETS: tuple[str, ...] = (SAKIT, IZIN, TANPA_KETERANGAN)
BUCKET_LABELS: Mapping[str, str] = {SAKIT: "Sakit", IZIN: "Izin", TANPA_KETERANGAN: "Tanpa Keterangan"}
DEFAULT_COUNTING: Mapping[str, str | None] = {
    "S": SAKIT,
    "I": IZIN,
    "A": TANPA_KETERANGAN,
    "D": None,
    "P": TANPA_KETERANGAN,
}


@dataclass(frozen=True, slots=True)
class StudentRow:
    """A student's seat in one class for the period (SPEC §2 "history keeps its classes").

    `days` are the calendar days of the period the student spent in this class (None: the whole period);
    a student who moved mid-period has one row in each class, each counting only its own days, and `moved`
    says so ('pindah ke X TKJ 2 (2 Des)'). A snapshot holds at most one row per student and class.
    """

    nis: str
    nisn: str
    name: str
    class_name: str
    absen_no: int
    gender: str = ""
    days: frozenset[date] | None = None
    moved: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.nis, self.class_name

    def holds(self, day: date) -> bool:
        """The student was in this class on `day`."""
        return self.days is None or day in self.days

    @property
    def label(self) -> str:
        """The name as a class book prints it: with the move beside it ('Siti Rahma, pindah ke X TKJ 2 (2 Des)')."""
        return f"{self.name}, {self.moved}" if self.moved else self.name


@dataclass(frozen=True, slots=True)
class ClassRow:
    name: str
    grade: int
    department: str
    wali_kelas: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """The current status of one student on one day (withdrawn entries are simply not in the snapshot)."""

    nis: str
    day: date
    status: str  # 'S', 'I', 'A', 'D', 'P' (or a code the rules add)
    note: str = ""
    source: str = ""  # 'ketua_kelas', 'sekretaris', 'ortu', 'wali_kelas', 'guru_piket', …
    reporter: str = ""  # a person's name, or a parent's phone number (masked when printed)
    reported_at: datetime | None = None
    parent_contacted: bool = False
    class_name: str = ""  # the class the record was made in ('' = the student's row that holds the day)


@dataclass(frozen=True, slots=True)
class Change:
    """One change of an absence record; `old is None` is the first recording, `new is None` a withdrawal."""

    nis: str
    day: date
    old: str | None
    new: str | None
    by: str
    at: datetime
    source: str = ""


@dataclass(frozen=True, slots=True)
class ClassReport:
    """A class's report of the day (an absence line or NIHIL): proves the class was checked."""

    class_name: str
    day: date
    reporter: str
    at: datetime
    source: str = ""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a student needs the counsellor's attention (SPEC §7 defaults)."""

    alfa_per_month: int = 3
    consecutive_days: int = 3
    min_attendance_pct: float = 85.0
    gate_days: int = 2  # absent in class yet at the gate on this many days (rules/finger.yaml attention_days)


@dataclass(frozen=True, slots=True)
class Gate:
    """A student's day at the school's gate (fingerprint punches, SPEC §10), school time."""

    first: datetime  # Jam Datang
    last: datetime | None  # Jam Pulang: a later punch at least finger.min_stay_minutes after the first


@dataclass(frozen=True)
class Snapshot:
    """Everything one report needs, already limited to the viewer's scope.

    `school_days` are the school days of the period (weekdays of `school_days` minus holidays);
    `all_days` is every calendar day of the period so the monthly grid can shade the rest. Only the
    school days up to `today` are counted (`school_day_set`): a day that has not happened yet is no
    Hari Efektif, whoever builds the snapshot. `counting` maps a status to its e-Rapor bucket
    (None = not counted as absence: the day counts as present).

    `students` are rows, one per student and class (see `StudentRow`): most hold the whole period and
    are found by NIS; a student who moved within it has a row per class (within the scope), and the
    indexes that count go by row (`entries_by_row`, `days_by_row`, keyed by `StudentRow.key`).
    """

    school_name: str
    place: str
    headmaster: str
    period_label: str
    school_days: Sequence[date]
    all_days: Sequence[date]
    students: Sequence[StudentRow]
    classes: Sequence[ClassRow]
    entries: Sequence[Entry] = ()
    changes: Sequence[Change] = ()
    class_reports: Sequence[ClassReport] = ()
    counting: Mapping[str, str | None] = field(default_factory=lambda: dict(DEFAULT_COUNTING))
    thresholds: Thresholds = field(default_factory=Thresholds)
    statuses: Sequence[str] = STATUSES
    status_labels: Mapping[str, str] = field(default_factory=lambda: dict(STATUS_LABELS))
    scope_label: str = ""  # e.g. "Jurusan TKJ" or "X TKJ 1"; printed under the title
    printed_on: date | None = None  # date on the signature line; default: last day of the period
    today: date | None = None  # school days after it are not counted (None: the whole period has passed)
    # the punches of each (nis, day) with a record, when the snapshot was made `with_gate` (SPEC §10), and the
    # reasons that mean "not in class" (rules/finger.yaml absent_reasons: not D or P by default)
    gate: Mapping[tuple[str, date], Gate] = field(default_factory=dict)
    gate_reasons: frozenset[str] = frozenset()

    # Indexes are built once per snapshot and shared by every report computed from it.
    @cached_property
    def school_day_set(self) -> frozenset[date]:
        """The counted school days (Hari Efektif): the period's school days, never after `today`."""
        return frozenset(d for d in self.school_days if self.today is None or d <= self.today)

    @cached_property
    def sorted_school_days(self) -> tuple[date, ...]:
        return tuple(sorted(self.school_day_set))

    @cached_property
    def rows_by_student(self) -> Mapping[str, Sequence[StudentRow]]:
        """nis → the student's rows (one per class of the period), earliest first."""
        index: dict[str, list[StudentRow]] = defaultdict(list)
        for student in self.students:
            index[student.nis].append(student)
        for rows in index.values():
            if len(rows) > 1:  # (most students have one row)
                rows.sort(key=_first_day)
        return index

    def _rows_of(self, wanted: set[str]) -> Mapping[str, Sequence[StudentRow]]:
        """`rows_by_student` of some students: the whole index when it is made already or they are many; else
        only theirs (a day's report needs the rows of the day's records, not every student's)."""
        made = self.__dict__.get("rows_by_student")
        if made is not None or len(wanted) * 2 > len(self.students):
            return made if made is not None else self.rows_by_student
        index: dict[str, list[StudentRow]] = {}
        for student in self.students:
            if student.nis in wanted:
                index.setdefault(student.nis, []).append(student)
        for rows in index.values():
            if len(rows) > 1:
                rows.sort(key=_first_day)
        return index

    @cached_property
    def entries_by_row(self) -> Mapping[tuple[str, str], Mapping[date, Entry]]:
        """row key (nis, class) → day → entry, counted school days only: nothing else may ever be counted.

        A record belongs to the row of the class it was made in when that row holds the day, else to the
        student's row that holds the day; a record on a day no row of the snapshot holds (the student was
        in a class outside the scope) is not there at all.
        """
        index: dict[tuple[str, str], dict[date, Entry]] = defaultdict(dict)
        days = self.school_day_set
        rows_of = self._rows_of({entry.nis for entry in self.entries})
        for entry in self.entries:
            if entry.day not in days:
                continue
            rows = [r for r in rows_of.get(entry.nis, ()) if r.holds(entry.day)]
            if rows:
                row = next((r for r in rows if r.class_name == entry.class_name), rows[0])
                index[row.key][entry.day] = entry
        return index

    @cached_property
    def entries_by_student(self) -> Mapping[str, Mapping[date, Entry]]:
        """nis → day → entry over all the student's rows in the snapshot (counted school days only)."""
        index: dict[str, dict[date, Entry]] = defaultdict(dict)
        for (nis, _), entries in self.entries_by_row.items():
            index[nis].update(entries)
        return index

    def entries_of(self, row: StudentRow) -> Mapping[date, Entry]:
        return self.entries_by_row.get(row.key, {})

    @cached_property
    def days_by_row(self) -> Mapping[tuple[str, str], tuple[date, ...]]:
        """row key → the counted school days the student spent in that class (the row's Hari Efektif)."""
        every = self.sorted_school_days
        return {s.key: every if s.days is None else tuple(d for d in every if d in s.days) for s in self.students}

    @cached_property
    def changes_by_student(self) -> Mapping[str, Sequence[Change]]:
        """nis → the changes of the days one of the student's rows holds (a class outside the scope: none)."""
        index: dict[str, list[Change]] = defaultdict(list)
        rows_of = self.rows_by_student
        for change in sorted(self.changes, key=lambda c: (c.day, c.at)):
            if any(r.holds(change.day) for r in rows_of.get(change.nis, ())):
                index[change.nis].append(change)
        return index

    @cached_property
    def class_by_name(self) -> Mapping[str, ClassRow]:
        return {c.name: c for c in self.classes}

    @cached_property
    def student_by_nis(self) -> Mapping[str, StudentRow]:
        """nis → the student's latest row in the snapshot."""
        return {nis: rows[-1] for nis, rows in self.rows_by_student.items()}

    @cached_property
    def students_by_class(self) -> Mapping[str, Sequence[StudentRow]]:
        index: dict[str, list[StudentRow]] = defaultdict(list)
        for student in self.students:
            index[student.class_name].append(student)
        for rows in index.values():
            rows.sort(key=lambda s: (s.absen_no, s.name))
        return index

    @property
    def signing_date(self) -> date | None:
        """The date on the signature line; never the wall clock (reports must be reproducible)."""
        if self.printed_on is not None:
            return self.printed_on
        days = self.all_days or self.school_days
        return max(days) if days else None

    def label(self, status: str) -> str:
        return self.status_labels.get(status, status)

    def short_label(self, status: str) -> str:
        """The reason's first word, for a column heading: 'Dipulangkan karena terlambat' → 'Dipulangkan'."""
        label = self.label(status)
        return label.split()[0] if label.split() else status

    def is_absence(self, status: str) -> bool:
        """Counted as an absence by the rules (default: everything but D, which counts as present)."""
        return self.counting.get(status) is not None

    def class_order(self) -> list[ClassRow]:
        """Classes in the order a school lists them: grade, department, name."""
        return sorted(self.classes, key=lambda c: (c.grade, c.department, _natural(c.name)))


def _first_day(row: StudentRow) -> date:
    """A row's first day in its class (a row over the whole period: before any other)."""
    return min(row.days) if row.days else date.min


def _natural(name: str) -> tuple[tuple[int, int, str], ...]:
    """'X TKJ 2' before 'X TKJ 10' (numbers compare as numbers, words as words)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in name.split())
