"""Loading and compiling the rules plus the sample school, in a fresh process each run (target < 1 s).

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CODE = """
import time
t0 = time.perf_counter()
from pathlib import Path
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school
rules = load_rules(Path('rules'))
t1 = time.perf_counter()
school = load_school(Path('sample_school'), rules.rules)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, t2 - t0)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
        rows.append([float(x) for x in out.split()])
    rules, school, total = (statistics.median(col) for col in zip(*rows, strict=True))
    print(f"rules (imports included) {rules * 1000:.0f} ms, sample school {school * 1000:.0f} ms, "
          f"total median {total * 1000:.0f} ms over {args.runs} fresh processes; target < 1000 ms")


if __name__ == "__main__":
    main()
