"""Alerts (SPEC §9), driven by what a running service publishes: each is told to the admin once when it opens
and once when it clears, never again after a restart; Telegram being down goes by SMS to the admin's phone.
The daily summary at 15:00, and `/status` with the pulsa answer that follows it.

The facts are written here as the service's monitor writes them (engine/app/monitor.py); tests/gsm and
tests/telegram drive the same alerts from the emulated modem's fault knobs and a failing Telegram connection.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.operations.facts import publish
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import ClassReport, InboxRow, Incident, OutboxRow, Tally

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=WIB)  # a Monday, a school day
ADMIN = "7000002"
ADMIN_PHONE = "+6287775407301"  # staff.csv: 6287775407301
PORT = "/dev/ttyUSB0"
HOLDER = "box:4242"


@pytest.fixture(scope="module")
def sample() -> tuple[CompiledRules, School]:
    rules = load_rules(ROOT / "rules")
    return rules, load_school(ROOT / "sample_school", rules.rules)


@pytest.fixture
def engine(store: Store, sample) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(*sample, store, T0)


def modem(now: datetime, **data: Any) -> tuple[str, str, dict[str, Any]]:
    base = {"port": PORT, "state": "ready", "registered": True, "registration": "home network", "operator": "TELKOMSEL",
            "operator_name": "Telkomsel", "signal_bars": 3, "signal_dbm": -77, "sim_used": 2, "sim_total": 30,
            "sends_failed_today": 0, "pulsa": 25000, "pulsa_at": T0.isoformat(), "down_since": None}
    return f"sms:{PORT}", "modem", {**base, **data}


def telegram(**data: Any) -> tuple[str, str, dict[str, Any]]:
    return f"telegram:{HOLDER}", "telegram", {"configured": True, "connected": True, "down_since": None, **data}


def seen(store: Store, now: datetime, *rows: tuple[str, str, dict[str, Any]]) -> None:
    with store.unit() as session:
        publish(session, HOLDER, list(rows), now)


def tick(engine: Engine, store: Store, now: datetime, *rows: tuple[str, str, dict[str, Any]]) -> list[OutboxRow]:
    """The engine's clock tick at `now`, after the service published `rows` (it does every 30 s)."""
    if rows:
        seen(store, now, *rows)
    first = store.last_outbox_id()
    engine.tick(now)
    return store.outbox_since(first)


def texts(rows: list[OutboxRow], channel: str = "telegram", to: str = ADMIN) -> list[str]:
    return [r.text for r in rows if r.channel == channel and r.recipient == to]


def incidents(store: Store) -> list[tuple[str, bool]]:
    with store.unit() as session:
        return [(i.key, i.cleared_at is None) for i in session.scalars(select(Incident).order_by(Incident.id))]


def test_a_modem_off_the_network_alerts_after_five_minutes_once_and_clears_once(engine: Engine, store: Store,
                                                                               sample) -> None:  # type: ignore[no-untyped-def]
    down = modem(T0, registered=False, registration="searching", state="no-network", down_since=T0.isoformat())
    assert tick(engine, store, T0 + timedelta(minutes=4), down) == []
    opened = texts(tick(engine, store, T0 + timedelta(minutes=5), down))
    assert opened == [f"PERLU PERHATIAN: modem {PORT} tidak berfungsi (tidak ada jaringan) sejak 08.00."]
    assert tick(engine, store, T0 + timedelta(minutes=6), down) == []
    restarted = Engine(*sample, store, T0 + timedelta(minutes=7))  # a restart remembers the incident
    assert tick(restarted, store, T0 + timedelta(minutes=7), down) == []
    cleared = texts(tick(restarted, store, T0 + timedelta(minutes=8), modem(T0)))
    assert cleared == [f"Sudah normal kembali: modem {PORT} tidak berfungsi (tidak ada jaringan) sejak 08.00 "
                       "(berlangsung 8 menit)."]
    assert tick(restarted, store, T0 + timedelta(minutes=9)) == []
    assert incidents(store) == [(f"modem_down:{PORT}", False)]


def test_a_modem_back_within_its_grace_is_never_an_incident(engine: Engine, store: Store) -> None:
    hung = modem(T0, state="hung", down_since=T0.isoformat())
    assert tick(engine, store, T0 + timedelta(minutes=3), hung) == []
    assert tick(engine, store, T0 + timedelta(minutes=6), modem(T0)) == [] and incidents(store) == []


def test_a_device_nobody_publishes_any_more_counts_as_down(engine: Engine, store: Store) -> None:
    """The process serving it died (its row is not refreshed): unreachable, since its last word."""
    seen(store, T0, modem(T0))
    opened = texts(tick(engine, store, T0 + timedelta(minutes=6)))
    assert opened == [f"PERLU PERHATIAN: modem {PORT} tidak berfungsi (tidak ada kabar) sejak 08.00."]


