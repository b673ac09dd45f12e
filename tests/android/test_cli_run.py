"""`absensi run --gateway URL` as a user starts it: a real process, the fake phone on loopback, SIGTERM to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from .conftest import KEY, wait_for
from .fake_gateway import FakeGateway

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, key: str | None = KEY, school: Path = ROOT / "tests/schools/mini") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ABSENSI_GATEWAY_"))}
    env["PYTHONUNBUFFERED"] = "1"
    if key is not None:
        env["ABSENSI_GATEWAY_KEY"] = key
    command = [sys.executable, "-m", "absensi.engine.app.cli", "run", "--school", str(school),
               *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_run_with_a_phone_answers_a_parent_once_and_stops_cleanly(phone: FakeGateway, db_url: str) -> None:
    service = _run("--gateway", phone.url, "--gateway-listen", "127.0.0.1:0", "--db", db_url)
    try:
        wait_for(lambda: len(phone.webhooks) == 4, 60, "the webhooks registered")
        assert phone.signing_key == KEY
        assert phone.receive("+6281234500001", "REG AB12CD", times=2) == [200, 200]
        wait_for(lambda: any("Budi Santoso" in m["text"] for m in phone.messages.values()), 60, "the REG reply")
        [mid] = [i for i, m in phone.messages.items() if "Budi Santoso" in m["text"]]
        assert phone.messages[mid]["phone"] == "+6281234500001"
        assert phone.advance(mid, "Sent") == [200]
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=60)
    assert service.returncode == 0, output
    assert "SMS: 1 phone(s)" in output
    assert phone.password not in output and quote(phone.password, safe="") not in output
    assert len(phone.messages) == 1  # one reply, though the SMS came in twice


def test_run_without_the_signing_key_says_so(phone: FakeGateway, tmp_path: Path) -> None:
    service = _run("--gateway", phone.url, "--gateway-listen", "127.0.0.1:0", "--db",
                   f"sqlite:///{tmp_path / 'a.db'}", key=None)
    output, _ = service.communicate(timeout=60)
    assert service.returncode == 2, output
    assert "ABSENSI_GATEWAY_KEY" in output and "Traceback" not in output


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_the_web_console_on_the_phones_post_to_its_listener(phone: FakeGateway, db_url: str,
                                                                  tmp_path: Path) -> None:
    """`--web` without `--gateway-listen`: one listener serves the console and the signed webhooks (issue 13)."""
    import shutil
    import urllib.error
    import urllib.request

    school = shutil.copytree(ROOT / "tests/schools/mini", tmp_path / "school")  # the console keeps its secret there
    port = _free_port()
    service = _run("--gateway", phone.url, "--web", f"127.0.0.1:{port}", "--db", db_url, school=school)
    try:
        wait_for(lambda: len(phone.webhooks) == 4, 60, "the webhooks registered")
        assert {w["url"] for w in phone.webhooks.values()} == {f"http://127.0.0.1:{port}/absensi/webhook"}
        assert phone.receive("+6281234500001", "REG AB12CD", times=2) == [200, 200]
        wait_for(lambda: any("Budi Santoso" in m["text"] for m in phone.messages.values()), 60, "the REG reply")
        payload = {"messageId": "x1", "message": "REG AB12CD", "phoneNumber": "+6281234500002"}
        assert phone.post_webhook("sms:received", payload, signed=False) == [401]  # refused, as on its own port
        try:  # the console is still there: its login page (401 until a /web link is used)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
            raise AssertionError("the console must ask for a login")
        except urllib.error.HTTPError as page:
            assert page.code == 401 and "text/html" in page.headers["Content-Type"]
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/absensi/webhook", timeout=10)
            raise AssertionError("a GET of the webhook path must be refused")
        except urllib.error.HTTPError as refused:
            assert refused.code == 405
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=60)
    assert service.returncode == 0, output
    assert "(the web console's listener)" in output, output
    assert len(phone.messages) == 1
