"""`/hariini` for a whole-school viewer: the day's harian text from a snapshot, at 1×, 4× and 10× the sample school.

    .venv/bin/python bench/hariini_text.py --cache DIR [--scales 1,4,10] [--day 2026-11-27] [--runs 5]
                                           [--calls 200]

The schools and semester databases are those `reports_cli.py --cache DIR` made (run it first). The day's
snapshot of the whole school is made once from the store; each call then computes on a fresh copy of it (its
indexes dropped, as the engine's snapshot of each `/hariini` has none yet) what the engine sends:
`reports.export_text("harian", snap, day=day)`, the table and its text, no workbook. CPU per call
(`time.process_time` over `--calls` calls), `--runs` times.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import SAMPLE, Figure, header, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="reports_cli.py's --cache directory")
    parser.add_argument("--scales", default="1,4,10")
    parser.add_argument("--day", default="2026-11-27")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    load = header("/hariini text (reports.export_text harian), whole school, in process")

    from absensi.engine import reports
    from absensi.engine.app.cli import load_all
    from absensi.engine.reports.snapshot import make_snapshot, school_scope
    from absensi.engine.store import Store, sqlite_url

    day = date.fromisoformat(args.day)
    figures, notes = [], []
    for scale in (int(s) for s in args.scales.split(",")):
        school_dir = SAMPLE if scale == 1 else args.cache / f"school{scale}"
        db = args.cache / f"semester{scale}.db"
        if not db.exists():
            raise SystemExit(f"{db} is missing: run bench/reports_cli.py --cache {args.cache} --scales {scale} first")
        rules, school = load_all(school_dir, None)
        store = Store(sqlite_url(db))
        with store.unit() as session:
            snap = make_snapshot(session, school, rules, school_scope(school), day, day, str(day), day)
        store.close()
        figure = Figure(f"{scale}× ({len(snap.students)} students, {len(snap.entries)} records that day), CPU per call",
                        "", "ms", fmt="{:.3f}")  # fmt: skip
        for _ in range(args.runs):
            copies = [dataclasses.replace(snap) for _ in range(args.calls)]
            began = time.process_time()
            for copy in copies:
                reports.export_text("harian", copy, day=day)
            figure.add((time.process_time() - began) / args.calls * 1000)
        figures.append(figure)
        notes.append(f"{scale}×: {school_dir}, {db}")
    print_table("/hariini text", figures, [*notes, load.report()])


if __name__ == "__main__":
    main()
