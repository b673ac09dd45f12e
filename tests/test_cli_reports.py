"""The operator's path: `absensi simulate --db URL`, then `absensi report … --db URL` on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from absensi.engine.app.cli import app

ROOT = Path(__file__).resolve().parent.parent
MINI = str(ROOT / "tests" / "schools" / "mini")


def table(path: Path) -> list[dict[str, object]]:
    """Rows of the first sheet under its header row (the row that has both NIS and Nama)."""
    book = load_workbook(path, read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    head = next(i for i, r in enumerate(rows) if "NIS" in r and "Nama" in r)
    header = [str(c) if c is not None else "" for c in rows[head]]
    return [dict(zip(header, r, strict=False)) for r in rows[head + 1 :] if r and r[header.index("Nama")]]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def month_db(request: pytest.FixtureRequest, fresh_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A simulated month in a fresh database of each backend, shared by this module's tests (they only read it)."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("db")) as url:
        result = CliRunner().invoke(app, ["simulate", str(ROOT / "tests/scenarios/tg_month_of_reports.yaml"),
                                          "--db", url])
        assert result.exit_code == 0, result.output
        yield url


def test_monthly_class_recap_counts_the_simulated_month(month_db: str, tmp_path: Path) -> None:
    out = tmp_path / "rekap.xlsx"
    result = CliRunner().invoke(app, ["report", "rekap-kelas", "--school", MINI, "--db", month_db,
                                      "--class", "X TKJ 1", "--month", "2026-11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    budi = next(r for r in table(out) if r["Nama"] == "Budi Santoso")
    assert (budi["S"], budi["I"], budi["A"], budi["D"], budi["P"]) == (2, 0, 3, 0, 0)
    assert (budi["Hadir"], budi["Hari Efektif"]) == (16, 21)


def test_semester_recap_for_erapor(month_db: str, tmp_path: Path) -> None:
    out = tmp_path / "semester.xlsx"
    result = CliRunner().invoke(app, ["report", "semester", "--school", MINI, "--db", month_db, "--class", "X TKJ 1",
                                      "--semester", "2026/2027 Ganjil", "-o", str(out)])
    assert result.exit_code == 0, result.output
    budi = next(r for r in table(out) if r["Nama"] == "Budi Santoso")
    assert (budi["Sakit"], budi["Izin"], budi["Tanpa Keterangan"]) == (2, 0, 3)


def test_history_shows_the_corrections(month_db: str, tmp_path: Path) -> None:
    out = tmp_path / "riwayat.xlsx"
    result = CliRunner().invoke(app, ["report", "riwayat", "--school", MINI, "--db", month_db, "--student", "1005",
                                      "--semester", "Ganjil", "-o", str(out)])
    assert result.exit_code == 0, result.output
    # Ani (absen 3) was reported S on 18 Nov and withdrawn (BATAL) by the ketua kelas
    assert "18/11/2026 Dibatalkan" in result.output and "S → – oleh Bayu Pratama" in result.output
    book = load_workbook(out, read_only=True)
    cells = [str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
    book.close()
    assert any("S → –" in c and "Bayu Pratama" in c for c in cells)


def test_bad_arguments_are_refused_clearly(month_db: str, tmp_path: Path) -> None:
    out = str(tmp_path / "x.xlsx")
    cases = [(["report", "rekap-kelas", "--class", "X TKJ 9", "--month", "2026-11"], "unknown class"),
             (["report", "rekapan", "--month", "2026-11"], "unknown report"),
             (["report", "rekap-kelas", "--month", "2026-13"], "is not YYYY-MM")]
    for args, message in cases:
        result = CliRunner().invoke(app, [*args, "--school", MINI, "--db", month_db, "-o", out])
        assert result.exit_code == 2 and message in result.output, result.output


def test_status_names_who_reported_with_their_role(month_db: str, tmp_path: Path) -> None:
    out = tmp_path / "status.xlsx"
    result = CliRunner().invoke(app, ["report", "status", "--school", MINI, "--db", month_db, "--class", "X TKJ 1",
                                      "--date", "2026-11-30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out, read_only=True)
    cells = [str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
    book.close()
    assert "Ketua Kelas (Bayu Pratama)" in cells  # the NIHIL of 30 Nov, by the ketua kelas


def _cells(path: Path) -> list[list[object]]:
    book = load_workbook(path, read_only=True)
    rows = [list(r) for ws in book.worksheets for r in ws.iter_rows(values_only=True)]
    book.close()
    return rows


@pytest.mark.parametrize(("args", "says"), [
    (["rekap-kelas", "--class", "X TKJ 1", "--semester", "2026/2027 Ganjil"],
     "rekap-kelas is monthly: give --month YYYY-MM, not --semester (default: this month)"),
    (["rekap-sekolah", "--date", "2026-11-30"], "rekap-sekolah is monthly: give --month YYYY-MM"),
    (["rekap-sekolah", "--semester", "2026/2027 Ganjil"], "rekap-sekolah is monthly: give --month YYYY-MM"),
    (["semester", "--month", "2026-11"], "semester is one semester: give --semester NAME (from school.yaml), not --month"),
    (["semester", "--date", "2026-11-30"], "semester is one semester: give --semester NAME"),
    (["harian", "--month", "2026-11"], "harian is one day: give --date YYYY-MM-DD, not --month (default: today)"),
    (["status", "--semester", "Ganjil"], "status is one day: give --date YYYY-MM-DD"),
    (["perhatian", "--date", "2026-11-30"], "perhatian is a month or a semester: give --month YYYY-MM or --semester NAME, not --date"),
    (["harian", "--month", "2026-11", "--date", "2026-11-30"], "--month and --date exclude each other: give one"),
    (["riwayat", "--student", "1005", "--semester", "Ganjil", "--month", "2026-11"],
     "--month and --semester exclude each other"),
    (["rekap-kelas", "--class", "X TKJ 1", "--department", "TKJ", "--month", "2026-11"],
     "--class and --department exclude each other"),
    (["harian", "--student", "1005", "--date", "2026-11-30"], "--student is for riwayat (one student's history)"),
    (["riwayat", "--student", "1005", "--class", "X TKJ 1"], "riwayat is one student's history: give --student NIS"),
    (["sms", "--month", "2026-11", "--class", "X TKJ 1"], "sms is the whole school's month: give --month YYYY-MM only"),
])  # fmt: skip
def test_options_a_report_cannot_use_are_refused_in_one_line(month_db: str, tmp_path: Path, args: list[str],
                                                               says: str) -> None:
    out = tmp_path / "x.xlsx"
    result = CliRunner().invoke(app, ["report", *args, "--school", MINI, "--db", month_db, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert says in result.output and result.output.strip().count("\n") == 0, result.output
    assert not out.exists()


def test_a_usage_mistake_is_told_before_the_database_is_looked_for(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    result = CliRunner().invoke(app, ["report", "harian", "--month", "2026-11", "--school", MINI, "--db", missing,
                                      "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "harian is one day" in result.output, result.output
    assert not (tmp_path / "none.db").exists()


def test_the_period_a_report_takes_is_honoured_and_labelled(month_db: str, tmp_path: Path) -> None:
    def run(*args: str) -> list[list[object]]:
        out = tmp_path / f"{args[0]}.xlsx"
        result = CliRunner().invoke(app, ["report", *args, "--school", MINI, "--db", month_db, "-o", str(out)])
        assert result.exit_code == 0, result.output
        return _cells(out)

    sekolah = [c for row in run("rekap-sekolah", "--month", "2026-11") for c in row if c is not None]
    assert "Bulan: November 2026" in sekolah
    harian = [c for row in run("harian", "--date", "2026-11-18") for c in row if c is not None]
    assert any("18 November 2026" in str(c) for c in harian) and not any("1 November" in str(c) for c in harian)


@pytest.mark.parametrize(("written", "department"), [("x  tkj 1", " tkj"), (" X tkj   1 ", "Tkj"), ("X TKJ 1", "TKJ")])
def test_class_and_department_match_ignoring_case_and_repeated_spaces(month_db: str, tmp_path: Path, written: str,
                                                                      department: str) -> None:
    def run(*args: str) -> tuple[str, list[list[object]]]:
        out = tmp_path / "r.xlsx"
        result = CliRunner().invoke(app, ["report", *args, "--school", MINI, "--db", month_db, "-o", str(out)])
        assert result.exit_code == 0, result.output
        return result.output.replace(str(out), "OUT"), _cells(out)

    exact = run("harian", "--class", "X TKJ 1", "--date", "2026-11-18")
    assert run("harian", "--class", written, "--date", "2026-11-18") == exact
    assert "X TKJ 1" in exact[0] and table_rows(exact[1])  # the class's day, not an empty sheet
    monthly = run("rekap-kelas", "--class", written, "--month", "2026-11")
    assert monthly == run("rekap-kelas", "--class", "X TKJ 1", "--month", "2026-11")
    by_department = run("rekap-sekolah", "--department", department, "--month", "2026-11")
    assert by_department == run("rekap-sekolah", "--department", "TKJ", "--month", "2026-11")
    assert "Jurusan TKJ" in [r[0] for r in by_department[1]] and "Jurusan RPL" not in [r[0] for r in by_department[1]]
    letters = CliRunner().invoke(app, ["letters", "--school", MINI, "--class", written, "-o", str(tmp_path / "s.pdf")])
    assert letters.exit_code == 0 and "wrote" in letters.output, letters.output
    students = sum(1 for line in (Path(MINI) / "students.csv").read_text().splitlines() if ",X TKJ 1," in line)
    assert f": {students} letters" in " ".join(letters.output.split()) and students > 0  # (the line may wrap)


def table_rows(rows: list[list[object]]) -> list[list[object]]:
    head = next(i for i, r in enumerate(rows) if "NIS" in r and "Nama" in r)
    return rows[head + 1:]
