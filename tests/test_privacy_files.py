"""Files with personal data are readable by their owner only from creation (SPEC §8).

Every test sets the process umask to the usual permissive 0o022 first: the mode must come from the code,
not from the environment the tests happen to run in. The databases here are SQLite only: the modes of a
SQLite file and its journals are what is tested (a PostgreSQL server keeps its own files).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loguru import logger
from rich.console import Console
from typer.testing import CliRunner

from absensi.engine.app.cli import app, main
from absensi.engine.app.demo import run_demo
from absensi.engine.app.private import make_private, write_private
from absensi.engine.store import Store, sqlite_url
from absensi.engine.store.models import JobRun

MINI = Path(__file__).parent / "schools" / "mini"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database(directory: Path) -> str:
    """A SQLite database with one committed row (so SQLite has made its -wal and -shm files)."""
    url = sqlite_url(directory / "absensi.db")
    store = Store(url)
    with store.unit() as session:
        session.add(JobRun(key="x", at=datetime(2026, 11, 30, tzinfo=UTC)))
    store.close()
    return url


def test_a_new_sqlite_database_and_its_journals_are_owner_only(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "absensi.db"))
    with store.unit() as session:
        session.add(JobRun(key="x", at=datetime(2026, 11, 30, tzinfo=UTC)))
    files = [tmp_path / name for name in ("absensi.db", "absensi.db-wal", "absensi.db-shm")]
    try:
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        store.close()


def test_a_backup_is_owner_only_even_over_a_readable_file(tmp_path: Path) -> None:
    url = database(tmp_path)
    fresh, existing = tmp_path / "copy.db", tmp_path / "old-copy.db"
    existing.write_bytes(b"")
    existing.chmod(0o644)
    for target in (fresh, existing):
        result = CliRunner().invoke(app, ["backup", "--school", str(MINI), "--db", url, "-o", str(target)])
        assert result.exit_code == 0, result.output
        assert mode(target) == 0o600 and target.stat().st_size > 0


def test_a_report_is_owner_only(tmp_path: Path) -> None:
    url, out = database(tmp_path), tmp_path / "harian.xlsx"
    result = CliRunner().invoke(app, ["report", "harian", "--school", str(MINI), "--db", url, "--date", "2026-11-30",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600


def test_letters_are_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "surat.pdf"
    result = CliRunner().invoke(app, ["letters", "--school", str(MINI), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600 and out.read_bytes().startswith(b"%PDF")


def test_the_roster_is_owner_only_once_codes_are_written_into_it(tmp_path: Path) -> None:
    school = tmp_path / "school"
    shutil.copytree(MINI, school)
    (school / "students.csv").chmod(0o644)
    result = CliRunner().invoke(app, ["codes", "--school", str(school)])
    assert result.exit_code == 0, result.output
    assert mode(school / "students.csv") == 0o600


def test_the_demo_writes_owner_only_files_in_an_owner_only_folder(tmp_path: Path) -> None:
    from absensi.engine.rules import load_rules
    from absensi.engine.school.files import load_school

    rules = load_rules(ROOT / "rules")
    out = tmp_path / "demo-output"
    run_demo(rules, load_school(ROOT / "sample_school", rules.rules), out, Console(file=io.StringIO()))
    written = sorted(out.iterdir())
    assert any(p.suffix == ".xlsx" for p in written) and any(p.suffix == ".db" for p in written)
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}
    assert mode(out) == 0o700


def test_the_helpers_tighten_a_readable_file_before_writing(tmp_path: Path) -> None:
    for helper in (lambda p: write_private(p, b"data"), make_private):
        path = tmp_path / "file"
        path.write_bytes(b"")
        path.chmod(0o644)
        helper(path)
        assert mode(path) == 0o600
        path.unlink()


def test_the_program_makes_everything_it_creates_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """`absensi …` sets umask 077 first, covering files libraries create (SQLite journals, the Telegram
    session), and routes logs through the redacting setup."""
    monkeypatch.setattr(sys, "argv", ["absensi", "check", "--school", str(MINI)])
    hook = threading.excepthook
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 0
        assert os.umask(0o022) == 0o077
    finally:
        logger.remove()
        logger.add(sys.stderr)
        threading.excepthook = hook
        root = logging.getLogger()
        for handler in [h for h in root.handlers if type(h).__name__ == "_ToLoguru"]:
            root.removeHandler(handler)
