"""SMS usage and cost (SPEC §9): `/sms [YYYY-MM]` and its sheet agree with outbox rows counted by hand, and a
month's figures are the same after the retention purge deleted its messages (SPEC §8 keeps counts).

On SQLite and PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from absensi.drivers.simulator import Simulator
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow, OutboxRow, ParentLink, Tally
from absensi.engine.store.purge import purge
from absensi.engine.store.usage import usage

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
ADMIN = "7000002"  # the sample school's admin (staff.csv)
PARENT = "+6281234500001"
STRANGER = "+6281299990001"  # never registered
ONE_PART = "Terima kasih. Budi dicatat Sakit."  # 33 GSM characters: 1 part
TWO_PARTS = "A" * 200  # GSM, 160 < 200 ≤ 306: 2 parts
UCS2_THREE = "Balasan 🙏 " + "x" * 140  # an emoji makes it UCS-2: 67 units a part → 3 parts


@pytest.fixture(scope="module")
def sample() -> tuple[CompiledRules, School]:
    rules = load_rules(ROOT / "rules")
    return rules, load_school(ROOT / "sample_school", rules.rules)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in school time (WIB)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB)


def row(kind: str, text: str, created: datetime, sent: datetime | None, status: str, to: str = PARENT,
        parts: list[str] | None = None, inbox_id: int | None = None) -> OutboxRow:
    return OutboxRow(channel="sms", recipient=to, text=text, kind=kind, status=status, created_at=created,
                     next_try_at=created, sent_at=sent, payload={"parts": parts} if parts else {}, inbox_id=inbox_id)


def november(store: Store) -> None:
    """Outbox rows of November 2026 whose figures are counted by hand in EXPECTED."""
    with store.unit() as session:
        session.add_all([
            # 2 November: two alfa notices of one part, one failed for good before the modem took it
            row("alfa", ONE_PART, at(2, 7, 10), at(2, 7, 11), "sent"),
            row("alfa", ONE_PART, at(2, 7, 10), at(2, 7, 12), "delivered"),
            row("alfa", ONE_PART, at(2, 7, 10), None, "failed"),
            # a bridged reply of 2 parts, queued on the 2nd at 23:50 WIB, sent after midnight: counts on the 3rd
            row("bridge", TWO_PARTS, at(2, 23, 50), at(3, 0, 5), "sent"),
            # 3 November: a confirmation, a UCS-2 reply of 3 parts whose delivery report said failed (billed)
            row("reply", ONE_PART, at(3, 9), at(3, 9, 1), "sent"),
            row("reply", UCS2_THREE, at(3, 9), at(3, 9, 2), "failed"),
            # a help reply and a registration reply; an INFO acknowledgement still waiting, one part already taken
            row("help", ONE_PART, at(3, 10), at(3, 10, 1), "sent", to=STRANGER),
            row("registration", ONE_PART, at(3, 10), at(3, 10, 2), "sent"),
            row("ack", TWO_PARTS, at(3, 11), None, "pending", parts=["m1:17"]),
            # Telegram and other months are not SMS of November
            OutboxRow(channel="telegram", recipient=ADMIN, text="x", kind="reply", status="sent",
                      created_at=at(3, 9), next_try_at=at(3, 9), sent_at=at(3, 9)),
            row("alfa", ONE_PART, at(1, 0) - timedelta(minutes=5), at(1, 0) - timedelta(minutes=4), "sent"),
        ])


# (day, kind) → (messages, sent, parts, failed, waiting), counted by hand from `november`
EXPECTED = {
    (date(2026, 11, 2), "alfa"): (3, 2, 2, 1, 0),
    (date(2026, 11, 3), "bridge"): (1, 1, 2, 0, 0),
    (date(2026, 11, 3), "reply"): (2, 2, 4, 1, 0),
    (date(2026, 11, 3), "help"): (1, 1, 1, 0, 0),
    (date(2026, 11, 3), "registration"): (1, 1, 1, 0, 0),
    (date(2026, 11, 3), "ack"): (1, 0, 1, 0, 1),
}
SENT, PARTS, FAILED = 7, 11, 2  # the month: 7 went to the network, 11 parts billed, 2 failed
COST = PARTS * 150


def figures(store: Store) -> dict[tuple[date, str], tuple[int, ...]]:
    with store.unit() as session:
        found = usage(session, date(2026, 11, 1), date(2026, 11, 30), WIB)
    return {key: (c.messages, c.sent, c.parts, c.failed, c.waiting) for key, c in found.items()}


def ask(engine: Engine, store: Store, text: str, now: datetime) -> list[OutboxRow]:
    first = store.last_outbox_id()
    engine.receive(InboundMessage(Channel.TELEGRAM, ADMIN, now, f"tg:{text}:{now.isoformat()}", text), now)
    return [r for r in store.outbox_since(first) if r.recipient == ADMIN]


def test_the_months_figures_are_the_outbox_rows_counted_by_hand(store: Store) -> None:
    november(store)
    assert figures(store) == EXPECTED


def test_sms_command_text_and_sheet_match_the_hand_count(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    rules, school = sample
    november(store)
    now = at(30, 8)
    engine = Engine(rules, school, store, now)
    text, document = ask(engine, store, "/sms 2026-11", now)
    assert "Pemakaian SMS November 2026" in text.text
    assert f"Total: {SENT} SMS terkirim, {PARTS} bagian, gagal {FAILED}, biaya Rp 1.650 (Rp 150 per bagian)" \
        in text.text
    assert "- Pemberitahuan alfa/alasan ke ortu: 2 SMS, 2 bagian, gagal 1" in text.text
    assert "- Tanda terima INFO: 0 SMS, 1 bagian, menunggu 1" in text.text
    assert "02/11: 2 SMS, 2 bagian, Rp 300, gagal 1" in text.text
    assert "03/11: 5 SMS, 9 bagian, Rp 1.350, gagal 1" in text.text
    assert document.payload["document"]["filename"] == "sms-2026-11.xlsx"
    book = load_workbook(io.BytesIO(bytes.fromhex(document.payload["document"]["hex"])))
    assert book.sheetnames == ["Per Jenis", "Per Hari"]
    per_kind = {r[0]: r[1:] for r in book["Per Jenis"].iter_rows(values_only=True) if r and r[1] is not None}
    assert per_kind["Pemberitahuan alfa/alasan ke ortu"] == (3, 2, 2, 1, 0, 300)
    assert per_kind["Balasan guru (jembatan)"] == (1, 1, 2, 0, 0, 300)
    assert per_kind["Konfirmasi/balasan ke ortu"] == (2, 2, 4, 1, 0, 600)
    assert per_kind["Jumlah"] == (9, SENT, PARTS, FAILED, 1, COST)
    per_day = [r for r in book["Per Hari"].iter_rows(values_only=True) if r and r[1] == "Jumlah hari ini"]
    assert [r[2:] for r in per_day] == [(3, 2, 2, 1, 0, 300), (6, 5, 9, 1, 1, 1350)]


def test_a_wrong_month_gets_the_format(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    rules, school = sample
    engine = Engine(rules, school, store, at(30, 8))
    replies = ask(engine, store, "/sms November", at(30, 8))
    assert [r.text for r in replies] == ["Format bulan: /sms YYYY-MM, contoh /sms 2026-11"]


def test_sms_is_for_the_admin_only(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    rules, school = sample
    engine = Engine(rules, school, store, at(30, 8))
    head = next(s for s in school.staff if s.role == "kepala_sekolah")
    engine.receive(InboundMessage(Channel.TELEGRAM, str(head.telegram_id), at(30, 8), "tg:1", "/sms"), at(30, 8))
    replies = [r.text for r in store.outbox_since(0)]
    assert replies == ["Perintah /sms tidak tersedia untuk peran Anda."]


def test_a_purge_of_the_whole_month_leaves_its_figures_unchanged(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    rules, school = sample
    november(store)
    before = figures(store)
    with store.unit() as session:
        gone = purge(session, rules, school, datetime(2029, 7, 10, 3, 0, tzinfo=UTC))
    assert gone["outbox"] == 11  # every row above, November's and the one of October
    with store.unit() as session:
        assert session.scalars(select(OutboxRow)).all() == []
        kept = {t.key: t.count for t in session.scalars(select(Tally))}
    assert figures(store) == before == EXPECTED
    assert kept["purged:sms_day:2026-11-03:reply:parts"] == 4 and not any(PARENT[1:] in k for k in kept)
    engine = Engine(rules, school, store, datetime(2029, 7, 10, 3, 0, tzinfo=UTC))
    text = ask(engine, store, "/sms 2026-11", datetime(2029, 7, 10, 3, 0, tzinfo=UTC))[0].text
    assert f"Total: {SENT} SMS terkirim, {PARTS} bagian, gagal {FAILED}, biaya Rp 1.650" in text


def test_a_purge_of_some_rows_of_the_month_leaves_its_figures_unchanged(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    """Replies to a number that never registered go after 30 days while the parents' stay: the month is then
    counted partly from rows and partly from the kept counts, and adds up to the same."""
    rules, school = sample
    with store.unit() as session:
        asked = InboxRow(source_id="sms:stranger:1", channel="sms", sender=STRANGER, text="halo", received_at=at(3, 10),
                         status="done")
        session.add(asked)
        session.add(ParentLink(phone=PARENT, nis=next(iter(school.students)), consent_at=at(1, 7)))
        session.flush()
        inbox_id = asked.id
    november(store)
    with store.unit() as session:
        help_row = session.scalars(select(OutboxRow).where(OutboxRow.kind == "help")).one()
        help_row.inbox_id = inbox_id
    before = figures(store)
    with store.unit() as session:
        gone = purge(session, rules, school, at(3, 10) + timedelta(days=45))
    assert gone["outbox"] == 1  # the help reply to the stranger
    with store.unit() as session:
        assert session.scalars(select(OutboxRow).where(OutboxRow.kind == "help")).all() == []
    assert figures(store) == before == EXPECTED


def test_the_simulator_sends_count_in_the_day_they_went_out(store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    """Through the engine: a REG and an alfa, sent by the simulator, are in /sms as they were sent."""
    rules, school = sample
    now = at(30, 7)
    engine, sim = Engine(rules, school, store, now), Simulator(store)
    student = next(iter(school.students.values()))
    engine.receive(InboundMessage(Channel.SMS, PARENT, now, "sms:1", f"REG {student.parent_code}"), now)
    sim.deliver(now)
    text = ask(engine, store, "/sms", now + timedelta(minutes=1))[0].text
    assert "- Balasan pendaftaran (REG): 1 SMS, 1 bagian" in text and "30/11: 1 SMS, 1 bagian, Rp 150" in text
