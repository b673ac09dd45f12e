"""Shared plumbing of the figure benches (issue 11): the machine, the load on it, min/median/max tables,
the `absensi` command as a user runs it, a PostgreSQL server, and CPU/RSS of processes from /proc.

The benches measure through public interfaces only — the `absensi` program, `Engine` with a real
`Store`, the modem emulator of tests/gsm on a real pty — so they keep working while the engine's
insides change. Imports that moved in the engine's layout are looked up in every known home.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_school"
RULES = ROOT / "rules"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------------------------------- imports


def find(name: str, *modules: str) -> Any:
    """`name` from the first of `modules` that has it (the engine's modules move between packages)."""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"{name} not found in any of {', '.join(modules)}")


def load_school_and_rules(school: Path = SAMPLE, rules: Path = RULES) -> tuple[Any, Any]:
    load_rules = find("load_rules", "absensi.engine.rules")
    load_school = find("load_school", "absensi.engine.school.files", "absensi.engine.schoolfiles",
                       "absensi.engine.school")
    compiled = load_rules(rules)
    return compiled, load_school(school, compiled.rules)


def emulator() -> Any:
    """The modem emulator (test equipment in tests/gsm), speaking AT over a real pty."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from gsm import emulator as module  # type: ignore[import-not-found]

    return module


def quiet_loguru() -> None:
    with contextlib.suppress(ImportError):
        from loguru import logger

        logger.remove()


# ------------------------------------------------------------------------------------------- the program


def absensi_command() -> list[str]:
    """`absensi` exactly as the installed console script runs it: the entry point pyproject names.

    The console script in the venv is used when it points where pyproject does; after a module move that
    has not been reinstalled yet, the same two lines it would run (import the entry point, call it).
    """
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["absensi"]
    module, func = entry.split(":")
    script = Path(sys.executable).parent / "absensi"
    if script.exists() and f"from {module} import {func}" in script.read_text(errors="replace"):
        return [str(script)]
    code = f"import sys; sys.argv[0] = 'absensi'; from {module} import {func}; sys.exit({func}())"
    return [sys.executable, "-c", code]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without Telegram credentials, a database URL or a school directory of the caller's."""
    drop = ("TELEGRAM_", "DATABASE_URL", "ABSENSI_SCHOOL", "ABSENSI_SIM_PIN")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class ProcessRun:
    wall: float
    user: float
    sys: float
    maxrss_mib: float
    returncode: int
    output: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def run_process(command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT,
                timeout: float = 600) -> ProcessRun:
    """Run a whole process; wall time from fork to reap, CPU and peak RSS from the kernel (wait4)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=env or clean_env(), cwd=cwd)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return ProcessRun(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, text)


# ------------------------------------------------------------------------------------------- /proc


def proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from `state` on (field 3 of proc(5))


def children_of() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields:
                kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def tree(pid: int) -> list[int]:
    """`pid` and all its live descendants."""
    kids, out, todo = children_of(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its descendants: utime+stime of each live one, plus the cutime+cstime
    of every process in the tree (descendants that ended and were reaped)."""
    total = 0
    for p in tree(pid):
        fields = proc_stat(p)
        if fields:  # utime, stime, cutime, cstime are fields 14–17: indexes 11–14 from `state`
            total += sum(int(x) for x in fields[11:15])
    return total / TICK


def rss_mib(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak) of one process, MiB."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in values:
                values[key] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def own_cpu() -> float:
    """CPU seconds of this process and its reaped children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine_busy() -> float:
    """CPU seconds all processors have spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


# ------------------------------------------------------------------------------------------- the machine


def describe_machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
    return [
        f"nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), CPU {model.group(1) if model else '?'}"
        f"{f' @ {float(mhz.group(1)):.0f} MHz' if mhz else ''}",
        f"RAM {int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "RAM ?",
        f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}",
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


class Load:
    """How busy the whole machine was while a bench ran, against what this bench itself used.

    `extra` adds CPU of processes the bench watches but did not reap (a server, a service under test)."""

    def __init__(self) -> None:
        self.busy0 = machine_busy()
        self.wall0, self.own0 = time.monotonic(), own_cpu()

    def report(self, extra_cpu: float = 0.0) -> str:
        busy = machine_busy()
        wall = time.monotonic() - self.wall0
        cores = (busy - self.busy0) / wall
        mine = (own_cpu() - self.own0 + extra_cpu) / wall
        others = max(0.0, cores - mine)
        verdict = "quiet" if others < 0.15 else ("shared" if others < 0.75 else "loaded")
        return (f"machine busy {cores:.2f} of {os.cpu_count()} cores over {wall:.0f} s, this bench ≈ {mine:.2f}, "
                f"others ≈ {others:.2f} → {verdict}; load average at end "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


# ------------------------------------------------------------------------------------------- figures


@dataclass
class Figure:
    name: str
    goal: str
    unit: str
    values: list[float] = field(default_factory=list)
    fmt: str = "{:.2f}"

    def add(self, value: float) -> None:
        self.values.append(value)


def print_table(title: str, figures: Sequence[Figure], notes: Sequence[str] = ()) -> None:
    print(f"\n### {title}\n")
    print("| figure | goal | min | median | max | unit | runs |")
    print("|---|---|---:|---:|---:|---|---:|")
    for f in figures:
        if not f.values:
            print(f"| {f.name} | {f.goal} | – | – | – | {f.unit} | 0 |")
            continue
        lo, med, hi = min(f.values), statistics.median(f.values), max(f.values)
        print(f"| {f.name} | {f.goal} | {f.fmt.format(lo)} | {f.fmt.format(med)} | {f.fmt.format(hi)} | "
              f"{f.unit} | {len(f.values)} |")
    for note in notes:
        print(f"\n{note}")
    sys.stdout.flush()


def header(what: str) -> Load:
    print(f"## {what}\n")
    for line in describe_machine():
        print(f"- {line}")
    sys.stdout.flush()
    return Load()


# ------------------------------------------------------------------------------------------- PostgreSQL


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(_libpq(url), connect_timeout=1).close()
    except psycopg.OperationalError:
        return False
    return True


@dataclass
class Postgres:
    """A server to bench on: `url` (its `postgres` database) and, when its processes are visible here,
    the postmaster's pid for its CPU (`cpu()`: the postmaster and every backend, ended ones included)."""

    url: str
    postmaster: int | None
    settings: str

    def cpu(self) -> float | None:
        return None if self.postmaster is None else tree_cpu(self.postmaster)

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database, dropped afterwards."""
        from sqlalchemy.engine import make_url

        name = f"absensi_bench_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(self.url).set(database=name).render_as_string(hide_password=False)
        finally:
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postmaster_of(url: str) -> int | None:
    """The pid of a local server's postmaster, from its data directory (when this user may read it)."""
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=2) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        return int(Path(row[0], "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """DATABASE_URL or ABSENSI_TEST_POSTGRES (a user who may CREATE DATABASE), else a throwaway server
    started with the machine's initdb as tests/conftest.py does, with the server's default settings
    (fsync and synchronous_commit on: what a school's server does)."""
    url = os.environ.get("DATABASE_URL") or os.environ.get("ABSENSI_TEST_POSTGRES")
    if url:
        if not _answers(url):
            raise SystemExit(f"the PostgreSQL server at {url.split('@')[-1]} does not answer")
        yield Postgres(url, _postmaster_of(url), "given by DATABASE_URL / ABSENSI_TEST_POSTGRES")
        return
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = bindirs[-1] if bindirs else shutil.which("initdb")
    if not initdb:
        raise SystemExit("no PostgreSQL here: apt-get install postgresql, or set DATABASE_URL")
    bindir = Path(initdb).parent
    root = os.geteuid() == 0
    data = Path(tempfile.mkdtemp(prefix="absensi-bench-pg-", dir="/tmp" if root else None))
    prefix: list[str] = []
    if root:
        runuser = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        if runuser is None:
            raise SystemExit("running as root and no runuser to start PostgreSQL as the postgres user")
        shutil.chown(data, "postgres")
        prefix = [runuser, "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    setpriv = shutil.which("setpriv")
    guard = [setpriv, "--pdeathsig", "TERM"] if setpriv else []
    log = open(data / "server.log", "w")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen([*guard, *prefix, str(bindir / "postgres"), "-D", str(data / "db"), "-p", str(port),
                               "-k", str(data), "-h", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 60
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"PostgreSQL did not start: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        pid = int((data / "db" / "postmaster.pid").read_text().split()[0])
        version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
        yield Postgres(url, pid, f"{version}, a throwaway local server with default settings (fsync on)")
    finally:
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int((data / "db" / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def sa_engine_of(store: Any) -> Any:
    """The SQLAlchemy engine a `Store` talks through (whatever the attribute is called)."""
    from sqlalchemy.engine import Engine as SAEngine

    for value in vars(store).values():
        if isinstance(value, SAEngine):
            return value
    raise LookupError("the store holds no SQLAlchemy engine")


class SqlCounter:
    """Statements and commits on a SQLAlchemy engine (event listeners), read as deltas."""

    def __init__(self, sa_engine: Any) -> None:
        from sqlalchemy import event

        self.statements = 0
        self.commits = 0
        event.listen(sa_engine, "before_cursor_execute", self._statement)
        event.listen(sa_engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    def snapshot(self) -> tuple[int, int]:
        return self.statements, self.commits
