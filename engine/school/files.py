"""Load the school directory (SPEC §2): school.yaml and the roster files, all-or-nothing.

Every bad row is reported as `file:line:column: message` and nothing of a failed load is used. Every file is
read even when an earlier one failed, so that `absensi check` shows every problem at once. The roster is
read at every start; what the service learned since (registrations, linked accounts, history) lives
in the store, keyed by NIS and phone number, so roster changes never lose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from ruamel.yaml.comments import CommentedMap

from ..rules.diagnostics import DataError, Problems, did_you_mean
from ..rules.loader import read_yaml
from ..rules.schema import Role, RuleSet
from .calendar import WEEKDAYS, SchoolCalendar, Semester, days_between
from .model import School
from .phones import normalize
from .roster import read_classes, read_parents, read_staff, read_students
from .tables import Table, class_key


def load_school(directory: Path, rules: RuleSet) -> School:
    """Load or raise `DataError` with every problem (warnings included)."""
    problems = Problems()
    school = read_school(directory, rules, problems)
    if school is None or problems.errors:
        raise DataError(problems)
    return school


def read_school(directory: Path, rules: RuleSet | None, problems: Problems, *,
                roles: Mapping[str, Role] | None = None) -> School | None:
    """The school, or None with every problem in `problems`.

    `rules=None` (they did not load) checks the files all the same, staff roles against `roles` if given.
    """
    if not directory.is_dir():
        problems.add(directory, 0, 0, "missing: there is no school directory here")
        return None
    roles = rules.roles if rules is not None else roles
    school = _read_school_yaml(directory, problems)
    usable = school is not None
    if school is None:  # the tables are still checked, with the defaults
        school = School(directory, "", "ID", SchoolCalendar(ZoneInfo("Asia/Jakarta"), frozenset(range(5)),
                                                            frozenset(), ()), {}, "")
    classes = read_classes(school, problems)
    students = read_students(school, problems, classes)
    staff = read_staff(school, roles, problems, classes)
    read_parents(school, problems, students)
    if roles is not None and classes.ok and staff.ok:
        _class_staff_warnings(school, roles, classes, staff.name, problems)
    school.index()
    return None if problems.errors or not usable else school


def _class_staff_warnings(school: School, roles: Mapping[str, Role], classes: Table, staff_name: str,
                          problems: Problems) -> None:
    """A class without a wali kelas, or without officers (nobody reports its absences), is a warning."""
    teachers = sorted(name for name, role in roles.items() if role.scope == "class" and not role.student)
    officers = sorted(name for name, role in roles.items() if role.scope == "class" and role.student)
    held: dict[str, set[str]] = {}
    for staff in school.staff:
        held.setdefault(staff.scope, set()).add(staff.role)
    lines = {class_key(row["class"]): line for line, row in classes.rows}
    for name in school.classes:
        roles_here = held.get(name, set())
        lacks, why = [], ""
        if teachers and not roles_here & set(teachers):
            lacks.append(" or ".join(teachers))
        if officers and not roles_here & set(officers):
            lacks.append(f"officers ({', '.join(officers)})")
            why = ": nobody reports its absences by Telegram"
        if lacks:
            classes.report(problems, lines.get(class_key(name), 0), "class",
                           f"class '{name}' has no {' and no '.join(lacks)} in {staff_name}{why}", warning=True)


def _read_school_yaml(directory: Path, problems: Problems) -> School | None:
    path = directory / "school.yaml"
    if not path.exists():
        problems.add(path, 0, 0, "missing: every school directory needs a school.yaml")
        return None
    doc = read_yaml(path, problems)
    if not isinstance(doc, CommentedMap):
        if doc is not None:
            problems.add(path, 1, 1, "school.yaml must be a mapping (name: …, timezone: …)")
        return None
    known = {"name", "timezone", "region", "school_days", "holidays", "semesters", "telegram_groups", "sms_number",
             "place"}
    for key in doc:
        if key not in known:
            line, col = doc.lc.key(key)
            problems.add(path, line + 1, col + 1, f"unknown key '{key}'", hint=did_you_mean(str(key), known))
    name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    name = name.strip()
    if not name:
        problems.add(path, 1, 1, "missing 'name' (the school's name, as text)")
    calendar = _calendar(path, doc, problems)
    groups = _groups(path, doc, problems)
    sms = str(doc.get("sms_number") or "")
    region = doc.get("region") or "ID"
    if not (isinstance(region, str) and len(region) == 2 and region.isalpha()):
        _at(problems, path, doc, "region", f"region '{region}' is not a two-letter country code", "e.g. ID")
        region = "ID"
    elif region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        # The first cause: the roster's phone numbers are still read as Indonesian ones, not each refused.
        _at(problems, path, doc, "region", f"unknown region '{region}' (the country of phone numbers written "
            "without +)", "e.g. ID (Indonesia)")
        region = "ID"
    region = region.upper()
    if sms and normalize(sms, region) is None:
        _at(problems, path, doc, "sms_number", f"'{sms}' is not a phone number")
    if calendar is None:
        return None
    place = str(doc.get("place") or (name.split()[-1] if name else ""))
    line, col = doc.lc.key("telegram_groups") if "telegram_groups" in doc else (0, 0)
    return School(directory, name, region, calendar, groups, normalize(sms, region) or sms, place,
                  groups_at=(line + 1, col + 1))


def _at(problems: Problems, path: Path, node: CommentedMap, key: str, message: str, hint: str = "") -> None:
    line, col = node.lc.value(key) if key in node else (0, 0)
    problems.add(path, line + 1, col + 1, message, hint=hint)


def _typed(path: Path, doc: CommentedMap, key: str, kind: type, default: Any, problems: Problems) -> Any:
    """`doc[key]` when it is a `kind` (list or mapping); else report it and use `default`."""
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        what = "a list (- item per line or [a, b])" if kind is list else "a mapping (key: value per line)"
        _at(problems, path, doc, key, f"'{key}' must be {what}")
        return default
    return value


def _calendar(path: Path, doc: CommentedMap, problems: Problems) -> SchoolCalendar | None:
    try:
        tz = ZoneInfo(str(doc.get("timezone") or "Asia/Jakarta"))
    except (ZoneInfoNotFoundError, ValueError):
        _at(problems, path, doc, "timezone", f"unknown timezone '{doc.get('timezone')}'", "e.g. Asia/Jakarta")
        return None
    days = _typed(path, doc, "school_days", list, ["mon", "tue", "wed", "thu", "fri"], problems)
    weekdays = set()
    for i, day in enumerate(days):
        if str(day).lower()[:3] in WEEKDAYS:
            weekdays.add(WEEKDAYS.index(str(day).lower()[:3]))
        else:
            line, col = days.lc.item(i) if hasattr(days, "lc") else (0, 0)
            problems.add(path, line + 1, col + 1, f"'{day}' is not a weekday", hint="mon, tue, wed, thu, fri, sat")
    return SchoolCalendar(tz, frozenset(weekdays), _holidays(path, doc, problems), _semesters(path, doc, problems))


def _holidays(path: Path, doc: CommentedMap, problems: Problems) -> frozenset[date]:
    result: set[date] = set()
    items: Any = _typed(path, doc, "holidays", list, [], problems)
    for i, item in enumerate(items):
        line, col = items.lc.item(i)
        if isinstance(item, date):
            result.add(item)
        elif isinstance(item, CommentedMap) and {"from", "to"} <= set(item) and _dates(path, item, ("from", "to"),
                                                                                        problems):
            if item["to"] < item["from"]:
                problems.add(path, line + 1, col + 1, "holiday range ends before it starts")
            result.update(days_between(item["from"], item["to"]))
        elif isinstance(item, CommentedMap) and {"from", "to"} <= set(item):
            continue  # a bad date inside the range, reported at it
        else:
            problems.add(path, line + 1, col + 1, f"'{item}' is not a date (YYYY-MM-DD) or {{from: …, to: …}}")
    return frozenset(result)


def _semesters(path: Path, doc: CommentedMap, problems: Problems) -> tuple[Semester, ...]:
    result: list[Semester] = []
    items: Any = _typed(path, doc, "semesters", list, [], problems)
    for i, item in enumerate(items):
        line, col = items.lc.item(i)
        try:
            semester = Semester(str(item["name"]), item["start"], item["end"])
        except (KeyError, TypeError):
            problems.add(path, line + 1, col + 1, "a semester needs name, start and end (YYYY-MM-DD)")
            continue
        if not _dates(path, item, ("start", "end"), problems):
            continue
        if semester.end < semester.start:
            problems.add(path, line + 1, col + 1, f"semester '{semester.name}' ends before it starts")
        result.append(semester)
    return tuple(sorted(result, key=lambda s: s.start))


def _dates(path: Path, node: CommentedMap, keys: tuple[str, ...], problems: Problems) -> bool:
    """True when `node[key]` is a date for each of `keys`; else each one that is not is reported at its value."""
    ok = True
    for key in keys:
        if not isinstance(node[key], date):
            _at(problems, path, node, key, f"'{node[key]}' is not a date (YYYY-MM-DD)")
            ok = False
    return ok


def _groups(path: Path, doc: CommentedMap, problems: Problems) -> dict[str, int]:
    groups: Any = _typed(path, doc, "telegram_groups", dict, {}, problems)
    result: dict[str, int] = {}
    for key, value in groups.items():
        try:
            result[str(key)] = int(value)
        except (TypeError, ValueError):
            _at(problems, path, groups, key, f"group '{key}' needs a numeric chat id like -1001234567890")
    return result
