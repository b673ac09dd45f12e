"""The new school year (kenaikan kelas, SPEC §2): next year's school directory from this year's.

Every class moves up a grade keeping its department and suffix (`X TKJ 1` → `XI TKJ 1`); the top grade
graduates; the bottom grade's classes start again empty, for the new students; staff scopes follow their
classes (a wali kelas keeps her class as it moves up; the officers are its students); the new year's
semesters are added to school.yaml (the old ones stay, so past periods remain reportable). Parent numbers of
continuing students are kept; graduates leave students.csv and parents.csv. Absen numbers are not carried:
they restart with the year (the store numbers each class afresh on its first use).

New students (the grade-X intake, transfers in) come in a students table of their own (`--new FILE`), checked
row by row as `absensi check` checks students.csv and against next year's classes and continuing students;
those without a parent code get one, made as `absensi codes` makes them.

`plan_year` decides everything and describes each change, `add_new_students` joins the new students;
`write_year` writes the directory, never over an existing one. The database needs nothing: switching the
service to the new directory keeps every record.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ..rules.diagnostics import Problems, did_you_mean
from .codes import new_code
from .model import ClassInfo, School, StaffRole, Student
from .roster import _CODE as CODE_SHAPE  # the parent code's shape as `absensi check` requires it
from .roster import finger_key
from .tables import Table, class_key, read_table_file

ROMAN = {10: "X", 11: "XI", 12: "XII", 13: "XIII"}
_GRADE_WORD = re.compile(r"^(XIII|XII|XI|X|1[0-3])(\s+.*)$", re.IGNORECASE)
CLASS_ROLES = ("wali_kelas", "ketua_kelas", "sekretaris")
_EMPTY = "{}: new, empty until the new students are added"


class YearError(ValueError):
    """Next year's directory cannot be made as asked (the message says why and what to do)."""


