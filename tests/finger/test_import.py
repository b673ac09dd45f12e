"""`absensi finger import` (SPEC §10): real-shaped machine files into the punch table, once.

The files carry what such files carry: user ids padded with spaces or zeros, the same punch twice, teachers'
punches (ids no student has), a machine clock an hour ahead, CRLF line ends, an export with a title row.
Each test that writes runs on SQLite and PostgreSQL (`db_url`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.finger.files import machine_name, parse_moment, read_punch_file
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.files import load_school
from absensi.engine.store import Store

from .stored import punches

MINI = Path(__file__).resolve().parent.parent / "schools" / "mini"

# A ZKTeco-style USB export: right-aligned ids, tab, time, then status/verify/work-code columns.
ATTLOG = (
    "     1001\t2026-11-30 06:52:00\t1\t0\t1\t0\r\n"
    "  0001002\t2026-11-30 07:12:10\t1\t0\t1\t0\r\n"
    "     1001\t2026-11-30 06:52:00\t1\t0\t1\t0\r\n"  # the same finger read twice: one punch
    "        7\t2026-11-30 06:30:02\t1\t0\t1\t0\r\n"  # a teacher (id 7)
    "        7\t2026-11-30 15:01:44\t1\t1\t1\t0\r\n"
    "     4711\t2026-11-30 06:58:00\t1\t0\t1\t0\r\n"  # nobody's
    "     1001\t2026-11-30 14:05:00\t1\t1\t1\t0\r\n"
    "\r\n"
)


@pytest.fixture
def school(tmp_path: Path) -> Path:
    directory = tmp_path / "school"
    shutil.copytree(MINI, directory)
    return directory


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["finger", "import", *args])
    return result.exit_code, result.output


def test_an_attlog_is_imported_once_with_unknown_ids_listed_and_kept(school: Path, db_url: str) -> None:
    Store(db_url).close()
    log = school / "1_attlog.dat"
    log.write_bytes(ATTLOG.encode())
    code, out = run("--school", str(school), "--db", db_url, str(log))
    assert code == 0, out
    assert f"{log}:4:1: warning: unknown finger id 7 (2 punches)" in out
    assert f"{log}:6:1: warning: unknown finger id 4711 (1 punch)" in out
    assert "7 punch(es) read: 6 new, 1 already stored; 3 by 2 unknown id(s), kept without a student" in out
    rows = punches(db_url)
    assert [(nis, user) for nis, user, *_ in rows] == [
        (None, "7"), ("1001", "1001"), (None, "4711"), ("1002", "0001002"), ("1001", "1001"), (None, "7")]
    assert rows[1][2] == datetime(2026, 11, 29, 23, 52, tzinfo=UTC)  # 06:52 WIB, stored as UTC
    assert {device for *_, device, _ in rows} == {"mesin 1"} and {source for *_, source in rows} == {"usb"}

    code, out = run("--school", str(school), "--db", db_url, str(log))  # the same file again
    assert code == 0 and "7 punch(es) read: 0 new, 7 already stored" in out
    assert len(punches(db_url)) == 6


def test_a_line_that_is_not_a_punch_stops_the_whole_import(school: Path, db_url: str) -> None:
    Store(db_url).close()
    good, bad = school / "1_attlog.dat", school / "2_attlog.dat"
    good.write_text(ATTLOG)
    bad.write_text("     1001\t2026-11-30 06:52:00\t1\t0\n     1002\t30 Nov 2026 07:00\t1\t0\n")
    code, out = run("--school", str(school), "--db", db_url, str(good), str(bad))
    assert code == 1
    assert f"{bad}:2:1: not a punch: expected a user id, a tab and a time like 2026-11-30 06:52:00" in out
    assert "nothing was imported" in out
    assert punches(db_url) == []


def test_a_clock_an_hour_ahead_is_corrected_and_a_future_punch_is_pointed_out(school: Path, db_url: str) -> None:
    Store(db_url).close()
    log = school / "3_attlog.dat"
    log.write_text("1001\t2026-11-30 07:52:00\t1\t0\t1\t0\n")  # the machine showed 07:52 at 06:52
    code, out = run("--school", str(school), "--db", db_url, "--shift", "60", str(log))
    assert code == 0, out
    assert punches(db_url)[0][2:4] == (datetime(2026, 11, 29, 23, 52, tzinfo=UTC), "mesin 3")
    future = school / "4_attlog.dat"
    future.write_text("1001\t2099-01-05 07:00:00\t1\t0\t1\t0\n")
    code, out = run("--school", str(school), "--db", db_url, str(future))
    assert code == 0 and "1 punch(es) are later than now: is the machine's clock ahead?" in out


def test_the_vendor_export_xlsx_with_a_title_row_and_date_and_time_columns(school: Path, db_url: str) -> None:
    Store(db_url).close()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Laporan Log Scan", None, None, None, None])
    sheet.append([])
    sheet.append(["No.", "No. ID", "Nama", "Tanggal", "Jam", "SN"])
    sheet.append([1, 1001, "Budi Santoso", datetime(2026, 11, 30), "06:52:00", "AEYU2120"])
    sheet.append([2, "01002", "Siti Rahma", datetime(2026, 11, 30), "07:05", "AEYU2120"])
    sheet.append([3, 7, "Pak Joko", "30/11/2026", "06.30", "AEYU2120"])
    path = school / "log scan.xlsx"
    book.save(path)
    code, out = run("--school", str(school), "--db", db_url, str(path))
    assert code == 0, out
    assert f"{path}:6:1: warning: unknown finger id 7" in out
    rows = punches(db_url)
    assert [(nis, at.hour, at.minute, device, source) for nis, _, at, device, source in rows] == [
        (None, 23, 30, "AEYU2120", "export"), ("1001", 23, 52, "AEYU2120", "export"),
        ("1002", 0, 5, "AEYU2120", "export")]


def test_a_semicolon_csv_export_with_one_time_column_day_first(school: Path, db_url: str) -> None:
    Store(db_url).close()
    path = school / "export.csv"
    path.write_text("No;ID;Nama;Tanggal/Waktu;Status\n1;1001;Budi;30/11/2026 06:52:00;Masuk\n"
                    "2;1003;Adi;30/11/2026 07:31;Masuk\n3;1003;Adi;xx;Masuk\n", encoding="cp1252")
    code, out = run("--school", str(school), "--db", db_url, str(path))
    assert code == 1 and f"{path}:4:4: 'xx' is not a date and time" in out
    path.write_text(path.read_text().replace("3;1003;Adi;xx;Masuk\n", ""))
    code, out = run("--school", str(school), "--db", db_url, "--device", "gerbang", str(path))
    assert code == 0, out
    assert [(nis, at.minute, device) for nis, _, at, device, _ in punches(db_url)] == [
        ("1001", 52, "gerbang"), ("1003", 31, "gerbang")]


def test_finger_id_maps_a_machine_id_to_its_student_and_earlier_unknown_punches_follow(school: Path,
                                                                                        db_url: str) -> None:
    Store(db_url).close()
    log = school / "1_attlog.dat"
    log.write_text("     0042\t2026-11-30 06:45:00\t1\t0\t1\t0\n")
    code, out = run("--school", str(school), "--db", db_url, str(log))
    assert "unknown finger id 0042" in out and punches(db_url)[0][0] is None
    students = school / "students.csv"
    lines = students.read_text().splitlines()
    lines[0] += ",finger_id"
    lines[1] += ",42"  # 1001 Budi Santoso is 42 on the machine
    students.write_text("\n".join(lines) + "\n")
    code, out = run("--school", str(school), "--db", db_url, str(log))
    assert code == 0 and "1 stored earlier now matched to their student" in out, out
    assert punches(db_url)[0][0] == "1001"


def test_two_students_with_the_same_finger_id_are_an_error(school: Path, rules) -> None:  # type: ignore[no-untyped-def]
    students = school / "students.csv"
    lines = students.read_text().splitlines()
    lines[0] += ",finger_id"
    lines[1] += ",0077"
    lines[2] += ",77"
    students.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["check", "--school", str(school)])
    assert result.exit_code == 1
    assert "students.csv:3:7: finger id '77' of student 1002 is already student 1001's" in result.output


def test_times_as_the_files_write_them() -> None:
    assert parse_moment("2026-11-30 06:52:00") == datetime(2026, 11, 30, 6, 52)
    assert parse_moment("30/11/2026 06.52") == datetime(2026, 11, 30, 6, 52)
    assert parse_moment("30-11-2026 6:52 PM") == datetime(2026, 11, 30, 18, 52)
    assert parse_moment("2026-11-30T06:52:07") == datetime(2026, 11, 30, 6, 52, 7)
    assert parse_moment("31/11/2026 06:52") is None and parse_moment("06:52") is None
    assert machine_name(Path("/usb/1_attlog.dat")) == "mesin 1" and machine_name(Path("log.dat")) == "log"


def test_a_punch_file_read_by_the_school_s_roster(tmp_path: Path, rules) -> None:  # type: ignore[no-untyped-def]
    """The mini school loads with the new optional column absent (every id is the NIS)."""
    school = load_school(MINI, rules.rules)
    assert all(s.finger_id == "" for s in school.students.values())
    log = tmp_path / "1_attlog.dat"
    log.write_text("1001 2026-11-30 06:52:00 1 0 1 0\n")  # spaces instead of tabs: still read
    problems = Problems()
    assert [(p.user_id, p.at.minute) for p in read_punch_file(log, problems)] == [("1001", 52)]
    assert not problems.items


def test_next_year_s_directory_keeps_the_machine_ids(school: Path, tmp_path: Path, rules) -> None:  # type: ignore[no-untyped-def]
    from absensi.engine.school.naikkelas import plan_year, write_year

    students = school / "students.csv"
    lines = students.read_text().splitlines()
    lines[0] += ",finger_id"
    lines[1] += ",42"
    students.write_text("\n".join(lines) + "\n")
    loaded = load_school(school, rules.rules)
    write_year(loaded, plan_year(loaded, "2027/2028"), tmp_path / "next")
    following = load_school(tmp_path / "next", rules.rules)
    assert following.students["1001"].finger_id == "42" and following.students["1002"].finger_id == ""
