"""The engine's in-memory state (`engine/live.py`) stays equal to the store it mirrors.

A seeded random run of a school's mornings — officers' reports and `/absen` keyboards, parents' SAKIT/IZIN,
REG with good and wrong codes, STOP, INFO, strangers, `/hariini`, `/koreksi` of past days, staff sharing their
contact, new school days with their scheduled jobs — goes through the engine in batches of random size, and
some messages fail on purpose after they changed state (their batch is rolled back and redone message by
message). After every batch, what the engine holds in memory must equal a fresh load from the store, and
nothing may be left unwritten. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from absensi.engine.core import Engine
from absensi.engine.live import Live
from absensi.engine.messages import Channel, Contact, InboundMessage
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow, SmsSender

SAMPLE = Path(__file__).resolve().parents[1] / "sample_school"
MONDAY = datetime(2026, 11, 30, 6, 50)  # school time (Asia/Jakarta): a Monday of the first semester
NOTES = ["demam", "flu", "acara keluarga", "", "ke dokter"]


@pytest.fixture(scope="module")
def sample(rules: CompiledRules) -> School:
    return load_school(SAMPLE, rules.rules)


class Poison(Exception):
    """A bug on purpose: raised after a message changed state, so its transaction must undo it."""


class Morning:
    """Random traffic of a school, in time order, deterministic for a seed."""

    def __init__(self, school: School, seed: int) -> None:
        self.rng = random.Random(seed)
        self.school = school
        self.seed = seed
        self.count = 0
        self.officers = [s for s in school.staff if s.role in ("ketua_kelas", "sekretaris") and s.telegram_id]
        self.teachers = [s for s in school.staff if s.role == "wali_kelas" and s.telegram_id]
        self.unlinked = [s for s in school.staff if s.phone and not s.telegram_id]
        self.registered = sorted({phone for phone, _ in school.preregistered})
        self.new_parents: list[str] = []
        self.students = sorted(school.students.values(), key=lambda s: s.nis)

    def message(self, at: datetime) -> InboundMessage:
        rng, kind = self.rng, self.rng.choices(
            ["officer", "buttons", "parent", "reg", "wrong_reg", "stop", "info", "junk", "today", "contact",
             "correct"], [30, 10, 20, 10, 4, 3, 4, 8, 5, 3, 3])[0]
        self.count += 1
        source = f"live:{self.seed}:{self.count}"

        def tg(user: int, body: str = "", **extra: Any) -> InboundMessage:
            return InboundMessage(Channel.TELEGRAM, str(user), at, source, body, **extra)

        def sms(phone: str, body: str) -> InboundMessage:
            return InboundMessage(Channel.SMS, phone, at, source, body)

        if kind == "officer":
            officer = rng.choice(self.officers)
            members = self.school.by_class[officer.scope]
            picks = " ".join(str(s.absen_no) for s in rng.sample(members, k=rng.randint(1, 3)))
            return tg(officer.telegram_id or 0, rng.choice([f"{rng.choice('SIAD')} {picks} {rng.choice(NOTES)}",
                                                            "NIHIL", f"BATAL {picks}", "S 99"]).strip())
        if kind == "buttons":
            officer = rng.choice(self.officers)
            number = rng.choice(self.school.by_class[officer.scope]).absen_no
            tag = f"a{at:%Y%m%d}"
            return tg(officer.telegram_id or 0, rng.choice(["/absen", "", "", ""]),
                      press=None if rng.random() < 0.25 else rng.choice([f"{tag}t{number}", f"{tag}t{number}",
                                                                         f"{tag}r{rng.choice('SIAD')}",
                                                                         f"{tag}k", f"{tag}x", f"{tag}p1"]))
        if kind == "parent":
            phone = rng.choice(self.registered + self.new_parents)
            return sms(phone, f"{rng.choice(['SAKIT', 'IZIN'])} {rng.choice(NOTES)}".strip())
        if kind == "reg":
            phone = rng.choice([f"+62857{rng.randrange(10**7, 10**8)}", *self.registered[:5]])
            self.new_parents.append(phone)
            return sms(phone, f"REG {rng.choice(self.students).parent_code}")
        if kind == "wrong_reg":
            return sms(rng.choice(["+6287811112222", "+6287811113333"]), f"REG {rng.randrange(10**5, 10**6)}")
        if kind == "stop":
            return sms(rng.choice(self.registered + self.new_parents), "STOP")
        if kind == "info":
            return sms(rng.choice([*self.registered[:3], "+6281399990000"]), "INFO jalan banjir")
        if kind == "junk":
            return sms(rng.choice([f"+62813{rng.randrange(10**7, 10**8)}", "+6281399990000", "TELKOMSEL"]),
                       rng.choice(["halo", "P", "SAKIT", "?"]))
        if kind == "today":
            return tg(rng.choice(self.teachers).telegram_id or 0, "/hariini")
        if kind == "contact":
            staff = rng.choice(self.unlinked)
            user = rng.randrange(10**8, 10**9)
            return tg(user, contact=Contact(staff.phone or "", user))
        teacher = rng.choice(self.teachers)
        student = rng.choice(self.school.by_class[teacher.scope])
        past = (at - timedelta(days=rng.randint(0, 3))).date()
        return tg(teacher.telegram_id or 0, f"/koreksi {student.nis} {past.isoformat()} {rng.choice('SIH')} surat")


def in_step(engine: Engine, store: Store, now: datetime) -> None:
    """What the engine holds equals a fresh load of the same parts from the store, and nothing is unwritten."""
    assert not engine.live.pending(), "changes held in memory but not written"
    held = engine.live.snapshot()
    fresh = Live(engine.rules, engine.school)
    with store.unit() as session:
        if held["parents"] is not None:
            fresh.parents(session)
        if held["senders"] is not None:
            fresh.senders(session)
        if held["drafts"] is not None:
            fresh.drafts(session)
        if held["links"] is not None:
            fresh.links(session, now)
        for day in held["days"]:
            fresh.day(session, day, day)
        if held["tallies"]:
            fresh.counters(session, sorted(held["tallies"]), now)
    again = fresh.snapshot()
    for part, value in held.items():
        assert value == again[part], f"{part}: memory and store differ"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_memory_equals_a_fresh_load_after_a_random_run(store: Store, rules: CompiledRules, sample: School,
                                                       seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    tz = sample.calendar.tz
    now = MONDAY.replace(tzinfo=tz).astimezone(UTC)
    engine = Engine(rules, sample, store, now)
    traffic = Morning(engine.school, seed)
    rng = random.Random(seed * 7919)
    poisoned: set[str] = set()
    dispatch = engine._dispatch

    def failing(turn: Any, msg: InboundMessage) -> None:
        dispatch(turn, msg)
        engine.live.flush(turn.session)  # its changes are written, and must be undone
        if msg.source_id in poisoned:
            raise Poison(msg.source_id)

    monkeypatch.setattr(engine, "_dispatch", failing)
    loaded_days: set[date] = set()
    for _ in range(45):
        if rng.random() < 0.08:  # the next school morning: a new day, its jobs (purge, reminders)
            local = now.astimezone(tz) + timedelta(days=1)
            while not sample.calendar.is_school_day(local.date()):
                local += timedelta(days=1)
            now = local.replace(hour=6, minute=50).astimezone(UTC)
        for _ in range(rng.randint(1, 12)):
            now += timedelta(seconds=rng.randint(5, 400))
            msg = traffic.message(now)
            if rng.random() < 0.05:
                poisoned.add(msg.source_id)
            store.submit(msg)
        engine.process_pending(now, limit=rng.randint(1, 8))
        if rng.random() < 0.3:
            engine.tick(now)
        in_step(engine, store, now)
        loaded_days.update(engine.live.snapshot()["days"])
    with store.unit() as session:
        statuses = dict(session.execute(select(InboxRow.source_id, InboxRow.status)).all())
    assert {s for s, status in statuses.items() if status == "error"} == poisoned & set(statuses)
    assert all(status == "done" for s, status in statuses.items() if s not in poisoned)
    assert loaded_days, "the run never held a day in memory: the check compared nothing"


def test_a_row_another_process_deleted_is_noticed_and_the_message_handled(store: Store, rules: CompiledRules,
                                                                           sample: School) -> None:
    """`absensi purge` in another process removes a number's counters the engine holds: the write finds its
    row gone, the engine drops what it holds and handles the message again from the store."""
    tz = sample.calendar.tz
    now = MONDAY.replace(hour=7).replace(tzinfo=tz).astimezone(UTC)
    engine = Engine(rules, sample, store, now)
    stranger = "+6281377770000"
    engine.receive(InboundMessage(Channel.SMS, stranger, now, "x1", "INFO jalan banjir"), now)
    with store.unit() as session:  # as another process would
        session.execute(delete(SmsSender).where(SmsSender.phone == stranger))
    produced = engine.receive(InboundMessage(Channel.SMS, stranger, now, "x2", "INFO pohon tumbang"), now)
    assert any("pohon tumbang" in m.text for m in produced)
    with store.unit() as session:
        assert session.get(SmsSender, stranger) is not None
        errors = session.scalar(text("SELECT count(*) FROM inbox WHERE status = 'error'"))
    assert errors == 0
    in_step(engine, store, now)


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(store.db, "before_cursor_execute", record)
    yield seen
    event.remove(store.db, "before_cursor_execute", record)


def test_a_batch_of_officer_reports_costs_few_statements(store: Store, rules: CompiledRules, sample: School,
                                                         statements: list[str]) -> None:
    """The common path reads nothing per message once the day is held: a report writes its record and its
    history line; the batch reads the inbox once, checks the outbox keys once and writes the outbox once."""
    tz = sample.calendar.tz
    now = MONDAY.replace(hour=7).replace(tzinfo=tz).astimezone(UTC)
    engine = Engine(rules, sample, store, now)
    officers = [s for s in engine.school.staff if s.role == "ketua_kelas" and s.telegram_id]
    engine.receive(InboundMessage(Channel.TELEGRAM, str(officers[0].telegram_id), now, "warm", "NIHIL"), now)
    for n, officer in enumerate(officers[1:21]):
        store.submit(InboundMessage(Channel.TELEGRAM, str(officer.telegram_id), now, f"r{n}", "S 1 demam"))
    statements.clear()
    engine.process_pending(now)
    # per message: the absence row and its history line; per batch: inbox read, keys, outbox, inbox marked;
    # the first report of each class also writes its class_report row
    assert len(statements) <= 20 * 3 + 4, statements
    assert statements.count("SELECT") <= 3


def test_the_retention_purge_makes_the_engine_drop_what_it_holds(store: Store, rules: CompiledRules,
                                                                   sample: School) -> None:
    """A stranger's counters go with the purge 30 days after their last SMS; the engine, which held them,
    loads afresh, and the stranger's next SMS starts new counters instead of failing on a vanished row."""
    tz = sample.calendar.tz
    now = MONDAY.replace(hour=7).replace(tzinfo=tz).astimezone(UTC)
    engine = Engine(rules, sample, store, now)
    stranger = "+6281377770001"
    engine.receive(InboundMessage(Channel.SMS, stranger, now, "p1", "INFO jalan banjir"), now)
    assert engine.live.snapshot()["senders"] is not None
    later = now + timedelta(days=40)
    engine.sync_roster(later)  # the new day as the first tick seats it, then a message before the jobs run
    engine.receive(InboundMessage(Channel.SMS, "+6281377770002", later, "p0", "halo"), later)
    assert stranger in (engine.live.snapshot()["senders"] or {})
    engine.tick(later)  # the day's purge deletes the stranger's row
    with store.unit() as session:
        assert session.get(SmsSender, stranger) is None, "the purge did not delete the counters"
    assert engine.live.snapshot()["senders"] is None, "the engine still holds what the purge deleted"
    engine.receive(InboundMessage(Channel.SMS, stranger, later, "p2", "INFO pohon tumbang"), later)
    with store.unit() as session:
        sender = session.get(SmsSender, stranger)
        assert sender is not None and sender.info_count == 1
    in_step(engine, store, later)
