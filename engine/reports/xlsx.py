"""Render `Table`s as an .xlsx workbook laid out the way a school prints its books.

Every sheet: a title block (school, report, class or department, period), the table with a frozen
header, shaded non-school days, a bold totals row, the footer notes, and a signature block with
place and date ("Tangerang, 30 November 2026"). Page setup: A4 landscape, one page wide, the header
repeated on every printed page. Cells hold values, never formulas, so what a test (or a school's
own macro) reads is exactly what the report computed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Sequence
from copy import copy
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .fmt import long_date
from .table import Column, Row, Signature, Table

THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHADE = PatternFill("solid", fgColor="D9D9D9")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="FFF2CC")
BOLD = Font(bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
WRAP = Alignment(vertical="center", wrap_text=True)
NUMBER_FORMATS = {"int": "0", "pct": '0.00" %"', "date": "DD/MM/YYYY"}
CENTERED_KINDS = frozenset({"int", "pct", "day", "date", "time", "code"})
INVALID_SHEET_CHARS = str.maketrans({c: "-" for c in "[]:*?/\\"})
NOTE_FONT = Font(size=8, italic=True)
FOOT_FONT = Font(size=9, italic=True)
PLAIN = Font(size=11)
SIGNED = Font(size=11, bold=True, underline="single")
CellStyle = tuple[str | None, Alignment, PatternFill | None]


def render_xlsx(tables: Table | Sequence[Table], images: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """One sheet per table (then one 'Grafik' sheet for the images, if any); returns the file's bytes."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    used: set[str] = set()
    styler = Styler()
    for table in tables:
        write_sheet(wb.create_sheet(_sheet_name(table, used)), table, styler)
    if images:
        _image_sheet(wb.create_sheet("Grafik"), images)
    if not wb.worksheets:
        wb.create_sheet("Kosong")["A1"] = "Tidak ada data."
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


class Styler:
    """Builds each distinct cell style once per workbook and copies its style-id array to other cells.

    Styling through openpyxl's descriptors hashes every Font/Border/Fill object, which was most of the
    time of a 24-sheet book; the ids in the array are workbook-wide, so one Styler serves all sheets.
    """

    def __init__(self) -> None:
        self._done: dict[Hashable, StyleArray] = {}

    def apply(self, cell: Cell, key: Hashable, style: Callable[..., None], *args: object) -> None:
        cached = self._done.get(key)
        if cached is not None:
            cell._style = copy(cached)
            return
        style(cell, *args)
        self._done[key] = copy(cell._style)


def write_sheet(ws: Worksheet, table: Table, styler: Styler | None = None) -> None:
    """Lay one table out on a sheet: title, header, rows, footer, signatures, print setup."""
    styler = styler or Styler()
    width = len(table.columns)
    row = _title_block(ws, table, width)
    header_row = _header(ws, table.columns, row, styler)
    last = _body(ws, table, header_row + 1, styler)
    row = _footer(ws, table.footer, last + 2)
    _signatures(ws, table, row + 1, width)
    _widths(ws, table)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=_frozen_columns(table) + 1)
    _print_setup(ws, header_row, width)


