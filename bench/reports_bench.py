"""Benchmark the school-wide spreadsheets on a synthetic school (~800 students, 24 classes).

    python bench/reports_bench.py [--runs 5]

Targets: the monthly class grid for the whole school (24 sheets) < 2 s; the semester recap for the
whole school (24 sheets, ~110 school days of history) < 5 s. Each run starts from a fresh snapshot
copy, so the per-snapshot indexes are built inside the timing, as they are in the service.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports_synth import month_school, semester_school

from absensi.engine import reports
from absensi.engine.reports.model import Snapshot

TARGETS = {"rekap-kelas (whole school, month)": 2.0, "semester (whole school)": 5.0}


def timed(fn: Callable[[Snapshot], bytes], snap: Snapshot, runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds (CPU time shows the cost when other jobs share the cores)."""
    wall, cpu, size = [], [], 0
    for _ in range(runs):
        fresh = dataclasses.replace(snap)  # empty caches: index building is part of the cost
        t0, c0 = time.perf_counter(), time.process_time()
        size = len(fn(fresh))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    month, sem = month_school(), semester_school()
    print(f"month: {len(month.students)} students, {len(month.classes)} classes, "
          f"{len(month.school_days)} school days, {len(month.entries)} entries")  # fmt: skip
    print(f"semester: {len(sem.school_days)} school days, {len(sem.entries)} entries")
    cases = [
        ("rekap-kelas (whole school, month)", lambda s: reports.export_xlsx("rekap-kelas", s), month),
        ("rekap-sekolah + charts (month)", lambda s: reports.export_xlsx("rekap-sekolah", s), month),
        ("semester (whole school)", lambda s: reports.export_xlsx("semester", s), sem),
        ("perhatian (semester)", lambda s: reports.export_xlsx("perhatian", s), sem),
        ("rekap text (whole school, month)", lambda s: reports.export_text("rekap-kelas", s).encode(), month),
    ]
    failed = False
    for name, fn, snap in cases:
        median, cpu, size = timed(fn, snap, args.runs)
        target = TARGETS.get(name)
        verdict = "" if target is None else (" OK" if median < target else f" OVER TARGET {target:.0f} s")
        failed |= target is not None and median >= target
        print(f"{name:36s} median {median:6.3f} s wall, {cpu:6.3f} s CPU ({size / 1024:6.1f} KiB){verdict}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
