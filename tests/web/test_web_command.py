"""`/web` in Telegram and the console served on a real loopback port (issue 13), on SQLite and PostgreSQL:
the bot answers a linked staff member with a one-time link to the running console (or says none runs),
refuses class officers (students), and the link it sends logs in over real HTTP exactly once."""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.operations.facts import publish
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store, weblogin
from absensi.engine.store.models import OutboxRow, WebLogin
from absensi.engine.web.app import HEADERS
from absensi.engine.web.server import console_row, parse_address, start

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
KETUA_1, WALI_1, ADMIN = 700001, 700003, 700012


@pytest.fixture
def school(tmp_path: Path, rules: CompiledRules) -> School:
    directory = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", directory)
    return load_school(directory, rules.rules)


def ask(engine: Engine, user: int, n: int, now: datetime = T0) -> list[OutboundMessage]:
    return engine.receive(InboundMessage(Channel.TELEGRAM, str(user), now, f"tg:{user}:{n}", "/web"), now)


def link_in(answer: list[OutboundMessage]) -> str:
    found = re.search(r"https?://\S+/masuk/\S+", answer[0].text)
    assert found, answer[0].text
    return found.group(0)


def test_web_without_a_running_console_says_so(store: Store, rules: CompiledRules, school: School) -> None:
    answer = ask(Engine(rules, school, store, T0), WALI_1, 1)
    assert [m.to for m in answer] == [str(WALI_1)]
    assert "Konsol web belum dijalankan" in answer[0].text and "/masuk/" not in answer[0].text
    with store.unit() as session:
        assert session.scalars(select(WebLogin)).all() == []


def test_class_officers_may_not_ask(store: Store, rules: CompiledRules, school: School) -> None:
    with store.unit() as session:  # a console runs: the refusal is the role's
        publish(session, "test:1", [(console_row("test:1"), weblogin.CONSOLE_KIND, {"url": "http://x"})], T0)
    answer = ask(Engine(rules, school, store, T0), KETUA_1, 1)
    assert "tidak tersedia untuk peran Anda" in answer[0].text
    with store.unit() as session:
        assert session.scalars(select(WebLogin)).all() == []


def test_the_link_from_web_logs_in_over_http_once(store: Store, rules: CompiledRules, school: School,
                                                  tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    running = start(store, lambda: rules, lambda: school, "127.0.0.1:0", secret_dir=tmp_path)
    try:
        with store.unit() as session:
            assert weblogin.console_url(session, datetime.now(UTC)) == running.url
        engine = Engine(rules, school, store, datetime.now(UTC))
        link = link_in(ask(engine, WALI_1, 1, datetime.now(UTC)))
        assert link.startswith(f"{running.url}/masuk/")
        token = link.rsplit("/", 1)[1]
        with store.unit() as session:
            row = session.scalars(select(WebLogin)).one()
            assert row.token_hash == weblogin.digest(token) and row.telegram_id == WALI_1 and row.used_at is None
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with browser.open(link) as form:
            assert all(form.headers[name] == value for name, value in HEADERS.items())
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.read().decode())
        assert csrf is not None
        with browser.open(link, data=f"csrf={csrf.group(1)}".encode()) as home:  # 303 → /
            assert home.status == 200 and home.url == f"{running.url}/"
            assert "Ahmad Fauzi" in home.read().decode()
        assert [c.name for c in jar] == ["absensi_sesi"] and next(iter(jar)).has_nonstandard_attr("HttpOnly")
        stranger = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with pytest.raises(urllib.error.HTTPError) as refused:
            stranger.open(link, data=f"csrf={csrf.group(1)}".encode())
        assert refused.value.code == 403
        refused.value.close()
        with socket.create_connection(urllib.parse.urlsplit(running.url).netloc.split(":")) as raw:  # type: ignore[arg-type]
            raw.sendall(f"NONSENSE /masuk/{token}\r\n\r\n".encode())  # a request line it cannot read
            raw.recv(1000)
        with store.unit() as session:  # the bot's message no longer carries the spent link
            texts = session.scalars(select(OutboxRow.text).where(OutboxRow.recipient == str(WALI_1))).all()
            assert texts == [weblogin.SPENT_TEXT]
        logged = capfd.readouterr()
        assert "/masuk/" not in logged.out + logged.err and token not in logged.out + logged.err
    finally:
        running.stop()
    with store.unit() as session:  # a stopped console takes its address away: /web says none runs
        assert weblogin.console_url(session, datetime.now(UTC)) is None
    answer = ask(Engine(rules, school, store, datetime.now(UTC)), WALI_1, 2, datetime.now(UTC))
    assert "Konsol web belum dijalankan" in answer[0].text


