"""Operator guard rails (SPEC §5): every command, given each mistake an operator makes, says what is wrong
and what to do, exits non-zero, prints no traceback and creates no database.

The table below is the contract: for each command, the kinds of mistake that apply to it. Each pair runs
through CliRunner; a few also run as a real process (`python -m absensi.engine.app.cli …`), where a traceback
would reach the terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
SCENARIO = ROOT / "tests" / "scenarios" / "sms_help.yaml"
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/x"


@dataclass
class Place:
    """A tmp directory with a good school, broken ones, and an existing absensi database."""

    tmp: Path
    school: Path  # a good copy of the mini school (its default database, absensi.db, does not exist)
    db: str  # an existing absensi database
    broken_file: Path  # students.csv is a folder: the roster cannot be read
    no_yaml: Path  # school.yaml is missing


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    for name in ("ABSENSI_SCHOOL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    school = tmp_path / "school"
    shutil.copytree(MINI, school)
    broken = tmp_path / "broken"
    shutil.copytree(MINI, broken)
    (broken / "students.csv").unlink()
    (broken / "students.csv").mkdir()
    no_yaml = tmp_path / "no_yaml"
    shutil.copytree(MINI, no_yaml)
    (no_yaml / "school.yaml").unlink()
    db = sqlite_url(tmp_path / "existing.db")
    Store(db).close()
    yield Place(tmp_path, school, db, broken, no_yaml)


def base_args(command: str, p: Place) -> list[str]:
    """The command as it would run correctly (the mistake is applied to these)."""
    s, t = str(p.school), p.tmp
    return {
        "check": ["check", "--school", s],
        "run": ["run", "--school", s, "--db", p.db],
        "report": ["report", "rekap-kelas", "--school", s, "--db", p.db, "--class", "X TKJ 1", "--month", "2026-11",
                   "-o", str(t / "rekap.xlsx")],
        "letters": ["letters", "--school", s, "-o", str(t / "surat.pdf")],
        "codes": ["codes", "--school", s],
        "template": ["template", "--school", s, "-o", str(t / "sekolah.xlsx")],
        "inbox": ["inbox", "--school", s, "--db", p.db],
        "naik-kelas": ["naik-kelas", "--school", s, "--to", "2027/2028", "-o", str(t / "next")],
        "reload": ["reload", "--school", s, "--db", p.db],
        "status": ["status", "--school", s, "--db", p.db],
        "purge": ["purge", "--school", s, "--db", p.db, "--dry-run"],
        "backup": ["backup", "--school", s, "--db", p.db, "-o", str(t / "copy.db")],
        "simulate": ["simulate", str(SCENARIO), "--db", p.db],
        "demo": ["demo", "--school", s, "--out", str(t / "demo")],
    }[command]


def _without(args: list[str], option: str) -> list[str]:
    i = args.index(option)
    return args[:i] + args[i + 2:]


def _with(args: list[str], option: str, value: str) -> list[str]:
    i = args.index(option)
    return [*args[:i + 1], value, *args[i + 2:]]


def _out(args: list[str], change: Callable[[Path], Path]) -> list[str]:
    option = "--out" if "--out" in args else "-o"
    return _with(args, option, str(change(Path(args[args.index(option) + 1]))))


@dataclass(frozen=True)
class Mistake:
    apply: Callable[[list[str], Place], list[str]]
    says: str  # a regular expression the output must contain (case-insensitive)
    one_line: bool = True  # False where the school's problems are listed (one line each, then what to do)


MISTAKES: dict[str, Mistake] = {
    "no school given": Mistake(lambda a, p: _without(a, "--school"), r"no school directory given: pass --school"),
    "school folder missing": Mistake(lambda a, p: _with(a, "--school", str(p.tmp / "nope")),
                                     r"school directory .*nope does not exist"),
    "school is a file": Mistake(lambda a, p: _with(a, "--school", str(p.school / "classes.csv")),
                                r"classes.csv is not a folder"),
    "roster unreadable": Mistake(lambda a, p: _with(a, "--school", str(p.broken_file)), r"students\.csv", False),
    "school.yaml missing": Mistake(lambda a, p: _with(a, "--school", str(p.no_yaml)), r"school\.yaml: missing", False),
    "rules folder missing": Mistake(lambda a, p: [*a, "--rules", str(p.tmp / "no_rules")], r"no_rules.*no rule files",
                                    False),
    "default database missing": Mistake(lambda a, p: _without(a, "--db"),
                                        r"no database at .*school/absensi\.db \(run `absensi run` first, or pass --db\)"),
    "database file missing": Mistake(lambda a, p: _with(a, "--db", sqlite_url(p.tmp / "none.db")),
                                     r"no database at .*none\.db"),
    "database folder missing (read)": Mistake(lambda a, p: _with(a, "--db", "sqlite:////nonexistent/dir/x.db"),
                                              r"no database at /nonexistent/dir/x\.db"),
    "database folder missing (create)": Mistake(lambda a, p: _with(a, "--db", "sqlite:////nonexistent/dir/x.db"),
                                                r"no folder /nonexistent/dir for the database"),
    "database URL nonsense": Mistake(lambda a, p: _with(a, "--db", "nonsense"), r"'nonsense' is not one absensi can use"),
    "database unreachable": Mistake(lambda a, p: _with(a, "--db", UNREACHABLE),
                                    r"cannot open the database postgresql\+psycopg://nobody@127\.0\.0\.1:1/x: .*refused"),
    "backup of a server": Mistake(lambda a, p: _with(a, "--db", UNREACHABLE), r"for PostgreSQL use pg_dump"),
    "output folder missing": Mistake(lambda a, p: _out(a, lambda o: p.tmp / "no_folder" / o.name),
                                     r"there is no folder .*no_folder: create it first"),
    "output is a folder": Mistake(lambda a, p: _out(a, lambda o: p.tmp), r"is a folder"),
    "output name .csv": Mistake(lambda a, p: _out(a, lambda o: o.with_suffix(".csv")), r"ending in \.xlsx"),
    "output name .xlsx": Mistake(lambda a, p: _out(a, lambda o: o.with_suffix(".xlsx")), r"ending in \.pdf"),
    "output exists already": Mistake(lambda a, p: _out(a, lambda o: p.school), r"exists already"),
    "demo output is a file": Mistake(lambda a, p: _out(a, lambda o: p.school / "classes.csv"), r"is a file"),
    "scenario missing": Mistake(lambda a, p: _with(a, "simulate", str(p.tmp / "nope.yaml")),
                                r"scenario file .*nope\.yaml does not exist"),
    "unknown class": Mistake(lambda a, p: [*a, "--class", "X TKJ 9"], r"unknown class 'X TKJ 9'"),
    "unknown department": Mistake(lambda a, p: [*_without(a, "--class"), "--department", "ZZZ"],
                                  r"unknown department 'ZZZ'"),
    "unknown student": Mistake(lambda a, p: ["report", "riwayat", *a[2:], "--student", "9999"],
                               r"unknown student NIS '9999'"),
    "unknown report": Mistake(lambda a, p: ["report", "rekap-bulan", *a[2:]], r"unknown report 'rekap-bulan'"),
    "month not YYYY-MM": Mistake(lambda a, p: _with(a, "--month", "11-2026"), r"--month '11-2026' is not YYYY-MM"),
    "month 13": Mistake(lambda a, p: _with(a, "--month", "2026-13"), r"--month '2026-13' is not YYYY-MM"),
    "date not YYYY-MM-DD": Mistake(lambda a, p: ["report", "harian", *_without(a[2:], "--month"), "--date", "30/11/2026"],
                                   r"--date '30/11/2026' is not YYYY-MM-DD"),
    "unknown semester": Mistake(lambda a, p: ["report", "semester", *_without(a[2:], "--month"), "--semester", "Genap 1999"],
                                r"no such semester 'Genap 1999'"),
}

SCHOOL = ["no school given", "school folder missing", "school is a file"]
SCHOOL_FILES = ["roster unreadable", "school.yaml missing"]
READ_DB = ["default database missing", "database file missing", "database folder missing (read)",
           "database URL nonsense", "database unreachable"]
CREATE_DB = ["database folder missing (create)", "database URL nonsense", "database unreachable"]

APPLIES: dict[str, list[str]] = {
    "check": [*SCHOOL, *SCHOOL_FILES],
    "run": [*SCHOOL, *SCHOOL_FILES, "rules folder missing", *CREATE_DB],
    "report": [*SCHOOL, *SCHOOL_FILES, "rules folder missing", *READ_DB, "output folder missing", "output is a folder",
               "output name .csv", "unknown class", "unknown department", "unknown student", "unknown report",
               "month not YYYY-MM", "month 13", "date not YYYY-MM-DD", "unknown semester"],
    "letters": [*SCHOOL, *SCHOOL_FILES, "output folder missing", "output is a folder", "output name .xlsx",
                "unknown class"],
    "codes": [*SCHOOL, "roster unreadable"],
    "template": [*SCHOOL, "output folder missing", "output is a folder", "output name .csv"],
    "inbox": [*SCHOOL, *SCHOOL_FILES, *READ_DB],
    "naik-kelas": [*SCHOOL, *SCHOOL_FILES, "output exists already"],
    "reload": [*SCHOOL, *READ_DB],
    "status": [*SCHOOL, *READ_DB],
    "purge": [*SCHOOL, *SCHOOL_FILES, *READ_DB],
    "backup": [*SCHOOL, "default database missing", "database file missing", "database folder missing (read)",
               "database URL nonsense", "backup of a server", "output folder missing", "output is a folder"],
    "simulate": ["scenario missing", *CREATE_DB],
    "demo": ["school folder missing", "school is a file", *SCHOOL_FILES, "demo output is a file"],
}
CASES = [(command, mistake) for command, mistakes in APPLIES.items() for mistake in mistakes]


def test_every_command_is_in_the_table() -> None:
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert commands == set(APPLIES)
    assert {m for ms in APPLIES.values() for m in ms} == set(MISTAKES), "a mistake no command is tried with"


def _databases(tmp: Path) -> set[Path]:
    return {p for p in tmp.rglob("*") if re.search(r"\.db(-wal|-shm|-journal)?$", p.name)}


def _check(output: str, code: int, mistake: Mistake, before: set[Path], tmp: Path) -> None:
    assert code != 0, output
    assert "Traceback" not in output and "Error" not in output.split(":")[0], output
    assert re.search(mistake.says, output, re.IGNORECASE | re.DOTALL), f"expected /{mistake.says}/ in:\n{output}"
    if mistake.one_line:
        assert output.strip().count("\n") == 0, f"more than one line:\n{output}"
    assert _databases(tmp) == before, "a database file was created"
    assert not Path("/nonexistent").exists()


@pytest.mark.parametrize(("command", "mistake"), CASES, ids=[f"{c}: {m}" for c, m in CASES])
def test_a_mistake_is_one_clear_line(command: str, mistake: str, place: Place) -> None:
    kind = MISTAKES[mistake]
    args = kind.apply(base_args(command, place), place)
    before = _databases(place.tmp)
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    _check(result.output, result.exit_code, kind, before, place.tmp)
    assert not (place.school / "absensi.db").exists()


PROCESS_CASES = [("status", "no school given"), ("report", "database URL nonsense"), ("inbox", "database unreachable"),
                 ("letters", "output folder missing"), ("purge", "default database missing"),
                 ("run", "database folder missing (create)"), ("check", "roster unreadable")]


@pytest.mark.parametrize(("command", "mistake"), PROCESS_CASES, ids=[f"{c}: {m}" for c, m in PROCESS_CASES])
def test_a_real_process_prints_no_traceback(command: str, mistake: str, place: Place) -> None:
    kind = MISTAKES[mistake]
    args = kind.apply(base_args(command, place), place)
    env = {k: v for k, v in os.environ.items() if k not in ("ABSENSI_SCHOOL", "DATABASE_URL")}
    env["COLUMNS"] = "80"
    before = _databases(place.tmp)
    done = subprocess.run([sys.executable, "-m", "absensi.engine.app.cli", *args], capture_output=True, text=True,
                          env=env, cwd=place.tmp, timeout=120)
    _check(done.stdout + done.stderr, done.returncode, kind, before, place.tmp)


def test_absensi_school_stands_in_for_school(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABSENSI_SCHOOL", str(place.school))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert str(place.school) in result.output
    monkeypatch.setenv("ABSENSI_SCHOOL", str(place.tmp / "nope"))
    result = CliRunner().invoke(app, ["status", "--db", place.db])
    assert result.exit_code == 2 and "nope does not exist" in result.output


@pytest.mark.parametrize("command", ["report", "inbox", "status", "purge", "reload"])
def test_a_reading_command_does_not_create_tables_on_a_server(command: str, place: Place, request: pytest.FixtureRequest,
                                                              fresh_database) -> None:  # type: ignore[no-untyped-def]
    """An empty PostgreSQL database (no absensi tables) is refused, and stays empty."""
    with fresh_database(request, "postgresql", place.tmp) as url:
        args = _with(base_args(command, place), "--db", url)
        result = CliRunner().invoke(app, args)
        assert result.exit_code != 0, result.output
        assert "no absensi tables in the database" in result.output and "run `absensi run` first" in result.output
        assert result.output.strip().count("\n") == 0, result.output
        engine = create_engine(url)
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


def test_the_reading_commands_work_on_an_existing_database(place: Place) -> None:
    """The guard rails refuse mistakes only: the same commands on the existing database succeed."""
    for command in ("report", "inbox", "reload", "purge", "backup"):
        result = CliRunner().invoke(app, base_args(command, place))
        assert result.exit_code == 0, f"{command}: {result.output}"
    status = CliRunner().invoke(app, base_args("status", place))
    assert status.exit_code in (0, 1) and "Engine: none has run on this database yet" in status.output
