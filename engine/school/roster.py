"""Roster rows → classes, students, staff and pre-registered parents.

Each bad row is reported as `file:line:column: message (column 'name')`; a cause that repeats over many rows
(an unknown class) is reported once with a count, and a table that did not load (its header is wrong) is
not a reason for errors in the tables that refer to it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from ..rules.diagnostics import Problems, did_you_mean
from ..rules.schema import Role
from .calendar import HARI, WEEKDAYS
from .model import ClassInfo, School, StaffRole, Student
from .phones import normalize
from .tables import Table, class_key, read_table

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROMAN_GRADES = {"X": 10, "XI": 11, "XII": 12, "XIII": 13}
_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")


def read_classes(school: School, problems: Problems) -> Table:
    table = read_table(school.directory, "classes", problems)
    seen: dict[str, tuple[str, int]] = {}
    for line, row in table.rows:
        name, department = " ".join(row["class"].split()), row["department"]
        grade = _grade(row["grade"])
        if not name:
            table.report(problems, line, "class", "empty class name", same="an empty class name")
        elif class_key(name) in seen:
            first, first_line = seen[class_key(name)]
            also = "" if first == name else f" (as '{first}')"
            table.report(problems, line, "class", f"class '{name}' is listed twice: first on line {first_line}{also}")
        elif grade is None:
            table.report(problems, line, "grade", f"grade '{row['grade']}' is not a grade (10, 11, 12 or X, XI, XII)")
        elif not department:
            table.report(problems, line, "department", f"class '{name}' has no department")
        else:
            seen[class_key(name)] = (name, line)
            school.classes[name] = ClassInfo(name, grade, department)
    table.finish(problems)
    return table


class ClassNames:
    """Class names as written in students.csv and staff.csv → the class in classes.csv, ignoring case and
    repeated spaces (with a warning). When classes.csv did not load, nothing is checked against it."""

    def __init__(self, school: School, classes: Table | None) -> None:
        self.checked = classes is None or classes.ok
        self._names = {class_key(name): name for name in school.classes}
        self.departments = {c.department for c in school.classes.values()}
        self._classes = classes.name if classes is not None else "classes"
        rows = classes.rows if classes is not None else []
        bad = [(line, row) for line, row in rows if class_key(row["class"]) not in self._names]
        self._bad = {class_key(row["class"]): line for line, row in reversed(bad)}  # name → its line there
        self._bad_departments = {row["department"] for _, row in bad} - self.departments

    def find(self, table: Table, problems: Problems, line: int, column: str, written: str) -> str | None:
        if not self.checked:
            return written
        name = self._names.get(class_key(written))
        if name is not None and name != written:
            table.report(problems, line, column, f"class '{written}' is read as '{name}'", warning=True,
                         hint="write class names as in classes.csv", same=f"class '{written}' for '{name}'")
        return name

    def unknown(self, table: Table, problems: Problems, line: int, column: str, written: str, message: str,
                hint: str, same: str) -> None:
        """`message` for a class not in classes.csv; for one whose row there has an error, that instead."""
        if class_key(written) in self._bad:
            message = (f"class '{written}' is not loaded: its row in {self._classes} (line "
                       f"{self._bad[class_key(written)]}) has an error")
            hint, same = "", f"class '{written}', whose row in {self._classes} has an error"
        table.report(problems, line, column, message, hint=hint, same=same)

    def unknown_department(self, table: Table, problems: Problems, line: int, column: str, written: str,
                           message: str, hint: str, same: str) -> None:
        if written in self._bad_departments:
            message = f"department '{written}' is not loaded: its classes in {self._classes} have errors"
            hint, same = "", f"department '{written}', whose classes in {self._classes} have errors"
        table.report(problems, line, column, message, hint=hint, same=same)

    def unchecked(self, table: Table, problems: Problems) -> None:
        if not self.checked and table.rows:
            problems.add(table.file, 0, 0, "class names not checked: the classes table did not load", warning=True)


def _grade(text: str) -> int | None:
    if text.upper() in ROMAN_GRADES:
        return ROMAN_GRADES[text.upper()]
    return int(text) if text.isdigit() and 1 <= int(text) <= 13 else None


def read_students(school: School, problems: Problems, classes: Table | None = None) -> Table:
    """`classes`: the classes table as read (when it did not load, class names are not checked)."""
    table = read_table(school.directory, "students", problems)
    rows = table.rows
    names = ClassNames(school, classes)
    codes: dict[str, int] = {}
    explicit: dict[str, int] = {}
    for line, row in rows:
        if _student_row_ok(table, line, row, names, school, codes, problems):
            number = row.get("absen_no", "")
            if number:
                explicit[row["nis"]] = int(number)
            school.students[row["nis"]] = Student(row["nis"], row["name"], row["class"], row["parent_code"], 0,
                                                  row.get("nisn", ""), row.get("gender", "").upper(),
                                                  finger_id=row.get("finger_id", ""))
    names.unchecked(table, problems)
    _finger_ids_unique(table, school, problems)
    table.finish(problems)
    _number_students(school, explicit, table, problems)
    return table


def _finger_ids_unique(table: Table, school: School, problems: Problems) -> None:
    """A machine's user id names one student: a `finger_id` (else the NIS) used twice is an error at its
    second row. Leading zeros do not count: machines drop or add them (`00123` is `123`)."""
    lines = {nis: line for line, row in table.rows if (nis := row["nis"])}
    owner: dict[str, str] = {}
    for student in sorted(school.students.values(), key=lambda s: lines.get(s.nis, 0)):
        key = finger_key(student.finger_id or student.nis)
        other = owner.setdefault(key, student.nis)
        if other != student.nis:
            column = "finger_id" if student.finger_id else "nis"
            table.report(problems, lines.get(student.nis, 0), column,
                         f"finger id '{student.finger_id or student.nis}' of student {student.nis} is already "
                         f"student {other}'s", hint="give one of them a finger_id as the machine knows them")


def finger_key(user_id: str) -> str:
    """How a fingerprint user id is compared: without spaces, and without leading zeros when numeric."""
    text = user_id.strip()
    return text.lstrip("0") or text[:1] if text.isdigit() else text.casefold()


def _student_row_ok(table: Table, line: int, row: dict[str, str], names: ClassNames, school: School,
                    codes: dict[str, int], problems: Problems) -> bool:
    nis, code = row["nis"], row["parent_code"]
    column, message, same = "", "", ""
    class_name: str | None = None
    if not nis:
        column, message, same = "nis", "empty nis", "an empty nis"
    elif nis in school.students:
        column, message = "nis", f"nis {nis} is listed twice"
    elif not row["name"]:
        column, message, same = "name", f"student {nis} has no name", "an empty name"
    elif (class_name := names.find(table, problems, line, "class", row["class"])) is None:
        names.unknown(table, problems, line, "class", row["class"], f"unknown class '{row['class']}' for student {nis}",
                      hint=did_you_mean(row["class"], school.classes), same=f"unknown class '{row['class']}'")
        return False
    elif not _CODE.match(code):
        column, message = "parent_code", f"parent_code '{code}' must be 4-16 letters or digits"
        same = "an empty parent_code" if not code else ""
    elif code.upper() in codes:
        column, message = "parent_code", f"parent_code '{code}' is already used on line {codes[code.upper()]}"
    elif row.get("absen_no") and not row["absen_no"].isdigit():
        column, message = "absen_no", f"absen_no '{row['absen_no']}' is not a number"
    if message:
        hint = "absensi codes fills in missing parent codes" if same == "an empty parent_code" else ""
        table.report(problems, line, column, message, hint=hint, same=same)
        return False
    row["class"] = class_name or row["class"]
    codes[code.upper()] = line
    if len(code) < 6:
        table.report(problems, line, "parent_code", f"parent_code '{code}' is short enough to guess", warning=True,
                     hint="use 6 or more characters (absensi codes --replace-weak)", same="a short parent_code")
    if row.get("nisn") and not (row["nisn"].isdigit() and len(row["nisn"]) == 10):
        table.report(problems, line, "nisn", f"nisn '{row['nisn']}' is not 10 digits", warning=True,
                     hint="a spreadsheet drops leading zeros from numbers: format the column as Text",
                     same="an nisn that is not 10 digits")
    return True


def _number_students(school: School, explicit: dict[str, int], table: Table, problems: Problems) -> None:
    """Explicit absen numbers win; the others take the free numbers in name order. A number written twice in
    a class is an error at its second row, naming the first."""
    lines = {row["nis"]: line for line, row in table.rows}
    by_class: dict[str, list[Student]] = defaultdict(list)
    for student in school.students.values():
        by_class[student.class_name].append(student)
    for class_name, members in by_class.items():
        taken: dict[int, str] = {}
        for nis in sorted((s.nis for s in members if s.nis in explicit), key=lambda n: lines.get(n, 0)):
            first = taken.setdefault(explicit[nis], nis)
            if first != nis:
                table.report(problems, lines.get(nis, 0), "absen_no",
                             f"absen_no {explicit[nis]} is already used in class '{class_name}' on line "
                             f"{lines.get(first, 0)}, by student {first}")
        free = (n for n in range(1, 10_000) if n not in taken)
        for student in sorted(members, key=lambda s: (s.name.lower(), s.nis)):
            number = explicit.get(student.nis) or next(free)
            school.students[student.nis] = Student(**{**student.__dict__, "absen_no": number,
                                                      "explicit_no": student.nis in explicit})


def read_staff(school: School, roles: Mapping[str, Role] | None, problems: Problems,
               classes: Table | None = None) -> Table:
    """`roles`: from the rules; None when they did not load (then roles and scopes are not checked)."""
    table = read_table(school.directory, "staff", problems)
    names = ClassNames(school, classes)
    owners: dict[int, str] = {}
    for line, row in table.rows:
        staff = _staff_row(table, line, row, school, roles, names, problems)
        if staff is None:
            continue
        if staff.telegram_id is not None and owners.setdefault(staff.telegram_id, staff.phone or "") != (staff.phone or ""):
            table.report(problems, line, "telegram_id",
                         f"telegram_id {staff.telegram_id} is used by two different phone numbers")
            continue
        school.staff.append(staff)
    if roles is None and table.rows:
        problems.add(table.file, 0, 0, "roles and scopes not checked: the rules did not load", warning=True)
    names.unchecked(table, problems)
    table.finish(problems)
    return table


def _staff_row(table: Table, line: int, row: dict[str, str], school: School, roles: Mapping[str, Role] | None,
               names: ClassNames, problems: Problems) -> StaffRole | None:
    role = roles.get(row["role"]) if roles is not None else None
    if not row["name"]:
        table.report(problems, line, "name", "empty name", same="an empty name")
        return None
    if role is None and roles is not None:
        table.report(problems, line, "role", f"unknown role '{row['role']}'", hint=did_you_mean(row["role"], roles),
                     same=f"unknown role '{row['role']}'")
        return None
    phone = normalize(row["phone"], school.region) if row["phone"] else None
    if row["phone"] and phone is None:
        table.report(problems, line, "phone", f"'{row['phone']}' is not a phone number")
        return None
    telegram_id = row["telegram_id"]
    if telegram_id and not telegram_id.lstrip("-").isdigit():
        table.report(problems, line, "telegram_id", f"telegram_id '{telegram_id}' is not a number")
        return None
    if not phone and not telegram_id:
        table.report(problems, line, "phone", f"{row['name']} needs a phone or a telegram_id to be reachable")
        return None
    duty = _scope_ok(table, line, row, role.scope if role else "", school, names, problems)
    if duty is None:
        return None
    return StaffRole(row["name"], row["role"], row["scope"], phone, int(telegram_id) if telegram_id else None, duty)


def _scope_ok(table: Table, line: int, row: dict[str, str], kind: str, school: School, names: ClassNames,
              problems: Problems) -> frozenset[int] | None:
    scope = row["scope"]
    departments = names.departments
    if kind == "class":
        found = names.find(table, problems, line, "scope", scope)
        if found is None:
            names.unknown(table, problems, line, "scope", scope, f"{row['role']} needs a class as scope, not '{scope}'",
                          hint=did_you_mean(scope, school.classes), same=f"unknown class '{scope}' as scope")
            return None
        row["scope"] = found
    if kind == "department" and names.checked and scope not in departments:
        names.unknown_department(table, problems, line, "scope", scope,
                                 f"{row['role']} needs a department as scope, not '{scope}'",
                                 hint=did_you_mean(scope, departments), same=f"unknown department '{scope}' as scope")
        return None
    if kind == "school" and scope:
        table.report(problems, line, "scope", f"{row['role']} is school-wide: scope '{scope}' is ignored",
                     warning=True)
    if kind != "duty" or not scope:
        return frozenset()
    words = [d.strip().lower() for d in re.split(r"[,\s;]+", scope) if d.strip()]
    bad = [w for w in words if weekday_number(w) is None]
    if bad:
        table.report(problems, line, "scope", f"'{', '.join(bad)}' is not a weekday",
                     hint="mon, tue, wed, thu, fri, sat")
        return None
    return frozenset(n for n in map(weekday_number, words) if n is not None)


def weekday_number(word: str) -> int | None:
    """0 for mon/monday/senin … 6 for sun/sunday/minggu."""
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    for number, (english, hari) in enumerate(zip(WEEKDAY_NAMES, HARI, strict=True)):
        if word in (english, hari.lower()):
            return number
    return None


def read_parents(school: School, problems: Problems, students: Table | None = None) -> Table:
    """`students`: the students table as read; a nis whose row there has an error is not a new error here."""
    table = read_table(school.directory, "parents", problems, needed=False)
    checked = students is None or students.ok
    written = {row["nis"]: line for line, row in students.rows} if students is not None else {}
    for line, row in table.rows:
        phone = normalize(row["phone"], school.region)
        nis = row["nis"]
        if phone is None:
            table.report(problems, line, "phone", f"'{row['phone']}' is not a phone number")
        elif checked and nis not in school.students:
            if nis in written:
                where = students.name if students is not None else "students"
                table.report(problems, line, "nis", f"nis '{nis}' is not loaded: its row in {where} "
                             f"(line {written[nis]}) has an error", same="a student whose row has an error")
            else:
                table.report(problems, line, "nis", f"unknown nis '{nis}'")
        else:
            school.preregistered.append((phone, nis))
    if not checked and table.rows:
        problems.add(table.file, 0, 0, "nis not checked: the students table did not load", warning=True)
    table.finish(problems)
    return table
