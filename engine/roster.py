"""Roster rows → classes, students, staff and pre-registered parents, each bad row as `file:line: message`."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from .calendar import HARI, WEEKDAYS
from .diagnostics import Problems, did_you_mean
from .phones import normalize
from .rules.schema import RuleSet
from .school import ClassInfo, School, StaffRole, Student
from .tables import read_table

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROMAN_GRADES = {"X": 10, "XI": 11, "XII": 12, "XIII": 13}
_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")


def read_classes(school: School, problems: Problems) -> None:
    path, rows = read_table(school.directory, "classes", ["class", "grade", "department"], [], problems)
    for line, row in rows:
        name, department = row["class"], row["department"]
        grade = _grade(row["grade"])
        if not name:
            problems.add(path, line, 0, "empty class name")
        elif name in school.classes:
            problems.add(path, line, 0, f"class '{name}' is listed twice")
        elif grade is None:
            problems.add(path, line, 0, f"grade '{row['grade']}' is not a grade (10, 11, 12 or X, XI, XII)")
        elif not department:
            problems.add(path, line, 0, f"class '{name}' has no department")
        else:
            school.classes[name] = ClassInfo(name, grade, department)


def _grade(text: str) -> int | None:
    if text.upper() in ROMAN_GRADES:
        return ROMAN_GRADES[text.upper()]
    return int(text) if text.isdigit() and 1 <= int(text) <= 13 else None


def read_students(school: School, problems: Problems) -> None:
    path, rows = read_table(school.directory, "students", ["nis", "name", "class", "parent_code"],
                            ["absen_no", "nisn", "gender"], problems)
    codes: dict[str, int] = {}
    explicit: dict[str, int] = {}
    for line, row in rows:
        if _student_row_ok(path, line, row, school, codes, problems):
            number = row.get("absen_no", "")
            if number:
                explicit[row["nis"]] = int(number)
            school.students[row["nis"]] = Student(row["nis"], row["name"], row["class"], row["parent_code"], 0,
                                                  row.get("nisn", ""), row.get("gender", "").upper())
    _number_students(school, explicit, path, problems)


def _student_row_ok(path: Path, line: int, row: dict[str, str], school: School, codes: dict[str, int],
                    problems: Problems) -> bool:
    nis, code = row["nis"], row["parent_code"]
    message = ""
    if not nis:
        message = "empty nis"
    elif nis in school.students:
        message = f"nis {nis} is listed twice"
    elif not row["name"]:
        message = f"student {nis} has no name"
    elif row["class"] not in school.classes:
        message = f"unknown class '{row['class']}' for student {nis}"
        problems.add(path, line, 0, message, hint=did_you_mean(row["class"], school.classes))
        return False
    elif not _CODE.match(code):
        message = f"parent_code '{code}' must be 4-16 letters or digits"
    elif code.upper() in codes:
        message = f"parent_code '{code}' is already used on line {codes[code.upper()]}"
    elif row.get("absen_no") and not row["absen_no"].isdigit():
        message = f"absen_no '{row['absen_no']}' is not a number"
    if message:
        problems.add(path, line, 0, message)
        return False
    codes[code.upper()] = line
    if len(code) < 6:
        problems.add(path, line, 0, f"parent_code '{code}' is short enough to guess", warning=True,
                     hint="use 6 or more characters (absensi codes generates them)")
    if row.get("nisn") and not (row["nisn"].isdigit() and len(row["nisn"]) == 10):
        problems.add(path, line, 0, f"nisn '{row['nisn']}' is not 10 digits", warning=True)
    return True


def _number_students(school: School, explicit: dict[str, int], path: Path, problems: Problems) -> None:
    """Explicit absen numbers win; the others take the free numbers in name order."""
    by_class: dict[str, list[Student]] = defaultdict(list)
    for student in school.students.values():
        by_class[student.class_name].append(student)
    for class_name, members in by_class.items():
        taken = {n: nis for nis, n in explicit.items() if school.students[nis].class_name == class_name}
        if len(taken) != len({s.nis for s in members if s.nis in explicit}):
            problems.add(path, 0, 0, f"class '{class_name}' has two students with the same absen_no")
        free = (n for n in range(1, 10_000) if n not in taken)
        for student in sorted(members, key=lambda s: (s.name.lower(), s.nis)):
            number = explicit.get(student.nis) or next(free)
            school.students[student.nis] = Student(**{**student.__dict__, "absen_no": number,
                                                      "explicit_no": student.nis in explicit})


def read_staff(school: School, rules: RuleSet, problems: Problems) -> None:
    path, rows = read_table(school.directory, "staff", ["name", "role", "scope", "phone", "telegram_id"], [], problems)
    owners: dict[int, str] = {}
    for line, row in rows:
        staff = _staff_row(path, line, row, school, rules, problems)
        if staff is None:
            continue
        if staff.telegram_id is not None and owners.setdefault(staff.telegram_id, staff.phone or "") != (staff.phone or ""):
            problems.add(path, line, 0, f"telegram_id {staff.telegram_id} is used by two different phone numbers")
            continue
        school.staff.append(staff)


def _staff_row(path: Path, line: int, row: dict[str, str], school: School, rules: RuleSet,
               problems: Problems) -> StaffRole | None:
    role = rules.roles.get(row["role"])
    if not row["name"]:
        problems.add(path, line, 0, "empty name")
        return None
    if role is None:
        problems.add(path, line, 0, f"unknown role '{row['role']}'", hint=did_you_mean(row["role"], rules.roles))
        return None
    phone = normalize(row["phone"], school.region) if row["phone"] else None
    if row["phone"] and phone is None:
        problems.add(path, line, 0, f"'{row['phone']}' is not a phone number")
        return None
    telegram_id = row["telegram_id"]
    if telegram_id and not telegram_id.lstrip("-").isdigit():
        problems.add(path, line, 0, f"telegram_id '{telegram_id}' is not a number")
        return None
    if not phone and not telegram_id:
        problems.add(path, line, 0, f"{row['name']} needs a phone or a telegram_id to be reachable")
        return None
    duty = _scope_ok(path, line, row, role.scope, school, problems)
    if duty is None:
        return None
    return StaffRole(row["name"], row["role"], row["scope"], phone, int(telegram_id) if telegram_id else None, duty)


def _scope_ok(path: Path, line: int, row: dict[str, str], kind: str, school: School,
              problems: Problems) -> frozenset[int] | None:
    scope = row["scope"]
    departments = {c.department for c in school.classes.values()}
    if kind == "class" and scope not in school.classes:
        problems.add(path, line, 0, f"{row['role']} needs a class as scope, not '{scope}'",
                     hint=did_you_mean(scope, school.classes))
        return None
    if kind == "department" and scope not in departments:
        problems.add(path, line, 0, f"{row['role']} needs a department as scope, not '{scope}'",
                     hint=did_you_mean(scope, departments))
        return None
    if kind == "school" and scope:
        problems.add(path, line, 0, f"{row['role']} is school-wide: scope '{scope}' is ignored", warning=True)
    if kind != "duty" or not scope:
        return frozenset()
    words = [d.strip().lower() for d in re.split(r"[,\s;]+", scope) if d.strip()]
    bad = [w for w in words if weekday_number(w) is None]
    if bad:
        problems.add(path, line, 0, f"'{', '.join(bad)}' is not a weekday", hint="mon, tue, wed, thu, fri, sat")
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


def read_parents(school: School, problems: Problems) -> None:
    path, rows = read_table(school.directory, "parents", ["phone", "nis"], [], problems, needed=False)
    for line, row in rows:
        phone = normalize(row["phone"], school.region)
        if phone is None:
            problems.add(path, line, 0, f"'{row['phone']}' is not a phone number")
        elif row["nis"] not in school.students:
            problems.add(path, line, 0, f"unknown nis '{row['nis']}'")
        else:
            school.preregistered.append((phone, row["nis"]))
