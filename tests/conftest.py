"""Shared fixtures: the compiled rules, the mini school, and one store per backend (SQLite file, PostgreSQL).

PostgreSQL is real: `ABSENSI_TEST_POSTGRES` names a server, or the session starts a throwaway one with
the machine's `initdb` (installed by .ci/run). Without either, the PostgreSQL cases are skipped with
the reason shown.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from absensi.engine.cli import reset_database
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school import School
from absensi.engine.schoolfiles import load_school
from absensi.engine.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
RULES = ROOT / "rules"


@pytest.fixture(scope="session")
def rules() -> CompiledRules:
    return load_rules(RULES)


@pytest.fixture(scope="session")
def mini(rules: CompiledRules) -> School:
    return load_school(MINI, rules.rules)


def _pg_bin() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))  # Debian's layout first
    if candidates:
        return str(Path(candidates[-1]).parent)
    found = shutil.which("initdb")
    return str(Path(found).parent) if found else None


def _ready(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=1).close()
    except psycopg.OperationalError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("ABSENSI_TEST_POSTGRES")
    if url:
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL here: install postgresql or set ABSENSI_TEST_POSTGRES")
    data = Path(tempfile.mkdtemp(prefix="absensi-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*prefix, f"{bindir}/initdb", "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    server = subprocess.Popen([*prefix, f"{bindir}/postgres", "-D", str(data / "db"), "-p", str(port),
                               "-k", str(data), "-h", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        for _ in range(150):
            if _ready(url):
                break
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on both backends."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "absensi.db")
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()
