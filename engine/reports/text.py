"""Short Indonesian Telegram texts, read off the same computed tables as the spreadsheets.

A Telegram message holds 4096 characters; we aim under `LIMIT` and, when a scope is too big, fall
back to a shorter form (only students with absences, then one line per class) and point to the
.xlsx file for the rest, instead of splitting a report over many messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import groupby

from .counting import absence_note
from .fmt import pct, short_date
from .table import Table, Value

LIMIT = 4000
MORE = "… selengkapnya di file .xlsx."


def fit(lines: Sequence[str], limit: int = LIMIT) -> str:
    """Join lines; if too long, cut at a line boundary and say how much was left out."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = len(MORE) + 40
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, f"(+{len(lines) - len(kept)} baris lagi) {MORE}"])


def _first_fitting(builders: Sequence[Callable[[], list[str]]], limit: int = LIMIT) -> str:
    for build in builders[:-1]:
        lines = build()
        if len("\n".join(lines)) <= limit:
            return "\n".join(lines)
    return fit(builders[-1](), limit)


def _reasons(table: Table) -> Mapping[str, str]:
    """The rules' reasons of the report, letter → name (the table carries them; never a fixed list)."""
    reasons = table.extra.get("reasons", {})
    return {s: str(n) for s, n in reasons.items()} if isinstance(reasons, Mapping) else {}


def _named(table: Table, status: object, reasons: Mapping[str, str] | None = None) -> str:
    """'S Sakit': the letter with the reason's name beside it (SPEC §4); `reasons`: `_reasons(table)`, when
    the caller names many."""
    name = (_reasons(table) if reasons is None else reasons).get(str(status))
    return f"{status} {name}" if name else str(status)


def _codes(table: Table, record: dict[str, Value], empty: str = "nihil") -> str:
    """The non-zero reason counts of a row, named: 'S Sakit 2, A Alfa 3'."""
    parts = [f"{_named(table, s)} {record[s]}" for s in _reasons(table) if record.get(s)]
    return ", ".join(parts) or empty


def _counting_line(table: Table) -> str:
    absent = table.extra.get("absent", ())
    return absence_note(_reasons(table), absent if isinstance(absent, tuple) else ())


def _heading(table: Table) -> list[str]:
    return [table.title.capitalize() if table.title.isupper() else table.title, *table.subtitle]


def _after_colon(line: str) -> str:
    return line.split(":", 1)[-1].strip()


# --- per report ----------------------------------------------------------------------------------


def harian_text(table: Table) -> str:
    """/hariini: today's absences grouped by class."""
    records = list(table.records())
    lines = [f"Ketidakhadiran {table.subtitle[-1]}", table.subtitle[0], ""]
    if not records:
        return "\n".join([*lines, table.footer[0] if table.footer else "Tidak ada siswa yang tidak hadir."])
    reasons = _reasons(table)
    for cls, group in groupby(records, key=lambda r: r["Kelas"]):
        members = list(group)
        lines.append(f"{cls} ({len(members)})")
        for r in members:
            note = f", {r['Keterangan']}" if r["Keterangan"] else ""
            gate = f" (finger masuk {r['Jam Datang']})" if r.get("Jam Datang") else ""
            lines.append(f"  {r['No']}. {r['Nama']} — {_named(table, r['Status'], reasons)}{note}{gate}")
    return fit([*lines, "", *table.footer])


def status_text(table: Table) -> str:
    """Which classes have reported today."""
    rows = list(table.records())
    total = next(table.records("total"))
    head = [f"Status lapor {table.subtitle[-1]}", f"Sudah lapor: {total['Sudah Lapor']} kelas", ""]
    lines = []
    for r in rows:
        if r["Sudah Lapor"] == "Ya":
            lines.append(f"{r['Kelas']}: ✓ {r['Waktu']} {r['Pelapor']} · {_codes(table, r)}")
        else:  # not "nihil": nobody said that nobody is absent; what parents sent meanwhile is shown
            known = _codes(table, r, empty="")
            lines.append(f"{r['Kelas']}: ✗ BELUM LAPOR" + (f" · {known}" if known else ""))
    return fit([*head, *lines])


