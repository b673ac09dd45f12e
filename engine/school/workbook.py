"""`absensi template`: the import workbook (SPEC §2) — a sheet per table, its columns (required ones marked
with `*`), an example row, and lists to pick classes, roles and genders from.

The reader (`tables.read_table`) finds each table in a sheet of that name, so the filled workbook, put in
the school directory, is the school's data (CSV files of the same tables take precedence).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .codes import new_code
from .tables import TABLES

LAST_ROW = 2000  # lists and text formats reach this row
TEXT_COLUMNS = {"nis", "nisn", "parent_code", "phone", "telegram_id", "class", "scope", "finger_id"}

NOTES: dict[str, str] = {
    "class": "The class name, e.g. X TKJ 1. Unique in the school.",
    "grade": "10, 11, 12 (or X, XI, XII).",
    "department": "The department (jurusan), e.g. TKJ.",
    "nis": "The school's student number (NIS / NIPD). Unique.",
    "name": "Full name.",
    "parent_code": "The code printed on the parent letter: 6+ letters or digits, unique. "
                   "`absensi codes` fills in missing codes of students.csv.",
    "absen_no": "Optional: the number on the class list; empty = by name.",
    "nisn": "Optional: the 10-digit NISN.",
    "gender": "Optional: L or P.",
    "finger_id": "Optional: the student's user id on the fingerprint machine; empty = the NIS.",
    "role": "A role from rules/roles.yaml (pick from the list). One row per role held.",
    "scope": "The class (wali_kelas, ketua_kelas, sekretaris), the department (ketua_jurusan), "
             "the weekdays on duty (guru_piket: mon,thu), or empty (school-wide roles).",
    "phone": "Phone number: 0812…, 62812… or +62 812-….",
    "telegram_id": "Optional: empty until the person links their Telegram account.",
}


def examples() -> dict[str, list[str]]:
    """One example row per sheet, to be replaced by the school's own rows."""
    return {
        "classes": ["X TKJ 1", "10", "TKJ"],
        "students": ["1001", "Budi Santoso", "X TKJ 1", new_code(set()), "", "0101000001", "L", ""],
        "staff": ["Ahmad Fauzi, S.Kom.", "wali_kelas", "X TKJ 1", "081311110003", ""],
        "parents": ["081234500001", "1001"],
    }


def write_template(path: Path, roles: list[str]) -> None:
    """The workbook at `path`; `roles`: the role names to pick from (empty: no list)."""
    book = Workbook()
    book.remove(book.worksheets[0])
    rows = examples()
    for stem, (required, optional) in TABLES.items():
        sheet = book.create_sheet(stem)
        _sheet(sheet, required, optional, rows[stem])
    _lists(book, roles)
    _instructions(book.create_sheet("petunjuk"))
    book.save(path)
    book.close()


def _sheet(sheet: Worksheet, required: list[str], optional: list[str], example: list[str]) -> None:
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    fill = PatternFill("solid", fgColor="FFF2CC")
    for position, column in enumerate(required + optional, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(1, position, f"{column} *" if column in required else column)
        cell.font = bold
        if column in required:
            cell.fill = fill
        cell.comment = Comment(("Required. " if column in required else "") + NOTES[column], "absensi")
        if column in TEXT_COLUMNS:  # as text: leading zeros of numbers stay
            sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].width = max(14, len(column) + 4)
        value = sheet.cell(2, position, example[position - 1] or None)
        value.font = grey
        if column in TEXT_COLUMNS:
            value.number_format = "@"
    sheet.cell(2, 1).comment = Comment("An example row: replace it with your own rows.", "absensi")
    sheet.freeze_panes = "A2"


def _letter(stem: str, column: str) -> str:
    required, optional = TABLES[stem]
    return str(get_column_letter((required + optional).index(column) + 1))


def _cells(stem: str, column: str) -> str:
    """The cells of `column` in sheet `stem` below the header, e.g. C2:C2000."""
    letter = _letter(stem, column)
    return f"{letter}2:{letter}{LAST_ROW}"


def _lists(book: Workbook, roles: list[str]) -> None:
    letter = _letter("classes", "class")
    classes = f"classes!${letter}$2:${letter}${LAST_ROW}"
    pick = DataValidation(type="list", formula1=f"={classes}", allow_blank=True,
                          error="Pick a class from the classes sheet.", errorTitle="Unknown class",
                          showErrorMessage=True)
    pick.add(_cells("students", "class"))
    book["students"].add_data_validation(pick)
    gender = DataValidation(type="list", formula1='"L,P"', allow_blank=True, showErrorMessage=True,
                            error="L or P.")
    gender.add(_cells("students", "gender"))
    book["students"].add_data_validation(gender)
    # staff scope: a class for class roles, but also a department or weekdays, so the list only suggests
    scope = DataValidation(type="list", formula1=f"={classes}", allow_blank=True, showErrorMessage=False)
    scope.add(_cells("staff", "scope"))
    book["staff"].add_data_validation(scope)
    listed = ",".join(roles)
    if roles and len(listed) <= 255:  # Excel's limit for a written-out list
        role = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True,
                              error="A role from rules/roles.yaml.", errorTitle="Unknown role")
        role.add(_cells("staff", "role"))
        book["staff"].add_data_validation(role)


def _instructions(sheet: Worksheet) -> None:
    lines = [
        "absensi: import workbook",
        "",
        "One sheet per table: classes, students, staff, parents (parents is optional).",
        "Columns marked * are required; a note on each column name says what goes in it.",
        "Row 2 of each sheet is an example: replace it with your own rows.",
        "Fill classes first: the class columns of students and staff pick from it.",
        "Put this workbook in the school directory (without classes.csv, students.csv, staff.csv,",
        "parents.csv, which would be read instead) and run: absensi check",
    ]
    for number, line in enumerate(lines, start=1):
        sheet.cell(number, 1, line)
    sheet["A1"].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 100
