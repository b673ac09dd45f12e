"""The whole service at rest: `absensi run --school sample_school --modem <pty>`, no Telegram credentials.

    .venv/bin/python bench/service_idle.py [--backend sqlite|postgres] [--runs 3] [--seconds 60]

Each run starts the service as a user does, on a fresh database, with one emulated modem (tests/gsm) on a
real pty, and measures:
- start to modem ready: from launch to the driver's log line that reports the modem (port, model, IMEI …);
  also to the modem's last initialisation command (`AT+CNMI`) as the emulator saw it, and the CPU the
  service used until then (a figure a loaded machine changes less than the wall time);
- idle CPU: utime+stime of the service process and its children (/proc/<pid>/stat, ended children's
  cutime/cstime included) over `--seconds`, after a few seconds of settling, as % of one core;
- RSS: VmRSS at the end of the idle period and VmHWM (the peak) of the service process.
The modem chats like a real one (an unsolicited line every 5 s, `--chatter`). Stopped with SIGTERM.

`--threads` also gives the idle CPU per thread of the service (engine, operations monitor, GSM worker, GSM
link reader, LISTEN connection, main): a `sitecustomize` put on the service's PYTHONPATH names each OS thread
after its Python thread (`prctl(PR_SET_NAME)`), read back from /proc/<pid>/task/<tid>/stat.
`--bytecode` runs the service with its modules' bytecode cached (as an installed program runs; this sandbox
sets PYTHONDONTWRITEBYTECODE=1, so otherwise every start compiles the project's modules), after one
uncounted start that writes the cache.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    SAMPLE,
    TICK,
    Figure,
    Postgres,
    absensi_command,
    clean_env,
    emulator,
    header,
    postgres,
    print_table,
    rss_mib,
    tree,
    tree_cpu,
)

from absensi.engine.store import sqlite_url


class Output:
    """The service's output lines, each with the moment it was read (monotonic)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip()))

    def first(self, pattern: re.Pattern[str]) -> float | None:
        return next((t for t, line in list(self.lines) if pattern.search(line)), None)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


NAME_THREADS = """import ctypes, threading
_prctl = ctypes.CDLL(None).prctl
_run = threading.Thread._bootstrap_inner
def _named(self):
    _prctl(15, self.name.encode()[:15], 0, 0, 0)  # PR_SET_NAME: the OS thread takes the Python name
    _run(self)
threading.Thread._bootstrap_inner = _named
"""
# OS thread name (≤ 15 characters of the Python name) → what the thread is
THREAD_KINDS = (("engine", "engine"), ("monitor", "operations monitor"), ("gsm-link-", "GSM link reader"),
                ("gsm:", "GSM worker"), ("inbox-listen", "LISTEN connection"))


def thread_ticks(pid: int) -> dict[str, int]:
    """utime+stime (clock ticks) of each thread of `pid`, summed per kind (THREAD_KINDS; the rest: "other")."""
    out: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            raw = (task / "stat").read_text()
            name = raw[raw.index("(") + 1:raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2:].split()
            kind = "main" if task.name == str(pid) else next(
                (label for prefix, label in THREAD_KINDS if name.startswith(prefix)), "other")
            out[kind] = out.get(kind, 0) + int(fields[11]) + int(fields[12])
    return out


def service_env(tmp: Path, threads: bool, pycache: Path | None) -> dict[str, str]:
    extra: dict[str, str] = {}
    if threads:
        (tmp / "site").mkdir(exist_ok=True)
        (tmp / "site" / "sitecustomize.py").write_text(NAME_THREADS)
        extra["PYTHONPATH"] = str(tmp / "site")
    env = clean_env(**extra)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@contextlib.contextmanager
def database(backend: str, tmp: Path, server: Postgres | None) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(tmp / "absensi.db")
    else:
        assert server is not None
        with server.database() as url:
            yield url


