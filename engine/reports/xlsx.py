"""Render `Table`s as an .xlsx workbook laid out the way a school prints its books.

Every sheet: a title block (school, report, class or department, period), the table with a frozen
header, shaded non-school days, a bold totals row, the footer notes, and a signature block with
place and date ("Tangerang, 30 November 2026"). Page setup: A4 landscape, one page wide, the header
repeated on every printed page. Cells hold values, never formulas, so what a test (or a school's
own macro) reads is exactly what the report computed.

A sheet's layout (title, header, rows, footer, signatures) is known before its first row, so its settings
are made first and its rows written in order by `ooxml`, the package writer made for these sheets (a
cell is one formatted string; openpyxl and XlsxWriter cost 10-25 times more per cell, bench/RESULTS.md).
Each distinct look is one cell format per workbook, each column's looks are worked out once per sheet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ooxml
from .fmt import long_date
from .table import Column, Row, Signature, Table

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

NUMBER_FORMATS = {"int": "0", "pct": '0.00" %"', "date": "DD/MM/YYYY"}
CENTERED_KINDS = frozenset({"int", "pct", "day", "date", "time", "code"})
INVALID_SHEET_CHARS = str.maketrans({c: "-" for c in "[]:*?/\\"})
PAPER_A4 = 9
HEADER_HEIGHT = 30
LINE_HEIGHT = 13.5
IMAGE_ROW_PX = 20  # a default row's height in pixels: how many rows a chart covers

# A cell's look as plain data: (font, fill, bordered, alignment, number format); one cell format each.
FONTS: dict[str, ooxml.Font | None] = {
    "default": None, "school": ooxml.Font(bold=True, size=14), "title": ooxml.Font(bold=True, size=12),
    "subtitle": ooxml.Font(size=11), "bold": ooxml.Font(bold=True), "note": ooxml.Font(italic=True, size=8),
    "foot": ooxml.Font(italic=True, size=9), "plain": ooxml.Font(size=11),
    "signed": ooxml.Font(bold=True, underline=True, size=11), "image-title": ooxml.Font(bold=True, size=12),
}  # fmt: skip
FILLS = {"shade": "D9D9D9", "head": "DDEBF7", "subtotal": "F2F2F2", "total": "FFF2CC"}
BORDER_COLOR = "808080"
ALIGNMENTS: dict[str, tuple[str | None, str | None, bool]] = {
    "center": ("center", "center", True), "left": ("left", "center", False), "wrap": (None, "center", True),
    "title": ("center", None, False),
}  # fmt: skip
Look = tuple[str, str | None, bool, str | None, str | None]  # font, fill, bordered, alignment, number format


def render_xlsx(tables: Table | Sequence[Table], images: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """One sheet per table (then one 'Grafik' sheet for the images, if any); returns the file's bytes."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    used: set[str] = set()
    styles = _Styles()
    sheets = [write_sheet(ooxml.Sheet(_sheet_name(table, used)), table, styles) for table in tables]
    if images:
        sheets.append(_image_sheet(ooxml.Sheet("Grafik"), images, styles))
    if not tables and not images:
        empty = ooxml.Sheet("Kosong")
        empty.row(1, [(0, "Tidak ada data.", 0)])
        sheets.append(empty)
    return ooxml.save(sheets, styles.table)


def _sheet_name(table: Table, used: set[str]) -> str:
    base = (table.sheet_name or table.key).translate(INVALID_SHEET_CHARS).strip("'")[:31] or "Laporan"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name.lower())
    return name


class _Styles:
    """Each distinct look as the number of its cell format in the workbook."""

    def __init__(self) -> None:
        self.table = ooxml.Styles()
        self._done: dict[Look | None, int] = {None: 0}

    def __call__(self, look: Look | None) -> int:
        done = self._done.get(look)
        if done is None:
            assert look is not None
            font, fill, bordered, alignment, number_format = look
            style = ooxml.Style(FONTS[font], FILLS[fill] if fill else None, BORDER_COLOR if bordered else None,
                                ALIGNMENTS[alignment] if alignment else None, number_format)  # fmt: skip
            done = self._done[look] = self.table.index(style)
        return done


