"""Files as schools have them (SPEC §2): Excel's CSV (`;`, BOM, CRLF, Windows-1252), xlsx exports with
Indonesian headers, and problems that name their column and put the first cause first, counted not repeated.

Golden outputs of `absensi check` are in tests/golden/school/*.txt (regenerate with UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.rules import CompiledRules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.codes import fill_codes
from absensi.engine.school.files import load_school, read_school
from absensi.engine.school.model import School
from absensi.engine.school.workbook import write_template

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
GOLDEN = ROOT / "tests" / "golden" / "school"


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(MINI, target)
    return target


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def excel_csv(path: Path, lines: list[str], *, encoding: str = "utf-8-sig") -> None:
    """What Excel on Indonesian Windows saves: `;` between cells, CRLF, a BOM (or Windows-1252)."""
    path.write_bytes("".join(line.replace(",", ";") + "\r\n" for line in lines).encode(encoding))


def read(directory: Path, rules: CompiledRules) -> tuple[School | None, Problems, str]:
    problems = Problems()
    school = read_school(directory, rules.rules, problems)
    return school, problems, problems.render(with_source=False).replace(str(directory) + "/", "")


def roster(school: School) -> list[tuple[str, str, str, str, str, str]]:
    return sorted((s.nis, s.name, s.class_name, s.parent_code, s.nisn, s.gender) for s in school.students.values())


def test_excel_semicolon_bom_crlf_students_load_clean(school_dir: Path, rules: CompiledRules, mini: School) -> None:
    path = school_dir / "students.csv"
    excel_csv(path, lines_of(path))
    assert path.read_bytes().startswith(b"\xef\xbb\xbfnis;nisn;name;gender;class;parent_code\r\n")
    school, _, text = read(school_dir, rules)
    assert text == ""
    assert school is not None and roster(school) == roster(mini)


def test_windows_1252_file_loads_with_a_warning_naming_it(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    lines = lines_of(path)
    lines[5] = lines[5].replace("Ani Lestari", "Dévi Lestari")
    excel_csv(path, lines, encoding="cp1252")
    assert "é".encode("cp1252") in path.read_bytes()
    school, _, text = read(school_dir, rules)
    assert text == ('students.csv: warning: read as Windows-1252, not UTF-8 (first on line 6): save it as '
                    '"CSV UTF-8" so that every name keeps its letters')
    assert school is not None and school.students["1005"].name == "Dévi Lestari"


def test_an_error_in_a_windows_1252_file_quotes_its_line_as_written(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    lines = lines_of(path)
    lines[5] = lines[5].replace("Ani Lestari", "Dévi Lestari").replace("X TKJ 1", "X TKJ 7")
    excel_csv(path, lines, encoding="cp1252")
    _, problems, _ = read(school_dir, rules)
    assert problems.errors[0].render().split("\n")[1:3] == [
        "    1005;0101000005;Dévi Lestari;P;X TKJ 7;QR67ST",
        "                                   ^",
    ]


def test_a_stray_quote_inside_a_name_does_not_swallow_the_next_rows(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    path.write_text(path.read_text().replace("Agus Setiawan", 'Agus "Gus Setiawan'))
    before = path.read_bytes()
    school, _, text = read(school_dir, rules)
    assert text == ""
    assert school is not None and len(school.students) == 18
    assert school.students["1004"].name == 'Agus "Gus Setiawan'
    assert fill_codes(path) == (0, 18) and path.read_bytes() == before


def dapodik_workbook(path: Path, rows: list[list[object]]) -> None:
    """A Dapodik-like export: a title, a blank row, Indonesian headers, columns we do not use."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Daftar Peserta Didik SMK PGRI 1 Tangerang"])
    sheet.append([])
    sheet.append(["No", "Nama", "NIPD", "JK", "NISN", "Tempat Lahir", "Rombel Saat Ini", "parent_code"])
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    book.save(path)


