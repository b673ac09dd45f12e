"""The engine end to end: inbox commit → handled → outbox rows, a mixed school morning, real store.

    .venv/bin/python bench/engine_e2e.py [--backend sqlite|postgres] [--runs 3] [--messages 2000] [--batch 20]

The traffic is one morning of the sample school (07:00–09:30 on a school day), in time order:
officers' one-line reports and `/absen` button presses on Telegram, parents from parents.csv sending
SAKIT/IZIN, new parents sending REG and then SAKIT/IZIN, wrong codes, strangers and operator junk,
INFO to the school, teachers' `/hariini`, and unlinked Telegram users. Messages are committed to the
inbox in groups of `--batch` (what the drivers do), and after each group the engine handles what is
pending (what the service's engine loop does): `Store.submit` then `Engine.process_pending`. A short
uncounted run first warms the process (imports, statement caches), as a running service is warm.

Figures per run: messages per CPU-second of this process (time.process_time; on PostgreSQL also with the
server's CPU from /proc), messages per wall second, and SQL statements and commits per message counted
with SQLAlchemy's `before_cursor_execute` and `commit` events on the store's engine. "handling" counts
`process_pending` alone; "end to end" adds the inbox commits.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    Figure,
    Postgres,
    SqlCounter,
    header,
    load_school_and_rules,
    postgres,
    print_table,
    quiet_loguru,
    sa_engine_of,
)

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store, sqlite_url

DAY = date(2026, 11, 30)  # a Monday in the sample school's first semester
NOTES_S = ["demam", "flu", "sakit perut", "tifus", "pusing", ""]
NOTES_I = ["acara keluarga", "ke luar kota", "menghadiri pernikahan", ""]
JUNK = ["halo", "selamat pagi pak", "P", "tes", "Promo kuota 50GB hanya 25rb", "?", "ok"]

# (kind, weight): how often each kind is drawn; a button round is about four messages (/absen, presses, Kirim)
MIX = [
    ("officer_text", 30), ("officer_buttons", 4), ("parent_csv", 20), ("new_parent", 10), ("wrong_reg", 1),
    ("stranger", 10), ("info", 5), ("teacher", 5), ("unlinked_tg", 2), ("operator", 2),
]


@dataclass
class Traffic:
    messages: list[InboundMessage]
    kinds: dict[str, int]


def morning(school: Any, count: int, seed: int, tz: Any) -> Traffic:
    """`count` messages of one morning, deterministic for `seed`."""
    rng = random.Random(seed)
    officers = [s for s in school.staff if s.role in ("ketua_kelas", "sekretaris") and s.telegram_id]
    teachers = [s for s in school.staff if s.role in ("wali_kelas", "guru_bk", "kepala_sekolah") and s.telegram_id]
    students = list(school.students.values())
    by_class = {c: sorted(m, key=lambda s: s.absen_no) for c, m in school.by_class.items()}
    registered = sorted({phone for phone, _ in school.preregistered})
    children: dict[str, list[Any]] = {}
    for phone, nis in school.preregistered:
        children.setdefault(phone, []).append(school.students[nis])
    new_parents: list[str] = []  # numbers that sent REG earlier this morning
    kinds = {k: 0 for k, _ in MIX}
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=tz).replace(hour=7)
    step = timedelta(seconds=9000 / max(count, 1))  # 07:00 to 09:30
    out: list[InboundMessage] = []

    def add(kind: str, channel: Channel, sender: str, text: str = "", **extra: Any) -> None:
        at = start + step * len(out)
        out.append(InboundMessage(channel, sender, at, f"bench:{seed}:{len(out)}", text, **extra))
        kinds[kind] += 1

    names, weights = zip(*MIX, strict=True)
    while len(out) < count:
        kind = rng.choices(names, weights)[0]
        if kind == "officer_text":
            officer = rng.choice(officers)
            members = by_class[officer.scope]
            picks = rng.sample(members, k=min(len(members), rng.choice((0, 0, 1, 1, 1, 2, 3))))
            if not picks:
                text = "NIHIL"
            else:
                reason = rng.choice("SSSIIAAD")
                note = rng.choice(NOTES_S if reason == "S" else NOTES_I if reason == "I" else [""])
                text = f"{reason} {' '.join(str(s.absen_no) for s in picks)} {note}".strip()
            add(kind, Channel.TELEGRAM, str(officer.telegram_id), text)
        elif kind == "officer_buttons":  # /absen, one to three students ticked, a reason, Kirim
            officer = rng.choice(officers)
            user, tag = str(officer.telegram_id), f"a{DAY:%Y%m%d}"
            add(kind, Channel.TELEGRAM, user, "/absen")
            for student in rng.sample(by_class[officer.scope], k=rng.randint(1, 3)):
                add(kind, Channel.TELEGRAM, user, press=f"{tag}t{student.absen_no}")
            add(kind, Channel.TELEGRAM, user, press=f"{tag}r{rng.choice('SSIAD')}")
            add(kind, Channel.TELEGRAM, user, press=f"{tag}k")
        elif kind == "parent_csv":
            phone = rng.choice(registered)
            kids = children[phone]
            word = rng.choice(("SAKIT", "SAKIT", "IZIN"))
            note = rng.choice(NOTES_S if word == "SAKIT" else NOTES_I)
            name = f"{rng.choice(kids).name.split()[0]} " if len(kids) > 1 else ""
            add(kind, Channel.SMS, phone, f"{word} {name}{note}".strip())
        elif kind == "new_parent":
            if new_parents and rng.random() < 0.5:
                word = rng.choice(("SAKIT", "IZIN"))
                add(kind, Channel.SMS, rng.choice(new_parents),
                    f"{word} {rng.choice(NOTES_S if word == 'SAKIT' else NOTES_I)}".strip())
            else:
                phone = f"+62857{rng.randrange(10**7, 10**8)}"
                student = rng.choice(students)
                add(kind, Channel.SMS, phone, f"REG {student.parent_code.lower() if rng.random() < 0.3 else student.parent_code}")
                new_parents.append(phone)
        elif kind == "wrong_reg":
            add(kind, Channel.SMS, f"+62878{rng.randrange(10**7, 10**8)}", f"REG {rng.randrange(10**5, 10**6)}")
        elif kind == "stranger":
            sender = rng.choice((f"+62813{rng.randrange(10**7, 10**8)}", f"+62813{rng.randrange(10**7, 10**8)}",
                                 "TELKOMSEL", "3636"))
            add(kind, Channel.SMS, sender, rng.choice([*JUNK, "SAKIT flu", "IZIN"]))
        elif kind == "info":
            sender = rng.choice(registered) if rng.random() < 0.5 else f"+62813{rng.randrange(10**7, 10**8)}"
            add(kind, Channel.SMS, sender, rng.choice(("INFO jalan di depan sekolah banjir, hati-hati",
                                                       "INFO ada pohon tumbang dekat gerbang",
                                                       "INFO kapan pengambilan rapor semester ini?")))
        elif kind == "teacher":
            add(kind, Channel.TELEGRAM, str(rng.choice(teachers).telegram_id), "/hariini")
        elif kind == "unlinked_tg":
            add(kind, Channel.TELEGRAM, str(rng.randrange(10**8, 10**9)), rng.choice(("/start", "halo")))
        else:  # the operator's own SIM chatter: balance and package notices
            add(kind, Channel.SMS, rng.choice(("TELKOMSEL", "INDOSAT", "AXIS")), "Sisa pulsa Anda Rp5.000")
    return Traffic(out[:count], kinds)


@dataclass
class Run:
    messages: int
    wall_e2e: float
    cpu_e2e: float
    wall_handle: float
    cpu_handle: float
    server_cpu_e2e: float | None
    statements_handle: int
    commits_handle: int
    statements_submit: int
    commits_submit: int
    outbox_rows: int
    statuses: dict[str, int]


def one_run(url: str, rules: Any, school: Any, count: int, batch: int, seed: int, server: Postgres | None) -> Run:
    tz = school.calendar.tz
    traffic = morning(school, count, seed, tz)
    store = Store(url)
    try:
        engine = Engine(rules, school, store, traffic.messages[0].received_at - timedelta(minutes=30))
        counter = SqlCounter(sa_engine_of(store))
        first_outbox = store.last_outbox_id()
        wall_submit = cpu_submit = wall_handle = cpu_handle = 0.0
        st_submit = cm_submit = st_handle = cm_handle = 0
        server0 = server.cpu() if server else None
        for i in range(0, len(traffic.messages), batch):
            group = traffic.messages[i : i + batch]
            s0, c0 = counter.snapshot()
            w0, p0 = time.perf_counter(), time.process_time()
            for msg in group:
                store.submit(msg)
            w1, p1 = time.perf_counter(), time.process_time()
            s1, c1 = counter.snapshot()
            engine.process_pending(group[-1].received_at)
            w2, p2 = time.perf_counter(), time.process_time()
            s2, c2 = counter.snapshot()
            wall_submit += w1 - w0
            cpu_submit += p1 - p0
            wall_handle += w2 - w1
            cpu_handle += p2 - p1
            st_submit, cm_submit = st_submit + s1 - s0, cm_submit + c1 - c0
            st_handle, cm_handle = st_handle + s2 - s1, cm_handle + c2 - c1
        server_cpu = None if server0 is None or server is None else (server.cpu() or 0.0) - server0
        outbox = len(store.outbox_since(first_outbox))
        from sqlalchemy import text

        with store.unit() as session:
            statuses = {str(s): int(n) for s, n in session.execute(text("SELECT status, count(*) FROM inbox GROUP BY status"))}
    finally:
        store.close()
    return Run(len(traffic.messages), wall_submit + wall_handle, cpu_submit + cpu_handle, wall_handle, cpu_handle,
               server_cpu, st_handle, cm_handle, st_submit, cm_submit, outbox, statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=20, help="inbox rows committed before each process_pending")
    parser.add_argument("--warmup", type=int, default=300, help="messages of an uncounted first run (0: none)")
    args = parser.parse_args()
    quiet_loguru()
    load = header(f"engine end to end, {args.backend}, {args.messages} messages, batches of {args.batch}")
    rules, school = load_school_and_rules()
    kinds = morning(school, args.messages, 0, school.calendar.tz).kinds
    print(f"- traffic (run 1): {', '.join(f'{k} {n}' for k, n in kinds.items())}; "
          f"{len(school.preregistered)} parent numbers from parents.csv")
    backend = " (PostgreSQL)" if args.backend == "postgres" else " (SQLite file)"
    per_cpu = Figure(f"end to end, msg per CPU-second of the process{backend}",
                     "≥ 1,000" if args.backend == "sqlite" else "≥ 600", "msg/s", fmt="{:.0f}")
    per_cpu_all = Figure("end to end, msg per CPU-second, app + server", "≥ 400", "msg/s", fmt="{:.0f}")
    per_wall = Figure("end to end, msg per wall second", "", "msg/s", fmt="{:.0f}")
    handle_cpu = Figure("handling only (process_pending), msg per CPU-second", "", "msg/s", fmt="{:.0f}")
    ms_per = Figure("end to end, CPU per message", "≤ 1.0" if args.backend == "sqlite" else "", "ms", fmt="{:.2f}")
    st_handle = Figure("SQL statements per message, handling", "≤ 2 on the common paths", "", fmt="{:.2f}")
    cm_handle = Figure("commits per message, handling", "", "", fmt="{:.2f}")
    st_all = Figure("SQL statements per message, inbox commit included", "", "", fmt="{:.2f}")
    outbox = Figure("outbox rows per message", "", "", fmt="{:.2f}")
    notes: list[str] = []
    server_note = ""

    def record(run: Run, n: int) -> None:
        per_cpu.add(run.messages / run.cpu_e2e)
        per_wall.add(run.messages / run.wall_e2e)
        handle_cpu.add(run.messages / run.cpu_handle)
        ms_per.add(1000 * run.cpu_e2e / run.messages)
        st_handle.add(run.statements_handle / run.messages)
        cm_handle.add(run.commits_handle / run.messages)
        st_all.add((run.statements_handle + run.statements_submit) / run.messages)
        outbox.add(run.outbox_rows / run.messages)
        if run.server_cpu_e2e is not None:
            per_cpu_all.add(run.messages / (run.cpu_e2e + run.server_cpu_e2e))
        notes.append(f"run {n}: {run.messages} messages, inbox {run.statuses}, {run.outbox_rows} outbox rows, "
                     f"{run.statements_handle} statements / {run.commits_handle} commits handling, "
                     f"{run.statements_submit} / {run.commits_submit} inbox commits; CPU {run.cpu_e2e:.2f} s "
                     f"(handling {run.cpu_handle:.2f} s), wall {run.wall_e2e:.2f} s"
                     + (f", server CPU {run.server_cpu_e2e:.2f} s" if run.server_cpu_e2e is not None else ""))

    server_cpu_total = 0.0
    if args.backend == "sqlite":
        if args.warmup:
            with tempfile.TemporaryDirectory(prefix="absensi-bench-") as tmp:
                one_run(sqlite_url(Path(tmp) / "warm.db"), rules, school, args.warmup, args.batch, 99, None)
        for n in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="absensi-bench-") as tmp:
                record(one_run(sqlite_url(Path(tmp) / "bench.db"), rules, school, args.messages, args.batch, n, None),
                       n + 1)
    else:
        with postgres() as server:
            server_note = f"PostgreSQL: {server.settings}"
            if args.warmup:
                with server.database() as url:
                    one_run(url, rules, school, args.warmup, args.batch, 99, server)
            cpu0 = server.cpu()
            for n in range(args.runs):
                with server.database() as url:
                    record(one_run(url, rules, school, args.messages, args.batch, n, server), n + 1)
            server_cpu_total = (server.cpu() or 0.0) - (cpu0 or 0.0)
            if server.postmaster is None:
                notes.append("the server's processes are not visible here: no app + server figure")
    figures = [per_cpu, *([per_cpu_all] if args.backend == "postgres" else []), per_wall, handle_cpu, ms_per,
               st_handle, cm_handle, st_all, outbox]
    print_table(f"engine end to end ({args.backend})", figures,
                [*notes, *([server_note] if server_note else []), load.report(server_cpu_total)])


if __name__ == "__main__":
    main()
