"""The live pull of a fingerprint machine's attendance log (issue 14 item 1), against the fake machine of
tests/finger on loopback, into a real store: the sample school, a log of `--records` records (two punches a
school day per student, teachers' punches among them, 40-byte records as current firmware keeps them).

Per run, on a new database: the log read alone (`ZkClient.attendance`), the first pull into an empty punch
table, a pull when nothing changed (GET_FREE_SIZES only), a pull after one new punch (the whole log read,
one record stored), and a fresh poller's pull of the same log (a restart: every record compared with the
table). The fake machine is Python too: its own time to encode the log is inside the read times.

    python bench/finger_pull.py [--backend sqlite|postgres] [--runs 5] [--records 30000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchlib import ROOT, Figure, header, load_school_and_rules, postgres, print_table, quiet_loguru

sys.path.insert(0, str(ROOT / "tests"))

from finger.fake_zk import FakeZk

from absensi.drivers.finger import ZkClient
from absensi.drivers.finger.poller import DevicePoller
from absensi.engine.app.finger_pull import live_sink
from absensi.engine.store import Store, sqlite_url


def synthetic_log(nis: list[str], records: int) -> list[tuple[str, datetime]]:
    """Two punches a school day per student (06:30–07:15 in, 14:00–15:00 out), school days back from
    2026-11-30, and a teacher's id every 50th punch, until `records`."""
    log: list[tuple[str, datetime]] = []
    day = date(2026, 11, 30)
    while len(log) < records:
        if day.weekday() < 6:
            for i, student in enumerate(nis):
                base = datetime.combine(day, datetime.min.time())
                log.append((student, base + timedelta(hours=6, minutes=30 + (i * 7) % 45, seconds=i % 60)))
                log.append((student, base + timedelta(hours=14, minutes=(i * 11) % 60, seconds=i % 60)))
                if i % 25 == 0:
                    log.append((str(900 + i % 40), base + timedelta(hours=6, minutes=15 + i % 30)))
        day -= timedelta(days=1)
    log = log[:records]
    log.sort(key=lambda pair: pair[1])
    return log


@contextlib.contextmanager
def databases(backend: str) -> Iterator[Callable[[], contextlib.AbstractContextManager[str]]]:
    """`with databases(backend) as fresh:` … `with fresh() as url:` a new empty database per run."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            names = (sqlite_url(Path(directory) / f"bench{n}.db") for n in range(1000))
            yield lambda: contextlib.nullcontext(next(names))
        return
    with postgres() as server:
        yield server.database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=30000)
    args = parser.parse_args()
    quiet_loguru()
    load = header(f"Fingerprint pull: {args.records} records, {args.backend}")
    _, school = load_school_and_rules()
    log = synthetic_log(sorted(school.students), args.records)
    tz = ZoneInfo("Asia/Jakarta")
    read = Figure("read the log (loopback, fake machine)", "", "s")
    first = Figure("first pull into an empty table", "", "s")
    unchanged = Figure("pull, nothing new (count only)", "", "ms", fmt="{:.1f}")
    one_new = Figure("pull after one new punch", "", "s")
    restart = Figure("pull by a fresh poller (a restart)", "", "s")
    with databases(args.backend) as fresh:
        for _ in range(args.runs):
            with fresh() as url:
                run_once(url, school, log, tz, read, first, unchanged, one_new, restart)
    print_table(f"Fingerprint pull, {len(log)} records of 40 bytes ({len(log) * 40 // 1024} KiB), {args.backend}",
                [read, first, unchanged, one_new, restart], [load.report()])


def run_once(url: str, school: Any, log: list[tuple[str, datetime]], tz: ZoneInfo, read: Figure, first: Figure,
             unchanged: Figure, one_new: Figure, restart: Figure) -> None:
    store = Store(url)
    try:
        sink = live_sink(store, lambda: school, lambda: None, clock=lambda: datetime.now(UTC))
        with FakeZk(records=list(log), tz=tz, direct_up_to=0, frame_size=1024) as fake:
            started = time.perf_counter()
            with ZkClient("127.0.0.1", fake.port) as client:
                got = client.attendance()
            read.add(time.perf_counter() - started)
            assert len(got) == len(log)
            poller = DevicePoller(fake.address, sink, lambda: 300.0)
            for figure, change in ((first, None), (unchanged, None), (one_new, "punch"), (restart, "new")):
                if change == "punch":
                    fake.records.append((sorted(school.students)[0], datetime(2026, 11, 30, 16, 0)))
                elif change == "new":
                    poller = DevicePoller(fake.address, sink, lambda: 300.0)
                started = time.perf_counter()
                said = poller.pull_once()
                spent = time.perf_counter() - started
                figure.add(spent * 1000 if figure.unit == "ms" else spent)
                if figure is first:
                    assert said.startswith(f"{len(log)} punch(es) read: "), said
    finally:
        store.close()


if __name__ == "__main__":
    main()