def test_dapodik_headers_are_aliases(school_dir: Path, rules: CompiledRules, mini: School) -> None:
    (school_dir / "students.csv").unlink()
    rows = [[s.name, int(s.nis), s.gender, s.nisn, "Tangerang", s.class_name, s.parent_code]
            for s in mini.students.values()]
    dapodik_workbook(school_dir / "students.xlsx", rows)
    school, _, text = read(school_dir, rules)
    assert text == "students.xlsx:3:1: warning: unknown columns 'No', 'Tempat Lahir' are ignored"
    assert school is not None and roster(school) == roster(mini)


def test_an_alias_column_is_named_as_the_file_names_it(school_dir: Path, rules: CompiledRules, mini: School) -> None:
    (school_dir / "students.csv").unlink()
    rows = [[s.name, s.nis, s.gender, s.nisn, "Tangerang", s.class_name, s.parent_code]
            for s in mini.students.values()]
    rows[4][5] = "X TKJ 9"
    dapodik_workbook(school_dir / "students.xlsx", rows)
    _, problems, _ = read(school_dir, rules)
    assert [p.render(with_source=False).replace(str(school_dir) + "/", "") for p in problems.errors] == [
        f"students.xlsx:8:7: unknown class 'X TKJ 9' for student {rows[4][1]} (column 'Rombel Saat Ini', cell G8)"
        "\n    hint: did you mean 'X TKJ 2'?"
    ]


def test_a_missing_column_is_one_error_and_comes_first(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    path.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 4) for line in lines_of(path)))
    school, _, text = read(school_dir, rules)
    assert school is None
    assert text == "students.csv:1:1: missing column 'class'"


def test_a_broken_classes_header_does_not_flood_the_files_that_use_it(school_dir: Path,
                                                                       rules: CompiledRules) -> None:
    path = school_dir / "classes.csv"
    excel_csv(path, ["class,grade,jurusan", *lines_of(path)[1:]])
    _, problems, text = read(school_dir, rules)
    assert [p.message for p in problems.errors] == ["missing column 'department'"]
    assert text.split("\n")[0] == "classes.csv:1:1: missing column 'department'"
    assert "students.csv: warning: class names not checked: the classes table did not load" in text


