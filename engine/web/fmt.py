"""How values look on the console's pages (as in the text reports)."""

from __future__ import annotations

from datetime import date, datetime

from ..reports.fmt import short_date
from ..reports.table import Column, Value


def cell(value: Value, column: Column) -> str:
    """A table value as the text renderer writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return short_date(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",") + ("%" if column.kind == "pct" else "")
    if isinstance(value, int) and not isinstance(value, bool) and column.kind == "int" and abs(value) >= 1000:
        return f"{value:,}".replace(",", ".")  # 1.350, as Indonesian writes thousands
    return str(value)
