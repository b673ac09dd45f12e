"""What the operations of issue 12 cost the engine (SPEC §9): the alerts' look at every clock tick (every 30 s
in the service), `/status`, `/sms` for a month (text and xlsx), the monitor's publish, and the purge's roll-up
of a month of SMS — on the sample school with a month of SMS in the outbox.

    .venv/bin/python bench/operations.py [--backend sqlite|postgres] [--runs 20] [--per-day 150]

The month: 21 school days of November 2026, `--per-day` SMS a day of every kind (alfa notices, parents'
confirmations, bridged replies of 1–3 parts, help and registration replies, INFO acknowledgements; 3 % failed),
plus the rows of Telegram the same days, and the health of two modems, Telegram and the process as the
service publishes it.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchlib import Figure, header, load_school_and_rules, postgres, print_table, quiet_loguru

from absensi.engine.app.monitor import Monitor
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.operations.alerts import run as look
from absensi.engine.operations.facts import publish
from absensi.engine.store import Store, sqlite_url
from absensi.engine.store.models import OutboxRow
from absensi.engine.store.purge import purge
from absensi.engine.turn import Turn

KINDS = (("alfa", 0.35), ("reply", 0.2), ("bridge", 0.1), ("registration", 0.1), ("help", 0.15), ("ack", 0.1))
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 09:00 WIB


def fill(store: Store, per_day: int, rng: random.Random) -> int:
    rows = 0
    with store.unit() as session:
        day = date(2026, 11, 2)
        while day <= date(2026, 11, 30):
            if day.weekday() < 5:
                for _ in range(per_day):
                    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
                    at = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC) + timedelta(minutes=rng.randrange(480))
                    text = "x" * (rng.choice((60, 150, 300, 450)) if kind == "bridge" else 120)
                    failed = rng.random() < 0.03
                    session.add(OutboxRow(channel="sms", recipient=f"+62812{rng.randrange(10**7):07d}", text=text,
                                          kind=kind, status="failed" if failed else "sent", created_at=at,
                                          next_try_at=at, sent_at=None if failed else at))
                    session.add(OutboxRow(channel="telegram", recipient="7000002", text="laporan", kind="reply",
                                          status="sent", created_at=at, next_try_at=at, sent_at=at))
                    rows += 2
            day += timedelta(days=1)
    return rows


def healthy(store: Store, now: datetime) -> None:
    modem = {"state": "ready", "registered": True, "registration": "home network", "operator": "TELKOMSEL",
             "signal_bars": 3, "signal_dbm": -77, "sim_used": 3, "sim_total": 30, "pulsa": 25000,
             "pulsa_at": now.isoformat(), "sends_failed_today": 0}
    with store.unit() as session:
        publish(session, "box:1", [
            ("process:box:1", "process", {"holder": "box:1", "started_at": (now - timedelta(hours=3)).isoformat()}),
            ("sms:/dev/ttyUSB0", "modem", {"port": "/dev/ttyUSB0", **modem}),
            ("sms:/dev/ttyUSB1", "modem", {"port": "/dev/ttyUSB1", **modem}),
            ("telegram:box:1", "telegram", {"configured": True, "connected": True}),
        ], now)


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with postgres() as server, server.database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield sqlite_url(Path(folder) / "absensi.db")


def timed(figure: Figure, work: Callable[..., object], *args: object) -> None:
    start = time.perf_counter()
    work(*args)
    figure.add((time.perf_counter() - start) * 1000)


def one_look(store: Store, engine: Engine, now: datetime) -> None:
    with store.unit() as session:
        look(Turn(engine.live, session, now))


def ask(engine: Engine, text: str, source: str, now: datetime) -> None:
    engine.receive(InboundMessage(Channel.TELEGRAM, "7000002", now, source, text), now)


def purge_month(store: Store, rules: object, school: object) -> None:
    with store.unit() as session:
        purge(session, rules, school, datetime(2029, 7, 10, tzinfo=UTC))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=150)
    args = parser.parse_args()
    quiet_loguru()
    load = header(f"Operations (issue 12) on {args.backend}")
    rules, school = load_school_and_rules()
    figures = {name: Figure(name, goal, "ms", fmt="{:.1f}") for name, goal in (
        ("alerts: one look (each tick, 30 s)", "≪ 30 s"), ("/status", "< 1 s"), ("/sms 2026-11 (text + xlsx)", "< 2 s"),
        ("monitor: one publish", "≪ 30 s"), ("purge: a month rolled up and deleted", ""))}
    with database(args.backend) as url:
        store = Store(url)
        rows = fill(store, args.per_day, random.Random(12))
        engine = Engine(rules, school, store, NOW)
        monitor = Monitor(store, lambda: rules, school.calendar.tz, None, None, lambda: NOW)
        for run in range(args.runs):
            now = NOW + timedelta(seconds=run)
            healthy(store, now)
            timed(figures["alerts: one look (each tick, 30 s)"], one_look, store, engine, now)
            timed(figures["/status"], ask, engine, "/status", f"s{run}", now)
            timed(figures["/sms 2026-11 (text + xlsx)"], ask, engine, "/sms 2026-11", f"m{run}", now)
            timed(figures["monitor: one publish"], monitor.round, now)
        store.close()
    for _ in range(min(args.runs, 3)):
        with database(args.backend) as url:
            store = Store(url)
            fill(store, args.per_day, random.Random(12))
            timed(figures["purge: a month rolled up and deleted"], purge_month, store, rules, school)
            store.close()
    print_table("Operations", list(figures.values()), [
        f"{rows} outbox rows ({rows // 2} SMS of November 2026, as many Telegram rows); sample school "
        f"({len(school.students)} students); the purge figure is over {min(args.runs, 3)} fresh databases.",
        load.report()])


if __name__ == "__main__":
    main()
