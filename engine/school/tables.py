"""Roster tables as schools have them (SPEC §2): CSV or the first sheet of an .xlsx.

CSV: `,` or `;` (detected), UTF-8 with or without BOM, or Windows-1252 (detected, with a warning), any line
ending. Column names match case-insensitively, with the Indonesian export headers in `ALIASES`. A problem
in a row names its column; a problem that repeats (the same unknown class in 30 rows) is reported once with
a count, and a file whose header is wrong gives one error, not one per row.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..rules.diagnostics import Problems, did_you_mean

Row = tuple[int, dict[str, str]]  # (line or sheet row, {our column: text})

# Headers of common Indonesian exports (Dapodik, e-Rapor, class lists), lower case → our column.
# A header is read as an alias only in a table that has that column.
ALIASES: dict[str, str] = {
    "nama": "name",
    "nipd": "nis",
    "nis": "nis",
    "nisn": "nisn",
    "jk": "gender",
    "rombel": "class",
    "rombel saat ini": "class",
    "kelas": "class",
}

# Each table's (required, optional) columns (SPEC §2).
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "classes": (["class", "grade", "department"], []),
    "students": (["nis", "name", "class", "parent_code"], ["absen_no", "nisn", "gender", "finger_id"]),
    "staff": (["name", "role", "scope", "phone", "telegram_id"], []),
    "parents": (["phone", "nis"], []),
}

DELIMITERS = (",", ";")
_HEADER_SEARCH = 10  # rows looked at for the header (exports may start with a title)
_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|\Z)")


def header_key(text: str) -> str:
    """' Rombel  Saat Ini *' → 'rombel saat ini': case, spaces and a trailing required-mark do not count."""
    return " ".join(text.strip().rstrip("*").split()).casefold()


def column_for(header: str, columns: Iterable[str]) -> str | None:
    """Our column that a header names (`Parent Code`, `NIPD`…), or None."""
    key = header_key(header)
    known = set(columns)
    if key.replace(" ", "_") in known:
        return key.replace(" ", "_")
    alias = ALIASES.get(key)
    return alias if alias in known else None


def class_key(name: str) -> str:
    """Class names compare ignoring case and repeated spaces: `x tkj  1` is `X TKJ 1`."""
    return " ".join(name.split()).casefold()


@dataclass
class Decoded:
    text: str
    encoding: str  # "utf-8", "utf-8-sig" (with BOM) or "cp1252"
    bad_line: int = 0  # for cp1252: the first line that was not UTF-8


def decode(raw: bytes) -> Decoded:
    """UTF-8 (BOM or not), else Windows-1252; ValueError for what is neither (UTF-16 'Unicode text')."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError('saved as UTF-16 "Unicode Text": save it as "CSV UTF-8 (Comma delimited)"')
    if raw.startswith(b"\xef\xbb\xbf"):
        return Decoded(raw[3:].decode("utf-8"), "utf-8-sig")
    try:
        return Decoded(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
    try:
        return Decoded(raw.decode("cp1252"), "cp1252", bad_line)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f'line {line} is neither UTF-8 nor Windows-1252 text: save it as "CSV UTF-8"') from None


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


@dataclass
class Record:
    line: int  # first physical line, 1-based
    body: str  # the record's text without its line ending (may hold quoted line breaks)
    end: str  # its line ending as written ("\r\n", "\n", "\r" or "" at the end of the file)


def records(text: str, delimiter: str) -> list[Record]:
    """Physical lines joined where a quoted field spans them; `"".join(body + end)` is `text` again.

    Quotes count as the csv module reads them: only at the start of a field, or inside a quoted one.
    """
    result: list[Record] = []
    pending: str | None = None
    start, state = 0, _START
    for number, match in enumerate(_LINE.finditer(text), start=1):
        body, end = match.group(1), match.group(2)
        if not body and not end and pending is None:
            break  # the empty match at the very end
        if pending is None:
            start, pending, state = number, body, _START
        else:
            pending += body
        state = _scan(body, delimiter, state)
        if state != _QUOTED or not end:
            result.append(Record(start, pending, end))
            pending = None
        else:
            pending += end
    return result


