"""A small SpreadsheetML (.xlsx) package writer: exactly what the report sheets use, written as text.

The reports' sheets are large grids of boxed cells (the whole-school monthly recap at ten times the sample
school has 340,000 cells). openpyxl spends about 25 µs on a cell even in write-only mode and XlsxWriter
about 10 (bench/RESULTS.md); this writer makes each cell one formatted string (about 1 µs), so a workbook
costs little next to the report's own computation. It knows what `xlsx.py` lays out and nothing more:

- cells: inline strings, numbers, dates (as serial numbers with a date format), blanks with a style;
  a text is always a text (never a formula or a link);
- styles: each distinct look (font, fill, border, alignment, number format) is one cell format;
- a sheet's column widths, row heights, frozen panes, zoom, merged ranges, print titles and area, margins,
  centring, A4 landscape fitted to pages, and PNG images anchored at a cell at their pixel size.

The parts follow ECMA-376 (Office Open XML, SpreadsheetML) and are read by Excel, LibreOffice and openpyxl
(the tests read every report back with openpyxl, cell by cell against the golden files).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CT = "application/vnd.openxmlformats-officedocument"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EMU_PER_PIXEL = 9525
EPOCH = datetime(1899, 12, 30)  # Excel's day 0 in the 1900 date system (day 60 is the phantom 29 Feb 1900)
BUILTIN_NUMBER_FORMATS = {"General": 0, "0": 1, "0.00": 2}
# Characters XML 1.0 cannot hold, and text that Excel would read as one of its own `_xHHHH_` escapes
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


LETTERS = [column_letter(i) for i in range(1, 703)]  # 0-based column index → letter(s), A..ZZ (made at import)


def letter(index: int) -> str:
    """0-based column index → letter(s), any column (Excel has 16,384)."""
    return LETTERS[index] if index < len(LETTERS) else column_letter(index + 1)


def xml_text(text: str) -> str:
    """Text as XML character data (also fit for attribute values in double quotes)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    if _NEEDS_ESCAPE.search(text):
        text = _NEEDS_ESCAPE.sub(lambda m: "_x005F" + m[0] if len(m[0]) > 1 else f"_x{ord(m[0]):04X}_", text)
    return text