def test_a_repeated_cause_is_counted_in_one_line(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    with path.open("a") as handle:
        for n in range(30):
            handle.write(f"9{n:03},01020000{n:02},Siswa Baru {n},L,X TKJ 9,NEW{n:03}XY\n")
    _, problems, text = read(school_dir, rules)
    assert text == (
        "students.csv:20:5: unknown class 'X TKJ 9' for student 9000 (column 'class')\n"
        "    hint: did you mean 'X TKJ 2'?\n"
        "students.csv:21:5: … and 29 more rows with unknown class 'X TKJ 9'"
    )
    assert len(problems.errors) == 2


def test_class_names_match_ignoring_case_and_spaces_with_a_warning(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    path.write_text(path.read_text().replace("1003,0101000003,Adi Nugroho,L,X TKJ 1", "1003,0101000003,Adi Nugroho,L,x tkj  1"))
    staff = school_dir / "staff.csv"
    staff.write_text(staff.read_text().replace("Dimas Saputra,ketua_kelas,X TKJ 2", "Dimas Saputra,ketua_kelas,X  TKJ 2"))
    school, _, text = read(school_dir, rules)
    assert text == (
        "students.csv:4:5: warning: class 'x tkj  1' is read as 'X TKJ 1' (column 'class')\n"
        "    hint: write class names as in classes.csv\n"
        "staff.csv:5:3: warning: class 'X  TKJ 2' is read as 'X TKJ 2' (column 'scope')\n"
        "    hint: write class names as in classes.csv"
    )
    assert school is not None and school.students["1003"].class_name == "X TKJ 1"
    assert any(s.name == "Dimas Saputra" and s.scope == "X TKJ 2" for s in school.staff)


def test_unknown_columns_are_one_warning(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "staff.csv"
    lines = lines_of(path)
    path.write_text("\n".join([lines[0] + ",Jabatan,NIP,parent_cod"] + [line + ",,," for line in lines[1:]]) + "\n")
    _, _, text = read(school_dir, rules)
    assert text == ("staff.csv:1:6: warning: unknown columns 'Jabatan', 'NIP', 'parent_cod' are ignored")


# ------------------------------------------------------------------------------------------ the template


def test_template_round_trip(tmp_path: Path, rules: CompiledRules) -> None:
    school_dir = tmp_path / "school"
    school_dir.mkdir()
    shutil.copy(MINI / "school.yaml", school_dir)
    book_path = school_dir / "sekolah.xlsx"
    result = CliRunner().invoke(app, ["template", "--school", str(school_dir), "-o", str(book_path)])
    assert result.exit_code == 0, result.output

    book = load_workbook(book_path)
    assert book.sheetnames[:4] == ["classes", "students", "staff", "parents"]
    headers = {name: [c.value for c in book[name][1]] for name in book.sheetnames[:4]}
    assert headers["students"] == ["nis *", "name *", "class *", "parent_code *", "absen_no", "nisn", "gender",
                                   "finger_id"]
    assert headers["classes"] == ["class *", "grade *", "department *"]
    (pick,) = [v for v in book["students"].data_validations.dataValidation if "C2" in str(v.sqref)]
    assert pick.type == "list" and pick.formula1 == "=classes!$A$2:$A$2000"
    roles = [v for v in book["staff"].data_validations.dataValidation if v.formula1.startswith('"')]
    assert "wali_kelas" in roles[0].formula1
    example = [c.value for c in book["students"][2]]
    assert example[:3] == ["1001", "Budi Santoso", "X TKJ 1"]

    # the school fills in its rows over the examples
    book["classes"].append(["XI RPL 1", "11", "RPL"])
    book["students"].append(["2001", "Kevin Wijaya", "XI RPL 1", "HJ67KM", None, "0091000001", "L"])
    for row in (["Dewi Anggraini, S.Kom.", "wali_kelas", "XI RPL 1", "081311110010", "700010"],
                ["Rizky Firmansyah", "ketua_kelas", "XI RPL 1", "081311110011", None],
                ["Bayu Pratama", "ketua_kelas", "X TKJ 1", "081311110001", None]):
        book["staff"].append(row)
    book["parents"]["A2"] = "081234500099"
    book.save(book_path)
    book.close()

    school = load_school(school_dir, rules.rules)
    assert sorted(school.classes) == ["X TKJ 1", "XI RPL 1"]
    assert {s.nis: s.class_name for s in school.students.values()} == {"1001": "X TKJ 1", "2001": "XI RPL 1"}
    assert len(school.staff) == 4
    assert school.preregistered == [("+6281234500099", "1001")]


def test_template_problems_name_the_sheet(tmp_path: Path, rules: CompiledRules) -> None:
    school_dir = tmp_path / "school"
    school_dir.mkdir()
    shutil.copy(MINI / "school.yaml", school_dir)
    write_template(school_dir / "sekolah.xlsx", sorted(rules.rules.roles))
    book = load_workbook(school_dir / "sekolah.xlsx")
    book["students"]["C2"] = "X TKJ 2"
    book.save(school_dir / "sekolah.xlsx")
    book.close()
    _, problems, _ = read(school_dir, rules)
    assert [p.render(with_source=False).replace(str(school_dir) + "/", "") for p in problems.errors] == [
        "sekolah.xlsx[students]:2:3: unknown class 'X TKJ 2' for student 1001 (column 'class', cell C2)\n"
        "    hint: did you mean 'X TKJ 1'?",
        "sekolah.xlsx[parents]:2:2: nis '1001' is not loaded: its row in sekolah.xlsx[students] (line 2) has an "
        "error (column 'nis', cell B2)",
    ]


@pytest.mark.parametrize("name", ["sekolah.csv", "sekolah", "sekolah.xls"])
def test_template_needs_an_xlsx_name(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(app, ["template", "--school", str(MINI), "-o", str(tmp_path / name)])
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0
    assert result.output.strip().endswith("give a file name ending in .xlsx")
    assert not (tmp_path / name).exists()


# ------------------------------------------------------------------------------------------ absensi codes


def test_codes_leave_a_file_they_do_not_change_byte_for_byte(school_dir: Path) -> None:
    path = school_dir / "students.csv"
    lines = lines_of(path)
    lines[3] = lines[3].replace("Adi Nugroho", "Adi Nugroho, S.")  # a quoted cell, as Excel quotes it
    excel_csv(path, lines)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert fill_codes(path) == (0, 18)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_codes_keep_delimiter_encoding_and_line_endings(school_dir: Path, rules: CompiledRules) -> None:
    path = school_dir / "students.csv"
    lines = lines_of(path)
    lines[5] = lines[5].replace("Ani Lestari", "Dévi Lestari").replace("QR67ST", "")
    lines[7] = lines[7].replace("UV23WX", "UV2")
    excel_csv(path, lines, encoding="cp1252")
    before = path.read_bytes().split(b"\r\n")
    assert fill_codes(path, replace_weak=True) == (2, 16)
    after = path.read_bytes().split(b"\r\n")
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [5, 7]
    assert after[5].startswith("1005;0101000005;Dévi Lestari;P;X TKJ 1;".encode("cp1252"))
    assert after[7].startswith(b"1007;0101000007;Citra Dewi;P;X TKJ 2;") and len(after[7].split(b";")[5]) == 6
    school, _, _ = read(school_dir, rules)
    assert school is not None and school.students["1005"].name == "Dévi Lestari"


def test_codes_add_a_missing_column_in_the_file_s_own_style(tmp_path: Path) -> None:
    path = tmp_path / "students.csv"
    path.write_bytes(b"\xef\xbb\xbfNIS;Nama;Kelas\r\n1;Adi;X TKJ 1\r\n2;Budi;X TKJ 1\r\n")
    assert fill_codes(path) == (2, 0)
    text = path.read_bytes()
    assert text.startswith(b"\xef\xbb\xbfNIS;Nama;Kelas;parent_code\r\n1;Adi;X TKJ 1;")
    assert text.count(b"\r\n") == 3 and text.count(b";") == 9


# ------------------------------------------------------------------------------------------ absensi check


def run_check(school: Path, rules_dir: Path | None = None) -> tuple[int, str]:
    args = ["check", "--school", str(school)] + (["--rules", str(rules_dir)] if rules_dir else [])
    result = CliRunner().invoke(app, args)
    text = result.output.replace(str(school), "school").replace(str(rules_dir or ROOT / "rules"), "rules")
    return result.exit_code, text


def golden(name: str, output: str) -> None:
    expected = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(output)
    assert output == expected.read_text()


def test_check_shows_rules_and_school_problems_at_once(school_dir: Path, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    (rules_dir / "zz_local.yaml").write_text("# a section the rules do not have\nholidays: [2026-12-25]\n")
    classes = school_dir / "classes.csv"
    classes.write_text(classes.read_text().replace("XI RPL 1,11,RPL", "XI RPL 1,eleven,RPL"))
    staff = school_dir / "staff.csv"
    staff.write_text(staff.read_text().replace("Bayu Pratama,ketua_kelas", "Bayu Pratama,ketua_kelass"))
    code, output = run_check(school_dir, rules_dir)
    assert code == 1
    golden("rules_and_school", output)


def test_check_warns_about_classes_without_wali_kelas_or_officers(school_dir: Path) -> None:
    staff = school_dir / "staff.csv"
    kept = [line for line in lines_of(staff) if "XI RPL 1" not in line and "Rina Marlina" not in line]
    staff.write_text("\n".join(kept) + "\n")
    code, output = run_check(school_dir)
    assert code == 0
    golden("class_without_staff", output)


def test_check_of_an_excel_saved_school(school_dir: Path) -> None:
    """The tester's school: Excel's `;` + BOM + CRLF everywhere, one Windows-1252 file, a misspelt class
    in 12 rows; the real problems first, each once."""
    for name in ("classes.csv", "staff.csv"):
        excel_csv(school_dir / name, lines_of(school_dir / name))
    path = school_dir / "students.csv"
    lines = [line.replace("X TKJ 2", "X TKJ2").replace("Eka Putri", "Éka Putri") for line in lines_of(path)]
    excel_csv(path, lines, encoding="cp1252")
    code, output = run_check(school_dir)
    assert code == 1
    golden("excel_saved_school", output)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problem_lines(output: str) -> list[str]:
    """The `file:line:column: message` lines of `absensi check`, without quoted lines, carets and hints."""
    return [line for line in output.splitlines() if line.startswith("school/")]


def test_a_duplicate_absen_no_is_at_its_second_row_naming_the_number_and_the_first(school_dir: Path) -> None:
    path = school_dir / "students.csv"
    lines = lines_of(path)
    numbers = {1: "3", 3: "3", 5: "3", 10: "1"}  # 1001, 1003, 1005 in X TKJ 1; 1010 alone with its 1
    path.write_text("\n".join([lines[0] + ",absen_no"] + [f"{line},{numbers.get(i, '')}"
                                                          for i, line in enumerate(lines) if i]) + "\n")
    assert lines[1].startswith("1001,") and lines[3].startswith("1003,") and lines[5].startswith("1005,")
    code, output = run_check(school_dir)
    assert code == 1
    assert problem_lines(output) == [
        "school/students.csv:4:7: absen_no 3 is already used in class 'X TKJ 1' on line 2, by student 1001 "
        "(column 'absen_no')",
        "school/students.csv:6:7: absen_no 3 is already used in class 'X TKJ 1' on line 2, by student 1001 "
        "(column 'absen_no')",
    ]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  - 2026-12-24 ", "  - 2026-13-01 ",
     "school/school.yaml:9:5: '2026-13-01' is not a date (YYYY-MM-DD) or {from: …, to: …}"),
    ("to: 2027-03-16}", "to: 2027-02-30}",
     "school/school.yaml:12:28: '2027-02-30' is not a date (YYYY-MM-DD)"),
    ("end: 2027-06-19}", "end: 2027-06-31}",
     "school/school.yaml:15:55: '2027-06-31' is not a date (YYYY-MM-DD)"),
    ('sms_number: "+6281200000000"', "sms_number: !!int nomor",
     "school/school.yaml:18:13: 'nomor' cannot be read as !!int"),
])
def test_a_value_that_cannot_be_made_is_reported_at_it(school_dir: Path, old: str, new: str,
                                                             expected: str) -> None:
    edit(school_dir / "school.yaml", old, new)
    code, output = run_check(school_dir)
    assert code == 1
    assert problem_lines(output) == [expected]


def test_an_unknown_region_is_the_one_error_not_every_phone_number(school_dir: Path) -> None:
    edit(school_dir / "school.yaml", "region: ID", "region: XX")
    code, output = run_check(school_dir)
    assert code == 1
    assert problem_lines(output) == [
        "school/school.yaml:4:9: unknown region 'XX' (the country of phone numbers written without +)"]
    assert "is not a phone number" not in output


def test_a_missing_telegram_group_points_at_telegram_groups_or_the_file_s_start(school_dir: Path) -> None:
    path = school_dir / "school.yaml"
    edit(path, "  pejabat: -1001234567890", "  piket: -1001234567891")
    code, output = run_check(school_dir)
    assert code == 1
    message = "routes.info sends to group:pejabat, but telegram_groups has no 'pejabat'"
    assert problem_lines(output) == [f"school/school.yaml:16:1: {message}"]
    edit(path, "telegram_groups:\n  piket: -1001234567891\n", "")
    code, output = run_check(school_dir)
    assert code == 1
    assert problem_lines(output) == [f"school/school.yaml:1:1: {message}"]