def one_run(backend: str, server: Postgres | None, seconds: float, settle: float, profile: str,
            chatter: float, threads: bool = False, pycache: Path | None = None,
            restart: bool = False) -> dict[str, float]:
    """One whole `absensi run`. `restart`: on a database that is already there and current (as after a reboot
    or a `systemctl restart`); otherwise the run creates it (the very first start: Alembic and every table)."""
    emu_module = emulator()
    with tempfile.TemporaryDirectory(prefix="absensi-bench-") as name:
        tmp = Path(name)
        modem = emu_module.ModemEmulator(tmp, profile, name="idle")
        modem.noise_every = chatter
        modem.start()
        try:
            with database(backend, tmp, server) as url:
                if restart:
                    from absensi.engine.store import Store

                    Store(url).close()  # created and migrated by this process, before the clock starts
                command = [*absensi_command(), "run", "--school", str(SAMPLE), "--modem", modem.port, "--db", url]
                launched = time.monotonic()
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env=service_env(tmp, threads, pycache), cwd=tmp)
                out = Output(proc)
                ready_line = re.compile(re.escape(modem.port) + r".*IMEI")
                cnmi_at = None
                deadline = launched + 120
                while out.first(ready_line) is None or cnmi_at is None:
                    if cnmi_at is None and any(c.startswith("AT+CNMI") for c in list(modem.commands)):
                        cnmi_at = time.monotonic()
                    if proc.poll() is not None or time.monotonic() > deadline:
                        proc.kill()
                        raise SystemExit(f"the service did not report the modem ready:\n{out.text()[-3000:]}")
                    time.sleep(0.01)
                cpu_ready = tree_cpu(proc.pid)
                ready_at = out.first(ready_line)
                assert cnmi_at is not None
                assert ready_at is not None
                time.sleep(settle)
                cpu0, t0, ticks0 = tree_cpu(proc.pid), time.monotonic(), thread_ticks(proc.pid)
                server0 = server.cpu() if server else None
                time.sleep(seconds)
                cpu1, t1, ticks1 = tree_cpu(proc.pid), time.monotonic(), thread_ticks(proc.pid)
                server1 = server.cpu() if server else None
                rss = sum(rss_mib(p)[0] for p in tree(proc.pid))
                hwm = rss_mib(proc.pid)[1]
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
                if code != 0:
                    raise SystemExit(f"the service exited {code} on SIGTERM:\n{out.text()[-3000:]}")
        finally:
            modem.close()
    figures = {
        "ready": ready_at - launched,
        "cnmi": cnmi_at - launched,
        "cpu_ready": cpu_ready,
        "cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
        "rss": rss,
        "hwm": hwm,
        "commands": float(len(modem.commands)),
    }
    if server0 is not None and server1 is not None:
        figures["server_pct"] = 100 * (server1 - server0) / (t1 - t0)
    if threads:
        for kind in sorted(set(ticks0) | set(ticks1)):
            used = (ticks1.get(kind, 0) - ticks0.get(kind, 0)) / TICK
            figures[f"thread:{kind}"] = 100 * used / (t1 - t0)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the idle measurement")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready before measuring")
    parser.add_argument("--profile", default="huawei-e173", help="emulated modem (tests/gsm/profiles.py)")
    parser.add_argument("--chatter", type=float, default=5.0, help="seconds between the modem's unsolicited lines")
    parser.add_argument("--threads", action="store_true", help="idle CPU per thread of the service too")
    parser.add_argument("--bytecode", action="store_true", help="the service's bytecode cached (one start first)")
    args = parser.parse_args()
    load = header(f"absensi run at rest, {args.backend}, one {args.profile} modem, {args.seconds:.0f} s per run")
    ready = Figure("`absensi run` start to modem ready (log line)", "< 1.5", "s")
    cnmi = Figure("start to the modem's last init command (AT+CNMI)", "", "s")
    cpu_ready = Figure("CPU of `absensi run` from launch to modem ready", "", "s")
    cpu = Figure("idle CPU of the whole `absensi run`, one modem", "< 0.3", "% of a core", fmt="{:.2f}")
    server_cpu = Figure("idle CPU of the PostgreSQL server meanwhile", "", "% of a core", fmt="{:.2f}")
    rss = Figure("RSS of `absensi run` (VmRSS, after the idle period)", "< 100", "MiB", fmt="{:.0f}")
    hwm = Figure("peak RSS of `absensi run` (VmHWM)", "", "MiB", fmt="{:.0f}")
    notes = []
    per_thread: dict[str, Figure] = {}
    server_cpu_total = 0.0
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres()) if args.backend == "postgres" else None
        if server:
            notes.append(f"PostgreSQL: {server.settings}")
        pycache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="absensi-pycache-"))) \
            if args.bytecode else None
        if pycache is not None:
            one_run(args.backend, server, 1.0, 0.0, args.profile, args.chatter, pycache=pycache)  # writes the cache
            notes.append("bytecode cached (PYTHONPYCACHEPREFIX, after one uncounted start)")
        for n in range(args.runs):
            got = one_run(args.backend, server, args.seconds, args.settle, args.profile, args.chatter, args.threads,
                          pycache)
            for key, value in got.items():
                if key.startswith("thread:"):
                    per_thread.setdefault(key, Figure(f"… of which the {key[7:]} thread", "", "% of a core",
                                                      fmt="{:.3f}")).add(value)
            ready.add(got["ready"])
            cnmi.add(got["cnmi"])
            cpu_ready.add(got["cpu_ready"])
            cpu.add(got["cpu_pct"])
            rss.add(got["rss"])
            hwm.add(got["hwm"])
            if "server_pct" in got:
                server_cpu.add(got["server_pct"])
                server_cpu_total += got["server_pct"] * args.seconds / 100
            notes.append(f"run {n + 1}: ready {got['ready']:.2f} s, idle CPU {got['cpu_pct']:.2f} %, RSS "
                         f"{got['rss']:.0f} MiB (peak {got['hwm']:.0f}), {got['commands']:.0f} AT commands in all")
    threads = sorted(per_thread.values(), key=lambda f: -statistics.median(f.values))
    figures = [ready, cnmi, cpu_ready, cpu, *threads, *([server_cpu] if server_cpu.values else []), rss, hwm]
    print_table(f"absensi run at rest ({args.backend})", figures,
                [*notes, load.report(server_cpu_total)])


if __name__ == "__main__":
    main()
