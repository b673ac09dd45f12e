"""`absensi --help` and `absensi check --school sample_school` as whole processes (process start included).

    .venv/bin/python bench/cli_wall.py [--runs 5]

Each command runs once uncounted (a warm file cache), then `--runs` times; wall time from fork to reap,
CPU (user + sys) and peak RSS as the kernel accounts the finished process (wait4). The command is the
installed `absensi` console script (or, after a module move not yet reinstalled, exactly what it runs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import SAMPLE, Figure, absensi_command, header, print_table, run_process

CASES = [
    ("`absensi --help`", ["--help"], "< 0.5"),
    ("`absensi check --school sample_school`", ["check", "--school", str(SAMPLE)], "< 1"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load = header("the command line, whole processes")
    command = absensi_command()
    figures, notes = [], [f"command: {' '.join(command[:2])}{' …' if len(command) > 2 else ''}"]
    for name, argv, goal in CASES:
        wall = Figure(f"{name} wall", goal, "s")
        cpu = Figure(f"{name} CPU (user + sys)", "", "s")
        rss = Figure(f"{name} peak RSS", "", "MiB", fmt="{:.0f}")
        first = run_process([*command, *argv])  # warm-up
        if first.returncode != 0:
            raise SystemExit(f"{name} exited {first.returncode}:\n{first.output[-2000:]}")
        for _ in range(args.runs):
            got = run_process([*command, *argv])
            wall.add(got.wall)
            cpu.add(got.cpu)
            rss.add(got.maxrss_mib)
        figures += [wall, cpu, rss]
    print_table("the command line", figures, [*notes, load.report()])


if __name__ == "__main__":
    main()
