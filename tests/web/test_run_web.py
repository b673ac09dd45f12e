"""`absensi run --web` as an operator starts it (issue 13): a real process (a loop:// modem so that it has
something to serve, no Telegram), the console on a free loopback port, published for `/web`, withdrawn on
SIGTERM; a wrong address is one line and exit 2."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from absensi.engine.store import Store, weblogin

ROOT = Path(__file__).resolve().parents[2]


def _run(school: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "300"  # rich wraps its lines at the terminal width
    return subprocess.Popen([sys.executable, "-m", "absensi.engine.app.cli", "run", "--school", str(school),
                             "--modem", "loop://", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def published(db_url: str) -> str | None:
    store = Store(db_url)
    try:
        with store.unit() as session:
            return weblogin.console_url(session, datetime.now(UTC))
    finally:
        store.close()


def test_run_serves_the_console_and_withdraws_it_on_stop(tmp_path: Path, db_url: str) -> None:
    school = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school)
    service = _run(school, "--db", db_url, "--web", "127.0.0.1:0", "--web-url", "https://absensi.example.sch.id")
    assert service.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = service.stdout.readline()
            lines.append(line)
            if "Web: console at" in line or not line:
                break
        found = re.search(r"Web: console at (http://127\.0\.0\.1:\d+), links name https://absensi\.example\.sch\.id",
                          "".join(lines))
        assert found, "".join(lines)
        with urllib.request.urlopen(f"{found.group(1)}/masuk") as page:
            assert page.status == 200 and "Kirim <strong>/web</strong>" in page.read().decode()
        assert published(db_url) == "https://absensi.example.sch.id"
        assert (school / ".absensi-web.key").stat().st_mode & 0o777 == 0o600
        while time.monotonic() < deadline and "Telegram: not running" not in lines[-1] and lines[-1]:
            lines.append(service.stdout.readline())  # the last line before it waits for a signal
        time.sleep(2)  # (its SIGTERM handler is set up right after that line)
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=60)
    assert service.returncode == 0, "".join(lines) + output
    assert published(db_url) is None


def test_run_with_a_wrong_web_address_says_so(tmp_path: Path) -> None:
    school = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school)
    service = _run(school, "--db", f"sqlite:///{tmp_path / 'a.db'}", "--web", "127.0.0.1:http")
    output, _ = service.communicate(timeout=60)
    assert service.returncode == 2, output
    assert "Web: --web: '127.0.0.1:http' is not HOST:PORT" in output and "Traceback" not in output
