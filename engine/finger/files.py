"""Fingerprint machines' files (SPEC §10) → punches as written: the machine's user id and its local time.

Two shapes are read:

- the attendance log a ZKTeco-protocol machine writes to a USB stick, `<machine number>_attlog.dat`: one
  punch per line, tab-separated — the user id (often padded with spaces, sometimes with zeros), the time as
  `YYYY-MM-DD HH:MM:SS`, then status, verify and work-code columns that differ between firmwares and are
  not needed here;
- the vendor software's export (.xlsx, or CSV with `,` or `;`): a header row naming the user id (`No.`,
  `ID`, `PIN`, `AC-No.`, `User ID`…) and the time, either in one column (`Tanggal/Waktu`, `Date/Time`,
  `Waktu`, `Scan`…) or as a date and a time (`Tanggal` + `Jam`); other columns (`Nama`, `Departemen`…)
  are ignored.

Times are the machine's clock in school time, read as written; dates written with slashes are day first
(`30/11/2026`), as Indonesian Windows writes them. Nothing here knows students: `punches.py` maps the ids.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ..rules.diagnostics import Problems
from ..school.tables import decode, header_key, read_cells


@dataclass(frozen=True)
class RawPunch:
    file: str
    line: int  # 1-based line (a sheet's row number for .xlsx)
    user_id: str  # as the machine wrote it, without surrounding spaces
    at: datetime  # naive: the machine's clock, school time
    device: str
    source: str = "usb"  # usb (a machine's attlog.dat), export (the vendor software's), live, scenario


# Export headers (compared by `header_key`: case and spaces do not count) → what the column holds. An id
# column wins over a `No.` column, which many exports use for the row's number instead.
ID_HEADERS = ("user id", "userid", "user_id", "id", "no. id", "no.id", "no id", "id number", "pin", "ac-no.",
              "ac-no", "ac no", "enroll number", "enrollnumber", "nik", "finger id", "finger_id")
NUMBER_HEADERS = ("no.", "no")
MOMENT_HEADERS = ("tanggal/waktu", "tanggal / waktu", "date/time", "date time", "datetime", "waktu", "time",
                  "scan", "tanggal scan", "waktu scan", "check time", "checktime", "jam masuk/pulang")
DATE_HEADERS = ("tanggal", "date", "tgl")
TIME_HEADERS = ("jam", "jam scan", "pukul")
DEVICE_HEADERS = ("sn", "mesin", "device", "terminal", "machine", "nama mesin", "serial number")
_ALL = ID_HEADERS + NUMBER_HEADERS + MOMENT_HEADERS + DATE_HEADERS + TIME_HEADERS + DEVICE_HEADERS

_DATE = r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})"
_TIME = r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)(?:\s*(?P<ampm>[AaPp][Mm]))?"
_MOMENT = re.compile(rf"^\s*{_DATE}(?:[ T]+{_TIME})?(?:\.\d+)?\s*$")
_TIME_ONLY = re.compile(rf"^\s*{_TIME}\s*$")
# user id, then the time (tab-separated; a few firmwares and hand-edited copies use spaces), then the rest
_ATTLOG = re.compile(r"^\s*(\S+)[\t ]+(\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2})?)(?:\s|$)")
_MACHINE = re.compile(r"^(\d+)_attlog$", re.IGNORECASE)


class FileError(Exception):
    """A file that cannot be read at all (missing, not a log, not a workbook)."""


def read_punch_file(path: Path, problems: Problems, device: str | None = None) -> list[RawPunch]:
    """The punches of one file; a line that is not a punch is an error in `problems` at `file:line`."""
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".csv"):
        return read_export(path, problems, device)
    return read_attlog(path, problems, device)


def machine_name(path: Path) -> str:
    """`1_attlog.dat` → `mesin 1` (the machine number the file is named after); otherwise the file's stem."""
    found = _MACHINE.match(path.stem)
    return f"mesin {int(found.group(1))}" if found else path.stem


def read_attlog(path: Path, problems: Problems, device: str | None = None) -> list[RawPunch]:
    try:
        text = decode(path.read_bytes()).text
    except (OSError, ValueError) as exc:
        raise FileError(f"{path}: cannot read: {exc}") from None
    name, device = str(path), device or machine_name(path)
    problems.set_lines(name, text.splitlines())
    punches: list[RawPunch] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _ATTLOG.match(line)
        moment = parse_moment(found.group(2)) if found else None
        if found is None or moment is None:
            problems.add(name, number, 1, "not a punch: expected a user id, a tab and a time like "
                         "2026-11-30 06:52:00", hint="is this an attendance log (…_attlog.dat)?")
            continue
        punches.append(RawPunch(name, number, found.group(1), moment, device))
    return punches