@dataclass(frozen=True)
class _Layout:
    """Where each part of a sheet goes (rows are 1-based), known before the first row is written."""

    titles: int  # rows 1..titles: school, report, subtitle lines
    notes_row: int | None  # the small row above the header (weekday letters), if any
    header_row: int
    first_row: int  # the first table row
    last_row: int  # the last table row (header_row when there is none)
    footer_row: int  # the first footer line
    signature_row: int  # the first signature line
    max_row: int

    @classmethod
    def of(cls, table: Table) -> _Layout:
        titles = 2 + len(table.subtitle)
        notes_row = titles + 2 if any(c.note for c in table.columns) else None
        header_row = titles + 2 + (notes_row is not None)
        last_row = header_row + len(table.rows)
        footer_row = last_row + 2
        signature_row = footer_row + len(table.footer) + 1
        if table.signatures:
            bottom = signature_row + 5  # the signer's name, under three blank lines
        else:
            bottom = footer_row + len(table.footer) - 1 if table.footer else last_row
        return cls(titles, notes_row, header_row, header_row + 1, last_row, footer_row, signature_row,
                   max(bottom, last_row, header_row + 1))  # fmt: skip


def write_sheet(ws: ooxml.Sheet, table: Table, styles: _Styles) -> ooxml.Sheet:
    """Lay one table out on a sheet: its settings, then title, header, rows, footer and signatures in order."""
    layout = _Layout.of(table)
    width = len(table.columns)
    ws.widths = [col.width or _content_width(table, j, col.header) for j, col in enumerate(table.columns)]
    ws.freeze = (layout.header_row, _frozen_columns(table))
    _print_setup(ws, layout, width)
    if width > 1:  # the school and the report's title, centred over the table
        ws.merged = [f"A{i}:{ooxml.letter(width - 1)}{i}" for i in (1, 2)]
    heights = {layout.header_row: float(HEADER_HEIGHT)}
    for r, row in enumerate(table.rows, layout.first_row):
        lines = _lines_needed(table.columns, row)
        if lines > 1:
            heights[r] = LINE_HEIGHT * lines
    for r, cells in enumerate(_rows(table, layout, styles), 1):
        ws.row(r, cells, heights.get(r))
    return ws


Cell = tuple[int, object, int]  # 0-based column, value, cell format


def _rows(table: Table, layout: _Layout, styles: _Styles) -> Iterator[list[Cell]]:
    """Every row of the sheet from row 1 to the last, as its cells."""
    lines = [(table.school_name.upper(), "school"), (table.title, "title"), *((s, "subtitle") for s in table.subtitle)]
    for i, (text, font) in enumerate(lines, 1):
        yield [(0, text, styles((font, None, False, "title" if i <= 2 else "left", None)))]
    yield []
    if layout.notes_row is not None:
        yield [(j, col.note or None, styles(("note", "shade" if col.shade else None, False, "center", None)))
               for j, col in enumerate(table.columns)]  # fmt: skip
    yield [(j, col.header, styles(("bold", "shade" if col.shade else "head", True, "center", None)))
           for j, col in enumerate(table.columns)]  # fmt: skip
    looks = [_column_look(col) for col in table.columns]
    columns = range(len(looks))
    formats: dict[tuple[str, bool], list[int]] = {}  # (row kind, shaded) → each column's cell format
    for row in table.rows:
        plain = formats.get((row.kind, False))
        if plain is None:
            plain = formats[row.kind, False] = [styles(_cell_look(look, row, False)) for look in looks]
        if not row.shade:
            yield list(zip(columns, row.values, plain, strict=True))
            continue
        shaded = formats.get((row.kind, True))
        if shaded is None:
            shaded = formats[row.kind, True] = [styles(_cell_look(look, row, True)) for look in looks]
        yield [(j, value, shaded[j] if j in row.shade else plain[j]) for j, value in enumerate(row.values)]
    yield []
    for line in table.footer:
        yield [(0, line, styles(("foot", None, False, None, None)))]
    if table.signatures:
        yield []
        yield from _signature_rows(table, len(table.columns), styles)


def _column_look(col: Column) -> tuple[str, str | None, str | None]:
    """(alignment, number format, fill) of a column's cells."""
    return ("center" if col.kind in CENTERED_KINDS else "wrap", NUMBER_FORMATS.get(col.kind),
            "shade" if col.shade else None)  # fmt: skip


def _cell_look(column: tuple[str, str | None, str | None], row: Row, elsewhere: bool) -> Look:
    """A table cell: boxed, the column's alignment and format; shaded on a non-school day or a day the student
    spent in another class, else filled as a subtotal or total row; bold outside data rows."""
    alignment, number_format, fill = column
    if elsewhere:
        fill = "shade"
    fill = fill or {"subtotal": "subtotal", "total": "total"}.get(row.kind)
    return ("default" if row.kind == "data" else "bold", fill, True, alignment, number_format)