@pytest.mark.parametrize(("data", "words"), [
    ({"sim_used": 28, "sim_total": 30}, f"penyimpanan SIM modem {PORT} hampir penuh (28/30)"),
    ({"pulsa": 4500}, f"pulsa modem {PORT} tinggal Rp 4.500 (batas Rp 10.000)"),
])
def test_sim_storage_and_pulsa_alert_at_once_and_clear(engine: Engine, store: Store, data: dict[str, Any],
                                                         words: str) -> None:
    assert texts(tick(engine, store, T0, modem(T0, **data))) == [f"PERLU PERHATIAN: {words}."]
    assert tick(engine, store, T0 + timedelta(seconds=30), modem(T0, **data)) == []
    assert texts(tick(engine, store, T0 + timedelta(minutes=1), modem(T0))) == [
        f"Sudah normal kembali: {words} (berlangsung 1 menit)."]


def test_a_message_kept_in_the_error_inbox(engine: Engine, store: Store) -> None:
    with store.unit() as session:
        session.add(InboxRow(source_id="sms:x", channel="sms", sender="+6281", text="?", received_at=T0,
                             status="error", error="ValueError"))
    assert texts(tick(engine, store, T0)) == [
        "PERLU PERHATIAN: 1 pesan masuk tersimpan di kotak galat; periksa dengan: absensi inbox."]
    with store.unit() as session:
        session.scalars(select(InboxRow)).one().status = "done"
    assert texts(tick(engine, store, T0 + timedelta(minutes=2)))[0].startswith("Sudah normal kembali: 1 pesan masuk")


def test_an_sms_waiting_over_fifteen_minutes(engine: Engine, store: Store) -> None:
    with store.unit() as session:
        session.add(OutboxRow(channel="sms", recipient="+6281234500001", text="x", kind="alfa", status="pending",
                              created_at=T0, next_try_at=T0))
    assert tick(engine, store, T0 + timedelta(minutes=14)) == []
    assert texts(tick(engine, store, T0 + timedelta(minutes=15))) == [
        "PERLU PERHATIAN: 1 pesan SMS menunggu dikirim, yang tertua sudah 15 menit."]


def test_telegram_down_ten_minutes_goes_by_sms_to_the_admins_phone_and_so_does_its_end(engine: Engine,
                                                                                       store: Store) -> None:
    down = telegram(connected=False, down_since=T0.isoformat(), error="OSError: Network is unreachable")
    assert tick(engine, store, T0 + timedelta(minutes=9), down) == []
    opened = tick(engine, store, T0 + timedelta(minutes=10), down)
    assert texts(opened, "sms", ADMIN_PHONE) == [
        "SMK PGRI 1 Tangerang: Telegram tidak terhubung sejak 08.00. Pesan Telegram tertunda; periksa internet "
        "server absensi."]
    assert texts(opened) == ["PERLU PERHATIAN: Telegram tidak terhubung sejak 08.00."]  # waits for Telegram
    assert [r.kind for r in opened] == ["alert", "alert"]
    assert tick(engine, store, T0 + timedelta(minutes=11), down) == []
    cleared = tick(engine, store, T0 + timedelta(minutes=12), telegram())
    assert texts(cleared, "sms", ADMIN_PHONE) == [
        "SMK PGRI 1 Tangerang: sudah normal kembali: Telegram tidak terhubung sejak 08.00."]
    assert len(texts(cleared)) == 1


def test_a_service_without_telegram_is_not_telegram_down(engine: Engine, store: Store) -> None:
    with store.unit() as session:
        session.add(OutboxRow(channel="telegram", recipient=ADMIN, text="x", status="pending", created_at=T0,
                              next_try_at=T0))
    produced = tick(engine, store, T0 + timedelta(hours=1), telegram(configured=False, connected=False))
    assert [r for r in produced if r.kind == "alert"] == []  # (the 09:00 reminders fell due meanwhile)