def serial(value: date | datetime) -> float | int:
    """A date or school-local date and time as Excel's serial number (days since 1899-12-30)."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)  # Excel has no time zones; the value is school-local
        delta = value - EPOCH
        seconds = delta.seconds + delta.microseconds / 1e6
        return delta.days + seconds / 86400 if seconds else delta.days
    return (value - EPOCH.date()).days


# ------------------------------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class Font:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    size: float | None = None  # None: the workbook's default size

    def xml(self) -> str:
        parts = []  # in the schema's order
        if self.bold:
            parts.append('<b val="1"/>')
        if self.italic:
            parts.append('<i val="1"/>')
        if self.underline:
            parts.append('<u val="single"/>')
        if self.size is not None:
            parts.append(f'<sz val="{self.size:g}"/>')
        return f"<font>{''.join(parts)}<name val=\"Calibri\"/><family val=\"2\"/></font>"


DEFAULT_FONT = '<font><sz val="11"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'


@dataclass(frozen=True, slots=True)
class Style:
    """One cell format. Colours are RRGGBB; `align` is (horizontal, vertical, wrap)."""

    font: Font | None = None  # None: the default font
    fill: str | None = None  # a solid fill's colour
    border: str | None = None  # a thin box around the cell in this colour
    align: tuple[str | None, str | None, bool] | None = None
    number_format: str | None = None


class Styles:
    """The workbook's cell formats; `index(style)` is the number a cell's `s` attribute carries."""

    def __init__(self) -> None:
        self._xfs: dict[Style, int] = {Style(): 0}
        self._fonts: dict[Font, int] = {}
        self._fills: dict[str, int] = {}
        self._borders: dict[str, int] = {}
        self._formats: dict[str, int] = {}
        self._xf_xml: list[str] = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']

    def index(self, style: Style) -> int:
        found = self._xfs.get(style)
        if found is None:
            found = self._xfs[style] = len(self._xf_xml)
            self._xf_xml.append(self._xf(style))
        return found

    def _xf(self, style: Style) -> str:
        attrs = []
        fmt = 0
        if style.number_format:
            fmt = BUILTIN_NUMBER_FORMATS.get(style.number_format) or self._formats.setdefault(
                style.number_format, 164 + len(self._formats))
            attrs.append('applyNumberFormat="1"')
        font = 0
        if style.font is not None:
            font = self._fonts.setdefault(style.font, 1 + len(self._fonts))
            attrs.append('applyFont="1"')
        fill = 0
        if style.fill:
            fill = self._fills.setdefault(style.fill, 2 + len(self._fills))
            attrs.append('applyFill="1"')
        border = 0
        if style.border:
            border = self._borders.setdefault(style.border, 1 + len(self._borders))
            attrs.append('applyBorder="1"')
        head = f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
        if style.align is None:
            return f"{head}{''.join(' ' + a for a in attrs)}/>"
        horizontal, vertical, wrap = style.align
        align = "".join([f' horizontal="{horizontal}"' if horizontal else "",
                         f' vertical="{vertical}"' if vertical else "", ' wrapText="1"' if wrap else ""])  # fmt: skip
        return f"{head}{''.join(' ' + a for a in attrs)} applyAlignment=\"1\"><alignment{align}/></xf>"

    def xml(self) -> str:
        # Colours are written as openpyxl wrote them (alpha 00, which spreadsheet programs ignore for fills and
        # borders), so that a workbook reads back exactly as before (tests/reports/golden).
        formats = "".join(f'<numFmt numFmtId="{i}" formatCode="{xml_text(code)}"/>' for code, i in self._formats.items())
        fonts = [DEFAULT_FONT, *(font.xml() for font in self._fonts)]
        fills = ['<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>',
                 *(f'<fill><patternFill patternType="solid"><fgColor rgb="00{c}"/><bgColor indexed="64"/>'
                   "</patternFill></fill>" for c in self._fills)]  # fmt: skip
        borders = ["<border><left/><right/><top/><bottom/><diagonal/></border>",
                   *("<border>" + "".join(f'<{side} style="thin"><color rgb="00{c}"/></{side}>'
                                          for side in ("left", "right", "top", "bottom")) + "<diagonal/></border>"
                     for c in self._borders)]  # fmt: skip
        return "".join([
            XML_DECL, f'<styleSheet xmlns="{MAIN_NS}">',
            f'<numFmts count="{len(self._formats)}">{formats}</numFmts>' if self._formats else "",
            f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>',
            f'<fills count="{len(fills)}">{"".join(fills)}</fills>',
            f'<borders count="{len(borders)}">{"".join(borders)}</borders>',
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>',
            f'<cellXfs count="{len(self._xf_xml)}">{"".join(self._xf_xml)}</cellXfs>',
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>',
            "</styleSheet>",
        ])  # fmt: skip


# ------------------------------------------------------------------------------------------------- sheets


def cell_xml(ref: str, value: object, s: int) -> str:
    """One `<c>` element; '' for a cell with neither a value nor a style."""
    style = f' s="{s}"' if s else ""
    if isinstance(value, str):
        if not value:
            return f'<c r="{ref}"{style}/>' if s else ""
        text = xml_text(value)
        space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if value is None:
        return f'<c r="{ref}"{style}/>' if s else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'<c r="{ref}"{style}/>' if s else ""
        return f'<c r="{ref}"{style}><v>{value:.16g}</v></c>'
    if isinstance(value, date):  # datetime too
        return f'<c r="{ref}"{style}><v>{serial(value):.16g}</v></c>'
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c r="{ref}"{style}><v>{seconds / 86400:.16g}</v></c>'
    return cell_xml(ref, str(value), s)


@dataclass
class Image:
    row: int  # 0-based row of the top-left corner (column A)
    png: bytes
    width: int  # pixels
    height: int


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels (from its IHDR chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@dataclass
class Sheet:
    """One worksheet: settings, then rows appended in order (`row`)."""

    name: str
    widths: list[float] = field(default_factory=list)  # characters, per column from A
    freeze: tuple[int, int] | None = None  # (rows, columns) kept in view
    zoom: int | None = None
    merged: list[str] = field(default_factory=list)
    landscape: bool = False
    paper: int | None = None  # 9: A4
    fit: tuple[int, int] | None = None  # (pages wide, pages high; 0: as many as needed)
    centered: bool = False
    margins: tuple[float, float, float, float] = (0.75, 0.75, 1.0, 1.0)  # left, right, top, bottom (inches)
    print_rows: tuple[int, int] | None = None  # 1-based rows repeated on every printed page
    print_area: str | None = None  # "A1:AO25"
    images: list[Image] = field(default_factory=list)
    _rows: list[str] = field(default_factory=list)
    _last_row: int = 0
    _max_row: int = 0
    _max_col: int = 0

    def row(self, r: int, cells: Iterable[tuple[int, object, int]], height: float | None = None) -> None:
        """Row `r` (1-based, after the rows already written): (0-based column, value, style index) in column
        order; cells with neither value nor style are left out."""
        if r <= self._last_row:
            raise ValueError(f"row {r} written after row {self._last_row}")
        digits = str(r)
        parts = []
        last = -1
        for c, value, s in cells:
            made = cell_xml((LETTERS[c] if c < 702 else letter(c)) + digits, value, s)
            if made:
                parts.append(made)
                last = c
        if not parts and height is None:
            return
        self._last_row = r
        if parts:
            self._max_row = r
            self._max_col = max(self._max_col, last + 1)
        ht = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        self._rows.append(f'<row r="{r}"{ht}>{"".join(parts)}</row>')

    def xml(self, drawing_rel: str | None) -> str:
        out = [XML_DECL, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
               '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if self.fit else "",
               f'<dimension ref="{self.dimension()}"/>', self._view(), '<sheetFormatPr defaultRowHeight="15"/>']  # fmt: skip
        if self.widths:
            out.append("<cols>")
            out += [f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(self.widths, 1)]
            out.append("</cols>")
        out += ["<sheetData>", *self._rows, "</sheetData>"]
        if self.merged:
            out.append(f'<mergeCells count="{len(self.merged)}">')
            out += [f'<mergeCell ref="{ref}"/>' for ref in self.merged]
            out.append("</mergeCells>")
        if self.centered:
            out.append('<printOptions horizontalCentered="1"/>')
        left, right, top, bottom = self.margins
        out.append(f'<pageMargins left="{left:g}" right="{right:g}" top="{top:g}" bottom="{bottom:g}" '
                   'header="0.3" footer="0.3"/>')  # fmt: skip
        setup = []
        if self.paper is not None:
            setup.append(f'paperSize="{self.paper}"')
        if self.fit:
            setup.append(f'fitToWidth="{self.fit[0]}" fitToHeight="{self.fit[1]}"')
        if self.landscape:
            setup.append('orientation="landscape"')
        if setup:
            out.append(f"<pageSetup {' '.join(setup)}/>")
        if drawing_rel:
            out.append(f'<drawing r:id="{drawing_rel}"/>')
        out.append("</worksheet>")
        return "".join(out)

    def dimension(self) -> str:
        return f"A1:{letter(max(self._max_col, 1) - 1)}{max(self._max_row, 1)}"

    def _view(self) -> str:
        zoom = f' zoomScale="{self.zoom}" zoomScaleNormal="{self.zoom}"' if self.zoom else ""
        pane = ""
        if self.freeze and any(self.freeze):
            rows, cols = self.freeze
            active = "bottomRight" if rows and cols else ("bottomLeft" if rows else "topRight")
            split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
            top_left = f"{letter(cols)}{rows + 1}"
            pane = (f'<pane{split} topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
                    f'<selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>')  # fmt: skip
        return f'<sheetViews><sheetView workbookViewId="0"{zoom}>{pane}</sheetView></sheetViews>'


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _drawing(images: list[Image]) -> tuple[str, str]:
    """The drawing part and its relationships: each image anchored at its row's first cell, at its size."""
    anchors, rels = [], []
    for i, image in enumerate(images, 1):
        anchors.append(
            f"<xdr:oneCellAnchor><xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{image.row}</xdr:row>"
            f'<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="{image.width * EMU_PER_PIXEL}" '
            f'cy="{image.height * EMU_PER_PIXEL}"/><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{i + 1}" name="Picture {i}"/>'
            '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill>'
            f'<a:blip r:embed="rId{i}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr>'
            f'<a:xfrm><a:off x="0" y="0"/><a:ext cx="{image.width * EMU_PER_PIXEL}" cy="{image.height * EMU_PER_PIXEL}"/>'
            '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>'
            "</xdr:oneCellAnchor>")  # fmt: skip
        rels.append(f'<Relationship Id="rId{i}" Type="{REL_NS}/image" Target="../media/IMAGE{i}.png"/>')
    drawing = f'{XML_DECL}<xdr:wsDr xmlns:xdr="{DRAWING_NS}" xmlns:a="{A_NS}" xmlns:r="{REL_NS}">{"".join(anchors)}</xdr:wsDr>'
    return drawing, f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}">{"".join(rels)}</Relationships>'


