"""The one value every report computes and every renderer reads.

A `Table` is presentation-neutral: values are numbers, dates and strings; layout hints (column kind,
shaded columns, subtotal rows, signature lines) say what a printed page needs without saying how.
The text, spreadsheet and chart renderers all read the same table, so no count is ever made twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Value = str | int | float | date | datetime | None
ColumnKind = Literal["text", "int", "pct", "date", "time", "code", "day"]
RowKind = Literal["data", "subtotal", "total"]


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: ColumnKind = "text"
    width: float | None = None  # characters; None = from the content
    shade: bool = False  # a non-school day in the monthly grid
    note: str = ""  # a second header line, e.g. the weekday letter above a day number


@dataclass(frozen=True, slots=True)
class Row:
    values: tuple[Value, ...]
    kind: RowKind = "data"
    shade: tuple[int, ...] = ()  # cells (column indexes) shaded in this row: days a moved student was elsewhere


@dataclass(frozen=True, slots=True)
class Signature:
    role: str  # 'Wali Kelas', 'Kepala Sekolah'
    name: str


@dataclass(frozen=True)
class Table:
    """A report ready to render. `key` is the report NAME of SPEC §5 (`rekap-kelas`, …)."""

    key: str
    title: str
    school_name: str
    subtitle: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    footer: tuple[str, ...] = ()
    signatures: tuple[Signature, ...] = ()
    place: str = ""
    signed_on: date | None = None
    sheet_name: str = ""
    extra: dict[str, object] = field(default_factory=dict)  # numbers the text renderer may quote

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def col(self, header: str) -> int:
        """Index of a column by its (contract) header."""
        return self.headers.index(header)

    def records(self, kind: RowKind | None = "data") -> Iterator[dict[str, Value]]:
        """Rows as header → value, the way a test or the text renderer reads them."""
        headers = self.headers  # once, not per row (/hariini reads a whole school's day: issue 11)
        for row in self.rows:
            if kind is None or row.kind == kind:
                yield dict(zip(headers, row.values, strict=True))

    def data_rows(self) -> Sequence[Row]:
        return [r for r in self.rows if r.kind == "data"]
