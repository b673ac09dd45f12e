"""Render `Table`s as an .xlsx workbook laid out the way a school prints its books.

Every sheet: a title block (school, report, class or department, period), the table with a frozen
header, shaded non-school days, a bold totals row, the footer notes, and a signature block with
place and date ("Tangerang, 30 November 2026"). Page setup: A4 landscape, one page wide, the header
repeated on every printed page. Cells hold values, never formulas, so what a test (or a school's
own macro) reads is exactly what the report computed.

The workbook is written with openpyxl's write-only mode: a sheet's layout (title, header, rows, footer,
signatures) is known before its first row, so the sheet's settings are made first and its rows streamed
in order, each cell with a style built once per workbook. Everything the layout uses is available there
(merged title rows, column widths, row heights, frozen panes, print titles and area, page setup, the chart
images), so every sheet is written that way. openpyxl is imported when a workbook is made, never with this
module.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from .fmt import long_date
from .table import Column, Row, Signature, Table

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

NUMBER_FORMATS = {"int": "0", "pct": '0.00" %"', "date": "DD/MM/YYYY"}
CENTERED_KINDS = frozenset({"int", "pct", "day", "date", "time", "code"})
INVALID_SHEET_CHARS = str.maketrans({c: "-" for c in "[]:*?/\\"})
PAPERSIZE_A4 = "9"  # openpyxl's Worksheet.PAPERSIZE_A4 (a write-only sheet lacks the constant)
HEADER_HEIGHT = 30
LINE_HEIGHT = 13.5

# A cell's look as plain data: (font, fill, bordered, alignment, number format); built into openpyxl styles
# once per workbook (`_Styles`).
FONTS = {
    "default": None, "school": ("bold", 14), "title": ("bold", 12), "subtitle": ("", 11), "bold": ("bold", None),
    "note": ("italic", 8), "foot": ("italic", 9), "plain": ("", 11), "signed": ("bold-underline", 11),
    "image-title": ("bold", 12),
}  # fmt: skip
FILLS = {"shade": "D9D9D9", "head": "DDEBF7", "subtotal": "F2F2F2", "total": "FFF2CC"}
ALIGNMENTS = {
    "center": {"horizontal": "center", "vertical": "center", "wrap_text": True},
    "left": {"horizontal": "left", "vertical": "center"},
    "wrap": {"vertical": "center", "wrap_text": True},
    "title": {"horizontal": "center"},
}
Look = tuple[str, str | None, bool, str | None, str | None]  # font, fill, bordered, alignment, number format


def render_xlsx(tables: Table | Sequence[Table], images: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """One sheet per table (then one 'Grafik' sheet for the images, if any); returns the file's bytes."""
    from openpyxl import Workbook

    tables = [tables] if isinstance(tables, Table) else list(tables)
    wb = Workbook(write_only=True)
    used: set[str] = set()
    styles = _Styles()
    for table in tables:
        write_sheet(wb.create_sheet(_sheet_name(table, used)), table, styles)
    if images:
        _image_sheet(wb.create_sheet("Grafik"), images, styles)
    if not tables and not images:
        empty = wb.create_sheet("Kosong")
        _dimension(empty, "A1:A1")
        empty.append(["Tidak ada data."])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_name(table: Table, used: set[str]) -> str:
    base = (table.sheet_name or table.key).translate(INVALID_SHEET_CHARS)[:31] or "Laporan"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name.lower())
    return name


@cache
def _openpyxl_styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    fonts: dict[str, Any] = {}
    for key, spec in FONTS.items():
        if spec is None:
            continue
        weight, size = spec
        fonts[key] = Font(bold="bold" in weight or None, italic=weight == "italic" or None, size=size,
                          underline="single" if "underline" in weight else None)
    return {
        "fonts": fonts,
        "fills": {k: PatternFill("solid", fgColor=v) for k, v in FILLS.items()},
        "box": Border(left=thin, right=thin, top=thin, bottom=thin),
        "alignments": {k: Alignment(**v) for k, v in ALIGNMENTS.items()},
    }


class _Styles:
    """Each distinct look is made into openpyxl styles once per workbook; every other cell with that look
    shares its style-id array (styling through openpyxl's descriptors hashes every Font, Border and Fill
    object: most of the time of a 24-sheet book when done per cell). Nothing changes a cell's style after
    it is made, so the array is shared, not copied."""

    def __init__(self) -> None:
        from openpyxl.cell import Cell

        self._new = Cell
        self._done: dict[Look, Any] = {}

    def cell(self, ws: Any, value: object, look: Look | None) -> Any:
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)  # Excel has no time zones; the value is school-local
        cell = self._new(ws, row=1, column=1, value=value)  # (openpyxl sets the place when the row is written)
        if look is None:
            return cell
        done = self._done.get(look)
        if done is None:
            self._make(cell, look)
            self._done[look] = cell._style
        else:
            cell._style = done
        return cell

    @staticmethod
    def _make(cell: Any, look: Look) -> None:
        made = _openpyxl_styles()
        font, fill, bordered, alignment, number_format = look
        if bordered:
            cell.border = made["box"]
        if alignment is not None:
            cell.alignment = made["alignments"][alignment]
        if number_format:
            cell.number_format = number_format
        if fill is not None:
            cell.fill = made["fills"][fill]
        if font != "default":
            cell.font = made["fonts"][font]


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


