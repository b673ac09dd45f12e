"""Operations through a real pty (issue 12, SPEC §9): the service's monitor publishes what the modem driver
knows, the engine's tick turns it into alerts to the admin — each fault knob of the emulator drives one: no
network, a full SIM, `+CMS` errors keeping an SMS waiting, a hung modem, a low pulsa read from USSD answers in
each encoding — each told once and cleared once; `/status` asks the pulsa and the answer follows.

The rules' operator data (rules/operators.yaml) decides the USSD code. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from absensi.engine.app.drivers import Started
from absensi.engine.app.monitor import Monitor
from absensi.engine.app.status import health
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import Backoff, DeliveryPolicy
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import Incident, OutboxRow

from .conftest import FAST, MovableClock, wait_for
from .emulator import ModemEmulator

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
ADMIN = "7000002"  # the sample school's admin
PATIENT = DeliveryPolicy(max_attempts=1000, retry=Backoff(0.2, 0.5), reconnect=Backoff(0.05, 0.4))


@pytest.fixture(scope="module")
def sample() -> tuple[CompiledRules, School]:
    rules = load_rules(ROOT / "rules")
    return rules, load_school(ROOT / "sample_school", rules.rules)


class Service:
    """The parts of `absensi run` that matter here: the modem pool, the monitor and the engine's tick."""

    def __init__(self, store: Store, rules: CompiledRules, school: School, pool, clock: MovableClock) -> None:  # type: ignore[no-untyped-def]
        self.store, self.pool, self.clock = store, pool, clock
        self.engine = Engine(rules, school, store, clock())
        self.monitor = Monitor(store, lambda: rules, WIB, Started([("gsm", pool)]), None, clock)

    def look(self) -> list[OutboxRow]:
        """One publish by the monitor, then one tick of the engine: what went to the admin."""
        self.monitor.round(self.clock())
        first = self.store.last_outbox_id()
        self.engine.tick(self.clock())
        return [r for r in self.store.outbox_since(first) if r.recipient == ADMIN]

    def later(self, minutes: float) -> list[OutboxRow]:
        self.clock.advance(timedelta(minutes=minutes))
        return self.look()

    def health(self):  # type: ignore[no-untyped-def]
        return self.pool.health()[0]

    def checked(self) -> None:
        """The balance checks the monitor asked have finished (the driver shows the pulsa a moment before)."""
        wait_for(lambda: all(c.future.done() for c in self.monitor.checks.values()), timeout=10,
                 what="the balance check to finish")


@pytest.fixture
def service(store: Store, sample, emulators, pool_for, clock):  # type: ignore[no-untyped-def]
    def make(emu: ModemEmulator | None = None, rules: CompiledRules | None = None, **kw) -> Service:  # type: ignore[no-untyped-def]
        emu = emu or emulators("sim800")
        pool = pool_for([emu], store, store, wait_ready=True, **kw)
        return Service(store, rules or sample[0], sample[1], pool, clock)
    return make


def texts(rows: list[OutboxRow]) -> list[str]:
    return [r.text for r in rows]


def incidents(store: Store) -> list[tuple[str, bool]]:
    with store.unit() as session:
        return [(i.key, i.cleared_at is None) for i in session.scalars(select(Incident).order_by(Incident.id))]


def test_a_modem_without_network_alerts_after_five_minutes_and_clears_when_it_is_back(service, emulators,
                                                                                       store: Store) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    svc = service(emu)
    assert svc.look() == []
    emu.network_state = 0  # not registered, not searching
    wait_for(lambda: not svc.health().registered, what="the worker to see the network gone")
    assert svc.look() == [] and svc.later(4) == []
    alert = texts(svc.later(1.5))
    assert alert == [f"PERLU PERHATIAN: modem {emu.port} tidak berfungsi (tidak ada jaringan) sejak "
                     f"{alert[0].rsplit('sejak ', 1)[1]}"] and len(alert) == 1
    assert svc.later(1) == []
    status = health(store, svc.clock())
    assert any("not working (no-network)" in p for p in status.problems), status.problems
    emu.network_state = None
    wait_for(lambda: svc.health().registered, what="the network back")
    cleared = texts(svc.look())
    assert len(cleared) == 1 and cleared[0].startswith(f"Sudah normal kembali: modem {emu.port} tidak berfungsi")
    assert svc.later(1) == [] and incidents(store) == [(f"modem_down:{emu.port}", False)]


