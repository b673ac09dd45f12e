"""`absensi run --modem PORT` as a user starts it: a real process, a modem on a pty, SIGTERM to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_run_serves_sms_and_stops_cleanly_on_sigterm(emulators, db_url: str) -> None:
    modem = emulators("sim800")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    command = [sys.executable, "-m", "absensi.engine.app.cli", "run", "--school", str(ROOT / "tests/schools/mini"),
               "--modem", modem.port, "--db", db_url]
    service = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: any(c.startswith("AT+CNMI") for c in modem.commands), 30, "the modem to be initialised")
        modem.deliver_text("+6281234500001", "REG AB12CD", datetime.now(UTC))
        wait_for(lambda: any("Budi Santoso" in t for t in modem.sent_texts()), 30, "the REG confirmation")
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    assert service.returncode == 0, output
    assert "Telegram: not running" in output and "SMS: 1 modem(s)" in output
    assert modem.sent_texts().count(next(t for t in modem.sent_texts() if "Budi Santoso" in t)) == 1
