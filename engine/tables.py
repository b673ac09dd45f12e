"""Roster tables: CSV (UTF-8, header row, any column order) or the same columns in an .xlsx sheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .diagnostics import Problems, did_you_mean

Row = tuple[int, dict[str, str]]


def read_table(directory: Path, stem: str, required: list[str], optional: list[str], problems: Problems,
               *, needed: bool = True) -> tuple[Path, list[Row]]:
    """Rows of `stem.csv` or `stem.xlsx` as (line number, {column: text}); unknown columns warned about."""
    csv_path, xlsx_path = directory / f"{stem}.csv", directory / f"{stem}.xlsx"
    path = csv_path if csv_path.exists() or not xlsx_path.exists() else xlsx_path
    if not path.exists():
        if needed:
            problems.add(csv_path, 0, 0, f"missing: the school directory needs {stem}.csv (or {stem}.xlsx)")
        return path, []
    try:
        header, rows = _read_xlsx(path) if path.suffix == ".xlsx" else _read_csv(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        problems.add(path, 0, 0, f"cannot read: {exc}")
        return path, []
    for column in required:
        if column not in header:
            problems.add(path, 1, 1, f"missing column '{column}'", hint=did_you_mean(column, header))
    for column in header:
        if column and column not in required and column not in optional:
            problems.add(path, 1, 1, f"unknown column '{column}' is ignored", warning=True,
                         hint=did_you_mean(column, required + optional))
    return path, [] if any(c not in header for c in required) else rows


def _read_csv(path: Path) -> tuple[list[str], list[Row]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        rows: list[Row] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            rows.append((reader.line_num, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    return header, rows


def _read_xlsx(path: Path) -> tuple[list[str], list[Row]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    lines: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip().lower() for h in next(lines, ())]
    rows: list[Row] = []
    for number, cells in enumerate(lines, start=2):
        texts = [_cell(c) for c in cells]
        if any(texts):
            rows.append((number, {h: (texts[i] if i < len(texts) else "") for i, h in enumerate(header)}))
    return header, rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
