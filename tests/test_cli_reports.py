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
