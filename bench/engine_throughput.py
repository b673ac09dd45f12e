"""Inbound messages per second through `Engine.handle` on a SQLite file, mixed traffic, sample school.

The messages are committed to the inbox first (as drivers do), then the engine handles them; only the
handling is timed. Prints the median of several runs. Target: >= 1,000 messages/s on one core.

    python bench/engine_throughput.py [--messages 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school
from absensi.engine.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Jakarta")


def traffic(school, count: int, rng: random.Random, start: datetime) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    officers = [s for s in school.staff if s.role in ("ketua_kelas", "sekretaris") and s.telegram_id]
    teachers = [s for s in school.staff if s.role == "wali_kelas" and s.telegram_id]
    students = list(school.students.values())
    messages = []
    for i in range(count):
        at = start + timedelta(milliseconds=10 * i)
        kind = rng.random()
        if kind < 0.55:  # officers' reports
            officer = rng.choice(officers)
            members = school.by_class[officer.scope]
            text = rng.choice(["A {}", "S {} demam", "I {}", "NIHIL", "D {}"]).format(rng.choice(members).absen_no)
            messages.append(InboundMessage(Channel.TELEGRAM, str(officer.telegram_id), at, f"b{i}", text))
        elif kind < 0.75:  # parents registering and reporting
            student = rng.choice(students)
            phone = f"0857{rng.randrange(10**7, 10**8)}"
            text = rng.choice([f"REG {student.parent_code}", "SAKIT demam", "IZIN acara keluarga"])
            messages.append(InboundMessage(Channel.SMS, phone, at, f"b{i}", text))
        elif kind < 0.85:  # the public, and noise
            text = rng.choice(["INFO jalan di depan sekolah banjir", "halo", "", "Promo paket data"])
            sender = rng.choice([f"0813{rng.randrange(10**7, 10**8)}", "TELKOMSEL"])
            messages.append(InboundMessage(Channel.SMS, sender, at, f"b{i}", text))
        else:  # teachers looking at today
            teacher = rng.choice(teachers)
            messages.append(InboundMessage(Channel.TELEGRAM, str(teacher.telegram_id), at, f"b{i}", "/hariini"))
    return messages


def one_run(count: int, seed: int) -> tuple[float, float]:
    rules = load_rules(ROOT / "rules")
    school = load_school(ROOT / "sample_school", rules.rules)
    start = datetime.combine(date(2026, 11, 30), datetime.min.time(), tzinfo=TZ).replace(hour=7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(sqlite_url(Path(tmp) / "bench.db"))
        engine = Engine(rules, school, store, start)
        messages = traffic(school, count, random.Random(seed), start)
        for msg in messages:
            store.submit(msg)
        begin, cpu = time.perf_counter(), time.process_time()
        while batch := store.pending_inbox(500):
            for inbox_id, msg in batch:
                engine.handle(msg, msg.received_at, inbox_id)
        elapsed, cpu = time.perf_counter() - begin, time.process_time() - cpu
        store.close()
    return count / elapsed, count / cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.messages, seed) for seed in range(args.runs)]
    rates, cpu_rates = [r[0] for r in runs], [r[1] for r in runs]
    print(f"engine.handle, mixed traffic, SQLite file: runs {', '.join(f'{r:.0f}' for r in rates)} msg/s "
          f"(per CPU second: {', '.join(f'{r:.0f}' for r in cpu_rates)})")
    median = statistics.median(rates)
    print(f"median {median:.0f} msg/s wall ({1000 / median:.2f} ms/msg), {statistics.median(cpu_rates):.0f} msg/s "
          f"per CPU second; target >= 1000 msg/s: {median / 1000:.2f}x")


if __name__ == "__main__":
    main()
