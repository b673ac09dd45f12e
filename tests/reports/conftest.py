"""A tiny school with hand-counted numbers (see the comments) for the report tests."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from absensi.engine.reports.model import Change, ClassReport, ClassRow, Entry, Snapshot, StudentRow
from absensi.engine.reports.xlsx import find_header_row

NOV = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
HOLIDAY = date(2026, 11, 10)  # a Tuesday
SCHOOL_DAYS = [d for d in NOV if d.weekday() < 5 and d != HOLIDAY]  # 20 days
PARENT = "+6281234567890"


def at(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm)


def entry(nis: str, day: int, status: str, note: str = "", source: str = "ketua_kelas", reporter: str = "Andi",
          contacted: bool = False) -> Entry:  # fmt: skip
    return Entry(nis, date(2026, 11, day), status, note, source, reporter, at(day, 7, 10), contacted)


STUDENTS = [
    StudentRow("1001", "0012345601", "Andi Pratama", "X TKJ 1", 1, "L"),
    StudentRow("1002", "0012345602", "Budi Santoso", "X TKJ 1", 2, "L"),
    StudentRow("1003", "0012345603", "Citra Lestari", "X TKJ 1", 3, "P"),
    StudentRow("1004", "0012345604", "Dewi Kusuma", "XI RPL 1", 1, "P"),
    StudentRow("1005", "0012345605", "Eko Saputra", "XI RPL 1", 2, "L"),
]
CLASSES = [ClassRow("XI RPL 1", 11, "RPL", "Pak Dodi"), ClassRow("X TKJ 1", 10, "TKJ", "Bu Sari")]
ENTRIES = [
    entry("1001", 2, "S", "demam"), entry("1001", 3, "S", "demam"),
    entry("1001", 7, "A"),  # Saturday: never counted
    entry("1001", 10, "A"),  # holiday: never counted
    entry("1002", 4, "A", contacted=True), entry("1002", 5, "A", contacted=True), entry("1002", 6, "A"),
    entry("1002", 9, "D", "lomba LKS"),
    entry("1003", 12, "P", "terlambat"),
    entry("1003", 13, "I", "acara keluarga", source="ortu", reporter=PARENT),
    entry("1004", 16, "D"), entry("1004", 17, "D"), entry("1004", 18, "D"),
    entry("1005", 19, "S", source="ortu", reporter=PARENT), entry("1005", 20, "S"), entry("1005", 23, "S"),
    entry("1005", 24, "I"),
]  # fmt: skip
CHANGES = [
    Change("1002", date(2026, 11, 4), None, "A", "Andi", at(4, 7, 10), "ketua_kelas"),
    Change("1003", date(2026, 11, 13), None, "A", "Andi", at(13, 7, 15), "ketua_kelas"),
    Change("1003", date(2026, 11, 13), "A", "I", PARENT, at(13, 8, 20), "ortu"),
    Change("1005", date(2026, 11, 25), None, "A", "Rudi", at(25, 7, 30), "sekretaris"),
    Change("1005", date(2026, 11, 25), "A", None, "Rudi", at(25, 7, 40), "sekretaris"),
]
REPORTS = [
    ClassReport("X TKJ 1", date(2026, 11, 4), "Andi", at(4, 7, 10), "ketua_kelas"),
    ClassReport("X TKJ 1", date(2026, 11, 19), "Andi", at(19, 7, 5), "ketua_kelas"),  # NIHIL
    ClassReport("X TKJ 1", date(2026, 11, 19), "Sinta", at(19, 7, 30), "sekretaris"),
]


def make_snapshot(**overrides: object) -> Snapshot:
    values: dict[str, object] = dict(
        school_name="SMK PGRI 1 Tangerang", place="Tangerang", headmaster="Drs. Suharto", period_label="November 2026",
        school_days=SCHOOL_DAYS, all_days=NOV, students=STUDENTS, classes=CLASSES, entries=ENTRIES,
        changes=CHANGES, class_reports=REPORTS,
    )  # fmt: skip
    values.update(overrides)
    return Snapshot(**values)  # type: ignore[arg-type]


@pytest.fixture
def snap() -> Snapshot:
    return make_snapshot()


def open_sheets(data: bytes) -> dict[str, Worksheet]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: ws for ws in wb.worksheets}


def read_table(ws: Worksheet, first_header: str) -> tuple[list[str], list[list[object]], int]:
    """(headers, rows until the first empty line, header row number) of a rendered sheet."""
    top = find_header_row(ws, first_header)
    headers = [c.value for c in ws[top] if c.value is not None]
    rows = []
    for row in ws.iter_rows(min_row=top + 1, max_col=len(headers), values_only=True):
        if all(v is None for v in row):
            break
        rows.append(list(row))
    return headers, rows, top  # type: ignore[return-value]
