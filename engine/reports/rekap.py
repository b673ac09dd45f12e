"""Period recaps: the monthly class book, the department/school recap, the e-Rapor semester table,
and the daily trend the charts draw. All counting goes through `counting`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from .counting import Tally, empty_tally, erapor_buckets, sum_tallies, tally_student, tally_students
from .fmt import WEEKDAY_LETTERS, pct, percentage
from .model import IZIN, SAKIT, TANPA_KETERANGAN, ClassRow, Snapshot, StudentRow
from .table import Column, Row, Signature, Table, Value

ROMAN = {7: "VII", 8: "VIII", 9: "IX", 10: "X", 11: "XI", 12: "XII", 13: "XIII"}


def grade_label(grade: int) -> str:
    return f"Kelas {ROMAN.get(grade, str(grade))}"


def class_or_error(snap: Snapshot, class_name: str) -> ClassRow:
    try:
        return snap.class_by_name[class_name]
    except KeyError:
        raise ValueError(f"kelas {class_name!r} tidak ada dalam cakupan laporan") from None


def legend(snap: Snapshot) -> str:
    codes = ", ".join(f"{s} = {snap.label(s)}" for s in snap.statuses)
    return f"Keterangan: {codes}; kosong = hadir; kolom berarsir = bukan hari sekolah."


def signatures(snap: Snapshot, wali: str | None) -> tuple[Signature, ...]:
    head = Signature("Kepala Sekolah", snap.headmaster)
    return (head, Signature("Wali Kelas", wali)) if wali is not None else (head,)


def make_table(snap: Snapshot, key: str, title: str, subtitle: Sequence[str], **kw: object) -> Table:
    return Table(
        key=key, title=title, school_name=snap.school_name, subtitle=tuple(subtitle),
        place=snap.place, signed_on=snap.signing_date, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _status_columns(snap: Snapshot) -> list[Column]:
    return [Column(s, "int", 4) for s in snap.statuses]


# --- Rekap Bulanan Kelas -------------------------------------------------------------------------


def rekap_kelas(snap: Snapshot, class_name: str) -> Table:
    """The monthly class book: students × days with S/I/A/D/P marks and the per-student totals."""
    cls = class_or_error(snap, class_name)
    students = snap.students_by_class.get(class_name, [])
    days = sorted(snap.all_days)
    school = snap.school_day_set
    day_cols = [
        Column(str(d.day), "day", 3.2, shade=d not in school, note=WEEKDAY_LETTERS[d.weekday()]) for d in days
    ]
    columns = [Column("No", "int", 4), Column("NIS", "code", 11), Column("Nama", "text", 28), *day_cols]
    columns += [*_status_columns(snap), Column("Hadir", "int", 6), Column("Hari Efektif", "int", 8)]
    columns.append(Column("% Kehadiran", "pct", 10))
    rows: list[Row] = []
    total = empty_tally(len(snap.sorted_school_days))
    per_day: Counter[object] = Counter()
    for i, student in enumerate(students, 1):
        tally = tally_student(snap, student.nis)
        total = total + tally
        marks = snap.entries_by_student.get(student.nis, {})
        grid = [marks[d].status if d in marks else None for d in days]
        per_day.update(d for d in days if d in marks)
        rows.append(Row((i, student.nis, student.name, *grid, *_tally_cells(snap, tally))))
    day_totals = [per_day[d] if d in school else None for d in days]
    rows.append(Row((None, None, "Jumlah", *day_totals, *_tally_cells(snap, total)), "total"))
    absence = total.pct_absence_sia
    footer = (_class_formula(total, absence), legend(snap))
    subtitle = (f"Kelas: {cls.name}", f"Wali Kelas: {cls.wali_kelas or '-'}", f"Bulan: {snap.period_label}")
    return make_table(
        snap, "rekap-kelas", "REKAP BULANAN KEHADIRAN SISWA", subtitle, columns=tuple(columns), rows=tuple(rows),
        footer=footer, signatures=signatures(snap, cls.wali_kelas), sheet_name=cls.name,
        extra={"class_absence_pct": absence, "students": len(students), "school_days": total.school_days},
    )  # fmt: skip


def _tally_cells(snap: Snapshot, tally: Tally) -> list[Value]:
    """S, I, A, D, P, Hadir, Hari Efektif, % Kehadiran (a group row keeps the period's school days)."""
    return [*(tally.count(s) for s in snap.statuses), tally.hadir, tally.school_days, tally.pct_hadir]


def _class_formula(total: Tally, absence: float | None) -> str:
    sia = total.count("S") + total.count("I") + total.count("A")
    return (
        "Persentase ketidakhadiran kelas = Σ(S+I+A) ÷ (Jumlah Siswa × Hari Efektif) × 100 = "
        f"{sia} ÷ ({total.students} × {total.school_days}) × 100 = {pct(absence, 2)}"
    )


# --- Rekap Bulanan Jurusan / Sekolah -------------------------------------------------------------


def rekap_sekolah(snap: Snapshot) -> Table:
    """One row per class, then subtotals per department and per grade, then the school total."""
    columns = (
        Column("Kelas", "text", 14), Column("Wali Kelas", "text", 26), Column("Jumlah Siswa", "int", 8),
        Column("Hari Efektif", "int", 8), *_status_columns(snap), Column("% Kehadiran", "pct", 11),
    )  # fmt: skip
    classes = sorted(snap.class_order(), key=lambda c: c.department)  # stable: grade order kept inside
    tallies = {c.name: _class_tally(snap, c.name) for c in classes}
    rows: list[Row] = []
    for dept in dict.fromkeys(c.department for c in classes):
        members = [c for c in classes if c.department == dept]
        rows += [_group_row(snap, c.name, c.wali_kelas, tallies[c.name]) for c in members]
        rows.append(_group_row(snap, f"Jurusan {dept}", None, _sum(snap, tallies, members), "subtotal"))
    for grade in sorted({c.grade for c in classes}):
        members = [c for c in classes if c.grade == grade]
        rows.append(_group_row(snap, grade_label(grade), None, _sum(snap, tallies, members), "subtotal"))
    school = _sum(snap, tallies, classes)
    rows.append(_group_row(snap, f"Total {snap.scope_label or 'Sekolah'}", None, school, "total"))
    footer = (
        "% Kehadiran = Σ Hadir ÷ (Jumlah Siswa × Hari Efektif) × 100; "
        f"ketidakhadiran Σ(S+I+A) = {pct(school.pct_absence_sia, 2)}.",
        legend(snap).replace("; kolom berarsir = bukan hari sekolah", ""),
    )
    scope = snap.scope_label or "Seluruh Sekolah"
    return make_table(
        snap, "rekap-sekolah", "REKAP BULANAN KEHADIRAN", (scope, f"Bulan: {snap.period_label}"),
        columns=columns, rows=tuple(rows), footer=footer, signatures=signatures(snap, None),
        sheet_name="Rekap", extra={"school_pct": school.pct_hadir, "students": school.students},
    )  # fmt: skip


def _class_tally(snap: Snapshot, class_name: str) -> Tally:
    return tally_students(snap, (s.nis for s in snap.students_by_class.get(class_name, [])))


def _sum(snap: Snapshot, tallies: dict[str, Tally], members: Sequence[ClassRow]) -> Tally:
    return sum_tallies(snap, (tallies[c.name] for c in members))


def _group_row(snap: Snapshot, label: str, wali: str | None, tally: Tally, kind: str = "data") -> Row:
    counts = (tally.count(s) for s in snap.statuses)
    values = (label, wali, tally.students, tally.school_days, *counts, tally.pct_hadir)
    return Row(values, kind)  # type: ignore[arg-type]


# --- Rekap Semester (e-Rapor) --------------------------------------------------------------------

SEMESTER_HEADERS = ("Sakit", "Izin", "Tanpa Keterangan", "Dispensasi", "Dipulangkan")


def semester(snap: Snapshot, class_name: str) -> Table:
    """The three e-Rapor totals per student (after the D/P setting), plus D and P shown apart."""
    cls = class_or_error(snap, class_name)
    columns = (
        Column("No", "int", 4), Column("NIS", "code", 11), Column("NISN", "code", 12), Column("Nama", "text", 30),
        *(Column(h, "int", 12.5) for h in SEMESTER_HEADERS), Column("Hari Efektif", "int", 9),
        Column("% Kehadiran", "pct", 11),
    )  # fmt: skip
    rows = [
        Row(_semester_values(snap, i, s)) for i, s in enumerate(snap.students_by_class.get(class_name, []), 1)
    ]
    subtitle = (
        f"Kelas: {cls.name}",
        f"Wali Kelas: {cls.wali_kelas or '-'}",
        f"Semester: {snap.period_label}",
    )
    return make_table(
        snap, "semester", "REKAP KETIDAKHADIRAN SEMESTER (e-Rapor)", subtitle, columns=columns,
        rows=tuple(rows), footer=(counting_note(snap),), signatures=signatures(snap, cls.wali_kelas),
        sheet_name=cls.name,
    )  # fmt: skip


def _semester_values(snap: Snapshot, no: int, student: StudentRow) -> tuple[Value, ...]:
    tally = tally_student(snap, student.nis)
    buckets = erapor_buckets(snap, tally)
    erapor = (buckets[SAKIT], buckets[IZIN], buckets[TANPA_KETERANGAN])
    shown = (tally.count("D"), tally.count("P"), tally.school_days, tally.pct_hadir)
    return (no, student.nis, student.nisn, student.name, *erapor, *shown)


def counting_note(snap: Snapshot) -> str:
    """Says in words how the rules mapped the statuses onto the three e-Rapor columns."""
    names = {SAKIT: "Sakit", IZIN: "Izin", TANPA_KETERANGAN: "Tanpa Keterangan"}
    parts = []
    for status in snap.statuses:
        bucket = snap.counting.get(status)
        target = names.get(bucket, bucket) if bucket else "tidak dihitung sebagai ketidakhadiran"
        parts.append(f"{status} ({snap.label(status)}) → {target}")
    return "Penghitungan e-Rapor: " + "; ".join(parts) + "."


# --- Daily trend (for the charts) ----------------------------------------------------------------


def daily_trend(snap: Snapshot) -> Table:
    """Absences per school day across the whole scope."""
    counts: dict[object, Counter[str]] = {d: Counter() for d in snap.sorted_school_days}
    for student in snap.students:  # never an entry of a student outside the scope
        for day, entry in snap.entries_by_student.get(student.nis, {}).items():
            counts[day][entry.status] += 1
    n = len(snap.students)
    columns = (Column("Tanggal", "date", 12), *_status_columns(snap), Column("Jumlah", "int", 8),
               Column("% Ketidakhadiran", "pct", 16))  # fmt: skip
    rows = tuple(_trend_row(snap, d, counts[d], n) for d in snap.sorted_school_days)
    return make_table(snap, "tren", "TREN KETIDAKHADIRAN HARIAN", (f"Bulan: {snap.period_label}",),
                  columns=columns, rows=rows, sheet_name="Tren Harian")  # fmt: skip


def _trend_row(snap: Snapshot, day: object, counts: Counter[str], students: int) -> Row:
    total = sum(counts.values())
    return Row((day, *(counts[s] for s in snap.statuses), total, percentage(total, students)))  # type: ignore[arg-type]


def per_class(snap: Snapshot, fn: Callable[[Snapshot, str], Table]) -> list[Table]:
    """One table per class in scope, in school order (the whole-school book, one sheet per class)."""
    return [fn(snap, c.name) for c in snap.class_order()]
