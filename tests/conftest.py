"""Shared fixtures: the compiled rules, the mini school, and a fresh empty database per test on each backend.

Every test that needs a database takes `db_url` (or `store`, a `Store` on it) and so runs twice: on a
SQLite file in `tmp_path` and on a real PostgreSQL server, in a database created for that test alone and
dropped after it. The server is `ABSENSI_TEST_POSTGRES` (a URL whose user may CREATE DATABASE) or, by
default, a throwaway one the session starts with the machine's `initdb` (`apt-get install postgresql`).
Without either the PostgreSQL cases are skipped with the reason shown — unless `ABSENSI_REQUIRE_POSTGRES=1`
(set by .ci/run), where a missing server fails them.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy.engine import make_url

from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
RULES = ROOT / "rules"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def rules() -> CompiledRules:
    return load_rules(RULES)


@pytest.fixture(scope="session")
def mini(rules: CompiledRules) -> School:
    return load_school(MINI, rules.rules)


# ------------------------------------------------------------------------------------------- PostgreSQL


def _pg_bin() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))  # Debian's layout first
    if candidates:
        return str(Path(candidates[-1]).parent)
    found = shutil.which("initdb")
    return str(Path(found).parent) if found else None


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _ready(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(_libpq(url), connect_timeout=1).close()
    except psycopg.OperationalError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _no_server(reason: str) -> NoReturn:
    if os.environ.get("ABSENSI_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"ABSENSI_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session: the URL of its `postgres` database, as a user who may create databases."""
    url = os.environ.get("ABSENSI_TEST_POSTGRES")
    if url:
        if not _ready(url):
            _no_server(f"ABSENSI_TEST_POSTGRES={make_url(url)!r} does not answer")
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        _no_server("no PostgreSQL here (no initdb): install postgresql or set ABSENSI_TEST_POSTGRES")
    root = os.geteuid() == 0
    data = Path(tempfile.mkdtemp(prefix="absensi-pg-", dir="/tmp" if root else None))  # /tmp: postgres reaches it
    prefix: list[str] = []
    if root:  # postgres refuses to run as root
        runuser = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        if runuser is None:
            _no_server("running as root and no runuser to start PostgreSQL as the postgres user")
        shutil.chown(data, "postgres")
        prefix = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    try:
        init = subprocess.run([*prefix, f"{bindir}/initdb", "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
                              capture_output=True, text=True)
        failure = (init.stderr.strip() or init.stdout.strip() or f"exit {init.returncode}") if init.returncode else ""
    except OSError as exc:
        failure = str(exc)
    if failure:
        shutil.rmtree(data, ignore_errors=True)
        _no_server(f"{bindir}/initdb failed: {failure}")
    # If this process is killed before the finalizer runs, the server is told to stop too (no orphan).
    setpriv = shutil.which("setpriv")
    orphan_guard = [setpriv, "--pdeathsig", "TERM"] if setpriv and sys.platform == "linux" else []
    # A throwaway server: durability is not tested here, so nothing waits for the disk.
    log = open(data / "server.log", "w")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen([*orphan_guard, *prefix, f"{bindir}/postgres", "-D", str(data / "db"), "-p", str(port),
                               "-k", str(data), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                               "-c", "full_page_writes=off"],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while not _ready(url):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                _no_server(f"the PostgreSQL server from {bindir} did not start: "
                           f"{(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        _stop_postgres(server, data / "db")
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def _stop_postgres(server: subprocess.Popen[bytes], datadir: Path) -> None:
    """Immediate shutdown (the data is thrown away), signalled to the postmaster: runuser would relay a TERM."""
    try:
        os.kill(int((datadir / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
    except (OSError, ValueError, IndexError):
        server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        if sql.startswith("CREATE DATABASE") and conn.info.server_version >= 150000:
            sql += " STRATEGY FILE_COPY"  # about twice as fast as WAL_LOG for an empty database
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def _fresh_database(request: pytest.FixtureRequest, backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(directory / "absensi.db")
        return
    server: str = request.getfixturevalue("postgres_url")
    name = f"absensi_test_{uuid.uuid4().hex[:16]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # FORCE: a leaked connection too


@pytest.fixture(scope="session")
def fresh_database() -> Callable[[pytest.FixtureRequest, str, Path], AbstractContextManager[str]]:
    """`with fresh_database(request, backend, directory) as url:` an empty database for a wider-scoped fixture."""
    return _fresh_database


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database for this test: a SQLite file in tmp_path, or a new PostgreSQL database."""
    with _fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()
