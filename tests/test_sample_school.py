"""The sample school and the mini fixture are well-formed data a school could really import."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_school"
MINI = ROOT / "tests" / "schools" / "mini"
DATA_FILES = ["school.yaml", "classes.csv", "students.csv", "staff.csv", "parents.csv"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CODE_ALPHABET = set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def rows(school: Path, name: str) -> list[dict[str, str]]:
    with (school / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def school_yaml(school: Path) -> dict:
    return YAML(typ="safe").load((school / "school.yaml").read_text(encoding="utf-8"))


def e164(raw: str) -> str:
    """The mobile number `raw` in E.164; fails the test when it is not a valid Indonesian mobile."""
    text = raw.strip()
    if text.startswith("62"):
        text = "+" + text
    number = phonenumbers.parse(text, "ID")
    assert number.country_code == 62, raw
    assert phonenumbers.is_valid_number(number), raw
    assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE, raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_generator_rewrites_the_sample_school_byte_for_byte(tmp_path: Path) -> None:
    script = SAMPLE / "make_sample_school.py"
    for out in (tmp_path / "a", tmp_path / "b"):
        subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    for name in DATA_FILES:
        produced = (tmp_path / "a" / name).read_bytes()
        assert produced == (tmp_path / "b" / name).read_bytes(), f"{name} differs between two runs"
        assert produced == (SAMPLE / name).read_bytes(), f"sample_school/{name} is stale: rerun the generator"


@pytest.mark.parametrize("school", [SAMPLE, MINI], ids=["sample", "mini"])
def test_students_have_unique_nis_and_unique_unambiguous_parent_codes(school: Path) -> None:
    students = rows(school, "students.csv")
    classes = {c["class"] for c in rows(school, "classes.csv")}
    assert len({s["nis"] for s in students}) == len(students)
    codes = [s["parent_code"].upper() for s in students]
    assert len(set(codes)) == len(codes)
    assert all(s["class"] in classes for s in students)
    assert all(s["gender"] in ("L", "P") for s in students)
    assert all(len(s["nisn"]) == 10 and s["nisn"].isdigit() for s in students)
    assert "absen_no" not in students[0]  # the system numbers the class list itself


def test_sample_parent_codes_avoid_lookalike_characters() -> None:
    for s in rows(SAMPLE, "students.csv"):
        assert len(s["parent_code"]) == 6 and set(s["parent_code"]) <= CODE_ALPHABET, s


def test_sample_school_size_is_realistic() -> None:
    classes = rows(SAMPLE, "classes.csv")
    students = rows(SAMPLE, "students.csv")
    per_class = defaultdict(int)
    for s in students:
        per_class[s["class"]] += 1
    assert 20 <= len(classes) <= 30
    assert {c["grade"] for c in classes} == {"10", "11", "12"}
    assert 750 <= len(students) <= 850
    assert all(30 <= n <= 36 for n in per_class.values())
    assert not any("," in s["name"] for s in students)


def test_every_sample_class_has_a_wali_kelas_a_ketua_kelas_and_a_sekretaris_of_its_own() -> None:
    students = rows(SAMPLE, "students.csv")
    staff = rows(SAMPLE, "staff.csv")
    members = defaultdict(set)
    for s in students:
        members[s["class"]].add(s["name"])
    held = defaultdict(list)
    for r in staff:
        held[(r["role"], r["scope"])].append(r["name"])
    for c in rows(SAMPLE, "classes.csv"):
        klass = c["class"]
        assert len(held[("wali_kelas", klass)]) == 1, klass
        for officer in ("ketua_kelas", "sekretaris"):
            assert len(held[(officer, klass)]) == 1, (officer, klass)
            assert held[(officer, klass)][0] in members[klass], (officer, klass)


@pytest.mark.parametrize("school", [SAMPLE, MINI], ids=["sample", "mini"])
def test_every_department_has_a_ketua_jurusan(school: Path) -> None:
    departments = {c["department"] for c in rows(school, "classes.csv")}
    heads = {r["scope"] for r in rows(school, "staff.csv") if r["role"] == "ketua_jurusan"}
    assert heads == departments


@pytest.mark.parametrize("school", [SAMPLE, MINI], ids=["sample", "mini"])
def test_guru_piket_covers_every_school_day(school: Path) -> None:
    on_duty = defaultdict(int)
    for r in rows(school, "staff.csv"):
        if r["role"] == "guru_piket":
            for day in r["scope"].split(",") if r["scope"] else WEEKDAYS:
                assert day in WEEKDAYS, r
                on_duty[day] += 1
    assert all(1 <= on_duty[day] <= 2 for day in WEEKDAYS), dict(on_duty)


@pytest.mark.parametrize("school", [SAMPLE, MINI], ids=["sample", "mini"])
def test_staff_phones_are_mobiles_one_per_person_with_one_telegram_id(school: Path) -> None:
    by_phone: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in rows(school, "staff.csv"):
        assert r["telegram_id"] == "" or int(r["telegram_id"]) > 0, r
        by_phone[e164(r["phone"])].add((r["name"], r["telegram_id"]))
    assert all(len(people) == 1 for people in by_phone.values()), by_phone
    ids = [tid for people in by_phone.values() for _, tid in people if tid]
    assert len(ids) == len(set(ids))


def test_sample_staff_shows_every_phone_style_shared_roles_and_unlinked_rows() -> None:
    staff = rows(SAMPLE, "staff.csv")
    phones = [r["phone"] for r in staff]
    assert any(p.startswith("08") for p in phones)
    assert any(p.startswith("628") for p in phones)
    assert any(p.startswith("+62 8") and "-" in p for p in phones)
    per_phone = defaultdict(int)
    for p in phones:
        per_phone[e164(p)] += 1
    assert any(n > 1 for n in per_phone.values()), "some teachers hold several roles"
    unlinked = sum(1 for r in staff if not r["telegram_id"])
    assert 0.05 * len(staff) <= unlinked <= 0.15 * len(staff)
    roles = {r["role"] for r in staff}
    assert {"kepala_sekolah", "admin", "guru_bk"} <= roles


def test_sample_parents_are_registered_for_known_students_at_most_twice() -> None:
    students = {s["nis"] for s in rows(SAMPLE, "students.csv")}
    staff_phones = {e164(r["phone"]) for r in rows(SAMPLE, "staff.csv")}
    per_student = defaultdict(set)
    for r in rows(SAMPLE, "parents.csv"):
        number = e164(r["phone"])
        assert r["nis"] in students, r
        assert number not in staff_phones and number != "+6281200000000", r
        per_student[r["nis"]].add(number)
    assert all(len(numbers) <= 2 for numbers in per_student.values())
    assert 0.10 * len(students) <= len(per_student) <= 0.20 * len(students)


@pytest.mark.parametrize("school", [SAMPLE, MINI], ids=["sample", "mini"])
def test_school_yaml_has_the_calendar_and_channels(school: Path) -> None:
    data = school_yaml(school)
    assert data["name"] == "SMK PGRI 1 Tangerang"
    assert data["timezone"] == "Asia/Jakarta" and data["region"] == "ID"
    assert data["school_days"] == WEEKDAYS
    assert data["telegram_groups"] == {"pejabat": -1001234567890}
    assert data["sms_number"] == "+6281200000000"
    assert [(s["name"], s["start"], s["end"]) for s in data["semesters"]] == [
        ("2026/2027 Ganjil", dt.date(2026, 7, 13), dt.date(2026, 12, 19)),
        ("2026/2027 Genap", dt.date(2027, 1, 5), dt.date(2027, 6, 19)),
    ]
    holidays = data["holidays"]
    assert dt.date(2026, 12, 25) in holidays
    ranges = [h for h in holidays if isinstance(h, dict)]
    assert ranges and all(set(r) == {"from", "to"} and r["from"] <= r["to"] for r in ranges)


def test_mini_school_has_the_people_scenarios_rely_on() -> None:
    students = {s["nis"]: s for s in rows(MINI, "students.csv")}
    assert (students["1001"]["name"], students["1001"]["class"], students["1001"]["parent_code"]) == (
        "Budi Santoso",
        "X TKJ 1",
        "AB12CD",
    )
    assert (students["1002"]["name"], students["1002"]["parent_code"]) == ("Siti Rahma", "CD34EF")
    by_id = {r["telegram_id"]: (r["role"], r["scope"]) for r in rows(MINI, "staff.csv")}
    assert by_id["700001"] == ("ketua_kelas", "X TKJ 1")
    assert by_id["700003"] == ("wali_kelas", "X TKJ 1")
    assert by_id["700008"] == ("guru_piket", "mon,tue,wed,thu,fri")
    assert by_id["700009"] == ("kepala_sekolah", "")
    assert by_id[""] == ("ketua_jurusan", "RPL")
    assert not (MINI / "parents.csv").exists()
