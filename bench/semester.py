"""A realistic semester of absences, written through the engine, for the report benches.

    .venv/bin/python bench/semester.py SCHOOL_DIR DB_URL [--until 2026-11-30]

From the first day of the school's first semester to `--until`, every school day as a school lives it:
the scheduler runs (`Engine.tick`), parents of registered children sometimes send SAKIT/IZIN before the
class reports, each class's ketua or sekretaris reports on Telegram (`S 3 12 demam`, `A 7`, `NIHIL`),
parents of an alfa sometimes answer with SAKIT, a few classes forget (the 09:00 and 10:00 reminders go
out), and the day's outbox is taken and marked sent as a driver does. Absence is about 3 % of
student-days: illnesses of one to three days, family leave, dispensations, a few truants with alfa
streaks. Seeded: the same school gives the same database.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import find, load_school_and_rules, quiet_loguru

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store

UNTIL = date(2026, 11, 30)
NOTES = {"S": ["demam", "flu", "sakit perut", "tifus", ""], "I": ["acara keluarga", "ke luar kota", ""],
         "A": [""], "D": ["lomba LKS", "paskibra", "OSIS"], "P": [""]}  # fmt: skip


def fill(school_dir: Path, url: str, until: date = UNTIL, seed: int = 11) -> dict[str, float]:
    """Play the semester into the database at `url`; returns counts and the time it took."""
    quiet_loguru()
    rules, school = load_school_and_rules(school_dir)
    simulator = find("Simulator", "absensi.drivers.simulator")
    rng = random.Random(seed)
    tz = school.calendar.tz
    semester = school.calendar.semesters[0]
    officers: dict[str, list[int]] = defaultdict(list)
    for s in school.staff:
        if s.role in ("ketua_kelas", "sekretaris") and s.telegram_id:
            officers[s.scope].append(s.telegram_id)
    parents: dict[str, list[str]] = defaultdict(list)  # nis → registered numbers
    children: dict[str, int] = defaultdict(int)
    for phone, nis in school.preregistered:
        parents[nis].append(phone)
        children[phone] += 1
    students = list(school.students.values())
    truants = {s.nis for s in rng.sample(students, max(1, len(students) // 40))}
    episode: dict[str, tuple[str, int]] = {}  # nis → (reason, school days left)
    store = Store(url)
    engine = Engine(rules, school, store, datetime.combine(semester.start, clock(6, 0), tzinfo=tz))
    driver = simulator(store)
    counter = {"messages": 0, "school days": 0, "absences": 0}
    started, cpu = time.perf_counter(), time.process_time()

    def at(day: date, minutes: int) -> datetime:
        return datetime.combine(day, clock(6, 0), tzinfo=tz) + timedelta(minutes=minutes)

    day = semester.start
    while day <= min(until, semester.end):
        if not school.calendar.is_school_day(day):
            day += timedelta(days=1)
            continue
        counter["school days"] += 1
        absent: dict[str, list[tuple[Any, str]]] = defaultdict(list)  # class → (student, reason)
        for s in students:
            if s.nis in episode:
                reason, left = episode.pop(s.nis)
            elif rng.random() < (0.06 if s.nis in truants else 0.022):
                reason = "A" if s.nis in truants and rng.random() < 0.7 else rng.choices("SIADP", (45, 25, 15, 10, 5))[0]
                left = rng.choice((1, 1, 1, 2, 3)) if reason in "SA" else 1
            else:
                continue
            if left > 1:
                episode[s.nis] = (reason, left - 1)
            absent[s.class_name].append((s, reason))
            counter["absences"] += 1
        events: list[tuple[datetime, int, str, str, str]] = []  # (when, order, channel, sender, text)
        for class_name, members in school.by_class.items():
            if not members:
                continue
            missing = absent.get(class_name, [])
            for student, reason in missing:
                phones = parents.get(student.nis)
                if phones and reason in "SI":
                    if rng.random() < 0.4:  # the parent writes first
                        word = "SAKIT" if reason == "S" else "IZIN"
                        who = f"{student.name.split()[0]} " if children[phones[0]] > 1 else ""
                        events.append((at(day, rng.randint(20, 50)), 1, "sms", phones[0],
                                       f"{word} {who}{rng.choice(NOTES[reason])}".strip()))
                elif phones and reason == "A" and rng.random() < 0.3:  # an alfa, answered by the parent
                    events.append((at(day, rng.randint(100, 300)), 3, "sms", phones[0], "SAKIT maaf baru mengabari"))
            if not officers.get(class_name) or rng.random() < 0.03:
                continue  # this class forgets today: the reminders go out
            sender = str(rng.choice(officers[class_name]))
            when = at(day, rng.randint(50, 100))
            by_reason: dict[str, list[int]] = defaultdict(list)
            for student, reason in missing:
                by_reason[reason].append(student.absen_no)
            if not by_reason:
                events.append((when, 2, "tg", sender, "NIHIL"))
            for reason, numbers in by_reason.items():
                note = rng.choice(NOTES[reason])
                events.append((when, 2, "tg", sender, f"{reason} {' '.join(map(str, sorted(numbers)))} {note}".strip()))
        for hour in (9, 10):
            events.append((at(day, (hour - 6) * 60), 0, "tick", "", ""))
        events.sort(key=lambda e: (e[0], e[1]))
        engine.tick(at(day, 30))
        for n, (when, _, channel, sender, text) in enumerate(events):
            if channel == "tick":
                engine.tick(when)
                continue
            kind = Channel.SMS if channel == "sms" else Channel.TELEGRAM
            engine.receive(InboundMessage(kind, sender, when, f"semester:{day}:{n}", text), when)
            counter["messages"] += 1
        driver.deliver(at(day, 9 * 60))
        day += timedelta(days=1)
    store.close()
    return {**counter, "seconds": time.perf_counter() - started, "cpu seconds": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("school", type=Path)
    parser.add_argument("db_url")
    parser.add_argument("--until", type=date.fromisoformat, default=UNTIL)
    args = parser.parse_args()
    got = fill(args.school, args.db_url, args.until)
    print(", ".join(f"{k} {v:.0f}" for k, v in got.items()))


if __name__ == "__main__":
    main()