def save(sheets: list[Sheet], styles: Styles, *, compresslevel: int = 6) -> bytes:
    """The workbook's package (.xlsx bytes)."""
    buf = io.BytesIO()
    overrides = [("/xl/workbook.xml", f"{CT}.spreadsheetml.sheet.main+xml"),
                 ("/xl/styles.xml", f"{CT}.spreadsheetml.styles+xml"),
                 ("/docProps/app.xml", f"{CT}.extended-properties+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml")]  # fmt: skip
    book_rels, entries, names = [], [], []
    media = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for n, sheet in enumerate(sheets, 1):
            drawing_rel = None
            if sheet.images:
                drawing_rel = "rId1"
                drawing, rels = _drawing(sheet.images)
                for i, image in enumerate(sheet.images, 1):
                    media += 1
                    rels = rels.replace(f"IMAGE{i}.png", f"image{media}.png", 1)
                    zf.writestr(f"xl/media/image{media}.png", image.png)
                zf.writestr(f"xl/drawings/drawing{n}.xml", drawing)
                zf.writestr(f"xl/drawings/_rels/drawing{n}.xml.rels", rels)
                zf.writestr(f"xl/worksheets/_rels/sheet{n}.xml.rels",
                            f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                            f'Type="{REL_NS}/drawing" Target="../drawings/drawing{n}.xml"/></Relationships>')  # fmt: skip
                overrides.append((f"/xl/drawings/drawing{n}.xml", f"{CT}.drawing+xml"))
            zf.writestr(f"xl/worksheets/sheet{n}.xml", sheet.xml(drawing_rel))
            overrides.append((f"/xl/worksheets/sheet{n}.xml", f"{CT}.spreadsheetml.worksheet+xml"))
            book_rels.append(f'<Relationship Id="rId{n}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>')
            entries.append(f'<sheet name="{xml_text(sheet.name)}" sheetId="{n}" r:id="rId{n}"/>')
            quoted = _quoted(sheet.name)
            if sheet.print_rows:
                first, last = sheet.print_rows
                names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{n - 1}">'
                             f"{xml_text(quoted)}!${first}:${last}</definedName>")  # fmt: skip
            if sheet.print_area:
                start, end = (f"${part.rstrip('0123456789')}${part.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
                              for part in sheet.print_area.split(":"))  # fmt: skip
                names.append(f'<definedName name="_xlnm.Print_Area" localSheetId="{n - 1}">'
                             f"{xml_text(quoted)}!{start}:{end}</definedName>")  # fmt: skip
        book_rels.append(f'<Relationship Id="rId{len(sheets) + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>')
        zf.writestr("xl/styles.xml", styles.xml())
        zf.writestr("xl/workbook.xml", "".join([
            XML_DECL, f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><workbookPr/>',
            '<bookViews><workbookView activeTab="0"/></bookViews>', f"<sheets>{''.join(entries)}</sheets>",
            f"<definedNames>{''.join(names)}</definedNames>" if names else "", "</workbook>"]))  # fmt: skip
        zf.writestr("xl/_rels/workbook.xml.rels",
                    f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}">{"".join(book_rels)}</Relationships>')
        zf.writestr("docProps/app.xml", f'{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                    '2006/extended-properties"><Application>absensi</Application></Properties>')  # fmt: skip
        zf.writestr("docProps/core.xml", f'{XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
                    'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                    "<dc:creator>absensi</dc:creator></cp:coreProperties>")  # fmt: skip
        zf.writestr("_rels/.rels", "".join([
            XML_DECL, f'<Relationships xmlns="{PKG_REL_NS}">',
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>',
            f'<Relationship Id="rId2" Type="{PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>',
            f'<Relationship Id="rId3" Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/>',
            "</Relationships>"]))  # fmt: skip
        zf.writestr("[Content_Types].xml", "".join([
            XML_DECL, f'<Types xmlns="{CT_NS}">',
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
            '<Default Extension="xml" ContentType="application/xml"/>',
            '<Default Extension="png" ContentType="image/png"/>' if media else "",
            *(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides),
            "</Types>"]))  # fmt: skip
    return buf.getvalue()
