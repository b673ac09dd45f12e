"""`absensi naik-kelas --new FILE` (SPEC §2, §5): next year's directory with the new students merged in.

The mini school's next year has X TKJ 1 and X TKJ 2 (empty, for the intake), XI TKJ 1, XI TKJ 2 and
XII RPL 1 (its XI RPL 1 moved up); students 1001…2006 continue. FILE is read as students.csv is (CSV with `,`
or `;`, BOM, Windows-1252, Dapodik headers; an .xlsx's first sheet) and every mistake in it is an error at
FILE:line:column with nothing written.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from absensi.engine.app.cli import app
from absensi.engine.rules import CompiledRules
from absensi.engine.school.codes import ALPHABET, LENGTH
from absensi.engine.school.files import load_school

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmp directory holding a copy of the mini school, as the working directory (FILE and NEWDIR relative)."""
    for name in ("ABSENSI_SCHOOL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(MINI, tmp_path / "school")
    yield tmp_path


def naik(*extra: str) -> Result:
    return CliRunner().invoke(app, ["naik-kelas", "--school", "school", "--to", "2027/2028", "-o", "next", *extra])


def flat(text: str) -> str:
    """The output without the console's line wrapping."""
    return " ".join(text.split())


def check_passes(directory: str) -> None:
    result = CliRunner().invoke(app, ["check", "--school", directory])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_csv_in_a_dapodik_export_s_shape(here: Path, rules: CompiledRules) -> None:
    # `;`, a BOM, CRLF, Dapodik's headers, a lower-case class, one parent code given, the others missing
    (here / "ppdb.csv").write_bytes(
        "\ufeffNIPD;Nama;JK;Rombel Saat Ini;NISN;parent_code\r\n"
        "3001;Andi Wijaya;l;X TKJ 1;0123456789;\r\n"
        "3002;Bunga Citra;P;x tkj  2;;HK7P2M\r\n"
        "3003;Cahya Purnama;L;X TKJ 1;0123456790;\r\n"
        "3004;Dewi Anggraini;P;XI TKJ 1;;\r\n".encode())
    result = naik("--new", "ppdb.csv")
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "4 new student(s) from ppdb.csv: X TKJ 1 (2), X TKJ 2 (1), XI TKJ 1 (1)" in out
    assert "parent codes: 3 made for new students without one" in out
    assert "ppdb.csv:3:4: warning: class 'x tkj 2' is read as 'X TKJ 2'" in out
    assert "X TKJ 1: new, empty" not in out and "X TKJ 1: new" in out
    assert "22 students (4 new)" in out and "nothing was written" not in out
    check_passes("next")
    following = load_school(here / "next", rules.rules)
    assert {nis: s.class_name for nis, s in following.students.items() if nis.startswith("300")} == {
        "3001": "X TKJ 1", "3002": "X TKJ 2", "3003": "X TKJ 1", "3004": "XI TKJ 1"}
    andi = following.students["3001"]
    assert (andi.name, andi.gender, andi.nisn) == ("Andi Wijaya", "L", "0123456789")
    assert following.students["3002"].parent_code == "HK7P2M"
    made = [following.students[nis].parent_code for nis in ("3001", "3003", "3004")]
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in made)
    codes = [s.parent_code for s in following.students.values()]
    assert len(set(codes)) == len(codes)
    assert following.students["1001"].class_name == "XI TKJ 1"  # the continuing students are still there
    assert len(following.students) == 22


def test_windows_1252_csv_keeps_the_names_letters(here: Path, rules: CompiledRules) -> None:
    (here / "masuk.csv").write_bytes("nis,name,class\n3001,Aurélie Sétiawan,X TKJ 2\n".encode("cp1252"))
    result = naik("--new", "masuk.csv")
    assert result.exit_code == 0, result.output
    assert "masuk.csv: warning: read as Windows-1252" in flat(result.output)
    check_passes("next")
    assert load_school(here / "next", rules.rules).students["3001"].name == "Aurélie Sétiawan"


