"""Reports (SPEC §7) and parent letters.

The engine builds a `Snapshot` (already limited to the viewer's scope and the period) and calls:

    build(name, snap, class_name=…, day=…, nis=…)  -> list[Table]   # the one computation
    export_xlsx(name, snap, …)                      -> bytes         # .xlsx, charts for rekap-sekolah
    export_text(name, snap, …)                      -> str           # Telegram text (≤ ~4000 chars)
    export(name, snap, …)                           -> (bytes, str)  # both, from one computation

`name` is a report NAME of SPEC §5: harian, status, rekap-kelas, rekap-sekolah, semester, riwayat,
perhatian. Per-class reports (rekap-kelas, semester) without `class_name` give one table (one sheet)
per class in scope.

Workbooks are written by `ooxml` (standard library only); the chart library (matplotlib) is imported by
`export_xlsx` for rekap-sekolah's charts, never with this package: the service and the command line start
without it.
"""

from __future__ import annotations

from datetime import date

from . import compute
from .fmt import mask_phone
from .model import (
    DEFAULT_COUNTING,
    Change,
    ClassReport,
    ClassRow,
    Entry,
    Snapshot,
    StudentRow,
    Thresholds,
)
from .table import Table
from .text import render_text

REPORTS = ("harian", "status", "rekap-kelas", "rekap-sekolah", "semester", "riwayat", "perhatian")

__all__ = [
    "DEFAULT_COUNTING", "REPORTS", "Change", "ClassReport", "ClassRow", "Entry", "Snapshot", "StudentRow",
    "Table", "Thresholds", "build", "export", "export_text", "export_xlsx", "mask_phone",
]  # fmt: skip


def build(
    name: str,
    snap: Snapshot,
    *,
    class_name: str | None = None,
    day: date | None = None,
    nis: str | None = None,
) -> list[Table]:
    """Compute report `name`; raises ValueError (in Indonesian, for the user) on a missing argument."""
    if name in ("harian", "status"):
        if day is None:
            raise ValueError(f"laporan {name} memerlukan tanggal")
        return [compute.harian(snap, day) if name == "harian" else compute.status(snap, day)]
    if name in ("rekap-kelas", "semester"):
        fn = compute.rekap_kelas if name == "rekap-kelas" else compute.semester
        return [fn(snap, class_name)] if class_name else compute.per_class(snap, fn)
    if name == "rekap-sekolah":
        return [compute.rekap_sekolah(snap)]
    if name == "riwayat":
        if not nis:
            raise ValueError("laporan riwayat memerlukan NIS siswa")
        return [compute.riwayat(snap, nis)]
    if name == "perhatian":
        return [compute.perhatian(snap)]
    raise ValueError(f"laporan tidak dikenal: {name!r} (pilihan: {', '.join(REPORTS)})")


def export(name: str, snap: Snapshot, **kw: object) -> tuple[bytes, str]:
    """The report as an .xlsx file and as a text, computed once."""
    tables = build(name, snap, **kw)  # type: ignore[arg-type]
    return _xlsx(name, snap, tables), render_text(tables)


def export_xlsx(name: str, snap: Snapshot, **kw: object) -> bytes:
    """The report as an .xlsx file; rekap-sekolah also gets a 'Grafik' sheet and the daily trend."""
    return _xlsx(name, snap, build(name, snap, **kw))  # type: ignore[arg-type]


def _xlsx(name: str, snap: Snapshot, tables: list[Table]) -> bytes:
    from .xlsx import render_xlsx

    if name != "rekap-sekolah":
        return render_xlsx(tables)
    from . import charts

    trend = compute.daily_trend(snap)
    images = [
        (
            "Persentase Kehadiran per Kelas",
            charts.attendance_by_class(tables[0], snap.thresholds.min_attendance_pct),
        ),
        ("Tren Ketidakhadiran Harian", charts.absence_trend(trend)),
    ]
    return render_xlsx([*tables, trend], images)


def export_text(name: str, snap: Snapshot, **kw: object) -> str:
    """The report as a Telegram text."""
    return render_text(build(name, snap, **kw))  # type: ignore[arg-type]
