"""Where `absensi run`'s start goes: its steps timed in fresh processes, and the whole start to a ready modem.

    .venv/bin/python bench/startup.py [--runs 5] [--bytecode]

Each run is a fresh interpreter that does what `absensi run` does before it serves, step by step, with the
wall and CPU time of each: import the command line; import the service module; load and check the rules and
the sample school (`load_all`); open the store on a database that is already current (the service opens it
twice: the command checks the URL, then the service); start the GSM driver's package; build the engine (its
handlers are imported here, while a modem initialises in the service). Then `--ready-runs` pairs of whole
`absensi run` processes with one emulated modem (bench/service_idle.py's run): launch to the driver's
"modem ready" line (the worker's start line, written once it serves the modem it took over from the early
start), and the CPU used until then; first on a database that is there and current (every start after the
first: a reboot, a restart), then on none (the very first start, which creates it). The modem starts while
the service imports and reads its rules (drivers/gsm/warm.py), so the steps above and the modem's own
start-up overlap. `--bytecode`: with the modules' bytecode cached, as an
installed program runs (this sandbox sets PYTHONDONTWRITEBYTECODE=1: every process compiles the project).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, SAMPLE, Figure, clean_env, header, print_table
from service_idle import one_run

STEPS = """
import json, sys, time
marks = [("start", time.perf_counter(), time.process_time())]
def mark(name):
    marks.append((name, time.perf_counter(), time.process_time()))
from pathlib import Path
from datetime import UTC, datetime
from absensi.engine.app import cli
mark("import the command line (typer, rich, loguru)")
from absensi.engine.app.service import Leader, serve
mark("import the service module (SQLAlchemy, SQLModel, pydantic rules)")
compiled, school = cli.load_all(Path(sys.argv[1]), None)
mark("load and check the rules and the school")
store = cli.open_store(sys.argv[2], create=True)
store.close()
from absensi.engine.store import Store
store = Store(sys.argv[2])
mark("open the store twice (current database)")
import absensi.drivers.gsm
mark("import the GSM driver")
leader = Leader(compiled, school, store)
leader.try_lead(datetime.now(UTC))
mark("build the engine (imports its handlers, seats the roster)")
store.close()
print(json.dumps([(name, t - marks[i][1], c - marks[i][2]) for i, (name, t, c) in enumerate(marks[1:])]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes timing the steps")
    parser.add_argument("--ready-runs", type=int, default=3, help="whole `absensi run` starts to a ready modem")
    parser.add_argument("--bytecode", action="store_true", help="bytecode cached (one uncounted run first)")
    args = parser.parse_args()
    load = header(f"absensi run's start, step by step{' (bytecode cached)' if args.bytecode else ''}")
    walls: dict[str, Figure] = {}
    cpus: dict[str, Figure] = {}
    total_wall = Figure("the steps together, wall", "", "s")
    total_cpu = Figure("the steps together, CPU", "", "s")
    with tempfile.TemporaryDirectory(prefix="absensi-start-") as name:
        tmp = Path(name)
        env = clean_env()
        pycache = tmp / "pycache" if args.bytecode else None
        if pycache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(pycache)
        url = f"sqlite:///{tmp / 'absensi.db'}"
        command = [sys.executable, "-c", STEPS, str(SAMPLE), url]
        subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=ROOT)  # database, cache
        for _ in range(args.runs):
            out = subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=ROOT).stdout
            steps = json.loads(out.strip().splitlines()[-1])
            for step, wall, cpu in steps:
                walls.setdefault(step, Figure(f"{step}, wall", "", "s")).add(wall)
                cpus.setdefault(step, Figure(f"{step}, CPU", "", "s")).add(cpu)
            total_wall.add(sum(wall for _, wall, _ in steps))
            total_cpu.add(sum(cpu for _, _, cpu in steps))
        ready = Figure("`absensi run` launch → modem ready (log line), whole process, database there", "< 1.5", "s")
        cpu_ready = Figure("CPU of `absensi run` from launch to modem ready, database there", "", "s")
        first = Figure("the same, first start (the run creates the database)", "", "s")
        cpu_first = Figure("CPU of the first start to modem ready", "", "s")
        if pycache is not None:  # the service's own modules (the Telegram credentials, the worker's) too
            one_run("sqlite", None, 0.5, 0.0, "huawei-e173", 5.0, pycache=pycache)
        for _ in range(args.ready_runs):
            for restart, wall, cpu in ((True, ready, cpu_ready), (False, first, cpu_first)):
                got = one_run("sqlite", None, 0.5, 0.0, "huawei-e173", 5.0, pycache=pycache, restart=restart)
                wall.add(got["ready"])
                cpu.add(got["cpu_ready"])
    figures = [f for step in walls for f in (walls[step], cpus[step])]
    print_table("absensi run's start", [*figures, total_wall, total_cpu, ready, cpu_ready, first, cpu_first],
                ["steps: in-process, each run a fresh interpreter; the modem is one emulated huawei-e173 "
                 "(tests/gsm), which answers SIM busy twice after the port opens", load.report()])


if __name__ == "__main__":
    main()