def rekap_text(tables: Table | Sequence[Table]) -> str:
    """/rekap: per student the reasons (named), Hadir of Hari Efektif and % Kehadiran, per class;
    shortened for big scopes (only students with an absence, then one line per class)."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if not tables:
        return "Tidak ada kelas dalam cakupan Anda."
    return _first_fitting([lambda: _rekap_lines(tables, False), lambda: _rekap_lines(tables, True),
                           lambda: _rekap_summary(tables)])  # fmt: skip


def _rekap_head(tables: Sequence[Table]) -> list[str]:
    return [f"Rekap kehadiran {_after_colon(tables[0].subtitle[-1])}", _counting_line(tables[0]), ""]


def _class_line(table: Table) -> str:
    total = next(table.records("total"))
    present, parts = table.extra.get("class_pct"), table.extra.get("absence_parts")
    if isinstance(parts, tuple) and parts:  # as the sheet's footnote splits it: Σ(S+I+A), then P (if counted)
        absent = " + ".join(f"({codes}) {pct(share)}" for codes, share in parts)
    else:
        absent = pct(table.extra.get("class_absence_pct"))  # type: ignore[arg-type]
    return (f"{table.sheet_name} — {total['Hari Efektif']} hari efektif, kehadiran {pct(present)}"  # type: ignore[arg-type]
            f" + ketidakhadiran {absent} = 100 %")


def _student_line(table: Table, r: dict[str, Value]) -> str:
    return (f"{r['No']}. {r['Nama']}: {_codes(table, r, 'hadir penuh')} · Hadir {r['Hadir']}/{r['Hari Efektif']}"
            f" · {pct(r['% Kehadiran'])}")  # type: ignore[arg-type]


def _rekap_lines(tables: Sequence[Table], absent_only: bool) -> list[str]:
    """Every class's lines; stops once they are longer than a text can be (the caller then tries a shorter
    form: a whole school's students are never all written out to be thrown away)."""
    lines = _rekap_head(tables)
    size = 0
    for table in tables:
        start = len(lines)
        lines.append(_class_line(table))
        for r in table.records():
            if absent_only and not _codes(table, r, ""):
                continue
            lines.append(_student_line(table, r))
        if absent_only:
            lines.append("(siswa lain hadir penuh)")
        lines.append("")
        size += sum(len(line) + 1 for line in lines[start:])
        if size > LIMIT + 1:  # joined, these lines alone are longer than LIMIT
            break
    return lines


def _rekap_summary(tables: Sequence[Table]) -> list[str]:
    lines = _rekap_head(tables)
    for table in tables:
        total = next(table.records("total"))
        students, days, whole = table.extra.get("students"), total["Hari Efektif"], table.extra.get("person_days")
        of = f"{students} × {days}" if whole in (None, students * days) else f"{whole} hari-siswa"  # type: ignore[operator]
        lines.append(f"{table.sheet_name}: {_codes(table, total)} · Hadir {total['Hadir']} dari {of}"
                     f" · {pct(total['% Kehadiran'])}")  # type: ignore[arg-type]
    return [*lines, "", MORE]


def rekap_sekolah_text(table: Table) -> str:
    """One line per class, then the subtotals and the total."""
    lines = [*_heading(table), _counting_line(table), ""]
    for r in table.records(None):
        lines.append(f"{r['Kelas']}: {pct(r['% Kehadiran'])} ({_codes(table, r)})")  # type: ignore[arg-type]
    return fit(lines)


