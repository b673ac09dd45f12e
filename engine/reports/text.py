"""Short Indonesian Telegram texts, read off the same computed tables as the spreadsheets.

A Telegram message holds 4096 characters; we aim under `LIMIT` and, when a scope is too big, fall
back to a shorter form (only students with absences, then one line per class) and point to the
.xlsx file for the rest, instead of splitting a report over many messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from .fmt import pct, short_date
from .table import Table, Value

LIMIT = 4000
MORE = "… selengkapnya di file .xlsx."
STATUS_CODES = ("S", "I", "A", "D", "P")


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


def _codes(record: dict[str, Value], statuses: Sequence[str]) -> str:
    return " ".join(f"{s}{record[s]}" for s in statuses)


def _statuses(table: Table) -> list[str]:
    return [s for s in table.headers if s in STATUS_CODES]


def _heading(table: Table) -> list[str]:
    return [table.title.capitalize() if table.title.isupper() else table.title, *table.subtitle]


# --- per report ----------------------------------------------------------------------------------


def harian_text(table: Table) -> str:
    """/hariini: today's absences grouped by class."""
    records = list(table.records())
    lines = [f"Ketidakhadiran {table.subtitle[-1]}", table.subtitle[0], ""]
    if not records:
        return "\n".join([*lines, table.footer[0] if table.footer else "Tidak ada siswa yang tidak hadir."])
    for cls, group in groupby(records, key=lambda r: r["Kelas"]):
        members = list(group)
        lines.append(f"{cls} ({len(members)})")
        for r in members:
            note = f", {r['Keterangan']}" if r["Keterangan"] else ""
            lines.append(f"  {r['No']}. {r['Nama']} — {r['Status']}{note}")
    return fit([*lines, "", *table.footer])


def status_text(table: Table) -> str:
    """Which classes have reported today."""
    rows = list(table.records())
    total = next(table.records("total"))
    head = [f"Status lapor {table.subtitle[-1]}", f"Sudah lapor: {total['Sudah Lapor']} kelas", ""]
    lines = []
    for r in rows:
        done = f"✓ {r['Waktu']} {r['Pelapor']}" if r["Sudah Lapor"] == "Ya" else "✗ BELUM LAPOR"
        lines.append(f"{r['Kelas']}: {done} · {_codes(r, _statuses(table))}")
    return fit([*head, *lines])


def rekap_text(tables: Table | Sequence[Table]) -> str:
    """/rekap: per student S, I, A, D, P and % Kehadiran, per class; shortened for big scopes."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if not tables:
        return "Tidak ada kelas dalam cakupan Anda."
    return _first_fitting([lambda: _rekap_lines(tables, False), lambda: _rekap_lines(tables, True),
                           lambda: _rekap_summary(tables)])  # fmt: skip


def _rekap_lines(tables: Sequence[Table], absent_only: bool) -> list[str]:
    first = tables[0]
    lines = [f"Rekap kehadiran {first.subtitle[-1].split(':', 1)[-1].strip()}", ""]
    for table in tables:
        statuses = _statuses(table)
        total = next(table.records("total"))
        lines.append(
            f"{table.sheet_name} — {total['Hari Efektif']} hari efektif, kehadiran {pct(total['% Kehadiran'])}"
        )  # type: ignore[arg-type]
        for r in table.records():
            if absent_only and r["Hadir"] == r["Hari Efektif"]:
                continue
            lines.append(f"{r['No']}. {r['Nama']}: {_codes(r, statuses)} · {pct(r['% Kehadiran'])}")  # type: ignore[arg-type]
        if absent_only:
            lines.append("(siswa lain hadir penuh)")
        lines.append("")
    return lines


def _rekap_summary(tables: Sequence[Table]) -> list[str]:
    lines = [f"Rekap kehadiran {tables[0].subtitle[-1].split(':', 1)[-1].strip()}", ""]
    for table in tables:
        total = next(table.records("total"))
        lines.append(f"{table.sheet_name}: {_codes(total, _statuses(table))} · {pct(total['% Kehadiran'])}")  # type: ignore[arg-type]
    return [*lines, "", MORE]


def rekap_sekolah_text(table: Table) -> str:
    """One line per class, then the subtotals and the total."""
    lines = [*_heading(table), ""]
    statuses = _statuses(table)
    for r in table.records(None):
        lines.append(f"{r['Kelas']}: {pct(r['% Kehadiran'])} ({_codes(r, statuses)})")  # type: ignore[arg-type]
    return fit(lines)


def semester_text(tables: Table | Sequence[Table]) -> str:
    """/semester: the three e-Rapor numbers per student, as the wali kelas types them in."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if not tables:
        return "Tidak ada kelas dalam cakupan Anda."
    return _first_fitting([lambda: _semester_lines(tables), lambda: _semester_summary(tables)])


def _semester_lines(tables: Sequence[Table]) -> list[str]:
    lines = [f"Rekap semester {tables[0].subtitle[-1].split(':', 1)[-1].strip()} (untuk e-Rapor)", ""]
    for table in tables:
        lines.append(table.sheet_name)
        for r in table.records():
            lines.append(f"{r['No']}. {r['Nama']}: Sakit {r['Sakit']}, Izin {r['Izin']}, "
                         f"Tanpa Ket. {r['Tanpa Keterangan']}")  # fmt: skip
        lines.append("")
    return [*lines, tables[0].footer[0] if tables[0].footer else ""]


def _semester_summary(tables: Sequence[Table]) -> list[str]:
    lines = [f"Rekap semester {tables[0].subtitle[-1].split(':', 1)[-1].strip()}", ""]
    for table in tables:
        rows = list(table.records())
        sums = {h: sum(int(r[h] or 0) for r in rows) for h in ("Sakit", "Izin", "Tanpa Keterangan")}
        lines.append(f"{table.sheet_name}: Sakit {sums['Sakit']}, Izin {sums['Izin']}, "
                     f"Tanpa Ket. {sums['Tanpa Keterangan']}")  # fmt: skip
    return [*lines, "", MORE]


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
        lines.append(f"{day} {r['Status']}{note}{fix}")
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
