"""The new school year (kenaikan kelas, SPEC §2): next year's school directory from this year's.

Every class moves up a grade keeping its department and suffix (`X TKJ 1` → `XI TKJ 1`); the top grade
graduates; the bottom grade's classes start again empty, for the new students; staff scopes follow their
classes (a wali kelas keeps her class as it moves up; the officers are its students); the new year's
semesters are added to school.yaml (the old ones stay, so past periods remain reportable). Parent numbers of
continuing students are kept; graduates leave students.csv and parents.csv. Absen numbers are not carried:
they restart with the year (the store numbers each class afresh on its first use).

`plan_year` decides everything and describes each change; `write_year` writes the directory, never over an
existing one. The database needs nothing: switching the service to the new directory keeps every record.
"""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from .model import ClassInfo, School, StaffRole, Student

ROMAN = {10: "X", 11: "XI", 12: "XII", 13: "XIII"}
_GRADE_WORD = re.compile(r"^(XIII|XII|XI|X|1[0-3])(\s+.*)$", re.IGNORECASE)
CLASS_ROLES = ("wali_kelas", "ketua_kelas", "sekretaris")


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


def plan_year(school: School, year: str, top_grade: int = 12, new_students: list[Student] | None = None) -> YearPlan:
    if not re.fullmatch(r"\d{4}/\d{4}", year) or int(year[5:]) != int(year[:4]) + 1:
        raise YearError(f"'{year}' is not a school year: write it as 2027/2028")
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
            result.lines.append(f"{info.name}: new, empty until the new students are added")
    _move_people(school, result, renamed)
    _add_new_students(result, new_students or [])
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


def _add_new_students(result: YearPlan, new_students: list[Student]) -> None:
    known = {c.name for c in result.classes}
    taken = {s.nis for s in result.students}
    for student in new_students:
        if student.class_name not in known:
            raise YearError(f"new student {student.nis} is in class '{student.class_name}', which next year does "
                            "not have")
        if student.nis in taken:
            raise YearError(f"new student {student.nis} has the NIS of a continuing student")
        taken.add(student.nis)
        result.students.append(Student(student.nis, student.name, student.class_name, student.parent_code, 0,
                                       student.nisn, student.gender, finger_id=student.finger_id))
    if new_students:
        result.lines.append(f"students: {len(new_students)} new student(s) added")


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
