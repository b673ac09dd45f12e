"""Imports only where used (issue 11): the command line and the service start without the libraries they do not
need. Each case runs in a fresh interpreter and reads `sys.modules` after it: a correctness test (what is
loaded), not a timing test (bench/cli_wall.py and bench/service_idle.py measure the time and the memory).

* `import absensi.engine.app.cli` and `absensi --help` load typer and rich, never the database layer, the
  report, chart or PDF libraries, a driver or the Telegram library;
* `absensi check` reads the rules and the school, and loads the database layer only when there is a
  database to compare the absen numbers with;
* the service's module (`absensi run`) loads no report, chart or PDF library and no Telegram library: those
  come when a report is made or Telegram is configured;
* the report and letter libraries do load when a report or letters are made (the test would be vacuous if
  the names checked were never loaded at all).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
REPORTING = ("matplotlib", "openpyxl", "fpdf", "numpy", "PIL")
DATABASE = ("sqlalchemy", "sqlmodel", "alembic")
DRIVERS = ("pyrogram", "serial", "absensi.drivers.gsm", "absensi.drivers.telegram")

PRELUDE = """
import json, sys
def loaded():
    return sorted({name.split(".")[0] if not name.startswith("absensi.") else ".".join(name.split(".")[:3])
                   for name in sys.modules})
"""


def loaded_after(code: str, tmp_path: Path) -> set[str]:
    """The top-level modules (and absensi's subpackages) loaded after running `code` in a new interpreter."""
    script = PRELUDE + code + "\nprint('MODULES=' + json.dumps(loaded()))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    line = next((x for x in done.stdout.splitlines() if x.startswith("MODULES=")), None)
    assert line is not None, f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return set(json.loads(line.removeprefix("MODULES=")))


def absent(names: tuple[str, ...], modules: set[str]) -> list[str]:
    return [n for n in names if n in modules]


def run_cli(*argv: str) -> str:
    """`absensi ARGV` as main() runs it (private umask, logs, optional driver commands), its exit caught."""
    return f"""
sys.argv = ["absensi", *{list(argv)!r}]
from absensi.engine.app.cli import main
try:
    main()
except SystemExit as exc:
    print("EXIT", exc.code)
"""


def test_importing_the_cli_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = loaded_after("import absensi.engine.app.cli", tmp_path)
    assert "typer" in modules and "rich" in modules
    assert absent(REPORTING + DATABASE + DRIVERS + ("pydantic", "phonenumbers"), modules) == []


def test_help_loads_nothing_heavy_and_still_lists_the_driver_commands(tmp_path: Path) -> None:
    code = run_cli("--help")
    modules = loaded_after(code, tmp_path)
    assert absent(REPORTING + DATABASE + DRIVERS + ("pydantic", "phonenumbers"), modules) == []
    shown = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True, cwd=tmp_path,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "100"}, timeout=120)
    assert "EXIT 0" in shown.stdout
    assert "modem" in shown.stdout and "GSM modem tools: probe" in shown.stdout


def test_a_driver_command_loads_its_driver_when_it_runs(tmp_path: Path) -> None:
    modules = loaded_after(run_cli("modem", "--help"), tmp_path)
    assert "absensi.drivers.gsm" in modules and "serial" in modules
    assert absent((*REPORTING, "pyrogram"), modules) == []


def test_check_without_a_database_loads_no_database_layer(tmp_path: Path) -> None:
    modules = loaded_after(run_cli("check", "--school", str(MINI), "--db", f"sqlite:///{tmp_path / 'none.db'}"),
                           tmp_path)  # fmt: skip
    assert "pydantic" in modules  # the rules were really read
    assert absent(REPORTING + DATABASE + DRIVERS, modules) == []


def test_check_with_a_database_compares_the_numbers_without_reports(tmp_path: Path) -> None:
    from absensi.engine.store import Store, sqlite_url

    url = sqlite_url(tmp_path / "absensi.db")
    Store(url).close()
    modules = loaded_after(run_cli("check", "--school", str(MINI), "--db", url), tmp_path)
    assert "sqlalchemy" in modules
    assert absent(REPORTING + DRIVERS, modules) == []


def test_the_service_starts_without_report_pdf_chart_or_telegram_libraries(tmp_path: Path) -> None:
    modules = loaded_after("import absensi.engine.app.service, absensi.engine.app.cli", tmp_path)
    assert "absensi.engine.core" not in modules  # the engine's modules load as it is built, after the drivers start
    modules = loaded_after("import absensi.engine.app.service, absensi.engine.app.cli\n"
                           "from absensi.engine.app.service import new_engine\n"
                           "import absensi.engine.core  # what new_engine imports", tmp_path)
    assert "absensi.engine.chat" in modules
    assert absent((*REPORTING, "pyrogram", "absensi.drivers.telegram"), modules) == []


def test_the_telegram_credentials_are_read_without_pyrogram(tmp_path: Path) -> None:
    """The service reads the credentials first; without them it runs without Telegram (and without pyrogram)."""
    modules = loaded_after("from absensi.drivers.telegram import credentials_from_env\n"
                           "assert credentials_from_env({})[0] is None", tmp_path)
    assert absent(("pyrogram", "tgcrypto"), modules) == []
    modules = loaded_after("from absensi.drivers.telegram import TelegramService", tmp_path)
    assert "pyrogram" in modules


def test_a_workbook_is_written_without_openpyxl(tmp_path: Path) -> None:
    """The reports' workbooks come from engine/reports/ooxml.py: no spreadsheet library, no numpy, no Pillow
    (the chart sheet of rekap-sekolah brings matplotlib, and with it numpy and Pillow, only for its charts)."""
    modules = loaded_after("from absensi.engine.reports import export_xlsx\n"
                           "from absensi.engine.reports.model import Snapshot\n"
                           "data = export_xlsx('rekap-kelas', Snapshot('S', 'T', '', 'Nov', [], [], [], []))\n"
                           "assert data[:2] == b'PK' and len(data) > 500", tmp_path)  # fmt: skip
    assert "zipfile" in modules
    assert absent(REPORTING, modules) == []


def test_letters_are_made_without_numpy(tmp_path: Path) -> None:
    """fpdf would import numpy (only to read images, letters have none); numpy can still be imported after."""
    modules = loaded_after("from absensi.engine.reports.letters import render_letters\n"
                           "render_letters('S', '+6281200000000', [('A', 'X 1', '1', 'ABC123')])", tmp_path)
    assert "fpdf" in modules and "numpy" not in modules
    after = loaded_after("from absensi.engine.reports.letters import render_letters\n"
                         "render_letters('S', '+6281200000000', [('A', 'X 1', '1', 'ABC123')])\n"
                         "import numpy\nassert numpy.arange(3).sum() == 3", tmp_path)
    assert {"fpdf", "numpy"} <= after


@pytest.mark.parametrize(("command", "expected"), [
    ("from absensi.engine.reports import export_xlsx, REPORTS\n"
     "from absensi.engine.reports.model import Snapshot\n"
     "export_xlsx('rekap-sekolah', Snapshot('S', 'T', '', 'Nov', [], [], [], []))", ("matplotlib",)),
    ("from absensi.engine.reports.letters import render_letters\n"
     "render_letters('S', '+6281200000000', [('A', 'X 1', '1', 'ABC123')])", ("fpdf",)),
])  # fmt: skip
def test_the_libraries_load_when_a_report_is_made(command: str, expected: tuple[str, ...], tmp_path: Path) -> None:
    modules = loaded_after(command, tmp_path)
    assert [n for n in expected if n not in modules] == []