@dataclass
class YearPlan:
    year: str  # "2027/2028"
    classes: list[ClassInfo] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    staff: list[StaffRole] = field(default_factory=list)
    parents: list[tuple[str, str]] = field(default_factory=list)
    semesters: list[dict[str, object]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def next_name(name: str, grade: int) -> str:
    """`X TKJ 1` → `XI TKJ 1`, `10 TKJ 1` → `11 TKJ 1`: the grade word at the front moves up one."""
    match = _GRADE_WORD.match(name)
    if match is None:
        raise YearError(f"class '{name}' does not start with its grade (X, XI, XII or 10, 11, 12): "
                        "rename it in classes.csv first")
    word, rest = match.groups()
    new = str(grade + 1) if word.isdigit() else ROMAN.get(grade + 1, str(grade + 1))
    return new + rest


def plan_year(school: School, year: str, top_grade: int = 12) -> YearPlan:
    if not re.fullmatch(r"\d{4}/\d{4}", year) or int(year[5:]) != int(year[:4]) + 1:
        raise YearError(f"'{year}' is not a school year: write it as 2027/2028")
    semesters = school.calendar.semesters
    if semesters:  # the directory's own year is the one of its last semester: `--to` is a later one
        from ..store.enrolment import school_year

        last = max(semesters, key=lambda s: s.start)
        now = school_year(last.start)
        if year <= now:
            nxt = f"{int(now[:4]) + 1}/{int(now[:4]) + 2}"
            raise YearError(f"'{year}' is not after this directory's school year {now} (its last semester, "
                            f"{last.name}, ends {last.end:%Y-%m-%d}): give the year it moves up to, {nxt}")
    result = YearPlan(year)
    renamed: dict[str, str] = {}
    bottom = min((c.grade for c in school.classes.values()), default=10)
    for info in sorted(school.classes.values(), key=lambda c: (c.grade, c.name)):
        if info.grade >= top_grade:
            members = len(school.by_class.get(info.name, []))
            result.lines.append(f"{info.name}: graduates ({members} students leave the roster)")
            continue
        renamed[info.name] = next_name(info.name, info.grade)
        result.classes.append(ClassInfo(renamed[info.name], info.grade + 1, info.department))
        result.lines.append(f"{info.name} → {renamed[info.name]}")
    for info in sorted(school.classes.values(), key=lambda c: c.name):
        if info.grade == bottom:
            result.classes.append(info)
            result.lines.append(_EMPTY.format(info.name))
    _move_people(school, result, renamed)
    result.semesters = next_semesters(school, year)
    return result


def _move_people(school: School, result: YearPlan, renamed: dict[str, str]) -> None:
    kept = set()
    for student in school.students.values():
        if student.class_name in renamed:
            result.students.append(Student(student.nis, student.name, renamed[student.class_name], student.parent_code,
                                           0, student.nisn, student.gender, finger_id=student.finger_id))
            kept.add(student.nis)
    departments = {c.department for c in result.classes}
    for staff in school.staff:
        if staff.role == "ketua_jurusan" and staff.scope not in departments:
            result.lines.append(f"staff: {staff.name} (ketua_jurusan {staff.scope}) is dropped: the department has "
                                "no class next year")
        elif staff.role not in CLASS_ROLES:
            result.staff.append(staff)
        elif staff.scope in renamed:
            result.staff.append(StaffRole(staff.name, staff.role, renamed[staff.scope], staff.phone,
                                          staff.telegram_id, staff.duty_days))
        else:
            result.lines.append(f"staff: {staff.name} ({staff.role} {staff.scope}) is dropped: the class graduated; "
                                "give them a new class in staff.csv")
    result.parents = [(phone, nis) for phone, nis in school.preregistered if nis in kept]
    dropped = len(school.preregistered) - len(result.parents)
    if dropped:
        result.lines.append(f"parents.csv: {dropped} number(s) of graduates removed")


def add_new_students(plan: YearPlan, path: Path, problems: Problems) -> list[Student]:
    """The students of `path` (`--new FILE`: the new grade-X intake, transfers in) joined to next year's roster.

    `path` is a students table as the school directory takes it (CSV or .xlsx, the same column names), but
    its parent_code column may be left out or empty: such a student gets a new code, made as `absensi codes`
    makes them. Each problem is reported at its row of `path`, as `absensi check` would report it in
    students.csv; with any error nothing is added (and [] returned).
    """
    errors = len(problems.errors)
    table = read_table_file(path, "students", problems, may_lack=["parent_code"])
    if not table.ok:
        return []
    seen = _Seen(plan)
    new = [s for line, row in table.rows if (s := _new_student(table, line, row, seen, problems)) is not None]
    table.finish(problems)
    if not table.rows:
        problems.add(table.file, 0, 0, "no students: the file has its column names but no rows")
    if len(problems.errors) > errors:
        return []
    taken = set(seen.codes)
    made = sum(not s.parent_code for s in new)
    new = [s if s.parent_code else replace(s, parent_code=new_code(taken)) for s in new]
    plan.students.extend(new)
    counts = Counter(s.class_name for s in new)
    filled = {_EMPTY.format(name): f"{name}: new" for name in counts}
    plan.lines = [filled.get(line, line) for line in plan.lines]
    order = [c.name for c in sorted(plan.classes, key=lambda c: (c.grade, c.name)) if c.name in counts]
    plan.lines.append(f"{len(new)} new student(s) from {path}: "
                      + ", ".join(f"{name} ({counts[name]})" for name in order))
    if made:
        plan.lines.append(f"parent codes: {made} made for new students without one (as `absensi codes` makes "
                          "them); print their letters with `absensi letters`")
    return new


class _Seen:
    """What the rows of `--new FILE` are checked against: next year's classes and continuing students, and
    the rows before."""

    def __init__(self, plan: YearPlan) -> None:
        self.classes = {class_key(c.name): c.name for c in plan.classes}
        self.known = ", ".join(c.name for c in sorted(plan.classes, key=lambda c: (c.grade, c.name)))
        self.continuing = {s.nis: s for s in plan.students}
        self.lines: dict[str, int] = {}  # nis → its line in the file
        self.codes = {s.parent_code.upper(): f"continuing student {s.nis}" for s in plan.students}
        self.fingers = {finger_key(s.finger_id or s.nis): s.nis for s in plan.students}


def _new_student(table: Table, line: int, row: dict[str, str], seen: _Seen, problems: Problems) -> Student | None:
    """The student of one row, or None with its problem reported (the checks of `absensi check`, in the file's
    terms: a continuing student's NIS, a class next year does not have)."""
    nis, name, written, code = row["nis"], row["name"], row["class"], row.get("parent_code", "")
    column, message, hint, same = "", "", "", ""
    class_name = seen.classes.get(class_key(written))
    if not nis:
        column, message, same = "nis", "empty nis", "an empty nis"
    elif nis in seen.continuing:
        old = seen.continuing[nis]
        column, message = "nis", f"nis {nis} is a continuing student's ({old.name}, {old.class_name} next year)"
        hint = "list only new students in this file, or correct the NIS"
    elif nis in seen.lines:
        column, message = "nis", f"nis {nis} is listed twice: first on line {seen.lines[nis]}"
    elif not name:
        column, message, same = "name", f"student {nis} has no name", "an empty name"
    elif class_name is None:
        column, message = "class", (f"unknown class '{written}' for student {nis}: next year's classes are "
                                    f"{seen.known}")
        hint, same = did_you_mean(written, seen.classes.values()), f"unknown class '{written}'"
    elif code and not CODE_SHAPE.match(code):
        column, message = "parent_code", f"parent_code '{code}' must be 4-16 letters or digits"
    elif code and code.upper() in seen.codes:
        column, message = "parent_code", f"parent_code '{code}' is already used by {seen.codes[code.upper()]}"
    seen.lines.setdefault(nis, line)
    if message or class_name is None:
        table.report(problems, line, column, message, hint=hint, same=same)
        return None
    if class_name != written:
        table.report(problems, line, "class", f"class '{written}' is read as '{class_name}'", warning=True,
                     hint="write class names as in classes.csv", same=f"class '{written}' for '{class_name}'")
    finger = row.get("finger_id", "")
    other = seen.fingers.setdefault(finger_key(finger or nis), nis)
    if other != nis:
        table.report(problems, line, "finger_id" if finger else "nis",
                     f"finger id '{finger or nis}' of student {nis} is already student {other}'s",
                     hint="give one of them a finger_id as the machine knows them")
        return None
    if code:
        seen.codes[code.upper()] = f"the student on line {line}"
        if len(code) < 6:
            table.report(problems, line, "parent_code", f"parent_code '{code}' is short enough to guess",
                         warning=True, hint="use 6 or more characters", same="a short parent_code")
    nisn = row.get("nisn", "")
    if nisn and not (nisn.isdigit() and len(nisn) == 10):
        table.report(problems, line, "nisn", f"nisn '{nisn}' is not 10 digits", warning=True,
                     hint="a spreadsheet drops leading zeros from numbers: format the column as Text",
                     same="an nisn that is not 10 digits")
    if row.get("absen_no"):
        table.report(problems, line, "absen_no", "absen_no is not carried over: numbers restart with the year",
                     warning=True, same="an absen_no")
    return Student(nis, name, class_name, code, 0, nisn, row.get("gender", "").upper(), finger_id=finger)


def next_semesters(school: School, year: str) -> list[dict[str, object]]:
    """This year's semesters a year later, named for the new year (check the dates against the calendar)."""
    last = sorted(school.calendar.semesters, key=lambda s: s.start)[-2:]
    names = ("Ganjil", "Genap")
    return [{"name": f"{year} {names[i] if len(last) == 2 else s.name.split()[-1]}",
             "start": _next_year(s.start), "end": _next_year(s.end)} for i, s in enumerate(last)]


def _next_year(day: date) -> date:
    return day.replace(year=day.year + 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year + 1)


def write_year(school: School, plan: YearPlan, out: Path) -> None:
    """Write the directory `out` (which must not exist): the four tables and school.yaml."""
    if out.exists():
        raise YearError(f"{out} exists already: choose a new directory (nothing was written)")
    out.mkdir(parents=True)
    _write_csv(out / "classes.csv", ["class", "grade", "department"],
               [[c.name, c.grade, c.department] for c in plan.classes])
    finger = ["finger_id"] if any(s.finger_id for s in plan.students) else []  # the machines keep their ids
    _write_csv(out / "students.csv", ["nis", "nisn", "name", "gender", "class", "parent_code", *finger],
               [[s.nis, s.nisn, s.name, s.gender, s.class_name, s.parent_code, *([s.finger_id] if finger else [])]
                for s in plan.students])
    _write_csv(out / "staff.csv", ["name", "role", "scope", "phone", "telegram_id"],
               [[s.name, s.role, s.scope, s.phone or "", s.telegram_id or ""] for s in plan.staff])
    if plan.parents:
        _write_csv(out / "parents.csv", ["phone", "nis"], [list(pair) for pair in plan.parents])
    _write_school_yaml(school.directory / "school.yaml", out / "school.yaml", plan.semesters)
    if (school.directory / "rules").is_dir():
        shutil.copytree(school.directory / "rules", out / "rules")


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_school_yaml(source: Path, target: Path, semesters: list[dict[str, object]]) -> None:
    yaml = YAML()  # round-trip: the school's comments and layout stay
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    doc = yaml.load(source.read_text(encoding="utf-8"))
    existing = {str(s["name"]) for s in doc.get("semesters") or []}
    for semester in semesters:
        if semester["name"] not in existing:
            entry = CommentedMap(semester)
            entry.fa.set_flow_style()
            doc.setdefault("semesters", []).append(entry)
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
