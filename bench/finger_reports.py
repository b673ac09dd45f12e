"""What the fingerprint punches cost the reports that show them (harian, riwayat, perhatian; SPEC §10).

    .venv/bin/python bench/finger_reports.py [--runs 5] [--cache DIR]

The sample school (790 students) with a semester of absences written through the engine (bench/semester.py,
up to 2026-11-30) and a punch at the gate for every student on every school day of it (arrival 06:20–07:25,
going home 14:00–15:30, 2 % of student-days without a punch): about 150,000 punches. Each report is computed
in this process from a snapshot made as the command line makes it, without the punches and with them
(`make_snapshot(..., with_gate=True)`: the punches of the (student, day)s with a record, one query), on
SQLite. Printed: wall seconds per report, min / median / max over `--runs`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import SAMPLE, Figure, header, load_school_and_rules, print_table, quiet_loguru
from semester import UNTIL, fill

from absensi.engine.finger.files import RawPunch
from absensi.engine.finger.punches import store_punches
from absensi.engine.reports import compute
from absensi.engine.reports.snapshot import make_snapshot, school_scope
from absensi.engine.store import Store, sqlite_url


def add_punches(store: Store, school: Any, start: date, until: date, seed: int = 14) -> int:
    rng = random.Random(seed)
    count, day = 0, start
    while day <= until:
        if school.calendar.is_school_day(day):
            punches = []
            for n, student in enumerate(school.students.values()):
                if rng.random() < 0.02:
                    continue
                come = datetime(day.year, day.month, day.day, 6, 20) + timedelta(minutes=rng.randint(0, 65))
                go = datetime(day.year, day.month, day.day, 14, 0) + timedelta(minutes=rng.randint(0, 90))
                punches += [RawPunch("bench", n, student.nis, come, "mesin 1", "usb"),
                            RawPunch("bench", n, student.nis, go, "mesin 1", "usb")]
            with store.unit() as session:
                count += store_punches(session, school, punches, datetime.now(school.calendar.tz)).added
        day += timedelta(days=1)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="keep the database here for the next call")
    args = parser.parse_args()
    quiet_loguru()
    load = header("Fingerprint punches in the reports (harian, riwayat, perhatian), sample school, SQLite")
    folder = args.cache or Path(tempfile.mkdtemp(prefix="absensi-finger-reports-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "finger_reports.db"
    rules, school = load_school_and_rules(SAMPLE)
    semester = school.calendar.semesters[0]
    fresh = not path.exists()
    url = sqlite_url(path)
    if fresh:
        started = time.monotonic()
        fill(SAMPLE, url)
        print(f"- semester of absences written in {time.monotonic() - started:.0f} s")
    store = Store(url)
    if fresh:
        started = time.monotonic()
        added = add_punches(store, school, semester.start, UNTIL)
        print(f"- {added} punches stored in {time.monotonic() - started:.0f} s")
    scope = school_scope(school)
    first = next(iter(school.students))
    cases: dict[str, tuple[date, date, dict[str, Any], Callable[[Any], Any]]] = {
        "harian whole school, 2026-11-27": (date(2026, 11, 27), date(2026, 11, 27), {},
                                            lambda snap: compute.harian(snap, date(2026, 11, 27))),
        f"riwayat {first}, semester": (semester.start, UNTIL, {"with_changes": True, "nis": first},
                                       lambda snap: compute.riwayat(snap, first)),
        "perhatian whole school, semester": (semester.start, UNTIL, {}, compute.perhatian),
    }
    figures: list[Figure] = []
    for name, (start, end, options, report) in cases.items():
        for gate in (False, True):
            figure = Figure(f"{name}, {'with' if gate else 'without'} punches", "–", "s", fmt="{:.3f}")
            for _ in range(args.runs):
                began = time.perf_counter()
                with store.unit() as session:
                    snap = make_snapshot(session, school, rules, scope, start, end, "bench", UNTIL,
                                         with_gate=gate, **options)
                report(snap)
                figure.add(time.perf_counter() - began)
            figures.append(figure)
    with store.unit() as session:
        snap = make_snapshot(session, school, rules, scope, semester.start, UNTIL, "bench", UNTIL, with_gate=True)
    at_gate = sum(len(compute.gate_not_class(snap, s.nis)) for s in snap.students)
    store.close()
    print_table("Snapshot + report, in process", figures, [
        f"{len(snap.entries)} records in the semester, {len(snap.gate)} of them with punches "
        f"({at_gate} days reported absent yet at the gate, the generator's punches ignore the reports).",
        load.report()])


if __name__ == "__main__":
    main()
