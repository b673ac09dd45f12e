"""`absensi demo`: what it prints is true — each officer under their own name — and every "Coba:" command it
prints runs as printed."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console

from absensi.engine.app.demo import run_demo
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    rules = load_rules(ROOT / "rules")
    school = load_school(ROOT / "sample_school", rules.rules)
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    console = Console(file=io.StringIO(), width=240, highlight=False)
    run_demo(rules, school, out, console)
    return console.file.getvalue(), out  # type: ignore[attr-defined]


def test_each_officer_is_shown_under_their_own_name(demo: tuple[str, Path]) -> None:
    text, _ = demo
    class_name = re.search(r"November 2026 - (\S+ \S+ \d)", text).group(1)  # type: ignore[union-attr]
    staff = {row.split(",")[1]: row.split(",")[0] for row in (ROOT / "sample_school/staff.csv").read_text().splitlines()
             if f",{class_name}," in row}
    assert f"Telegram: {staff['sekretaris']} (sekretaris)" in text
    assert f"Telegram: {staff['ketua_kelas']} (ketua kelas)" in text
    assert f"{staff['ketua_kelas']} (sekretaris)" not in text


def test_every_printed_command_runs_as_printed(demo: tuple[str, Path], tmp_path: Path) -> None:
    text, _ = demo
    commands = [line.removeprefix("Coba: ") for line in text.splitlines() if line.startswith("Coba: ")]
    assert len(commands) >= 2
    env = {k: v for k, v in os.environ.items() if k not in ("ABSENSI_SCHOOL", "DATABASE_URL")}
    for command in commands:
        program, *args = shlex.split(command)
        assert program == "absensi"
        done = subprocess.run([sys.executable, "-m", "absensi.engine.app.cli", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    assert "report rekap-sekolah" in " ".join(commands) and "report semester" in " ".join(commands)


def test_the_schools_reports_of_the_day_and_month_are_written(demo: tuple[str, Path]) -> None:
    text, out = demo
    written = {Path(line.removeprefix("laporan: ")).name for line in text.splitlines() if line.startswith("laporan: ")}
    titles = {"harian-2026-11-30.xlsx": "LAPORAN HARIAN", "status-2026-11-30.xlsx": "STATUS PELAPORAN",
              "perhatian-2026-11.xlsx": "PERHATIAN"}
    assert set(titles) <= written, written
    for name, title in titles.items():  # each a workbook of the whole school, under its title
        book = load_workbook(out / name, read_only=True)
        head = [str(row[0]) for row in book.worksheets[0].iter_rows(max_row=3, values_only=True)]
        assert head[0] == "SMK PGRI 1 TANGERANG" and title in head[1], (name, head)
