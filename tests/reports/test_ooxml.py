"""The .xlsx package writer (engine/reports/ooxml.py) on the values a report can hold, read back with openpyxl
and, where openpyxl hides it, from the sheet's XML. The reports' layout is held by the golden files."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from absensi.engine.reports import ooxml


def _book(values: list[object], *, name: str = "Data", style: ooxml.Style | None = None) -> tuple[bytes, str]:
    styles = ooxml.Styles()
    sheet = ooxml.Sheet(name)
    s = styles.index(style or ooxml.Style())
    sheet.row(1, [(i, v, s) for i, v in enumerate(values)])
    data = ooxml.save([sheet], styles)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return data, zf.read("xl/worksheets/sheet1.xml").decode()


def test_a_text_stays_a_text_whatever_it_looks_like() -> None:
    values = ["=SUM(A1:A3)", "+62812", "1002", "http://x.example", "a&b<c>\"d'", " lead", "trail ", "é ✓ —"]
    data, xml = _book(values)
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == values
    assert {c.data_type for c in ws[1]} == {"s"}
    assert "<f>" not in xml and 'xml:space="preserve"' in xml


def test_characters_xml_cannot_hold_are_escaped_and_the_escape_itself_is_protected() -> None:
    data, xml = _book(["bell\x07here", "lit _x0041_ text", "line\nbreak\ttab"])
    assert "bell_x0007_here" in xml and "lit _x005F_x0041_ text" in xml and "line\nbreak\ttab" in xml
    ws = load_workbook(io.BytesIO(data)).active  # a well-formed file
    assert ws["C1"].value == "line\nbreak\ttab"


def test_numbers_dates_and_blanks() -> None:
    local = timezone(timedelta(hours=7))
    boxed = ooxml.Style(border="808080")
    data, xml = _book([3, -2.5, 97.1, True, float("nan"), None], style=boxed)
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [3, -2.5, 97.1, True, None, None]
    assert '<c r="E1" s="1"/>' in xml and '<c r="F1" s="1"/>' in xml  # blanks keep their box
    data, _ = _book([datetime(2026, 11, 30, 7, 15, tzinfo=local), date(2026, 11, 30)],
                    style=ooxml.Style(number_format="DD/MM/YYYY HH:MM"))  # fmt: skip
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [datetime(2026, 11, 30, 7, 15), datetime(2026, 11, 30)]  # local wall time
    assert ws["A1"].number_format == "DD/MM/YYYY HH:MM"


def test_serial_numbers_are_excels() -> None:
    assert ooxml.serial(date(1900, 3, 1)) == 61 and ooxml.serial(date(2026, 11, 30)) == 46356
    assert ooxml.serial(datetime(2026, 11, 30, 12)) == 46356.5


def test_unstyled_empty_cells_and_rows_are_left_out() -> None:
    styles = ooxml.Styles()
    sheet = ooxml.Sheet("S")
    sheet.row(1, [(0, None, 0), (1, "", 0)])
    sheet.row(3, [(2, "x", 0)])
    xml = sheet.xml(None)
    assert '<row r="1"' not in xml and '<row r="3"><c r="C3" t="inlineStr">' in xml
    assert sheet.dimension() == "A1:C3"
    with pytest.raises(ValueError, match="row 2 written after row 3"):
        sheet.row(2, [(0, "late", 0)])
    assert load_workbook(io.BytesIO(ooxml.save([sheet], styles))).active["C3"].value == "x"


def test_sheet_names_in_print_titles_and_areas_are_quoted() -> None:
    styles = ooxml.Styles()
    sheet = ooxml.Sheet("Kelas X'A", print_rows=(4, 4), print_area="A1:AO25", freeze=(4, 3), zoom=90)
    sheet.row(1, [(0, "x", 0)])
    ws = load_workbook(io.BytesIO(ooxml.save([sheet], styles)))["Kelas X'A"]
    assert ws.print_title_rows == "$4:$4"
    assert str(ws.print_area) == "'Kelas X''A'!$A$1:$AO$25"
    assert ws.freeze_panes == "D5" and ws.sheet_view.zoomScale == 90


def test_png_size_reads_the_header_and_rejects_other_files() -> None:
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    assert ooxml.png_size(header + b"\x08\x06\x00\x00\x00") == (640, 480)
    with pytest.raises(ValueError):
        ooxml.png_size(b"GIF89a" + b"\x00" * 30)


def test_column_letters() -> None:
    assert [ooxml.column_letter(i) for i in (1, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]  # fmt: skip
    assert [ooxml.letter(i) for i in (0, 701, 702, 16383)] == ["A", "ZZ", "AAA", "XFD"]
    sheet = ooxml.Sheet("Wide")
    sheet.row(1, [(0, "a", 0), (702, "b", 0)])  # beyond the letters made at import
    assert '<c r="AAA1" t="inlineStr">' in sheet.xml(None) and sheet.dimension() == "A1:AAA1"