def test_the_daily_summary_at_three_on_school_days(engine: Engine, store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    _, school = sample
    with store.unit() as session:
        session.add(ClassReport(class_name=sorted(school.classes)[0], day=T0.date(), reporter="x", at=T0))
        session.add(OutboxRow(channel="sms", recipient="+6281234500001", text="alfa", kind="alfa", status="sent",
                              created_at=T0, next_try_at=T0, sent_at=T0))
        session.add(OutboxRow(channel="sms", recipient="+6281234500002", text="alfa", kind="alfa", status="failed",
                              created_at=T0, next_try_at=T0))
    afternoon = T0.replace(hour=15)
    before = tick(engine, store, afternoon - timedelta(minutes=1))
    assert [r.kind for r in before] == ["delivery_failed"]  # (the failed alfa is told as it always is)
    summary = texts(tick(engine, store, afternoon))
    assert len(summary) == 1
    assert summary[0].startswith("Ringkasan Senin, 30 November 2026:\nKelas sudah melapor: 1 dari 24 (belum: ")
    assert "SMS alfa/pemberitahuan ke ortu terkirim: 1\nPesan gagal terkirim hari ini: 1\n" in summary[0]
    assert "SMS hari ini: 1 (1 bagian, Rp 150)\nLayanan normal." in summary[0]
    assert tick(engine, store, afternoon + timedelta(minutes=1)) == []
    saturday = afternoon + timedelta(days=5)
    assert tick(engine, store, saturday) == []


def test_status_shows_the_devices_and_asks_the_pulsa_whose_answer_follows(engine: Engine, store: Store) -> None:
    gateway = ("sms:http://***@192.168.1.20:8080", "gateway",
               {"port": "http://***@192.168.1.20:8080", "state": "ready", "pulsa": None, "down_since": None})
    seen(store, T0, modem(T0, last_send=T0.isoformat()), gateway, telegram())
    first = store.last_outbox_id()
    engine.receive(InboundMessage(Channel.TELEGRAM, ADMIN, T0, "tg:1", "/status"), T0)
    (status,) = texts(store.outbox_since(first))
    assert status.startswith("Status layanan SMK PGRI 1 Tangerang, pukul 08.00\nMesin: berjalan\n")
    assert (f"Modem {PORT} (Telkomsel): siap, sinyal 3/4 (-77 dBm), terdaftar, SIM 2/30, kirim terakhir 08.00, "
            "terima terakhir -, gagal hari ini 0, Rp 25.000 (08.00)") in status
    assert "HP gateway http://***@192.168.1.20:8080: siap, kirim terakhir -, terima terakhir -, pulsa tidak diketahui" \
        in status
    assert "Telegram: tersambung\n" in status and "Semua normal." in status
    assert status.endswith("Pulsa sedang dicek lewat USSD; hasilnya menyusul dalam pesan tersendiri.")
    with store.unit() as session:
        assert session.get(Tally, "pulsa:asked") is not None
    assert tick(engine, store, T0 + timedelta(seconds=20), modem(T0), gateway, telegram()) == []  # no answer yet
    answered = T0 + timedelta(seconds=40)
    (result,) = texts(tick(engine, store, answered, modem(answered, pulsa=12500, pulsa_at=answered.isoformat(),
                                                          balance_at=answered.isoformat()), gateway, telegram()))
    assert result == (f"Hasil cek pulsa (pukul 08.00):\n- {PORT} (Telkomsel): Rp 12.500 (08.00)\n"
                      "- http://***@192.168.1.20:8080: pulsa tidak diketahui (gateway HP)")
    assert tick(engine, store, answered + timedelta(minutes=5), modem(answered), gateway, telegram()) == []


def test_a_pulsa_check_that_fails_or_never_answers_is_said_so(engine: Engine, store: Store) -> None:
    seen(store, T0, modem(T0))
    engine.receive(InboundMessage(Channel.TELEGRAM, ADMIN, T0, "tg:1", "/status"), T0)
    later = T0 + timedelta(minutes=4)
    (result,) = texts(tick(engine, store, later, modem(later)))
    assert result == f"Hasil cek pulsa (pukul 08.04):\n- {PORT} (Telkomsel): Rp 25.000 (08.00), belum menjawab cek terbaru"
    engine.receive(InboundMessage(Channel.TELEGRAM, ADMIN, later, "tg:2", "/status"), later)
    failed = later + timedelta(seconds=30)
    (result,) = texts(tick(engine, store, failed, modem(failed, balance_at=failed.isoformat(),
                                                         balance_error="USSD: no answer in 30 s")))
    assert result.endswith(f"- {PORT} (Telkomsel): gagal dicek (USSD: no answer in 30 s)")


def test_status_for_other_roles_is_still_the_classes_reporting(engine: Engine, store: Store, sample) -> None:  # type: ignore[no-untyped-def]
    _, school = sample
    head = next(s for s in school.staff if s.role == "kepala_sekolah")
    engine.receive(InboundMessage(Channel.TELEGRAM, str(head.telegram_id), T0, "tg:1", "/status"), T0)
    (reply,) = [r.text for r in store.outbox_since(0)]
    assert reply.startswith("Status lapor Senin, 30 November 2026\nSudah lapor: 0/24 kelas")
