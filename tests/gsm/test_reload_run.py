"""A roster change reaches the running `absensi run` (SPEC §2): a real process, a modem on a pty."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_a_student_added_to_the_file_can_register_without_a_restart(emulators, db_url: str, tmp_path: Path) -> None:
    school = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school)
    modem = emulators("sim800")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    base = [sys.executable, "-m", "absensi.engine.app.cli"]
    log = tmp_path / "service.log"
    with log.open("w") as out:
        service = subprocess.Popen([*base, "run", "--school", str(school), "--modem", modem.port, "--db", db_url],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: any(c.startswith("AT+CNMI") for c in modem.commands), 30, "the modem to be initialised")
        # the modem starts before the engine does (drivers/gsm/warm.py): the engine is there once it holds the lease
        wait_for(lambda: "engine lease taken" in log.read_text(), 30, "the engine to have started")
        with (school / "students.csv").open("a") as roster:
            roster.write("1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n")
        asked = subprocess.run([*base, "reload", "--school", str(school), "--db", db_url], env=env,
                               capture_output=True, text=True, timeout=60)
        assert asked.returncode == 0 and "asked the engine" in asked.stdout, asked.stdout + asked.stderr
        wait_for(lambda: "reload: new school data" in log.read_text(), 30, "the reload")
        modem.deliver_text("+6281234500031", "REG AZ23QR", datetime.now(UTC))
        wait_for(lambda: any("Abdul Aziz" in t for t in modem.sent_texts()), 30, "the REG confirmation")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=30)
    assert service.returncode == 0, log.read_text()