def workbook(path: Path, rows: list[list[object]], *, first: str = "Sheet", other: str = "") -> Path:
    """An .xlsx with `rows` on its first sheet (named `first`), and another sheet after it when `other`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = first
    for row in rows:
        sheet.append(row)
    if other:
        book.create_sheet(other).append(["not", "read"])
    book.save(path)
    return path


def test_xlsx_first_sheet_with_a_title_row_and_numbers(here: Path, rules: CompiledRules) -> None:
    workbook(here / "ppdb.xlsx", [
        ["Daftar Peserta Didik Baru 2027"],  # a title above the header, as exports have
        [],
        ["No", "Nama", "NIPD", "NISN", "JK", "Rombel Saat Ini"],
        [1, "Eko Prasetyo", 3101, "0123456791", "L", "X TKJ 1"],  # NIS typed as a number
        [2, "Fitri Handayani", 3102, None, "P", "X TKJ 2"],
    ], first="PPDB", other="Rekap")
    result = naik("--new", "ppdb.xlsx")
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "2 new student(s) from ppdb.xlsx: X TKJ 1 (1), X TKJ 2 (1)" in out
    assert "ppdb.xlsx:3:1: warning: unknown column 'No' is ignored" in out
    check_passes("next")
    following = load_school(here / "next", rules.rules)
    assert following.students["3101"].class_name == "X TKJ 1" and following.students["3101"].nisn == "0123456791"
    assert following.students["3102"].name == "Fitri Handayani"
    written = (here / "next" / "students.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == "nis,nisn,name,gender,class,parent_code"  # NEWDIR's table keeps its format
    assert written[-1].startswith("3102,,Fitri Handayani,P,X TKJ 2,")


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("nis,name,class\n3001,Andi,X TKJ 1\n1003,Adi Nugroho,X TKJ 1\n",
                 "new.csv:3:1: nis 1003 is a continuing student's (Adi Nugroho, XI TKJ 1 next year)",
                 id="continuing-nis"),
    pytest.param("nis;name;class\n3001;Andi;X TKJ 1\n3002;Bunga;X TJK 2\n",
                 "new.csv:3:3: unknown class 'X TJK 2' for student 3002: next year's classes are X TKJ 1, "
                 "X TKJ 2, XI TKJ 1, XI TKJ 2, XII RPL 1 (column 'class') 3002;Bunga;X TJK 2 ^ "
                 "hint: did you mean 'X TKJ 2'?", id="unknown-class"),
    pytest.param("nis,name,class\n3001,Andi,XI RPL 1\n",  # this year's class: it is XII RPL 1 next year
                 "new.csv:2:3: unknown class 'XI RPL 1' for student 3001", id="this-year-s-class"),
    pytest.param("nis,name,class\n3001,Andi,X TKJ 1\n3002,Bunga,X TKJ 2\n3001,Andika,X TKJ 2\n",
                 "new.csv:4:1: nis 3001 is listed twice: first on line 2", id="duplicate-nis"),
    pytest.param("nis,name,class,parent_code\n3001,Andi,X TKJ 1,QX7RT2\n3002,Bunga,X TKJ 2,qx7rt2\n",
                 "new.csv:3:4: parent_code 'qx7rt2' is already used by the student on line 2",
                 id="duplicate-code"),
    pytest.param("nis,name,class,parent_code\n3001,Andi,X TKJ 1,AB12CD\n",
                 "new.csv:2:4: parent_code 'AB12CD' is already used by continuing student 1001",
                 id="continuing-code"),
    pytest.param("nis,name,class,parent_code\n3001,Andi,X TKJ 1,AB-12\n",
                 "new.csv:2:4: parent_code 'AB-12' must be 4-16 letters or digits", id="bad-code"),
    pytest.param("nis,name,class,finger_id\n3001,Andi,X TKJ 1,1002\n",
                 "new.csv:2:4: finger id '1002' of student 3001 is already student 1002's", id="finger-id"),
    pytest.param("nis,name,class\n3001,,X TKJ 1\n", "new.csv:2:2: student 3001 has no name", id="no-name"),
    pytest.param("Nama;Rombel\nAndi;X TKJ 1\n", "new.csv:1:1: missing column 'nis'", id="missing-column"),
    pytest.param("name,class\nAndi,X TKJ 1\n", "new.csv:1:1: missing column 'nis'", id="missing-column-comma"),
    pytest.param("nis,name,class\n", "new.csv: no students: the file has its column names but no rows",
                 id="no-rows"),
])
def test_each_mistake_is_an_error_at_its_row_and_nothing_is_written(here: Path, text: str, expected: str) -> None:
    (here / "new.csv").write_text(text, encoding="utf-8")
    result = naik("--new", "new.csv")
    assert result.exit_code == 1, result.output
    out = flat(result.output)
    assert flat(expected) in out
    assert "error(s) in new.csv: nothing was written" in out
    assert not (here / "next").exists()


def test_several_mistakes_are_reported_at_once(here: Path) -> None:
    (here / "new.csv").write_text("nis,name,class\n1001,Budi,X TKJ 1\n3001,A,X TKJ 9\n3002,B,X TKJ 9\n"
                                  "3003,C,X TKJ 1\n3003,D,X TKJ 1\n", encoding="utf-8")
    result = naik("--new", "new.csv")
    assert result.exit_code == 1
    out = flat(result.output)
    assert "new.csv:2:1: nis 1001 is a continuing student's" in out
    assert "new.csv:3:3: unknown class 'X TKJ 9' for student 3001" in out
    assert "new.csv:4:3: … and 1 more row with unknown class 'X TKJ 9'" in out  # a repeat is counted
    assert "new.csv:6:1: nis 3003 is listed twice: first on line 5" in out
    assert "4 error(s) in new.csv: nothing was written" in out
    assert not (here / "next").exists()


def test_xlsx_mistakes_name_their_cell(here: Path) -> None:
    workbook(here / "new.xlsx", [["nis", "name", "class"], ["3001", "Andi", "X TKJ 1"], ["1005", "Ani", "X TKJ 2"]])
    result = naik("--new", "new.xlsx")
    assert result.exit_code == 1
    assert ("new.xlsx:3:1: nis 1005 is a continuing student's (Ani Lestari, XI TKJ 1 next year) (column 'nis', "
            "cell A3)") in flat(result.output)
    assert not (here / "next").exists()


def test_a_file_that_cannot_be_read(here: Path) -> None:
    (here / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (here / "broken.xlsx").write_bytes(b"not a workbook")
    for name, expected in [("old.xls", "old.xls: old.xls is the old Excel format"),
                           ("gone.csv", "gone.csv: missing: there is no such file"),
                           ("broken.xlsx", "broken.xlsx: cannot read: not an Excel workbook")]:
        result = naik("--new", name)
        assert result.exit_code == 1, result.output
        assert expected in flat(result.output)
        assert not (here / "next").exists()


def test_an_existing_directory_is_left_untouched(here: Path) -> None:
    (here / "next").mkdir()
    (here / "next" / "students.csv").write_text("mine\n")
    (here / "good.csv").write_text("nis,name,class\n3001,Andi,X TKJ 1\n")
    (here / "bad.csv").write_text("nis,name,class\n1001,Budi,X TKJ 1\n")
    for name, expected in [("good.csv", "exists already"), ("bad.csv", "nothing was written")]:
        result = naik("--new", name)
        assert result.exit_code == 1 and expected in flat(result.output), result.output
        assert [p.name for p in (here / "next").iterdir()] == ["students.csv"]
        assert (here / "next" / "students.csv").read_text() == "mine\n"


def test_without_new_the_classes_stay_empty_and_the_output_says_how_to_fill_them(here: Path) -> None:
    result = naik()
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "X TKJ 1: new, empty until the new students are added" in out
    assert "18 students (0 new)" in out and "(or use --new FILE)" in out
    check_passes("next")


def test_a_year_that_is_not_after_the_directorys_own_is_refused(here: Path) -> None:
    for year in ("2026/2027", "2025/2026"):
        result = CliRunner().invoke(app, ["naik-kelas", "--school", "school", "--to", year, "-o", "next"])
        said = flat(result.output)
        assert result.exit_code != 0 and "is not after this directory's school year 2026/2027" in said, said
        assert "give the year it moves up to, 2027/2028" in said
        assert not (here / "next").exists()