def test_a_full_sim_alerts_at_once(service, emulators, store: Store) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    svc = service(emu)
    emu.sim_full = True
    wait_for(lambda: svc.health().sim_used == svc.health().sim_total == 30, what="the full SIM in the health")
    assert texts(svc.look()) == [f"PERLU PERHATIAN: penyimpanan SIM modem {emu.port} hampir penuh (30/30)."]
    assert svc.later(1) == []
    emu.sim_full = False
    wait_for(lambda: svc.health().sim_used == 0, what="the SIM emptied")
    assert texts(svc.look()) == [f"Sudah normal kembali: penyimpanan SIM modem {emu.port} hampir penuh (30/30) "
                                 "(berlangsung 1 menit)."]


def test_cms_errors_keep_an_sms_waiting_which_alerts_after_fifteen_minutes(service, emulators, store: Store) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    emu.always_send_error = 38  # network out of order: transient, retried
    store.policy = PATIENT
    svc = service(emu, settings=dataclasses.replace(FAST, policy=PATIENT))
    with store.unit() as session:
        session.add(OutboxRow(channel="sms", recipient="+6281234500001", text="ALFA", kind="alfa", status="pending",
                              created_at=svc.clock(), next_try_at=svc.clock()))
    wait_for(lambda: svc.health().sends_failed_today >= 2, what="the modem refusing the SMS")
    svc.look()
    (device,) = health(store, svc.clock()).devices
    assert device["sends_failed_today"] >= 2 and "CMS ERROR: 38" in device["last_error"]
    assert svc.later(10) == []
    assert texts(svc.later(6)) == ["PERLU PERHATIAN: 1 pesan SMS menunggu dikirim, yang tertua sudah 16 menit."]
    emu.always_send_error = None
    with store.unit() as session:  # due now rather than at its next retry
        session.scalars(select(OutboxRow).where(OutboxRow.channel == "sms")).one().next_try_at = svc.clock()
    wait_for(lambda: len(emu.sent) == 1, timeout=10, what="the SMS sent once the network is back")
    wait_for(lambda: store.outbox_since(0)[0].status in ("sent", "delivered"), what="the outbox row marked sent")
    assert texts(svc.look())[0].startswith("Sudah normal kembali: 1 pesan SMS menunggu dikirim")


def test_a_hung_modem_alerts_after_five_minutes(service, emulators, store: Store) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    svc = service(emu)
    emu.hung = True
    wait_for(lambda: svc.health().state == "hung", timeout=10, what="the worker to find the modem hung")
    assert svc.look() == []
    (alert,) = texts(svc.later(6))
    assert alert.startswith(f"PERLU PERHATIAN: modem {emu.port} tidak berfungsi (macet (tidak menjawab)) sejak")
    emu.hung = False
    wait_for(lambda: svc.health().state == "ready", timeout=10, what="the modem answering again")
    (cleared,) = texts(svc.look())
    assert cleared.startswith(f"Sudah normal kembali: modem {emu.port} tidak berfungsi (macet")


@pytest.mark.parametrize("encoding", [None, "packed", "ucs2", "text", "8bit", "ucs2-lang"])
def test_the_daily_balance_check_reads_the_pulsa_in_every_encoding_and_alerts_when_low(
        service, emulators, store: Store, encoding: str | None) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("huawei-e173")
    emu.ussd.text = "Sisa pulsa Anda Rp 4.500. Berlaku s.d. 31-12-2026"
    emu.ussd.encoding = encoding
    svc = service(emu)
    svc.look()  # 14:00 WIB, past the 06:30 check: today's check is due and asked now
    wait_for(lambda: svc.health().pulsa == 4500, timeout=10, what="the pulsa read from the USSD answer")
    (alert,) = texts(svc.look())
    assert alert == f"PERLU PERHATIAN: pulsa modem {emu.port} tinggal Rp 4.500 (batas Rp 10.000)."
    assert emu.ussd_requests == ["*888#"]  # Telkomsel's code from rules/operators.yaml
    assert svc.later(60) == [] and emu.ussd_requests == ["*888#"]  # once a day
    (device,) = health(store, svc.clock()).devices
    assert device["pulsa"] == 4500 and device["operator_name"] == "Telkomsel" and device["balance_error"] is None