def _title_block(ws: Worksheet, table: Table, width: int) -> int:
    lines = [(table.school_name.upper(), Font(bold=True, size=14)), (table.title, Font(bold=True, size=12))]
    lines += [(line, Font(size=11)) for line in table.subtitle]
    for i, (text, font) in enumerate(lines, 1):
        cell = ws.cell(row=i, column=1, value=text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center") if i <= 2 else LEFT
        if i <= 2 and width > 1:
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
    return len(lines) + 2


def _header(ws: Worksheet, columns: Sequence[Column], row: int, styler: Styler) -> int:
    """The contract header row; a small row above it carries notes (weekday letters) when present."""
    if any(c.note for c in columns):
        for j, col in enumerate(columns, 1):
            cell = ws.cell(row=row, column=j, value=col.note or None)
            styler.apply(cell, ("note", col.shade), _style_note, col.shade)
        row += 1
    for j, col in enumerate(columns, 1):
        cell = ws.cell(row=row, column=j, value=col.header)
        styler.apply(cell, ("head", col.shade), _style_head, col.shade)
    ws.row_dimensions[row].height = 30
    return row


def _style_note(cell: Cell, shade: bool) -> None:
    cell.alignment, cell.font = CENTER, NOTE_FONT
    if shade:
        cell.fill = SHADE


def _style_head(cell: Cell, shade: bool) -> None:
    cell.font, cell.alignment, cell.border = BOLD, CENTER, BOX
    cell.fill = SHADE if shade else HEAD_FILL


def _body(ws: Worksheet, table: Table, first: int, styler: Styler) -> int:
    styles = [_column_style(c) for c in table.columns]
    keys = [(fmt, id(align), id(shade)) for fmt, align, shade in styles]  # style objects hash slowly
    r = first - 1
    for r, row in enumerate(table.rows, first):
        for j, value in enumerate(row.values, 1):
            cell = ws.cell(row=r, column=j, value=_cell_value(value))
            if j - 1 in row.shade:  # a day the student spent in another class
                fmt, align, _ = styles[j - 1]
                styler.apply(cell, (fmt, id(align), id(SHADE), row.kind), _style_cell, (fmt, align, SHADE), row)
                continue
            styler.apply(cell, (*keys[j - 1], row.kind), _style_cell, styles[j - 1], row)
        _fit_height(ws, r, table.columns, row)
    return r


def _fit_height(ws: Worksheet, r: int, columns: Sequence[Column], row: Row) -> None:
    """openpyxl cannot measure text, and LibreOffice keeps the default height on load: estimate the
    lines a wrapped text cell needs so that long reasons or corrections do not overlap."""
    lines = 1
    for col, value in zip(columns, row.values, strict=True):
        if col.kind == "text" and isinstance(value, str) and col.width:
            lines = max(lines, -(-len(value) // max(int(col.width * 1.1) - 1, 1)))
    if lines > 1:
        ws.row_dimensions[r].height = 13.5 * lines


def _style_cell(cell: Cell, style: CellStyle, row: Row) -> None:
    fmt, align, shade = style
    cell.border, cell.alignment = BOX, align
    if fmt:
        cell.number_format = fmt
    fill = shade or _row_fill(row)
    if fill:
        cell.fill = fill
    if row.kind != "data":
        cell.font = BOLD


def _column_style(col: Column) -> CellStyle:
    align = CENTER if col.kind in CENTERED_KINDS else WRAP
    return NUMBER_FORMATS.get(col.kind), align, SHADE if col.shade else None


def _row_fill(row: Row) -> PatternFill | None:
    return {"subtotal": SUBTOTAL_FILL, "total": TOTAL_FILL}.get(row.kind)


def _cell_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; the value is school-local
    return value


def _footer(ws: Worksheet, lines: Sequence[str], row: int) -> int:
    for i, line in enumerate(lines):
        ws.cell(row=row + i, column=1, value=line).font = FOOT_FONT
    return row + len(lines)


def _signatures(ws: Worksheet, table: Table, row: int, width: int) -> None:
    """'Mengetahui, Kepala Sekolah' on the left; place, date and the report's owner on the right."""
    if not table.signatures:
        return
    dated = f"{table.place}, {long_date(table.signed_on)}" if table.signed_on else table.place
    blocks = _signature_blocks(table, dated)
    columns = [2, max(width - 5, 5)] if len(blocks) == 2 else [max(width - 5, 2)]
    for col, lines in zip(columns, blocks, strict=False):
        for i, (text, font) in enumerate(lines):
            ws.cell(row=row + i, column=col, value=text).font = font


def _signature_blocks(table: Table, dated: str) -> list[list[tuple[str | None, Font]]]:
    """The report's owner (last signature) signs with place and date; anyone before 'Mengetahui,'."""
    *others, owner = table.signatures
    return [*(_block("Mengetahui,", sig) for sig in others), _block(dated, owner)]


def _block(first_line: str, sig: Signature) -> list[tuple[str | None, Font]]:
    blank: list[tuple[str | None, Font]] = [(None, PLAIN)] * 3  # room to sign and stamp
    return [(first_line, PLAIN), (f"{sig.role},", PLAIN), *blank, (sig.name or "." * 24, SIGNED)]


def _widths(ws: Worksheet, table: Table) -> None:
    for j, col in enumerate(table.columns, 1):
        width = col.width or _content_width(table, j - 1, col.header)
        ws.column_dimensions[get_column_letter(j)].width = width


def _content_width(table: Table, index: int, header: str) -> float:
    longest = max((len(str(r.values[index] or "")) for r in table.rows), default=0)
    return float(min(max(longest, len(header), 4) + 2, 50))


def _frozen_columns(table: Table) -> int:
    """Keep No/NIS/Nama (or Kelas) visible while scrolling through the day columns."""
    headers = table.headers
    if "Nama" in headers and any(c.kind == "day" for c in table.columns):
        return headers.index("Nama") + 1
    return 0


def _a4_landscape(ws: Worksheet, pages_high: int) -> None:
    """One page wide; `pages_high` 0 lets a long class list run onto more pages."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_high
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _print_setup(ws: Worksheet, header_row: int, width: int) -> None:
    _a4_landscape(ws, 0)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(width)}{ws.max_row}"
    ws.sheet_view.zoomScale = 90


def _image_sheet(ws: Worksheet, images: Sequence[tuple[str, bytes]]) -> None:
    row = 1
    for title, png in images:
        ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12)
        image = Image(io.BytesIO(png))
        ws.add_image(image, f"A{row + 1}")
        row += int(image.height / 20) + 4  # default rows are 20 px high
    _a4_landscape(ws, 1)  # all charts on one printed page


def find_header_row(ws: Worksheet, first_header: str) -> int:
    """The row whose column A holds `first_header` below the title block (for readers and tests)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        if cell.value == first_header and cell.font and cell.font.bold and cell.row > 2:
            return cell.row
    raise LookupError(first_header)