def test_links_name_the_public_address_behind_a_proxy(store: Store, rules: CompiledRules, school: School,
                                                      tmp_path: Path) -> None:
    running = start(store, lambda: rules, lambda: school, "127.0.0.1:0", "https://absensi.sekolah.sch.id/",
                    secret_dir=tmp_path)
    try:
        assert running.app.secure and running.public_url == "https://absensi.sekolah.sch.id"
        link = link_in(ask(Engine(rules, school, store, datetime.now(UTC)), ADMIN, 1, datetime.now(UTC)))
        assert link.startswith("https://absensi.sekolah.sch.id/masuk/")
    finally:
        running.stop()


def test_the_secret_is_made_once_and_private(store: Store, rules: CompiledRules, school: School,
                                             tmp_path: Path) -> None:
    first = start(store, lambda: rules, lambda: school, "127.0.0.1:0", secret_dir=tmp_path)
    first.stop()
    secret = tmp_path / ".absensi-web.key"
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_bytes()) == 32
    kept = secret.read_bytes()
    second = start(store, lambda: rules, lambda: school, "127.0.0.1:0", secret_dir=tmp_path)
    second.stop()
    assert secret.read_bytes() == kept  # sessions survive a restart


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1:99999", "host:"])
def test_a_wrong_address_is_refused(address: str, store: Store, rules: CompiledRules, school: School,
                                    tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--web"):
        start(store, lambda: rules, lambda: school, address, secret_dir=tmp_path)


def test_an_expired_link_leaves_neither_its_row_nor_its_message(store: Store, rules: CompiledRules,
                                                                 school: School) -> None:
    with store.unit() as session:
        publish(session, "test:1", [(console_row("test:1"), weblogin.CONSOLE_KIND, {"url": "http://x"})], T0)
    engine = Engine(rules, school, store, T0)
    token = link_in(ask(engine, WALI_1, 1)).rsplit("/", 1)[1]
    fresh = link_in(ask(engine, WALI_1, 2, T0 + timedelta(minutes=3))).rsplit("/", 1)[1]
    with store.unit() as session:
        assert weblogin.forget_old(session, T0 + weblogin.LINK_LIFETIME) == 1
    with store.unit() as session:
        assert session.scalars(select(WebLogin.token_hash)).all() == [weblogin.digest(fresh)]
        texts = session.scalars(select(OutboxRow.text).where(OutboxRow.recipient == str(WALI_1))
                                .order_by(OutboxRow.id)).all()
        assert texts[0] == weblogin.SPENT_TEXT and token not in " ".join(texts) and fresh in texts[1]
        assert weblogin.redeem(session, token, T0 + timedelta(minutes=4)) is None


@pytest.mark.parametrize(("address", "expected"), [
    ("8080", ("127.0.0.1", 8080)), (":8080", ("127.0.0.1", 8080)), ("0.0.0.0:80", ("0.0.0.0", 80)),
    ("192.168.1.5:8080", ("192.168.1.5", 8080)), ("[::1]:8080", ("::1", 8080)),
])  # fmt: skip
def test_an_address_without_a_host_is_loopback(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected
