"""One pure function per report of SPEC §7, each returning a `Table`.

Every figure is defined (and computed) once, in `counting`; the period recaps live in
`rekap`. This module holds the day reports (harian, status), one student's history (riwayat) and
the counsellor's list (perhatian), and re-exports the rest so callers import from one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date

from .counting import (
    Tally,
    counting_note,
    day_tally,
    named,
    row_days,
    rows_on,
    tally_student,
)
from .fmt import (
    clock,
    mask_phone,
    month_label,
    pct,
    reporter_label,
    short_date,
    source_label,
    stamp,
    weekday_date,
    yes_no,
)
from .model import (
    Change,
    ClassReport,
    ClassRow,
    Entry,
    Snapshot,
    StudentRow,
)
from .rekap import (
    daily_trend,
    make_table,
    per_class,
    rekap_kelas,
    rekap_sekolah,
    semester,
    signatures,
)
from .table import Column, Row, Table

__all__ = [
    "daily_trend", "harian", "per_class", "perhatian", "rekap_kelas", "rekap_sekolah", "riwayat",
    "semester", "status",
]  # fmt: skip

OFFICER_SOURCES = frozenset({"ketua_kelas", "sekretaris", "wali_kelas"})
ALFA = "A"  # the reason the perhatian threshold `alfa_per_month` counts (SPEC §7: "A ≥ 3 in a month")
GATE_NOT_CLASS = "Hadir di Gerbang, Tidak di Kelas"  # perhatian: days absent in class yet clocked in (SPEC §10)


def _in_school_order(snap: Snapshot) -> Iterator[StudentRow]:
    for cls in snap.class_order():
        yield from snap.students_by_class.get(cls.name, [])


def _scope(snap: Snapshot) -> str:
    return snap.scope_label or "Seluruh Sekolah"


# --- Laporan Harian ------------------------------------------------------------------------------

HARIAN_COLUMNS = (
    Column("Tanggal", "date", 11), Column("Kelas", "text", 12), Column("No", "int", 4), Column("NIS", "code", 11),
    Column("Nama", "text", 28), Column("Status", "code", 7), Column("Keterangan", "text", 26),
    Column("Pelapor", "text", 26), Column("Waktu Lapor", "time", 9), Column("Ortu Dihubungi", "code", 11),
    Column("Jam Datang", "time", 8), Column("Jam Pulang", "time", 8),
)  # fmt: skip


def harian(snap: Snapshot, day: date) -> Table:
    """Everyone absent on one day, by the class they were in that day and their absen number there.

    Read from the day's records, not from every student: `/hariini` asks for it all morning (the same rows
    and tally as walking the school in order and looking each student up)."""
    rank = {cls.name: i for i, cls in enumerate(snap.class_order())}
    by_row = snap.entries_by_row
    marked = {key for key, days in by_row.items() if day in days}  # rows with a record that day
    present: set[str] = set()  # who was in one of the classes that day (one pass over the students)
    found = []
    for s in snap.students:
        if s.class_name in rank and (s.days is None or day in s.days):
            present.add(s.nis)
            if (s.nis, s.class_name) in marked:
                found.append(s)
    recorded = sorted(found, key=lambda s: (rank[s.class_name], s.absen_no, s.name))  # (stable, as a class is)
    entries = [by_row[student.key][day] for student in recorded]
    rows = [Row(_harian_values(day, student, entry) + gate_times(snap, student.nis, day))
            for student, entry in zip(recorded, entries, strict=True)]
    members = frozenset(present)
    tally = Tally(Counter(entry.status for entry in entries), 1, snap.counting, len(members), members)
    summary = ", ".join(f"{named(snap, s)} {tally.count(s)}" for s in snap.statuses)
    footer = [f"Jumlah tercatat: {len(rows)} siswa ({summary}); dihitung tidak hadir: {tally.absent_days} siswa."]
    if day not in snap.school_day_set:
        footer = ["Bukan hari sekolah."]
    return make_table(
        snap, "harian", "LAPORAN HARIAN KETIDAKHADIRAN SISWA", (_scope(snap), weekday_date(day)),
        columns=HARIAN_COLUMNS, rows=tuple(rows), footer=tuple(footer), sheet_name=short_date(day).replace("/", "-"),
        extra={"day": day, "counts": dict(tally.counts)},
    )  # fmt: skip


def _harian_values(day: date, student: StudentRow, entry: Entry) -> tuple[object, ...]:
    who = reporter_label(entry.source, entry.reporter)
    contacted = yes_no(entry.parent_contacted)
    return (day, student.class_name, student.absen_no, student.nis, student.name, entry.status, entry.note,
            who, clock(entry.reported_at), contacted)  # fmt: skip


# --- Status Pelaporan ----------------------------------------------------------------------------


def status(snap: Snapshot, day: date) -> Table:
    """Which classes have reported today (an absence line or NIHIL) and what they reported."""
    columns = (
        Column("Kelas", "text", 12), Column("Wali Kelas", "text", 26), Column("Jumlah Siswa", "int", 8),
        Column("Sudah Lapor", "code", 8), Column("Pelapor", "text", 26), Column("Waktu", "time", 7),
        *(Column(s, "int", 4) for s in snap.statuses),
    )  # fmt: skip
    reports = _first_reports(snap, day)
    rows = [_status_row(snap, cls, day, reports.get(cls.name)) for cls in snap.class_order()]
    done = sum(1 for r in rows if r.values[3] == "Ya")
    sums = (sum(int(r.values[6 + k] or 0) for r in rows) for k in range(len(snap.statuses)))
    pupils = sum(int(r.values[2] or 0) for r in rows)
    rows.append(Row(("Jumlah", None, pupils, f"{done}/{len(rows)}", None, None, *sums), "total"))
    missing = [str(r.values[0]) for r in rows if r.values[3] == "Belum"]
    footer = (f"Belum lapor: {', '.join(missing)}." if missing else "Semua kelas sudah lapor.",)
    return make_table(
        snap, "status", "STATUS PELAPORAN KELAS", (_scope(snap), weekday_date(day)), columns=columns,
        rows=tuple(rows), footer=footer, sheet_name="Status", extra={"reported": done, "classes": len(rows) - 1},
    )  # fmt: skip


def _status_row(snap: Snapshot, cls: ClassRow, day: date, first: ClassReport | None) -> Row:
    students = rows_on(snap.students_by_class.get(cls.name, []), day)
    counts = day_tally(snap, students, day).counts
    who = reporter_label(first.source, first.reporter) if first else ""
    return Row((cls.name, cls.wali_kelas, len(students), "Ya" if first else "Belum", who,
                clock(first.at) if first else "", *(counts[s] for s in snap.statuses)))  # fmt: skip


def _first_reports(snap: Snapshot, day: date) -> dict[str, ClassReport]:
    """The earliest report per class; an officer's entry counts as a report even without a ClassReport."""
    found = [r for r in snap.class_reports if r.day == day]
    for student in snap.students:
        entry = snap.entries_of(student).get(day)
        if entry is not None and entry.source in OFFICER_SOURCES and entry.reported_at:
            found.append(
                ClassReport(student.class_name, day, entry.reporter, entry.reported_at, entry.source)
            )
    first: dict[str, ClassReport] = {}
    for report in sorted(found, key=lambda r: r.at):
        first.setdefault(report.class_name, report)
    return first


# --- Riwayat Siswa -------------------------------------------------------------------------------

RIWAYAT_COLUMNS = (
    Column("Tanggal", "date", 11), Column("Status", "text", 13), Column("Keterangan", "text", 28),
    Column("Sumber", "text", 13), Column("Dicatat Oleh", "text", 22), Column("Waktu", "text", 12),
    Column("Koreksi", "text", 48), Column("Jam Datang", "time", 8), Column("Jam Pulang", "time", 8),
)  # fmt: skip


def riwayat(snap: Snapshot, nis: str) -> Table:
    """One student's absences over the period with every correction (old → new, by whom, when).

    Over the student's classes in the snapshot: a student who moved is shown in each class for the days
    spent there (the subtitle names them), and a viewer of one class sees only the days in that class.
    """
    seats = snap.rows_by_student.get(nis, ())
    if not seats:
        raise ValueError(f"siswa dengan NIS {nis!r} tidak ada dalam cakupan laporan")
    student = seats[-1]
    entries = snap.entries_by_student.get(nis, {})
    changes = [c for c in snap.changes_by_student.get(nis, []) if c.day in snap.school_day_set]
    days = sorted(set(entries) | {c.day for c in changes})
    rows = tuple(
        Row(_riwayat_values(snap, d, entries.get(d), [c for c in changes if c.day == d]) + gate_times(snap, nis, d))
        for d in days
    )
    tally = tally_student(snap, nis)
    cls = snap.class_by_name.get(student.class_name)
    subtitle = (f"Nama: {student.name}", f"NIS/NISN: {student.nis} / {student.nisn or '-'}",
                f"Kelas: {', '.join(_class_span(snap, s) for s in seats)}", f"Periode: {snap.period_label}")  # fmt: skip
    return make_table(
        snap, "riwayat", "RIWAYAT KETIDAKHADIRAN SISWA", subtitle, columns=RIWAYAT_COLUMNS, rows=rows,
        footer=(tally_sentence(snap, tally), counting_note(snap)), signatures=signatures(snap, cls.wali_kelas if cls else ""),
        sheet_name=student.nis, extra={"tally": tally, "classes": [s.class_name for s in seats]},
    )  # fmt: skip