_START, _PLAIN, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def _scan(text: str, delimiter: str, state: int) -> int:
    """The quoting state after `text` (a field's start, in a plain field, in a quoted one, just after a quote
    in a quoted one)."""
    for char in text:
        if state == _QUOTED:
            state = _QUOTE_IN_QUOTED if char == '"' else _QUOTED
        elif char == delimiter:
            state = _START
        elif state in (_START, _QUOTE_IN_QUOTED):  # a field's first character, or after a closing quote
            state = _QUOTED if char == '"' else _PLAIN
    return state


def split(body: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(body), delimiter=delimiter), [])


def join(cells: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def field_starts(body: str, delimiter: str) -> list[int]:
    """1-based character position where each field of a CSV line starts (for the ^ under it)."""
    starts, state = [1], _START
    for i, char in enumerate(body):
        if char in "\r\n" and state != _QUOTED:
            break
        state = _scan(char, delimiter, state)
        if state == _START:  # only a delimiter outside quotes starts a field
            starts.append(i + 2)
    return starts


def sniff(text: str, columns: Iterable[str]) -> str:
    """`,` or `;`: the one under which an early line names the most of our columns, else the commoner one."""
    known = list(columns)
    bodies = [m.group(1) for _, m in zip(range(_HEADER_SEARCH), _LINE.finditer(text), strict=False)]
    for body in bodies[:_HEADER_SEARCH]:
        scores = {d: sum(column_for(c, known) is not None for c in split(body, d)) for d in DELIMITERS}
        if max(scores.values()):
            return max(DELIMITERS, key=lambda d: scores[d])
    first = next((b for b in bodies if b.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def header_index(rows: list[list[str]], required: list[str]) -> int:
    """The row holding the column names: the first naming a required column (exports may start with a
    title and a blank row), else the first that is not empty."""
    for i, cells in enumerate(rows[:_HEADER_SEARCH]):
        if any(column_for(c, required) for c in cells):
            return i
    return next((i for i, cells in enumerate(rows) if any(c.strip() for c in cells)), 0)


@dataclass
class Table:
    """One roster table as read, and the way its problems are reported."""

    path: Path
    file: str = ""  # as problems name it: the path, with [sheet] for a sheet of an import workbook
    columns: dict[str, int] = field(default_factory=dict)  # our column → 1-based position in the file
    names: dict[str, str] = field(default_factory=dict)  # our column → its header as written
    rows: list[Row] = field(default_factory=list)
    ok: bool = False  # present, readable and with every required column
    sheet: bool = False  # read from an .xlsx (columns are letters there)
    starts: dict[int, list[int]] = field(default_factory=dict)  # CSV line → where its fields start
    _repeats: dict[tuple[str, bool], list[tuple[int, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.file = self.file or str(self.path)

    @property
    def name(self) -> str:
        """How a message names the table: `staff.csv`, or `sekolah.xlsx[staff]`."""
        return Path(self.file).name

    def report(self, problems: Problems, line: int, column: str, message: str, *, hint: str = "",
               warning: bool = False, same: str = "") -> None:
        """`message` at `line`, in `column` (our name; the file's header is shown).

        Rows with the same `same` (e.g. "unknown class 'X TKJ 9'") after the first are only counted:
        `finish` adds "… and N more rows with unknown class 'X TKJ 9'".
        """
        if same:
            seen = self._repeats.setdefault((same, warning), [])
            seen.append((line, column))
            if len(seen) > 1:
                return
        position = self.columns.get(column, 0)
        problems.add(self.file, line, position, f"{message} ({self.where(column, line)})", hint=hint,
                     warning=warning, caret=self.caret(line, position))

    def caret(self, line: int, position: int) -> int:
        """Where field `position` of CSV line `line` starts (0: unknown, or a sheet)."""
        starts = self.starts.get(line, [])
        return starts[position - 1] if not self.sheet and 0 < position <= len(starts) else 0

    def where(self, column: str, line: int) -> str:
        name = self.names.get(column, column)
        if self.sheet and column in self.columns:
            return f"column '{name}', cell {_letter(self.columns[column])}{line}"
        return f"column '{name}'"

    def finish(self, problems: Problems) -> None:
        """The counts of repeated problems, each after its first."""
        for (same, warning), seen in self._repeats.items():
            if len(seen) > 1:
                line, column = seen[1]
                more = len(seen) - 1
                problems.add(self.file, line, self.columns.get(column, 0),
                             f"… and {more} more row{'s' if more > 1 else ''} with {same}", warning=warning,
                             quote=False)
        self._repeats.clear()


def _letter(position: int) -> str:
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def find_table(directory: Path, stem: str) -> tuple[Path | None, str | None, list[str]]:
    """(file, sheet name or None for the first sheet / a CSV, notes): `stem.csv`, `stem.xlsx`, or a sheet
    named `stem` in another workbook of the directory (the import workbook of `absensi template`)."""
    notes: list[str] = []
    own = [p for p in (directory / f"{stem}.csv", directory / f"{stem}.xlsx") if p.exists()]
    books = [(p, s) for p in sorted(directory.glob("*.xlsx")) if not p.name.startswith("~$")
             and p.stem.lower() not in {"classes", "students", "staff", "parents"}
             for s in [_sheet_named(p, stem)] if s is not None]
    if own:
        if len(own) == 2:
            notes.append(f"{own[1].name} is ignored: {own[0].name} is read")
        notes += [f"sheet '{s}' of {p.name} is ignored: {own[0].name} is read" for p, s in books]
        sheet = _sheet_named(own[0], stem) if own[0].suffix == ".xlsx" else None
        return own[0], sheet, notes  # a workbook's sheet named like the table, else its first sheet
    if books:
        notes += [f"sheet '{s}' of {p.name} is ignored: sheet '{books[0][1]}' of {books[0][0].name} is read"
                  for p, s in books[1:]]
        return books[0][0], books[0][1], notes
    return None, None, notes


def _sheet_named(path: Path, stem: str) -> str | None:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # openpyxl's remarks on a workbook's styles are not the school's problem
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True)
    except Exception:  # not ours to judge: a report or a broken file is simply not an import workbook
        return None
    try:
        return next((name for name in book.sheetnames if name.strip().lower() == stem), None)
    finally:
        book.close()


def read_table(directory: Path, stem: str, problems: Problems, *, needed: bool = True) -> Table:
    """`stem` as a `Table`; a missing or unreadable file or a missing column is one problem, and `ok` False."""
    required, optional = TABLES[stem]
    path, sheet, notes = find_table(directory, stem)
    if path is None:
        table = Table(directory / f"{stem}.csv")
        old = directory / f"{stem}.xls"
        if old.exists():
            problems.add(old, 0, 0, f"{old.name} is the old Excel format: save it as {stem}.xlsx or as "
                         f'"CSV UTF-8" {stem}.csv')
        elif needed:
            problems.add(table.file, 0, 0, f"missing: the school directory needs {stem}.csv (or {stem}.xlsx)")
        return table
    for note in notes:
        problems.add(path, 0, 0, note, warning=True)
    named = sheet is not None and path.stem.lower() != stem
    table = Table(path, f"{path}[{sheet}]" if named else "", sheet=path.suffix.lower() == ".xlsx")
    _fill(table, sheet, required, optional, problems)
    return table


def read_table_file(path: Path, stem: str, problems: Problems, *, may_lack: Iterable[str] = ()) -> Table:
    """`stem`'s columns from a file of any name (`absensi naik-kelas --new FILE`), read as `read_table` reads
    the school's own: a CSV, or an .xlsx's sheet named `stem`, else its first sheet. `may_lack`: required
    columns this file may leave out (a row then has no such key)."""
    lacking = set(may_lack)
    required = [c for c in TABLES[stem][0] if c not in lacking]
    optional = [c for c in TABLES[stem][0] if c in lacking] + TABLES[stem][1]
    table = Table(path, sheet=path.suffix.lower() == ".xlsx")
    if path.suffix.lower() == ".xls":
        problems.add(path, 0, 0, f'{path.name} is the old Excel format: save it as .xlsx or as "CSV UTF-8" .csv')
    elif not path.is_file():
        problems.add(path, 0, 0, "missing: there is no such file" if not path.exists() else "is not a file")
    else:
        _fill(table, _sheet_named(path, stem) if table.sheet else None, required, optional, problems)
    return table


def _fill(table: Table, sheet: str | None, required: list[str], optional: list[str], problems: Problems) -> None:
    try:
        if table.sheet:
            cells = _xlsx_rows(table.path, sheet)
            problems.set_lines(table.file, [])  # a workbook has no text lines to quote
        else:
            cells = _csv_rows(table, required + optional, problems)
    except (OSError, csv.Error, ValueError, KeyError) as exc:
        problems.add(table.file, 0, 0, f"cannot read: {exc}")
        return
    _read_header(table, cells, required, optional, problems)


def read_cells(path: Path, columns: list[str], problems: Problems) -> list[tuple[int, list[str]]]:
    """One file of another shape than the roster's (a fingerprint machine's export): a CSV, decoded and split as
    above (`columns` guide the delimiter's detection), or an .xlsx's first sheet; (line or sheet row, cells).
    OSError, csv.Error or ValueError for a file that cannot be read."""
    table = Table(path, sheet=path.suffix.lower() == ".xlsx")
    if table.sheet:
        problems.set_lines(table.file, [])  # a workbook has no text lines to quote
        return _xlsx_rows(path, None)
    return _csv_rows(table, columns, problems)


def _csv_rows(table: Table, columns: list[str], problems: Problems) -> list[tuple[int, list[str]]]:
    decoded = decode(table.path.read_bytes())
    problems.set_lines(table.path, [m.group(1) for m in _LINE.finditer(decoded.text)])
    if decoded.encoding == "cp1252":
        problems.add(table.file, 0, 0, f"read as Windows-1252, not UTF-8 (first on line {decoded.bad_line}): "
                     'save it as "CSV UTF-8" so that every name keeps its letters', warning=True)
    delimiter = sniff(decoded.text, columns)
    found = records(decoded.text, delimiter)
    rows = [(r.line, split(r.body, delimiter)) for r in found]
    table.starts = {r.line: field_starts(r.body, delimiter) for r in found}
    return rows


def _xlsx_rows(path: Path, sheet: str | None) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # openpyxl's remarks on a workbook's styles are not the school's problem
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValueError(f"not an Excel workbook ({exc})") from None
    try:
        worksheet = book[sheet] if sheet else book.worksheets[0]
        values: Any = worksheet.iter_rows(values_only=True)
        return [(number, [_cell(c) for c in cells]) for number, cells in enumerate(values, start=1)]
    finally:
        book.close()


def _read_header(table: Table, rows: list[tuple[int, list[str]]], required: list[str],
                 optional: list[str], problems: Problems) -> None:
    known = required + optional
    at = header_index([cells for _, cells in rows], required)
    line, header = rows[at] if rows else (1, [])
    unknown: list[tuple[int, str]] = []
    for position, text in enumerate(header, start=1):
        if not text.strip():
            continue
        column = column_for(text, known)
        if column is None:
            unknown.append((position, text.strip().rstrip("*").strip()))
        elif column in table.columns:
            problems.add(table.file, line, position, f"column '{text.strip()}' is ignored: "
                         f"'{table.names[column]}' is already read as {column}", warning=True,
                         caret=table.caret(line, position))
        else:
            table.columns[column] = position
            table.names[column] = text.strip().rstrip("*").strip()
    missing = [c for c in required if c not in table.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        hint = did_you_mean(missing[0], [t for _, t in unknown]) if len(missing) == 1 else ""
        if not table.columns:
            hint = f"the first row must name the columns: {', '.join(required)}"
            if any("\t" in t for t in header):
                hint = 'the file looks tab-separated: save it as "CSV UTF-8 (Comma delimited)"'
        problems.add(table.file, line, 1, f"missing column{'s' if len(missing) > 1 else ''} {names}", hint=hint)
    if unknown:
        names = ", ".join(f"'{t}'" for _, t in unknown)
        several = len(unknown) > 1
        hints = [f"'{t}': {h}" if several else h for _, t in unknown if (h := did_you_mean(t.lower(), known))]
        problems.add(table.file, line, unknown[0][0],
                     f"unknown column{'s' if several else ''} {names} {'are' if several else 'is'} ignored",
                     warning=True, hint="; ".join(hints), caret=table.caret(line, unknown[0][0]))
    if missing:
        return
    table.ok = True
    for number, cells in rows[at + 1:]:
        if not any(c.strip() for c in cells):
            continue
        table.rows.append((number, {c: (cells[p - 1].strip() if p <= len(cells) else "")
                                    for c, p in table.columns.items()}))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
