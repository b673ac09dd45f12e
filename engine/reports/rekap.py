"""Period recaps: the monthly class book, the department/school recap, the e-Rapor semester table,
and the daily trend the charts draw. All counting goes through `counting`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from .counting import (
    HARI_EFEKTIF_NOTE,
    ROUNDING_NOTE,
    Tally,
    absent_codes,
    counting_note,
    day_tally,
    empty_tally,
    hadir_formula,
    sum_tallies,
    tally_row,
    tally_rows,
)
from .fmt import WEEKDAY_LETTERS, pct
from .model import (
    BUCKET_LABELS,
    BUCKETS,
    TANPA_KETERANGAN,
    ClassRow,
    Snapshot,
    StudentRow,
)
from .table import Column, Row, Signature, Table, Value

ROMAN = {7: "VII", 8: "VIII", 9: "IX", 10: "X", 11: "XI", 12: "XII", 13: "XIII"}


def grade_label(grade: int) -> str:
    return f"Kelas {ROMAN.get(grade, str(grade))}"


def class_or_error(snap: Snapshot, class_name: str) -> ClassRow:
    try:
        return snap.class_by_name[class_name]
    except KeyError:
        raise ValueError(f"kelas {class_name!r} tidak ada dalam cakupan laporan") from None


ELSEWHERE = "-"  # a day of the monthly grid the student spent in another class (or not at the school)
MOVED_NOTE = ("Siswa pindah kelas tercatat di kedua kelas, masing-masing hanya untuk hari sekolah di kelas itu "
              "(Hari Efektif per siswa).")


def legend(snap: Snapshot, grid: bool = True, moved: bool = False) -> str:
    codes = ", ".join(f"{s} = {snap.label(s)}" for s in snap.statuses)
    if not grid:
        return f"Keterangan: {codes}."
    later = any(d not in snap.school_day_set for d in snap.school_days)  # school days after today
    shaded = "bukan hari sekolah atau belum berlalu (tidak dihitung)" if later else "bukan hari sekolah"
    elsewhere = f"; {ELSEWHERE} = tidak di kelas ini pada hari itu (tidak dihitung). {MOVED_NOTE}" if moved else "."
    return f"Keterangan: {codes}; kosong = hadir; kolom berarsir = {shaded}{elsewhere}"


def period_name(snap: Snapshot) -> str:
    """The period without a leading 'Semester ' (the heading already says so): no 'Semester Semester …'."""
    label = snap.period_label
    return label[len("Semester ") :] if label.lower().startswith("semester ") else label


def signatures(snap: Snapshot, wali: str | None) -> tuple[Signature, ...]:
    head = Signature("Kepala Sekolah", snap.headmaster)
    return (head, Signature("Wali Kelas", wali)) if wali is not None else (head,)


def make_table(snap: Snapshot, key: str, title: str, subtitle: Sequence[str], **kw: object) -> Table:
    """A report table; its `extra` carries the rules' reasons (letter → name, and those counted as
    absent) so that a renderer spells each reason's name beside its letter without knowing the rules."""
    extra = dict(kw.pop("extra", None) or {})  # type: ignore[call-overload]
    extra.setdefault("reasons", {s: snap.label(s) for s in snap.statuses})
    extra.setdefault("absent", tuple(absent_codes(snap)))
    return Table(
        key=key, title=title, school_name=snap.school_name, subtitle=tuple(subtitle),
        place=snap.place, signed_on=snap.signing_date, extra=extra, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _status_columns(snap: Snapshot) -> list[Column]:
    return [Column(s, "int", 4) for s in snap.statuses]


# --- Rekap Bulanan Kelas -------------------------------------------------------------------------


def rekap_kelas(snap: Snapshot, class_name: str) -> Table:
    """The monthly class book: students × days with S/I/A/D/P marks and the per-student totals.

    A student who moved in or out during the month has '-' (shaded) on the days spent elsewhere, the move
    beside the name, and counts only the days in this class.
    """
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
    total = empty_tally(snap)
    per_day: Counter[object] = Counter()
    for i, student in enumerate(students, 1):
        tally = tally_row(snap, student)
        total = total + tally
        marks = snap.entries_of(student)
        grid = [marks[d].status if d in marks else None if student.holds(d) else ELSEWHERE for d in days]
        elsewhere = tuple(3 + j for j, d in enumerate(days) if not student.holds(d))
        per_day.update(d for d in days if d in marks)
        rows.append(Row((i, student.nis, student.label, *grid, *_tally_cells(snap, tally)), shade=elsewhere))
    day_totals = [per_day[d] if d in school else None for d in days]
    rows.append(Row((None, None, "Jumlah", *day_totals, *_tally_cells(snap, total)), "total"))
    footer = (group_formula(snap, total, "kelas"), counting_note(snap), HARI_EFEKTIF_NOTE, ROUNDING_NOTE,
              legend(snap, moved=any(s.days is not None for s in students)))
    subtitle = (f"Kelas: {cls.name}", f"Wali Kelas: {cls.wali_kelas or '-'}", f"Bulan: {snap.period_label}")
    return make_table(
        snap, "rekap-kelas", "REKAP BULANAN KEHADIRAN SISWA", subtitle, columns=tuple(columns), rows=tuple(rows),
        footer=footer, signatures=signatures(snap, cls.wali_kelas), sheet_name=cls.name,
        extra={"class_absence_pct": total.pct_absent, "class_pct": total.pct_hadir,  # (the two parts of one whole)
               "class_sia_pct": class_absence_pct(snap, total), "students": len(students),
               # the footnote's parts of the absence %, Σ(S+I+A) first: ("S+I+A", %), ("P", %) — for the text
               "absence_parts": tuple(("+".join(codes), share) for i, (codes, days, share)
                                      in enumerate(absence_parts(snap, total)) if i == 0 or days),
               "school_days": total.school_days, "person_days": total.person_days},
    )  # fmt: skip


def _tally_cells(snap: Snapshot, tally: Tally) -> list[Value]:
    """S, I, A, D, P, Hadir, Hari Efektif, % Kehadiran (a group row keeps the period's school days)."""
    return [*(tally.count(s) for s in snap.statuses), tally.hadir, tally.school_days, tally.pct_hadir]


def group_whole(total: Tally) -> str:
    """The whole a group's percentages divide, as the footnote writes it: '(6 × 20)', or the student-days
    '(Σ Hari Efektif per siswa = 108)' when a student was in the group for part of the period."""
    if total.everyone_all_days:
        return f"({total.students} × {total.school_days})"
    return f"(Σ Hari Efektif per siswa = {total.person_days})"


CLASS_ABSENCE_CODES = ("S", "I", "A")  # SPEC §7: class absence % = Σ(S+I+A) ÷ (students × school days) × 100


def absence_parts(snap: Snapshot, total: Tally) -> list[tuple[tuple[str, ...], int, float | None]]:
    """The group's counted absences as the footnote splits them: Σ(S+I+A) first (SPEC §7's class absence %),
    then — when the rules also count D or P as absent — those on their own, so that the parts and Hadir still
    describe one whole. Each part: its codes, its days and its percentage; the percentages share the group's
    % ketidakhadiran exactly (its units go to the parts by largest remainder), so with % Kehadiran they add
    up to 100 %."""
    codes = absent_codes(snap)
    groups = [tuple(c for c in codes if c in CLASS_ABSENCE_CODES)]
    rest = tuple(c for c in codes if c not in CLASS_ABSENCE_CODES)
    if rest:
        groups.append(rest)
    days = [sum(total.count(c) for c in group) for group in groups]
    if total.pct_absent is None:
        return [(group, n, None) for group, n in zip(groups, days, strict=True)]
    units = split_units(round(total.pct_absent * 100), days)
    return [(group, n, u / 100) for group, n, u in zip(groups, days, units, strict=True)]


def split_units(units: int, parts: Sequence[int]) -> list[int]:
    """`units` shared in proportion to `parts` by largest remainder (ties: the earlier part); all to the first
    part when the parts are all zero."""
    whole = sum(parts)
    if whole <= 0:
        return [units, *(0 for _ in parts[1:])]
    floors = [p * units // whole for p in parts]
    remainders = [p * units % whole for p in parts]
    for i in sorted(range(len(parts)), key=lambda k: (-remainders[k], k))[: units - sum(floors)]:
        floors[i] += 1
    return floors


def group_formula(snap: Snapshot, total: Tally, what: str) -> str:
    """The group's percentages of one whole, each with its sum, adding to 100 %: the absence % of SPEC §7,
    Σ(S+I+A); the other reasons the rules count as absent (e.g. P), if any; and the attendance %.

    The whole is the group's student-days: Jumlah Siswa × Hari Efektif, or — when a student moved in or out
    during the period — the sum of each student's Hari Efektif in the group."""
    whole = group_whole(total)
    days = "(Jumlah Siswa × Hari Efektif)" if total.everyone_all_days else "Σ Hari Efektif per siswa"
    (main, absent, share), *others = absence_parts(snap, total)
    terms = [f"Persentase ketidakhadiran {what} = Σ({'+'.join(main) or '0'}) ÷ {days} × 100 = "
             f"{absent} ÷ {whole} × 100 = {pct(share, 2)}"]
    for codes, n, part in others:
        names = ", ".join(f"{c} ({snap.label(c)})" for c in codes)
        terms.append(f"{names} juga dihitung tidak hadir: Σ({'+'.join(codes)}) ÷ {days} × 100 = "
                     f"{n} ÷ {whole} × 100 = {pct(part, 2)}")
    terms.append(f"persentase kehadiran = Σ Hadir ÷ {days} × 100 = {total.hadir} ÷ {whole} × 100 = "
                 f"{pct(total.pct_hadir, 2)}")
    return "; ".join(terms) + f"; jumlah {pct(_sum_pct(total), 2)}."


def class_absence_pct(snap: Snapshot, total: Tally) -> float | None:
    """SPEC §7's class absence %: Σ(S+I+A) ÷ the group's student-days × 100 (see `absence_parts`)."""
    return absence_parts(snap, total)[0][2]


def _sum_pct(tally: Tally) -> float | None:
    if tally.pct_hadir is None or tally.pct_absent is None:
        return None
    return round(tally.pct_hadir + tally.pct_absent, 2)


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
    moved = not all(t.everyone_all_days for t in tallies.values())
    days = "Σ Hari Efektif per siswa" if moved else "(Jumlah Siswa × Hari Efektif)"
    footer = (
        f"% Kehadiran = Σ Hadir ÷ {days} × 100, dengan {hadir_formula(snap)} per siswa.",
        group_formula(snap, school, (snap.scope_label or "sekolah").lower()),
        counting_note(snap), HARI_EFEKTIF_NOTE, ROUNDING_NOTE, legend(snap, grid=False),
        *([f"{MOVED_NOTE} Jumlah Siswa sebuah kelompok menghitung siswa pindah sekali."] if moved else []),
    )
    scope = snap.scope_label or "Seluruh Sekolah"
    return make_table(
        snap, "rekap-sekolah", "REKAP BULANAN KEHADIRAN", (scope, f"Bulan: {snap.period_label}"),
        columns=columns, rows=tuple(rows), footer=footer, signatures=signatures(snap, None),
        sheet_name="Rekap",
        extra={"school_pct": school.pct_hadir, "school_absence_pct": school.pct_absent, "students": school.students},
    )  # fmt: skip


def _class_tally(snap: Snapshot, class_name: str) -> Tally:
    return tally_rows(snap, snap.students_by_class.get(class_name, []))


def _sum(snap: Snapshot, tallies: dict[str, Tally], members: Sequence[ClassRow]) -> Tally:
    return sum_tallies(snap, (tallies[c.name] for c in members))


def _group_row(snap: Snapshot, label: str, wali: str | None, tally: Tally, kind: str = "data") -> Row:
    counts = (tally.count(s) for s in snap.statuses)
    values = (label, wali, tally.students, tally.school_days, *counts, tally.pct_hadir)
    return Row(values, kind)  # type: ignore[arg-type]


# --- Rekap Semester (e-Rapor) --------------------------------------------------------------------

def info_reasons(snap: Snapshot) -> list[str]:
    """Reasons shown in a column of their own beside the three e-Rapor totals (default: D and P).

    The first reason the rules put in a total (S in Sakit, I in Izin, A in Tanpa Keterangan) is that
    total; every other reason gets an informational column, which says whether its days are already
    in a total (P: in Tanpa Keterangan) or counted as present (D), so no absence is counted twice.
    """
    used = {snap.counting.get(s) for s in snap.statuses}
    primary = {next(s for s in snap.statuses if snap.counting.get(s) == b) for b in BUCKETS if b in used}
    return [s for s in snap.statuses if s not in primary]


def info_headers(snap: Snapshot) -> dict[str, str]:
    """reason → its column heading: the reason's first word ('Dispensasi', 'Dipulangkan'); its name and
    letter ('Sakit (S)') when the word is taken by an e-Rapor total or by another reason."""
    codes = info_reasons(snap)
    short = [snap.short_label(s) for s in codes]
    return {s: (h if short.count(h) == 1 and h not in BUCKET_LABELS.values() else f"{snap.label(s)} ({s})")
            for s, h in zip(codes, short, strict=True)}  # fmt: skip


def _info_note(snap: Snapshot, status: str) -> str:
    bucket = snap.counting.get(status)
    return f"info: sudah di {BUCKET_LABELS.get(bucket, bucket)}" if bucket else "info: dihitung hadir"


def semester(snap: Snapshot, class_name: str) -> Table:
    """The three e-Rapor totals per student (after the D/P setting), plus D and P shown apart."""
    cls = class_or_error(snap, class_name)
    headers = info_headers(snap)
    columns = (
        Column("No", "int", 4), Column("NIS", "code", 11), Column("NISN", "code", 12), Column("Nama", "text", 30),
        *(Column(BUCKET_LABELS[b], "int", 12.5, note="e-Rapor") for b in BUCKETS),
        *(Column(h, "int", 12.5, note=_info_note(snap, s)) for s, h in headers.items()),
        Column("Hari Efektif", "int", 9), Column("% Kehadiran", "pct", 11),
    )  # fmt: skip
    members = snap.students_by_class.get(class_name, [])
    rows = [Row(_semester_values(snap, i, s, headers)) for i, s in enumerate(members, 1)]
    subtitle = (f"Kelas: {cls.name}", f"Wali Kelas: {cls.wali_kelas or '-'}", f"Semester: {period_name(snap)}")
    return make_table(
        snap, "semester", "REKAP KETIDAKHADIRAN SEMESTER (e-Rapor)", subtitle, columns=columns,
        rows=tuple(rows), footer=(counting_note(snap), info_note(snap, headers), semester_pct_note(snap),
                                  *([MOVED_NOTE] if any(s.days is not None for s in members) else [])),
        signatures=signatures(snap, cls.wali_kelas), sheet_name=cls.name,
        extra={"info": {h: s for s, h in headers.items()}},
    )  # fmt: skip


def _semester_values(snap: Snapshot, no: int, student: StudentRow, headers: dict[str, str]) -> tuple[Value, ...]:
    tally = tally_row(snap, student)
    buckets = tally.buckets
    shown = (*(tally.count(s) for s in headers), tally.school_days, tally.pct_hadir)
    return (no, student.nis, student.nisn, student.label, *(buckets[b] for b in BUCKETS), *shown)


def info_note(snap: Snapshot, headers: dict[str, str]) -> str:
    """Says that the informational columns repeat a total (or count as present), so nobody adds them up."""
    parts = []
    for status, header in headers.items():
        bucket = snap.counting.get(status)
        where = f"sudah termasuk kolom {BUCKET_LABELS.get(bucket, bucket)}" if bucket else "dihitung hadir"
        parts.append(f"{header} ({status}) hanya keterangan, {where}")
    listed = "; ".join(parts)
    lead = "Setiap ketidakhadiran ada di tepat satu kolom e-Rapor (Sakit, Izin, Tanpa Keterangan)"
    return f"{lead}. Kolom {listed}." if parts else f"{lead}."


def semester_pct_note(snap: Snapshot) -> str:
    return (
        "% Kehadiran = (Hari Efektif − Sakit − Izin − Tanpa Keterangan) ÷ Hari Efektif × 100. "
        f"{HARI_EFEKTIF_NOTE} {ROUNDING_NOTE}"
    )


# --- Daily trend (for the charts) ----------------------------------------------------------------


def daily_trend(snap: Snapshot) -> Table:
    """Absences per counted school day across the whole scope ('Tidak Hadir' as the rules count it)."""
    students = list(snap.students)  # never an entry of a student outside the scope
    columns = (Column("Tanggal", "date", 12), *_status_columns(snap), Column("Tidak Hadir", "int", 10),
               Column("% Ketidakhadiran", "pct", 16))  # fmt: skip
    rows = tuple(_trend_row(snap, d, day_tally(snap, students, d)) for d in snap.sorted_school_days)
    footer = (f"Tidak Hadir = {' + '.join(absent_codes(snap)) or '0'} (aturan reasons.yaml); "
              "% Ketidakhadiran = Tidak Hadir ÷ Jumlah Siswa × 100.", legend(snap, grid=False))  # fmt: skip
    unexcused = tuple(s for s in snap.statuses if snap.counting.get(s) == TANPA_KETERANGAN)
    return make_table(snap, "tren", "TREN KETIDAKHADIRAN HARIAN", (f"Bulan: {snap.period_label}",),
                      columns=columns, rows=rows, footer=footer, sheet_name="Tren Harian",
                      extra={"unexcused": unexcused})  # fmt: skip


def _trend_row(snap: Snapshot, day: object, tally: Tally) -> Row:
    counts = (tally.count(s) for s in snap.statuses)
    return Row((day, *counts, tally.absent_days, tally.pct_absent))  # type: ignore[arg-type]


def per_class(snap: Snapshot, fn: Callable[[Snapshot, str], Table]) -> list[Table]:
    """One table per class in scope, in school order (the whole-school book, one sheet per class)."""
    return [fn(snap, c.name) for c in snap.class_order()]