def _class_span(snap: Snapshot, row: StudentRow) -> str:
    """'X TKJ 1' for the whole period; 'X TKJ 1 s.d. 01/12/2026', 'X TKJ 2 sejak 02/12/2026' for part of it."""
    if row.days is None or not snap.all_days:
        return row.class_name
    first, last = min(row.days), max(row.days)
    since = f" sejak {short_date(first)}" if first > min(snap.all_days) else ""
    until = f" s.d. {short_date(last)}" if last < max(snap.all_days) else ""
    return f"{row.class_name}{since}{until}"


def _riwayat_values(
    snap: Snapshot, day: date, entry: Entry | None, changes: Sequence[Change]
) -> tuple[object, ...]:
    # The first recording of the day is not a correction; everything after it is.
    fixes = "; ".join(correction_text(c) for i, c in enumerate(changes) if i > 0 or c.old is not None)
    if entry is None:
        return (day, "Dibatalkan", "", "", "", "", fixes)
    label = f"{entry.status} ({snap.label(entry.status)})"
    return (day, label, entry.note, source_label(entry.source), mask_phone(entry.reporter),
            stamp(entry.reported_at), fixes)  # fmt: skip


def correction_text(change: Change) -> str:
    """'A → S oleh Bu Sari (Orang Tua), 30/11 08:15'; a withdrawal shows as 'A → –'."""
    old, new = change.old or "–", change.new or "–"
    via = f" ({source_label(change.source)})" if change.source else ""
    return f"{old} → {new} oleh {mask_phone(change.by)}{via}, {stamp(change.at)}"


def tally_sentence(snap: Snapshot, tally: Tally) -> str:
    """'Jumlah: S Sakit 2, …; Hadir 16 dari 21 hari efektif (76,19 %).'"""
    counts = ", ".join(f"{named(snap, s)} {tally.count(s)}" for s in snap.statuses)
    return f"Jumlah: {counts}; Hadir {tally.hadir} dari {tally.school_days} hari efektif ({pct(tally.pct_hadir)})."


# --- Siswa Perlu Perhatian -----------------------------------------------------------------------


