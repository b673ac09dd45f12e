"""`absensi report …` and `absensi letters` as the commands run them, at 1×, 4× and 10× the sample school.

    .venv/bin/python bench/reports_cli.py [--backend sqlite|postgres] [--runs 3] [--scales 1,4,10]
                                          [--budget 240] [--cache DIR] [--reports rekap-kelas,…,letters]
                                          [--bytecode]

For each scale the school directory is the sample school (1×) or a clone of it (bench/bigschool.py), and
its database holds a semester of absences up to 2026-11-30 written through the engine (bench/semester.py).
Then, as whole processes (process start included; wall from fork to reap, CPU and peak RSS from wait4):
- `absensi report rekap-kelas --school DIR --db URL --month 2026-11 -o rekap.xlsx`: the whole school's
  monthly class recap (one sheet per class);
- `absensi report rekap-sekolah … --month 2026-11` (with its two charts), `semester` (the semester of today,
  one sheet per class), `harian --date 2026-11-27` (a whole school day), `riwayat --student NIS` (the
  school's first student, the semester) and `perhatian` (the semester's students to watch);
- `absensi letters --school DIR -o letters.pdf`: every student's parent letter.
Each command runs `--runs` times, fewer when its runs have used up `--budget` seconds (one at least: the
table says how many). `--cache DIR` keeps the generated schools and SQLite databases for the next call.
`--bytecode`: the modules' bytecode cached, as an installed program has it (this sandbox sets
PYTHONDONTWRITEBYTECODE=1, so every process compiles the project's own modules otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import SAMPLE, Figure, absensi_command, clean_env, header, postgres, print_table, run_process
from bigschool import make_school
from semester import UNTIL, fill

from absensi.engine.store import sqlite_url

GOALS = {("rekap-kelas", 1): "< 1.5", ("rekap-kelas", 10): "< 6", ("letters", 1): "< 5"}
REPORTS = ("rekap-kelas", "rekap-sekolah", "semester", "harian", "riwayat", "perhatian", "letters")
LABELS = {
    "rekap-kelas": "`absensi report rekap-kelas` whole school, month",
    "rekap-sekolah": "`absensi report rekap-sekolah` whole school, month",
    "semester": "`absensi report semester` whole school",
    "harian": "`absensi report harian` whole school, one day",
    "riwayat": "`absensi report riwayat` one student, semester",
    "perhatian": "`absensi report perhatian` whole school, semester",
    "letters": "`absensi letters` whole school",
}


def first_nis(school: Path) -> str:
    with (school / "students.csv").open(encoding="utf-8", newline="") as f:
        return next(csv.DictReader(f))["nis"]


def arguments(key: str, school: Path, url: str, out: Path, scale: int) -> list[str]:
    """The command line of one report (or of the letters)."""
    if key == "letters":
        return ["letters", "--school", str(school), "-o", str(out / f"letters{scale}.pdf")]
    extra = {"rekap-kelas": ["--month", "2026-11"], "rekap-sekolah": ["--month", "2026-11"],
             "harian": ["--date", "2026-11-27"], "riwayat": ["--student", first_nis(school)]}.get(key, [])  # fmt: skip
    return ["report", key, "--school", str(school), "--db", url, *extra, "-o", str(out / f"{key}{scale}.xlsx")]


def timed(name: str, command: list[str], runs: int, budget: float, wall: Figure, cpu: Figure, rss: Figure,
          check: str, env: dict[str, str] | None = None, warm: bool = False) -> None:
    if warm:  # one uncounted run: its bytecode cached for the runs that count
        run_process(command, env=env, timeout=1800)
    spent = 0.0
    for _ in range(runs):
        got = run_process(command, env=env, timeout=1800)
        if got.returncode != 0 or check not in got.output:
            raise SystemExit(f"{name} failed ({got.returncode}):\n{got.output[-2000:]}")
        wall.add(got.wall)
        cpu.add(got.cpu)
        rss.add(got.maxrss_mib)
        spent += got.wall
        if spent >= budget:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="1,4,10")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of runs per command and scale")
    parser.add_argument("--cache", type=Path, help="keep generated schools and SQLite databases here")
    parser.add_argument("--reports", default=",".join(REPORTS), help="which commands (letters: absensi letters)")
    parser.add_argument("--bytecode", action="store_true",
                        help="the modules' bytecode cached, as an installed program has it (one uncounted run first)")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    chosen = [r for r in args.reports.split(",") if r]
    if unknown := [r for r in chosen if r not in REPORTS]:
        parser.error(f"unknown reports: {', '.join(unknown)} (choose from {', '.join(REPORTS)})")
    load = header(f"reports as commands, {args.backend}, scales {', '.join(f'{s}×' for s in scales)}"
                  f"{', bytecode cached' if args.bytecode else ''}")
    command = absensi_command()
    figures: list[Figure] = []
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        work = args.cache or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="absensi-bench-")))
        work.mkdir(parents=True, exist_ok=True)
        server = stack.enter_context(postgres()) if args.backend == "postgres" else None
        env = None
        if args.bytecode:  # this sandbox sets PYTHONDONTWRITEBYTECODE=1: the project's modules compiled every time
            env = clean_env()
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
            notes.append("bytecode cached (PYTHONPYCACHEPREFIX, after one uncounted run of each command)")
        if server:
            notes.append(f"PostgreSQL: {server.settings}")
        for scale in scales:
            school = SAMPLE if scale == 1 else work / f"school{scale}"
            if scale != 1 and not (school / "students.csv").exists():
                make_school(scale, school)
            if server is None:
                db = work / f"semester{scale}.db"
                url = sqlite_url(db)
                fresh = not db.exists()
            else:
                url = stack.enter_context(server.database())
                fresh = True
            students = sum(1 for _ in (school / "students.csv").open()) - 1
            classes = sum(1 for _ in (school / "classes.csv").open()) - 1
            if fresh:
                began = time.perf_counter()
                if server is None:  # written aside, then renamed: an interrupted fill is never reused
                    partial = db.with_suffix(".partial")
                    for leftover in work.glob(f"{partial.name}*"):
                        leftover.unlink()
                    made = fill(school, sqlite_url(partial), UNTIL)
                    partial.rename(db)
                else:
                    made = fill(school, url, UNTIL)
                notes.append(f"{scale}×: {classes} classes, {students} students; semester to {UNTIL} written through "
                             f"the engine: {made['school days']:.0f} school days, {made['messages']:.0f} messages, "
                             f"{made['absences']:.0f} student-days absent, in {time.perf_counter() - began:.0f} s "
                             f"({made['cpu seconds']:.0f} CPU s)")
            else:
                notes.append(f"{scale}×: {classes} classes, {students} students; semester database from {db}")
            out = work / "out"
            out.mkdir(exist_ok=True)
            for key in chosen:
                argv = arguments(key, school, url, out, scale)
                check = f"{students} letters" if key == "letters" else "wrote"
                what = f"{LABELS[key]}, {scale}× ({students} students)"
                wall = Figure(f"{what} wall", GOALS.get((key, scale), ""), "s")
                cpu = Figure(f"{what} CPU", "", "s")
                rss = Figure(f"{what} peak RSS", "", "MiB", fmt="{:.0f}")
                timed(what, [*command, *argv], args.runs, args.budget, wall, cpu, rss, check, env, args.bytecode)
                figures += [wall, cpu, rss]
                print_table(what, [wall, cpu, rss])  # as it goes: the whole takes a while
    print_table(f"reports as commands ({args.backend})", figures, [*notes, load.report()])


if __name__ == "__main__":
    main()
