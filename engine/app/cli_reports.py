"""`absensi report`: one SPEC §7 report for the operator's chosen scope and period, as .xlsx and text."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .. import reports
from ..reports import history
from ..reports.fmt import month_label
from ..reports.snapshot import make_snapshot, school_scope
from ..rules import CompiledRules
from ..school.calendar import month_bounds, tanggal
from ..school.model import School
from ..school.tables import class_key
from ..store import Store, enrolment
from .private import write_private

PER_DAY = ("harian", "status")
WITH_GATE = ("harian", "riwayat", "perhatian")  # they show the fingerprint punches (SPEC §10)
# The periods each report takes (SPEC §5: --month | --semester | --date): the options, what to ask for, the default
DAY = (("--date",), "one day", "--date YYYY-MM-DD", "today")
MONTH = (("--month",), "monthly", "--month YYYY-MM", "this month")
PERIODS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "harian": DAY, "status": DAY, "rekap-kelas": MONTH, "rekap-sekolah": MONTH,
    "semester": (("--semester",), "one semester", "--semester NAME (from school.yaml)", "the current semester"),
    "riwayat": (("--month", "--semester", "--date"), "", "", "the current semester"),
    "perhatian": (("--month", "--semester"), "a month or a semester", "--month YYYY-MM or --semester NAME",
                  "the current semester"),
}


def check_options(name: str, *, class_name: str | None, department: str | None, month: str | None,
                  semester: str | None, day: str | None, nis: str | None) -> None:
    """Refuse options that exclude each other or that the report cannot use (SPEC §5), before anything is read:
    ValueError with one line saying what the report takes."""
    given = [opt for opt, value in (("--month", month), ("--semester", semester), ("--date", day)) if value]
    if len(given) > 1:
        raise ValueError(f"{' and '.join(given)} exclude each other: give one period (--month YYYY-MM, "
                         "--semester NAME or --date YYYY-MM-DD)")
    if class_name and department:
        raise ValueError("--class and --department exclude each other: give one of them")
    if name not in PERIODS:
        return
    takes, what, ask, default = PERIODS[name]
    if given and given[0] not in takes:
        raise ValueError(f"{name} is {what}: give {ask}, not {given[0]} (default: {default})")
    if nis and name != "riwayat":
        raise ValueError(f"--student is for riwayat (one student's history); {name} takes --class C or --department D")


def find_class(school: School, name: str) -> str | None:
    """The class of classes.csv that `name` means, ignoring case and repeated spaces as the school's files
    do (SPEC §2): `x  tkj 1` is `X TKJ 1`. None when there is none."""
    key = class_key(name)
    return next((c for c in school.classes if class_key(c) == key), None)


def find_department(school: School, name: str) -> str | None:
    """The department that `name` means, ignoring case and repeated spaces. None when no class has it."""
    key = class_key(name)
    return next((c.department for c in school.classes.values() if class_key(c.department) == key), None)


def write_report(rules: CompiledRules, school: School, store: Store, name: str, output: Path, *,
                 class_name: str | None, department: str | None, month: str | None, semester: str | None,
                 day: str | None, nis: str | None, today: date) -> str:
    """Write the report to `output`; returns its text version. ValueError (a message for the operator) on bad input."""
    if name not in reports.REPORTS:
        raise ValueError(f"unknown report '{name}': choose one of {', '.join(reports.REPORTS)}")
    check_options(name, class_name=class_name, department=department, month=month, semester=semester, day=day,
                  nis=nis)
    if department:
        found = find_department(school, department)
        if found is None:
            names = ", ".join(sorted({c.department for c in school.classes.values()})) or "none in classes.csv"
            raise ValueError(f"unknown department '{department}': choose one of {names}")
        department = found
    if nis and nis not in school.students:
        with store.unit() as session:  # one who left: the seats the store keeps name them (SPEC §2)
            seated = history.ever_seated(session, nis)
        if not seated:
            raise ValueError(f"unknown student NIS '{nis}' (not in students.csv, and never seated in the database)")
    if name == "riwayat" and (class_name or department):  # (its scope is the student, in every class of the period)
        raise ValueError(f"riwayat is one student's history: give --student NIS only "
                         f"({'--class' if class_name else '--department'} does not apply)")
    start, end, label = _period(school, name, month, semester, day, today)
    if class_name:
        class_name = find_class(school, class_name) or " ".join(class_name.split())
    if class_name and class_name not in school.classes:
        with store.unit() as session:  # a class removed from classes.csv: its periods stay reportable (SPEC §2)
            existed = history.class_existed(session, class_name, start, end)
        if not existed:
            raise ValueError(f"unknown class '{class_name}' (not in classes.csv, and no records in {label})")
    if name == "riwayat":  # the student in every class of the period (a moved student's days in each)
        scope = school_scope(school)
    else:
        scope = school_scope(school, school.students[nis].class_name if nis else class_name, department)
    kwargs: dict[str, object] = {}
    if name in PER_DAY:
        kwargs["day"] = start
    if name == "riwayat":
        if not nis:
            raise ValueError("riwayat needs --student NIS")
        kwargs["nis"] = nis
    if name in ("rekap-kelas", "semester") and class_name:
        kwargs["class_name"] = class_name
    with store.unit() as session:
        enrolment.apply_numbers(session, school, min(end, today))  # the absen numbers officers used then
        snap = make_snapshot(session, school, rules, scope, start, end, label, today, with_changes=name == "riwayat",
                             nis=nis if name == "riwayat" else None, with_gate=name in WITH_GATE,
                             with_reports=name == "status")  # (the only report that reads the classes' reports)
    workbook, text = reports.export(name, snap, **kwargs)  # one computation for both
    write_private(output, workbook)  # owner only (SPEC §8)
    return text


def _period(school: School, name: str, month: str | None, semester: str | None, day: str | None,
            today: date) -> tuple[date, date, str]:
    if day:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"--date '{day}' is not YYYY-MM-DD") from None
        return when, when, tanggal(when)
    if month:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"--month '{month}' is not YYYY-MM")
        year, number = int(match.group(1)), int(match.group(2))
        return (*month_bounds(year, number), month_label(year, number))
    if name in PER_DAY:
        return today, today, tanggal(today)
    if name in ("rekap-kelas", "rekap-sekolah"):
        return (*month_bounds(today.year, today.month), month_label(today.year, today.month))
    chosen = school.calendar.semester_named(semester) if semester else school.calendar.semester_of(today)
    if chosen is None:
        names = ", ".join(s.name for s in school.calendar.semesters) or "none in school.yaml"
        raise ValueError(f"no such semester{f' {semester!r}' if semester else ' today'}: choose --semester ({names})")
    return chosen.start, chosen.end, f"Semester {chosen.name}"