def write_sheet(ws: Any, table: Table, styles: _Styles | None = None) -> None:
    """Lay one table out on a write-only sheet: its settings first, then title, header, rows, footer and
    signatures, row by row."""
    from openpyxl.utils import get_column_letter

    styles = styles or _Styles()
    layout = _Layout.of(table)
    width = len(table.columns)
    signed = _signature_columns(width, len(table.signatures)) if table.signatures else []
    _dimension(ws, f"A1:{get_column_letter(max([width, *signed]))}{layout.max_row}")
    for j, col in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(j)].width = col.width or _content_width(table, j - 1, col.header)
    ws.freeze_panes = f"{get_column_letter(_frozen_columns(table) + 1)}{layout.header_row + 1}"
    _print_setup(ws, layout, width)
    if width > 1:
        for i in (1, 2):
            ws.merged_cells.add(f"A{i}:{get_column_letter(width)}{i}")
    ws.row_dimensions[layout.header_row].height = HEADER_HEIGHT
    for r, row in enumerate(table.rows, layout.first_row):
        lines = _lines_needed(table.columns, row)
        if lines > 1:
            ws.row_dimensions[r].height = LINE_HEIGHT * lines
    for cells in _rows(ws, table, layout, styles):
        ws.append(cells)


def _dimension(ws: Any, ref: str) -> None:
    """The sheet's extent, written at its top as a normal sheet does (`<dimension ref="A1:AK30"/>`): readers
    in openpyxl's read-only mode pad every row to it. A write-only sheet cannot know it by itself; openpyxl's
    sheet writer asks the sheet's `calculate_dimension`, so the sheet is given one that says it."""
    ws.calculate_dimension = lambda: ref


def _rows(ws: Any, table: Table, layout: _Layout, styles: _Styles) -> Iterator[list[Any]]:
    """Every row of the sheet from row 1 to the last, as lists of cells (None: no cell)."""
    lines = [(table.school_name.upper(), "school"), (table.title, "title"), *((s, "subtitle") for s in table.subtitle)]
    for i, (text, font) in enumerate(lines, 1):
        yield [styles.cell(ws, text, (font, None, False, "title" if i <= 2 else "left", None))]
    yield []
    if layout.notes_row is not None:
        yield [styles.cell(ws, col.note or None, ("note", "shade" if col.shade else None, False, "center", None))
               for col in table.columns]  # fmt: skip
    yield [styles.cell(ws, col.header, ("bold", "shade" if col.shade else "head", True, "center", None))
           for col in table.columns]  # fmt: skip
    looks = [_column_look(col) for col in table.columns]
    for row in table.rows:
        yield [styles.cell(ws, value, _cell_look(looks[j], row, j in row.shade)) for j, value in enumerate(row.values)]
    yield []
    for line in table.footer:
        yield [styles.cell(ws, line, ("foot", None, False, None, None))]
    if table.signatures:
        yield []
        yield from _signature_rows(ws, table, len(table.columns), styles)


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
    """openpyxl cannot measure text, and LibreOffice keeps the default height on load: estimate the
    lines a wrapped text cell needs so that long reasons or corrections do not overlap."""
    lines = 1
    for col, value in zip(columns, row.values, strict=True):
        if col.kind == "text" and isinstance(value, str) and col.width:
            lines = max(lines, -(-len(value) // max(int(col.width * 1.1) - 1, 1)))
    return lines


def _signature_rows(ws: Any, table: Table, width: int, styles: _Styles) -> Iterator[list[Any]]:
    """'Mengetahui, Kepala Sekolah' on the left; place, date and the report's owner on the right."""
    dated = f"{table.place}, {long_date(table.signed_on)}" if table.signed_on else table.place
    blocks = _signature_blocks(table, dated)
    columns = _signature_columns(width, len(blocks))
    placed = list(zip(columns, blocks, strict=False))
    for i in range(max(len(lines) for _, lines in placed)):
        cells: list[Any] = [None] * max(columns)
        for col, lines in placed:
            if i < len(lines):
                text, font = lines[i]
                cells[col - 1] = styles.cell(ws, text, (font, None, False, None, None))
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


def _a4_landscape(ws: Any, pages_high: int) -> None:
    """One page wide; `pages_high` 0 lets a long class list run onto more pages."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_high
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _print_setup(ws: Any, layout: _Layout, width: int) -> None:
    from openpyxl.utils import get_column_letter

    _a4_landscape(ws, 0)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{layout.header_row}:{layout.header_row}"
    ws.print_area = f"A1:{get_column_letter(width)}{layout.max_row}"
    ws.sheet_view.zoomScale = 90


def _image_sheet(ws: Any, images: Sequence[tuple[str, bytes]], styles: _Styles) -> None:
    """Each chart under its title, one after the other (default rows are 20 px high)."""
    from openpyxl.drawing.image import Image

    _a4_landscape(ws, 1)  # all charts on one printed page
    charts = [(title, Image(io.BytesIO(png))) for title, png in images]
    rows = [1]
    for _, image in charts[:-1]:
        rows.append(rows[-1] + int(image.height / 20) + 4)
    _dimension(ws, f"A1:A{rows[-1]}")  # the titles are its only cells
    written = 0
    for (title, image), row in zip(charts, rows, strict=True):
        ws.add_image(image, f"A{row + 1}")
        for _ in range(row - 1 - written):  # the rows the chart above covers
            ws.append([])
        ws.append([styles.cell(ws, title, ("image-title", None, False, None, None))])
        written = row


def find_header_row(ws: Worksheet, first_header: str) -> int:
    """The row whose column A holds `first_header` below the title block (for readers and tests)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        if cell.value == first_header and cell.font and cell.font.bold and cell.row > 2:
            return cell.row
    raise LookupError(first_header)
