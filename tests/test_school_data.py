"""School data (SPEC §2): bad rows are reported as file:line: message and nothing of the load is used."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from absensi.engine.rules import CompiledRules
from absensi.engine.rules.diagnostics import DataError, Problems
from absensi.engine.school.files import load_school, read_school
from absensi.engine.school.phones import mask, normalize

MINI = Path(__file__).parent / "schools" / "mini"


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(MINI, target)
    return target


def problems_for(directory: Path, rules: CompiledRules) -> str:
    problems = Problems()
    read_school(directory, rules.rules, problems)
    return problems.render(with_source=False).replace(str(directory) + "/", "")


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text().rstrip("\n") + "\n" + line + "\n")


def test_mini_school_loads_with_absen_numbers_by_name(mini) -> None:  # type: ignore[no-untyped-def]
    names = [s.name for s in mini.by_class["X TKJ 1"]]
    assert names == sorted(names, key=str.lower)
    assert mini.students["1001"].absen_no == 5  # Budi Santoso, as the fixture's README says
    assert mini.by_code["AB12CD"].nis == "1001"


def test_phone_numbers_in_every_written_form_compare_equal() -> None:
    forms = ["081234567890", "6281234567890", "+62 812-3456-7890", "+6281234567890", "0812 3456 7890"]
    assert {normalize(f) for f in forms} == {"+6281234567890"}
    assert normalize("TELKOMSEL") is None and normalize("") is None and normalize("123") is None
    assert mask("+6281234567890") == "0812****890"


def test_unknown_class_and_duplicate_code_reported_with_line(school_dir: Path, rules: CompiledRules) -> None:
    append(school_dir / "students.csv", "9001,0102000001,Andi Baru,L,X TKJ 9,ZZ99ZZ")
    append(school_dir / "students.csv", "9002,0102000002,Citra Baru,P,X TKJ 1,ab12cd")
    text = problems_for(school_dir, rules)
    assert "students.csv:20:5: unknown class 'X TKJ 9' for student 9001 (column 'class')" in text
    assert "students.csv:21:6: parent_code 'ab12cd' is already used on line 2 (column 'parent_code')" in text


def test_bad_rows_mean_nothing_is_loaded(school_dir: Path, rules: CompiledRules) -> None:
    append(school_dir / "staff.csv", "Pak Tanpa Peran,satpam,,081299998888,")
    with pytest.raises(DataError) as caught:
        load_school(school_dir, rules.rules)
    assert "staff.csv:14:2: unknown role 'satpam' (column 'role')" in str(caught.value)


def test_missing_column_and_unknown_column(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "classes.csv"
    path.write_text(path.read_text().replace("class,grade,department", "class,grade,jurusan"))
    text = problems_for(school_dir, rules)
    assert "classes.csv:1:1: missing column 'department'" in text
    assert "unknown column 'jurusan' is ignored" in text


def test_staff_scope_checked_against_classes_and_weekdays(school_dir: Path, rules: CompiledRules) -> None:
    append(school_dir / "staff.csv", "Bu Wali Salah,wali_kelas,X TKJ 7,081299997777,")
    append(school_dir / "staff.csv", 'Pak Piket,guru_piket,"mon,funday",081299996666,')
    text = problems_for(school_dir, rules)
    assert "staff.csv:14:3: wali_kelas needs a class as scope, not 'X TKJ 7' (column 'scope')" in text
    assert "staff.csv:15:3: 'funday' is not a weekday (column 'scope')" in text


def test_students_accepted_from_xlsx(school_dir: Path, rules: CompiledRules) -> None:
    from openpyxl import Workbook

    csv_path = school_dir / "students.csv"
    rows = [line.split(",") for line in csv_path.read_text().splitlines()]
    csv_path.unlink()
    book = Workbook()
    for row in rows:
        book.active.append([int(c) if c.isdigit() and len(c) < 6 else c for c in row])
    book.save(school_dir / "students.xlsx")
    school = load_school(school_dir, rules.rules)
    assert school.students["1001"].name == "Budi Santoso"
    assert len(school.students) == len(rows) - 1


def test_calendar_effective_day_skips_weekend_and_holidays(mini) -> None:  # type: ignore[no-untyped-def]
    tz = ZoneInfo("Asia/Jakarta")
    cal, cutoff = mini.calendar, time(14, 0)
    assert cal.effective_day(datetime(2026, 11, 30, 7, 0, tzinfo=tz), cutoff) == date(2026, 11, 30)
    assert cal.effective_day(datetime(2026, 11, 30, 15, 0, tzinfo=tz), cutoff) == date(2026, 12, 1)
    assert cal.effective_day(datetime(2026, 12, 4, 15, 0, tzinfo=tz), cutoff) == date(2026, 12, 8)  # Fri late
    assert cal.effective_day(datetime(2026, 12, 18, 15, 0, tzinfo=tz), cutoff) == date(2027, 1, 5)  # semester break
    assert not cal.is_school_day(date(2027, 3, 12))  # inside the Idul Fitri range


def test_school_yaml_errors_point_at_the_value(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "school.yaml"
    path.write_text(path.read_text().replace("timezone: Asia/Jakarta", "timezone: Asia/Jakartaa"))
    assert "school.yaml:3:11: unknown timezone 'Asia/Jakartaa'" in problems_for(school_dir, rules)


def test_semesters_are_found_by_name_or_an_unambiguous_part(mini) -> None:  # type: ignore[no-untyped-def]
    cal = mini.calendar
    assert cal.semester_named("2026/2027 Ganjil").start == date(2026, 7, 13)
    assert cal.semester_named("genap").start == date(2027, 1, 5)
    assert cal.semester_named("2026/2027") is None  # both match: ambiguous
    assert cal.semester_named("") is None


@pytest.mark.parametrize(("key", "value", "message"), [
    ("holidays", "2026-12-25", "'holidays' must be a list"),
    ("semesters", "ganjil", "'semesters' must be a list"),
    ("telegram_groups", "[1, 2]", "'telegram_groups' must be a mapping"),
    ("school_days", "mon", "'school_days' must be a list"),
    ("name", "[1, 2]", "missing 'name'"),
    ("region", "[ID]", "is not a two-letter country code"),
])
def test_wrong_types_in_school_yaml_are_reported_not_raised(school_dir: Path, rules: CompiledRules, key: str,
                                                            value: str, message: str) -> None:
    path = school_dir / "school.yaml"
    lines, kept, skipping = path.read_text().splitlines(), [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            kept.append(f"{key}: {value}")
            skipping = True
        elif skipping and line.startswith(("  ", "-")):
            continue
        else:
            skipping = False
            kept.append(line)
    path.write_text("\n".join(kept) + "\n")
    assert message in problems_for(school_dir, rules)