def perhatian(snap: Snapshot) -> Table:
    """Students over a threshold, each with the reason(s), for the counsellor (guru BK)."""
    columns = (
        Column("No", "int", 4), Column("Kelas", "text", 12), Column("NIS", "code", 11), Column("Nama", "text", 26),
        *(Column(s, "int", 4) for s in snap.statuses), Column("Hadir", "int", 6), Column("Hari Efektif", "int", 8),
        Column("% Kehadiran", "pct", 10), Column(GATE_NOT_CLASS, "int", 12), Column("Alasan", "text", 50),
    )  # fmt: skip
    rows = []
    for nis in dict.fromkeys(s.nis for s in _in_school_order(snap)):  # a moved student once, over all classes
        tally = tally_student(snap, nis)
        reasons = attention_reasons(snap, nis, tally)
        if reasons:
            seats = snap.rows_by_student[nis]
            classes = " → ".join(s.class_name for s in seats)
            counts = (tally.count(s) for s in snap.statuses)
            rows.append(Row((len(rows) + 1, classes, nis, seats[-1].name, *counts, tally.hadir,
                             tally.school_days, tally.pct_hadir, len(gate_not_class(snap, nis)),
                             "; ".join(reasons))))  # fmt: skip
    t = snap.thresholds
    footer = (
        f"Batas: {ALFA} ({snap.label(ALFA)}) ≥ {t.alfa_per_month} hari dalam sebulan, tidak hadir "
        f"{t.consecutive_days} hari sekolah berturut-turut, atau kehadiran < {pct(t.min_attendance_pct, 0)}.",
        counting_note(snap),
    )
    return make_table(
        snap, "perhatian", "SISWA PERLU PERHATIAN", (_scope(snap), f"Periode: {snap.period_label}"),
        columns=columns, rows=tuple(rows), footer=footer, signatures=signatures(snap, None), sheet_name="Perhatian",
    )  # fmt: skip


def attention_reasons(snap: Snapshot, nis: str, tally: Tally) -> list[str]:
    """Why a student needs attention, in Indonesian; empty when no threshold is crossed."""
    t = snap.thresholds
    marks = snap.entries_by_student.get(nis, {})
    reasons = [
        f"{snap.label(ALFA).lower()} {n} hari pada {month_label(*ym)}"
        for ym, n in sorted(_alfa_per_month(marks.values()).items())
        if n >= t.alfa_per_month
    ]
    seats = snap.rows_by_student.get(nis, ())
    if len(seats) == 1:  # (most students: the seat's days, already in order)
        days: Sequence[date] | None = row_days(snap, seats[0])
    else:
        days = sorted({d for seat in seats for d in row_days(snap, seat)}) if seats else None
    for start, end, length in absence_streaks(snap, marks, days):
        if length >= t.consecutive_days:
            reasons.append(
                f"tidak hadir {length} hari sekolah berturut-turut ({short_date(start)}–{short_date(end)})"
            )
    at_gate = gate_not_class(snap, nis)
    if len(at_gate) >= t.gate_days:
        days = ", ".join(short_date(d)[:5] for d in at_gate)
        reasons.append(f"hadir di gerbang tetapi tidak di kelas {len(at_gate)} hari ({days})")
    if tally.pct_hadir is not None and tally.pct_hadir < t.min_attendance_pct:
        reasons.append(f"kehadiran {pct(tally.pct_hadir, 2)} (< {pct(t.min_attendance_pct, 0)})")
    return reasons


def gate_times(snap: Snapshot, nis: str, day: date) -> tuple[str, str]:
    """Jam Datang, Jam Pulang of a student's day (fingerprint punches, SPEC §10); blank when none."""
    gate = snap.gate.get((nis, day))
    return (clock(gate.first), clock(gate.last)) if gate is not None else ("", "")


def gate_not_class(snap: Snapshot, nis: str) -> list[date]:
    """The counted school days the student was reported absent (a reason of `gate_reasons`), yet clocked in."""
    marks = snap.entries_by_student.get(nis, {})
    return sorted(day for day, entry in marks.items() if entry.status in snap.gate_reasons and (nis, day) in snap.gate)


def _alfa_per_month(entries: Iterable[Entry]) -> Counter[tuple[int, int]]:
    """Days marked A per month: the threshold `alfa_per_month` counts A only (SPEC §7), not the other reasons
    the rules put under Tanpa Keterangan (e.g. P, a student sent home for being late)."""
    return Counter((e.day.year, e.day.month) for e in entries if e.status == ALFA)


def absence_streaks(snap: Snapshot, marks: Mapping[date, Entry],
                    days: Sequence[date] | None = None) -> list[tuple[date, date, int]]:
    """Runs of consecutive school days (weekends and holidays do not break a run) counted as absence, over
    `days` (default: the period's counted school days)."""
    runs: list[list[date]] = [[]]
    for day in snap.sorted_school_days if days is None else days:
        entry = marks.get(day)
        if entry is not None and snap.is_absence(entry.status):
            runs[-1].append(day)
        elif runs[-1]:
            runs.append([])
    return [(run[0], run[-1], len(run)) for run in runs if run]