def test_status_asks_the_pulsa_with_the_rules_code_and_the_answer_follows(service, emulators, store: Store,
                                                                         sample) -> None:  # type: ignore[no-untyped-def]
    rules, _ = sample
    telkomsel = rules.rules.operators["telkomsel"].model_copy(update={"balance_code": "*888*1#"})
    changed = dataclasses.replace(rules, rules=rules.rules.model_copy(
        update={"operators": {**rules.rules.operators, "telkomsel": telkomsel}}))
    emu = emulators("sim800")
    emu.ussd.text = "Pulsa: Rp 27.350 s/d 15/01/2027"
    svc = service(emu, rules=changed)
    svc.clock.offset -= timedelta(hours=8)  # 06:00 WIB: before the daily check
    assert svc.look() == [] and emu.ussd_requests == []
    now = svc.clock()
    svc.engine.receive(InboundMessage(Channel.TELEGRAM, ADMIN, now, "tg:1", "/status"), now)
    status = [r.text for r in store.outbox_since(0) if r.recipient == ADMIN][-1]
    assert f"Modem {emu.port} (Telkomsel): siap, sinyal 3/4 (-77 dBm), terdaftar, SIM 0/30" in status
    assert status.endswith("hasilnya menyusul dalam pesan tersendiri.")
    svc.look()  # the monitor sees the request and asks the modem
    wait_for(lambda: svc.health().pulsa == 27350, timeout=10, what="the balance answer")
    svc.checked()
    (answer,) = texts(svc.look())
    assert answer.startswith("Hasil cek pulsa") and f"- {emu.port} (Telkomsel): Rp 27.350" in answer
    assert emu.ussd_requests == ["*888*1#"]


def test_an_answer_the_pattern_cannot_read_is_said_so(service, emulators, store: Store) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    emu.ussd.text = "Maaf, layanan sedang sibuk. Silakan coba lagi."
    svc = service(emu)
    svc.look()
    svc.checked()
    svc.look()
    (device,) = health(store, svc.clock()).devices
    assert device["pulsa"] is None
    assert device["balance_error"] == "jawaban operator tidak terbaca: Maaf, layanan sedang sibuk. Silakan coba lagi."


def test_absensi_status_reads_what_the_running_service_published(emulators, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`absensi run --modem` on the pty publishes; `absensi status` (another process) shows it without the port,
    exits 0 while all is well and 1 once no engine runs."""
    from . import procs

    # The daily pulsa check runs from settings.alerts.balance_check_at (06:30 school time) on: a school of its
    # own whose rules say 00:00, so that the check is due whatever the hour the test runs at.
    school = tmp_path / "school"
    shutil.copytree(procs.MINI, school)
    shutil.copytree(procs.ROOT / "rules", school / "rules")
    settings = school / "rules" / "settings.yaml"
    settings.write_text(settings.read_text().replace('balance_check_at: "06:30"', 'balance_check_at: "00:00"'))
    assert 'balance_check_at: "00:00"' in settings.read_text()
    emu = emulators("sim800")
    service = procs.Service([emu.port], db_url, tmp_path, school=school).start()

    def status() -> tuple[int, dict]:  # type: ignore[type-arg]
        done = subprocess.run(procs.absensi("status", "--school", str(school), "--db", db_url, "--json"),
                              capture_output=True, text=True, env=procs._env(), timeout=60)
        return done.returncode, json.loads(done.stdout) if done.returncode in (0, 1) else {}  # 2: no database yet

    try:
        service.wait_until(lambda: any(d.get("pulsa") == 12500 for d in status()[1].get("devices", [])), 60,
                           "the modem ready, with the pulsa of the daily check, in absensi status")
        code, state = status()
        (device,) = state["devices"]
        assert code == 0 and state["problems"] == [], state
        assert (device["port"], device["state"], device["operator_name"], device["signal_bars"]) == \
            (emu.port, "ready", "Telkomsel", 3)
        assert device["registered"] and device["sim_total"] == 30 and device["working"] and not device["stale"]
        assert state["service"]["holder"].endswith(f":{service.pid}") and state["service"]["version"]
        assert state["telegram"]["configured"] is False and state["database_bytes"] > 0
        assert emu.ussd_requests == ["*888#"]  # the daily check (due from 00:00 here), with the rules' code
    finally:
        service.stop()
    procs.wait_for(lambda: status()[0] == 1, 30, "absensi status to notice no engine runs (3 missed heartbeats)")
    code, state = status()
    assert state["devices"] == [] and any("no engine" in p for p in state["problems"])  # its rows withdrawn
