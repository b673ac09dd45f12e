"""The command line of SPEC §9: `absensi status` shows what the running service published and exits 1 when
something needs attention; `absensi report sms` writes the month's SMS sheet. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.operations.facts import publish
from absensi.engine.store import Store
from absensi.engine.store.models import EngineLease, OutboxRow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_school"
PORT = "/dev/ttyUSB0"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--school", str(SAMPLE)])
    return result.exit_code, result.output


def the_service_runs(store: Store, now: datetime, **modem: object) -> None:
    """What a running `absensi run` leaves in the database: its lease and its published health."""
    with store.unit() as session:
        session.add(EngineLease(name="engine", holder="box:4242", acquired_at=now - timedelta(hours=2),
                                heartbeat_at=now))
        publish(session, "box:4242", [
            ("process:box:4242", "process", {"holder": "box:4242", "started_at": (now - timedelta(hours=2)).isoformat(),
                                             "version": "0.1.0", "timezone": "Asia/Jakarta", "alerts": {}}),
            (f"sms:{PORT}", "modem", {"port": PORT, "state": "ready", "registered": True,
                                      "registration": "home network", "operator": "TELKOMSEL",
                                      "operator_name": "Telkomsel", "signal_bars": 3, "signal_dbm": -77,
                                      "sim_used": 4, "sim_total": 30, "sends_failed_today": 1, "pulsa": 12500,
                                      "pulsa_at": now.isoformat(), **modem}),
            ("telegram:box:4242", "telegram", {"configured": True, "connected": True}),
        ], now)


def test_status_prints_every_part_and_exits_0_when_all_is_well(db_url: str) -> None:
    store = Store(db_url)
    the_service_runs(store, datetime.now(UTC))
    store.close()
    code, output = run("status", "--db", db_url)
    assert code == 0, output
    assert "Engine: box:4242" in output and "running" in output
    assert "Service: version 0.1.0, up 2 h 0 min" in output
    assert (f"SMS modem {PORT} (Telkomsel): ready, registered (home network), signal 3/4 (-77 dBm), SIM 4/30, "
            "last send -, last receive -, failed today 1, pulsa Rp 12.500") in output
    assert "Telegram: connected" in output and "!" not in output


def test_status_says_what_needs_attention_and_exits_1(db_url: str) -> None:
    store = Store(db_url)
    now = datetime.now(UTC)
    the_service_runs(store, now, pulsa=3000, sim_used=29)
    store.close()
    code, output = run("status", "--db", db_url)
    assert code == 1, output
    assert f"! modem {PORT}: SIM storage 29/30 nearly full" in output
    assert f"! modem {PORT}: pulsa Rp 3.000 under Rp 10.000" in output
    code, output = run("status", "--db", db_url, "--json")
    state = json.loads(output)
    assert code == 1 and len(state["problems"]) == 2 and state["devices"][0]["pulsa"] == 3000
    assert state["service"]["version"] == "0.1.0" and state["telegram"]["connected"] is True


def test_report_sms_writes_the_sheet_and_prints_the_month(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    at = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with store.unit() as session:
        for kind, text, sent in (("alfa", "ALFA " * 10, at), ("help", "x" * 200, at), ("reply", "ok", None)):
            session.add(OutboxRow(channel="sms", recipient="+6281234500001", text=text, kind=kind,
                                  status="sent" if sent else "failed", created_at=at, next_try_at=at, sent_at=sent))
    store.close()
    out = tmp_path / "sms.xlsx"
    code, output = run("report", "sms", "--month", "2026-11", "-o", str(out), "--db", db_url)
    assert code == 0, output
    assert "Total: 2 SMS terkirim, 3 bagian, gagal 1, biaya Rp 450 (Rp 150 per bagian)" in output
    assert out.stat().st_mode & 0o777 == 0o600
    rows = {r[0]: r[1:] for r in load_workbook(out)["Per Jenis"].iter_rows(values_only=True) if r and r[1] is not None}
    assert rows["Jumlah"] == (3, 2, 3, 1, 0, 450)


def test_report_sms_refuses_a_month_that_is_not_one(db_url: str, tmp_path: Path) -> None:
    Store(db_url).close()
    code, output = run("report", "sms", "--month", "11-2026", "-o", str(tmp_path / "sms.xlsx"), "--db", db_url)
    assert code == 2 and "--month '11-2026' is not YYYY-MM" in output
    assert not (tmp_path / "sms.xlsx").exists()
