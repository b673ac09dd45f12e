"""The school as the engine sees it: calendar, classes, students, staff (loaded by `schoolfiles.py`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .calendar import SchoolCalendar


@dataclass(frozen=True)
class ClassInfo:
    name: str
    grade: int
    department: str


@dataclass(frozen=True)
class Student:
    nis: str
    name: str
    class_name: str
    parent_code: str
    absen_no: int  # from the file or by name; the store's number for the school year wins (enrolment.py)
    nisn: str = ""
    gender: str = ""
    explicit_no: bool = False  # absen_no was written in students.csv
    finger_id: str = ""  # the fingerprint machine's user id when it is not the NIS (SPEC §10)


@dataclass(frozen=True)
class StaffRole:
    name: str
    role: str
    scope: str  # class name, department, '' (school) or weekdays for guru_piket
    phone: str | None  # E.164
    telegram_id: int | None
    duty_days: frozenset[int] = frozenset()  # for duty roles; empty = every school day


@dataclass
class School:
    directory: Path
    name: str
    region: str
    calendar: SchoolCalendar
    groups: dict[str, int]
    sms_number: str
    place: str = ""  # the town printed on signatures ("Tangerang, 30 November 2026")
    groups_at: tuple[int, int] = (1, 1)  # school.yaml line and column of `telegram_groups` (1, 1: absent)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)
    staff: list[StaffRole] = field(default_factory=list)
    preregistered: list[tuple[str, str]] = field(default_factory=list)  # (E.164 phone, nis)
    by_code: dict[str, Student] = field(default_factory=dict)
    by_class: dict[str, list[Student]] = field(default_factory=dict)

    def index(self) -> None:
        self.by_code = {s.parent_code.upper(): s for s in self.students.values()}
        groups: dict[str, list[Student]] = defaultdict(list)
        for student in self.students.values():
            groups[student.class_name].append(student)
        self.by_class = {name: sorted(members, key=lambda s: s.absen_no) for name, members in groups.items()}

    def staff_with(self, telegram_id: int | None = None, phone: str | None = None) -> list[StaffRole]:
        return [
            s for s in self.staff
            if (telegram_id is not None and s.telegram_id == telegram_id) or (phone is not None and s.phone == phone)
        ]

    def classes_of_department(self, department: str) -> list[str]:
        return sorted(c.name for c in self.classes.values() if c.department == department)