def _lines_needed(columns: Sequence[Column], row: Row) -> int:
    """The writer cannot measure text, and LibreOffice keeps the default height on load: estimate the
    lines a wrapped text cell needs so that long reasons or corrections do not overlap."""
    lines = 1
    for col, value in zip(columns, row.values, strict=True):
        if col.kind == "text" and isinstance(value, str) and col.width:
            lines = max(lines, -(-len(value) // max(int(col.width * 1.1) - 1, 1)))
    return lines


def _signature_rows(table: Table, width: int, styles: _Styles) -> Iterator[list[Cell]]:
    """'Mengetahui, Kepala Sekolah' on the left; place, date and the report's owner on the right."""
    dated = f"{table.place}, {long_date(table.signed_on)}" if table.signed_on else table.place
    blocks = _signature_blocks(table, dated)
    columns = _signature_columns(width, len(blocks))
    placed = list(zip(columns, blocks, strict=False))
    for i in range(max(len(lines) for _, lines in placed)):
        cells: list[Cell] = []
        for col, lines in sorted(placed, key=lambda p: p[0]):
            if i < len(lines):
                text, font = lines[i]
                cells.append((col - 1, text, styles((font, None, False, None, None))))
        yield cells


def _signature_columns(width: int, blocks: int) -> list[int]:
    """Where the signature blocks go: 'Mengetahui' near the left, the owner's near the right edge."""
    return [2, max(width - 5, 5)] if blocks == 2 else [max(width - 5, 2)]


def _signature_blocks(table: Table, dated: str) -> list[list[tuple[str | None, str]]]:
    """The report's owner (last signature) signs with place and date; anyone before 'Mengetahui,'."""
    *others, owner = table.signatures
    return [*(_block("Mengetahui,", sig) for sig in others), _block(dated, owner)]


def _block(first_line: str, sig: Signature) -> list[tuple[str | None, str]]:
    blank: list[tuple[str | None, str]] = [(None, "plain")] * 3  # room to sign and stamp
    return [(first_line, "plain"), (f"{sig.role},", "plain"), *blank, (sig.name or "." * 24, "signed")]


def _content_width(table: Table, index: int, header: str) -> float:
    longest = max((len(str(r.values[index] or "")) for r in table.rows), default=0)
    return float(min(max(longest, len(header), 4) + 2, 50))


def _frozen_columns(table: Table) -> int:
    """Keep No/NIS/Nama (or Kelas) visible while scrolling through the day columns."""
    headers = table.headers
    if "Nama" in headers and any(c.kind == "day" for c in table.columns):
        return headers.index("Nama") + 1
    return 0


def _a4_landscape(ws: ooxml.Sheet, pages_high: int) -> None:
    """One page wide; `pages_high` 0 lets a long class list run onto more pages."""
    ws.landscape = True
    ws.paper = PAPER_A4
    ws.fit = (1, pages_high)


def _print_setup(ws: ooxml.Sheet, layout: _Layout, width: int) -> None:
    _a4_landscape(ws, 0)
    ws.centered = True
    ws.margins = (0.4, 0.4, 0.5, 0.5)
    ws.print_rows = (layout.header_row, layout.header_row)
    ws.print_area = f"A1:{ooxml.letter(width - 1)}{layout.max_row}"
    ws.zoom = 90


def _image_sheet(ws: ooxml.Sheet, images: Sequence[tuple[str, bytes]], styles: _Styles) -> ooxml.Sheet:
    """Each chart under its title, one after the other, at its size in pixels."""
    _a4_landscape(ws, 1)  # all charts on one printed page
    row = 1
    for title, png in images:
        width, height = ooxml.png_size(png)
        ws.row(row, [(0, title, styles(("image-title", None, False, None, None)))])
        ws.images.append(ooxml.Image(row, png, width, height))  # (0-based: the row under the title)
        row += int(height / IMAGE_ROW_PX) + 4
    return ws


def find_header_row(ws: Worksheet, first_header: str) -> int:
    """The row whose column A holds `first_header` below the title block (for readers and tests)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        if cell.value == first_header and cell.font and cell.font.bold and cell.row > 2:
            return int(cell.row)
    raise LookupError(first_header)
