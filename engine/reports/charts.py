"""PNG charts drawn from the computed tables (never from the raw entries, so they cannot disagree).

Uses matplotlib's object API with the Agg canvas directly: no pyplot global state, no display,
safe to call from the service's worker threads.
"""

from __future__ import annotations

import io
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .table import Table

BAR_COLOR, LOW_COLOR, LINE_COLOR = "#4472C4", "#C00000", "#C55A11"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def attendance_by_class(table: Table, threshold: float = 85.0) -> bytes:
    """Bars: % Kehadiran per class of a `rekap-sekolah` table; classes under the threshold in red."""
    rows = [r for r in table.records() if r["% Kehadiran"] is not None]
    names = [str(r["Kelas"]) for r in rows]
    values = [float(r["% Kehadiran"]) for r in rows]  # type: ignore[arg-type]
    fig = Figure(figsize=(max(6.0, 0.42 * len(names) + 2), 4.2))
    ax = fig.add_subplot()
    colors = [LOW_COLOR if v < threshold else BAR_COLOR for v in values]
    ax.bar(range(len(names)), values, color=colors)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    low = min([*values, threshold], default=threshold)
    ax.set_ylim(max(0.0, low - 5), 100.5)
    ax.axhline(threshold, color=LOW_COLOR, linestyle="--", linewidth=1, label=f"Batas {threshold:g} %")
    ax.set_ylabel("% Kehadiran")
    ax.set_title(f"Persentase Kehadiran per Kelas — {_period(table)}")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def absence_trend(table: Table) -> bytes:
    """Line: students absent per school day (as the rules count absence, and those without notice) from a
    daily-trend table."""
    rows = list(table.records())
    days: list[date] = [r["Tanggal"] for r in rows]  # type: ignore[misc]
    fig = Figure(figsize=(8.0, 3.8))
    ax = fig.add_subplot()
    x = range(len(days))  # school days side by side: a weekend is not a gap in the trend
    ax.plot(x, [r["Tidak Hadir"] for r in rows], marker="o", color=LINE_COLOR, label="Tidak hadir")
    unexcused = [c for c in table.extra.get("unexcused", ()) if c in table.headers]  # type: ignore[attr-defined]
    if unexcused:
        ax.plot(x, [sum(r[c] for c in unexcused) for r in rows], marker=".", color=LOW_COLOR,  # type: ignore[misc]
                linestyle="--", label=f"Tanpa Keterangan ({' + '.join(unexcused)})")  # fmt: skip
    step = max(1, len(days) // 40)
    ax.set_xticks(x[::step], [f"{d.day}/{d.month}" for d in days][::step], rotation=60, fontsize=8)
    ax.set_ylabel("Jumlah siswa tidak hadir")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Tren Ketidakhadiran Harian — {_period(table)}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def _period(table: Table) -> str:
    for line in table.subtitle:
        if line.startswith(("Bulan:", "Periode:", "Semester:")):
            return line.split(":", 1)[1].strip()
    return ""