def read_export(path: Path, problems: Problems, device: str | None = None) -> list[RawPunch]:
    try:
        rows = read_cells(path, [], problems)
    except (OSError, csv.Error, ValueError, KeyError) as exc:
        raise FileError(f"{path}: cannot read: {exc}") from None
    name = str(path)
    found = _header(rows)
    if found is None:
        problems.add(name, rows[0][0] if rows else 1, 1, "no header row naming a user id and a time",
                     hint="the export needs columns like 'No. ID' (or 'PIN') and 'Tanggal/Waktu' (or 'Tanggal' "
                          "and 'Jam')")
        return []
    at, columns = found
    punches: list[RawPunch] = []
    for number, cells in rows[at + 1:]:
        if not any(c.strip() for c in cells):
            continue
        value = {key: cells[i].strip() if i < len(cells) else "" for key, i in columns.items()}
        moment = _row_moment(value)
        if not value["user_id"]:
            problems.add(name, number, columns["user_id"] + 1, "no user id in this row")
        elif moment is None:
            written = " ".join(v for k, v in value.items() if k in ("moment", "date", "time") and v)
            problems.add(name, number, columns.get("moment", columns.get("date", 0)) + 1,
                         f"'{written}' is not a date and time", hint="write it like 30/11/2026 06:52:00")
        else:
            punches.append(RawPunch(name, number, value["user_id"], moment,
                                    device or value.get("device") or f"ekspor {path.stem}", "export"))
    return punches


def _header(rows: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]] | None:
    """(index of the header row, our column → 0-based position): the first of the first ten rows that names
    a user id and a time."""
    for index, (_, cells) in enumerate(rows[:10]):
        keys = [header_key(c) for c in cells]
        columns: dict[str, int] = {}
        for kind, names in (("user_id", ID_HEADERS), ("number", NUMBER_HEADERS), ("moment", MOMENT_HEADERS),
                            ("date", DATE_HEADERS), ("time", TIME_HEADERS), ("device", DEVICE_HEADERS)):
            position = next((i for i, key in enumerate(keys) if key in names), None)
            if position is not None:
                columns[kind] = position
        if "user_id" not in columns and "number" in columns:
            columns["user_id"] = columns.pop("number")
        columns.pop("number", None)
        if "user_id" in columns and ("moment" in columns or "date" in columns):
            return index, columns
    return None


def _row_moment(value: dict[str, str]) -> datetime | None:
    """One column holding date and time, or a date column and a time column (either may hold both)."""
    moment = parse_moment(value.get("moment", "")) if value.get("moment") else None
    if moment is not None and (moment.time() != time(0) or "date" not in value):
        return moment
    day = parse_moment(value.get("date", "")) if value.get("date") else None
    clock = value.get("time") or value.get("moment") or ""
    at = parse_time(clock) if clock else None
    if day is not None and at is not None:
        return datetime.combine(day.date(), at)
    return moment or (day if day is not None and day.time() != time(0) else None)


def parse_moment(text: str) -> datetime | None:
    """`2026-11-30 06:52:00`, `30/11/2026 06.52`, `2026-11-30T06:52`, `30-11-2026` (midnight) …, or None."""
    found = _MOMENT.match(text)
    if found is None:
        return None
    day = _date(found.group("date"))
    clock = _clock(found.group("time"), found.group("ampm")) if found.group("time") else time(0)
    return datetime.combine(day, clock) if day is not None and clock is not None else None


def parse_time(text: str) -> time | None:
    found = _TIME_ONLY.match(text)
    if found is not None:
        return _clock(found.group("time"), found.group("ampm"))
    moment = parse_moment(text)  # a time cell of a workbook can come as a whole datetime
    return moment.time() if moment is not None else None


def _date(text: str) -> date | None:
    parts = [int(p) for p in re.split(r"[-/.]", text)]
    year, month, day = parts if parts[0] > 31 else (parts[2], parts[1], parts[0])
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _clock(text: str, ampm: str | None) -> time | None:
    parts = [int(p) for p in re.split(r"[:.]", text)]
    hour, minute, second = [*parts, 0][:3]
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        return time(hour, minute, second)
    except ValueError:
        return None


def shifted(punches: list[RawPunch], minutes: int) -> list[RawPunch]:
    """A machine whose clock was `minutes` ahead (positive) or behind: its punches as the real time."""
    if not minutes:
        return punches
    step = timedelta(minutes=minutes)
    return [RawPunch(p.file, p.line, p.user_id, p.at - step, p.device, p.source) for p in punches]
