"""Fingerprint machines pulled live (`absensi run --finger`) in the service's health (SPEC §9, §10): each polling
thread's state, last successful pull, records and capacity, clock offset and last error are published like the
modems (engine/app/monitor.py) and shown by `/status`, the web console's Status page, `absensi status [--json]`; a machine not pulled for
`finger_down_minutes` in school hours, and a log `finger_log_percent` full, are alerts. A fake machine on
loopback (fake_zk.py) and a real polling thread; on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner
from werkzeug.test import Client

from absensi.drivers.finger.poller import DevicePoller, FingerPollers
from absensi.engine.app.cli import app
from absensi.engine.app.cli_ops import print_health
from absensi.engine.app.finger_pull import live_sink
from absensi.engine.app.monitor import Monitor
from absensi.engine.app.status import health
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.operations.conditions import conditions
from absensi.engine.operations.facts import Facts, Published
from absensi.engine.ports import Backoff
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.rules.schema import Alerts
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import Incident
from absensi.engine.web.app import WebApp
from absensi.engine.web.server import login_link

from .fake_zk import FakeZk

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
ADMIN = "7000002"  # sample_school's admin
DAY = datetime(2026, 11, 30, 6, 50)
LOG = [(str(1001 + n), DAY + timedelta(minutes=n)) for n in range(9)]


@pytest.fixture(scope="module")
def sample() -> tuple[CompiledRules, School]:
    rules = load_rules(ROOT / "rules")
    return rules, load_school(ROOT / "sample_school", rules.rules)


@pytest.fixture
def machine() -> Iterator[FakeZk]:
    with FakeZk(records=list(LOG), capacity=10, clock_offset=timedelta(minutes=12), tz=WIB) as fake:
        yield fake


def _monitor(store: Store, sample: tuple[CompiledRules, School], poller: DevicePoller, now: datetime) -> Monitor:
    rules, school = sample
    return Monitor(store, lambda: rules, WIB, None, None, lambda: now, fingers=FingerPollers([poller]),
                   calendar=lambda: school.calendar)


def _told(store: Store, since: int) -> list[str]:
    return [r.text for r in store.outbox_since(since) if r.channel == "telegram" and r.recipient == ADMIN]


def test_a_machine_pulled_live_is_in_status_with_its_log_and_clock(store: Store, sample, machine: FakeZk) -> None:  # type: ignore[no-untyped-def]
    rules, school = sample
    poller = DevicePoller(machine.address, live_sink(store, lambda: school, lambda: None), lambda: 300.0).start()
    try:
        assert poller.pulled.wait(10)
    finally:
        poller.stop()
    assert poller.state == "ready", poller.state
    now = datetime.now(UTC)
    _monitor(store, sample, poller, now).round(now)
    port = f"127.0.0.1:{machine.port}"

    state = health(store, now)
    [published] = state.fingers
    assert (published["port"], published["state"], published["error"]) == (port, "ready", None)
    assert (published["records"], published["capacity"], published["clock_offset_minutes"]) == (9, 10, 12)
    assert not published["stale"] and published["last_pull"] is not None
    assert f"fingerprint machine {port}: attendance log 90 % full (9/10): clear it on the machine after a pull" \
        in state.problems
    console = Console(record=True, width=200)
    print_health(state, console)
    line = next(x for x in console.export_text().splitlines() if x.startswith("Fingerprint"))
    assert line.startswith(f"Fingerprint {port}: ready, last pull ") and \
        line.endswith("9/10 records (90 %), clock 12 min ahead"), line

    result = CliRunner().invoke(app, ["status", "--school", str(ROOT / "sample_school"), "--db", store.url, "--json"])
    assert result.exit_code == 1, result.output  # the log 90 % full needs attention
    assert [(m["port"], m["records"]) for m in json.loads(result.output)["fingers"]] == [(port, 9)]

    first = store.last_outbox_id()
    Engine(rules, school, store, now).receive(InboundMessage(Channel.TELEGRAM, ADMIN, now, "tg:1", "/status"), now)
    [answer] = [t for t in _told(store, first) if t.startswith("Status layanan")]
    assert f"Mesin finger {port}: siap, tarik terakhir " in answer
    assert "9/10 catatan (90%), jam mesin 12 menit lebih cepat" in answer
    assert f"- log mesin finger {port} sudah 90% penuh (9/10); kosongkan di mesin setelah ditarik" in answer

    # the web console's Status page shows the same line
    web = WebApp(store, lambda: rules, lambda: school, b"k" * 32, clock=lambda: now)
    client = Client(web)
    path = login_link(store, int(ADMIN), "http://localhost", now=now).removeprefix("http://localhost")
    form = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None and client.post(path, data={"csrf": token.group(1)}).status_code == 303
    page = html.unescape(client.get("/status").get_data(as_text=True))
    assert "<h2>Mesin finger</h2>" in page and f"Mesin finger {port}: siap, tarik terakhir " in page
    assert f"log mesin finger {port} sudah 90% penuh" in page


@pytest.mark.parametrize("start, watched", [(datetime(2026, 11, 30, 8, 0, tzinfo=WIB), True),  # Monday, school
                                            (datetime(2026, 11, 30, 16, 0, tzinfo=WIB), False)])  # after hours
def test_a_stopped_machine_is_an_alert_after_its_grace_in_school_hours(store: Store, sample, start: datetime,  # type: ignore[no-untyped-def]
                                                                       watched: bool) -> None:
    rules, school = sample
    clock = [start]
    with FakeZk(records=list(LOG)) as fake:
        poller = DevicePoller(fake.address, live_sink(store, lambda: school, lambda: None), lambda: 0.2,
                              reconnect=Backoff(0.05, 0.2), now=lambda: clock[0]).start()
        assert poller.pulled.wait(10)
    try:  # the machine is off now: the thread's next pulls fail
        deadline = time.monotonic() + 10
        while not poller.state.startswith("failing") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert poller.state.startswith("failing"), poller.state
        port = f"127.0.0.1:{fake.port}"
        engine = Engine(rules, school, store, start)
        for minutes, incident in ((10, False), (31, watched)):
            now = start + timedelta(minutes=minutes)
            _monitor(store, sample, poller, now).round(now)
            first = store.last_outbox_id()
            engine.tick(now)
            with store.unit() as session:
                keys = [i.key for i in session.scalars(select(Incident))]
            assert keys == ([f"finger_down:{port}"] if incident else []), (minutes, keys)
            told = [t for t in _told(store, first) if "mesin finger" in t]
            state = health(store, now)
            if minutes == 10:
                assert told == [] and state.fingers[0]["state"] == "failing" and state.fingers[0]["error"]
                assert not any("fingerprint" in p for p in state.problems + state.watching)
            elif incident:
                [alert] = told
                assert f"mesin finger {port} tidak berhasil ditarik sejak 08.00 (" in alert, alert
                assert any(p.startswith(f"fingerprint machine {port} not pulled since") for p in state.problems)
            else:  # after school hours: watched, not an incident
                assert told == [] and not any("fingerprint" in p for p in state.problems)
                assert any(p.startswith(f"fingerprint machine {port} not pulled since") for p in state.watching)
        # the machine is back on the same address: the next pull works and an open incident clears, told once
        clock[0] = start + timedelta(minutes=40)
        with FakeZk(records=list(LOG), bind=fake.port):
            poller.pulled.clear()
            deadline = time.monotonic() + 10
            while poller.state != "ready" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert poller.state == "ready", poller.state
        now = clock[0]
        _monitor(store, sample, poller, now).round(now)
        first = store.last_outbox_id()
        engine.tick(now)
        with store.unit() as session:
            open_ = [(i.key, i.cleared_at is None) for i in session.scalars(select(Incident))]
        assert open_ == ([(f"finger_down:{port}", False)] if watched else [])
        cleared = [t for t in _told(store, first) if "mesin finger" in t]
        assert len(cleared) == (1 if watched else 0) and (not cleared or "tidak berhasil ditarik" in cleared[0])
        assert not any("fingerprint" in p for p in health(store, now).problems + health(store, now).watching)
    finally:
        poller.stop()


@pytest.mark.parametrize("poll_minutes, silent_minutes, due", [(5, 29, False), (5, 30, True), (60, 100, False),
                                                               (60, 120, True)])
def test_a_machine_pulled_less_often_is_given_two_of_its_intervals(poll_minutes: int, silent_minutes: int,
                                                                   due: bool) -> None:
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    data = {"port": "10.0.0.5:4370", "state": "ready", "interval_s": 60.0 * poll_minutes, "watched": True,
            "last_pull": (now - timedelta(minutes=silent_minutes)).isoformat(), "records": 5, "capacity": 100}
    facts = Facts(now, None, [], [], None, 0, None, 0, None, {}, {}, None, None,  # type: ignore[arg-type]
                  fingers=[Published("finger:10.0.0.5:4370", "finger", "box:1", now, data)])
    found = [c for c in conditions(facts, Alerts()) if c.kind.startswith("finger")]
    assert [(c.key, c.due) for c in found] == ([("finger_down:10.0.0.5:4370", True)] if due else [])