def semester_text(tables: Table | Sequence[Table]) -> str:
    """/semester: the three e-Rapor numbers per student, as the wali kelas types them in."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if not tables:
        return "Tidak ada kelas dalam cakupan Anda."
    return _first_fitting([lambda: _semester_lines(tables), lambda: _semester_summary(tables)])


def _semester_head(tables: Sequence[Table]) -> str:
    return f"Rekap semester {_after_colon(tables[0].subtitle[-1])} (untuk e-Rapor)"


def _info(table: Table, record: dict[str, Value]) -> str:
    """Non-zero informational columns (D, P by default), named: they are not added to the totals."""
    info = table.extra.get("info", {})
    codes = info.items() if isinstance(info, Mapping) else ()
    parts = [f"{_named(table, code)} {record[header]}" for header, code in codes if record.get(header)]
    return f" (rincian: {', '.join(parts)})" if parts else ""


def _semester_lines(tables: Sequence[Table]) -> list[str]:
    lines = [_semester_head(tables), ""]
    for table in tables:
        lines.append(table.sheet_name)
        for r in table.records():
            lines.append(f"{r['No']}. {r['Nama']}: Sakit {r['Sakit']}, Izin {r['Izin']}, "
                         f"Tanpa Ket. {r['Tanpa Keterangan']}{_info(table, r)} · kehadiran {pct(r['% Kehadiran'])}"  # type: ignore[arg-type]
                         f" dari {r['Hari Efektif']} hari efektif")  # fmt: skip
        lines.append("")
    return [*lines, *tables[0].footer[:2]]


def _semester_summary(tables: Sequence[Table]) -> list[str]:
    lines = [_semester_head(tables), ""]
    for table in tables:
        rows = list(table.records())
        sums = {h: sum(int(r[h] or 0) for r in rows) for h in ("Sakit", "Izin", "Tanpa Keterangan")}  # type: ignore[call-overload]
        lines.append(f"{table.sheet_name}: Sakit {sums['Sakit']}, Izin {sums['Izin']}, "
                     f"Tanpa Ket. {sums['Tanpa Keterangan']}")  # fmt: skip
    return [*lines, "", *tables[0].footer[:1], MORE]


def perhatian_text(table: Table) -> str:
    """The counsellor's list: who and why."""
    rows = list(table.records())
    lines = [*_heading(table), ""]
    if not rows:
        return "\n".join([*lines, "Tidak ada siswa yang melewati batas."])
    lines += [f"{r['No']}. {r['Nama']} ({r['Kelas']}, NIS {r['NIS']}): {r['Alasan']}" for r in rows]
    return fit([*lines, "", *table.footer])


def riwayat_text(table: Table) -> str:
    """One student's history with the corrections."""
    lines = [*_heading(table), ""]
    for r in table.records():
        day = short_date(r["Tanggal"])  # type: ignore[arg-type]
        note = f" — {r['Keterangan']}" if r["Keterangan"] else ""
        fix = f" [koreksi: {r['Koreksi']}]" if r["Koreksi"] else ""
        gate = f" (finger masuk {r['Jam Datang']})" if r.get("Jam Datang") else ""
        lines.append(f"{day} {r['Status']}{note}{gate}{fix}")
    if len(lines) == len(table.subtitle) + 2:
        lines.append("Tidak ada ketidakhadiran.")
    return fit([*lines, "", *table.footer])


RENDERERS: dict[str, Callable[..., str]] = {
    "harian": harian_text,
    "status": status_text,
    "rekap-kelas": rekap_text,
    "rekap-sekolah": rekap_sekolah_text,
    "semester": semester_text,
    "riwayat": riwayat_text,
    "perhatian": perhatian_text,
}


def render_text(tables: Sequence[Table]) -> str:
    """Text for the tables of one report (multi-table reports are rendered together)."""
    if not tables:
        return "Tidak ada data dalam cakupan Anda."
    render = RENDERERS[tables[0].key]
    if tables[0].key in ("rekap-kelas", "semester"):
        return render(tables)
    return "\n\n".join(render(t) for t in tables)
