"""The web console over HTTP (issue 13), on SQLite and PostgreSQL: logging in through a link made as `/web`
makes it (single use, five minutes, limited guesses), the session cookie, CSRF on every form, the security
headers, every page and download, and scope — a wali kelas never sees another class, whatever the URL says."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.test import Client, TestResponse

from absensi.engine.app.cli_reports import write_report
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store, enrolment, weblogin
from absensi.engine.store.models import InboxRow, WebLogin, WebSession
from absensi.engine.web.app import COOKIE, WebApp
from absensi.engine.web.auth import MAX_FAILURES_PER_CLIENT
from absensi.engine.web.server import login_link

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 30 Nov 2026, 10:00 in Jakarta
KETUA_1, KETUA_2 = 700001, 700004  # class officers of X TKJ 1 and X TKJ 2 (students)
WALI_1, KAJUR_TKJ, BK, ADMIN = 700003, 700006, 700007, 700012
PAGES = ("/", "/?papan=1", "/rekap", "/status", "/sms", "/kotak-masalah")
ADMIN_ONLY = ("/status", "/sms", "/kotak-masalah")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Console:
    app: WebApp
    store: Store
    school: School
    rules: CompiledRules
    clock: Clock

    def link(self, chat_id: int) -> str:
        return login_link(self.store, chat_id, "http://localhost", now=self.clock())

    def client(self, chat_id: int) -> Client:
        """A browser logged in as `chat_id` through a link made as `/web` makes it."""
        client = Client(self.app)
        path = self.link(chat_id).removeprefix("http://localhost")
        done = client.post(path, data={"csrf": csrf_of(client.get(path))})
        assert done.status_code == 303, done.get_data(as_text=True)
        return client


def csrf_of(response: TestResponse) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def tg(user: int, text: str, n: int) -> InboundMessage:
    return InboundMessage(Channel.TELEGRAM, str(user), T0, f"tg:{user}:{n}", text)


def failed(store: Store, source_id: str, sender: str, text: str) -> None:
    """A message the engine could not handle (as `Engine.handle_many` leaves one)."""
    with store.unit() as session:
        session.add(InboxRow(source_id=source_id, channel="sms", sender=sender, text=text, received_at=T0,
                             status="error", error="test: kept as failed", processed_at=T0))


@pytest.fixture
def console(tmp_path: Path, store: Store, rules: CompiledRules) -> Iterator[Console]:
    """The mini school on 30 Nov 2026: X TKJ 1 reports Budi sick, X TKJ 2 reports Citra alfa, XI RPL 1 has not
    reported; a parent registered by SMS (an SMS in, a reply out); one message sits in the error inbox."""
    school_dir = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school_dir)
    school = load_school(school_dir, rules.rules)
    with store.unit() as session:
        enrolment.sync(session, school, school.calendar.today(T0))
    engine = Engine(rules, school, store, T0)
    engine.receive(InboundMessage(Channel.SMS, "081234500007", T0, "sms:1", "REG AB12CD"), T0)
    engine.receive(tg(KETUA_1, "S 1001 demam", 1), T0)
    engine.receive(tg(KETUA_2, "A 1007", 2), T0)
    failed(store, "sms:2", "+6281234500099", "IZIN 1002 ke dokter")
    clock = Clock()
    app = WebApp(store, lambda: rules, lambda: school, b"k" * 32, clock=clock)
    yield Console(app, store, school, rules, clock)


# ------------------------------------------------------------------------------------------ logging in


def test_a_link_logs_in_once_and_is_stored_hashed(console: Console) -> None:
    link = console.link(WALI_1)
    token = link.rsplit("/", 1)[1]
    client = Client(console.app)
    form = client.get(f"/masuk/{token}")  # opening the link (or a chat app's preview) spends nothing
    assert form.status_code == 200 and "Masuk" in form.get_data(as_text=True)
    assert client.get(f"/masuk/{token}").status_code == 200
    done = client.post(f"/masuk/{token}", data={"csrf": csrf_of(form)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/")
    page = client.get("/")
    assert page.status_code == 200 and "Ahmad Fauzi" in page.get_data(as_text=True)
    again = Client(console.app).post(f"/masuk/{token}", data={"csrf": csrf_of(form)})
    assert again.status_code == 403 and COOKIE not in again.headers.get("Set-Cookie", "")
    assert "sudah dipakai" in again.get_data(as_text=True)
    with console.store.unit() as session:
        rows = session.scalars(select(WebLogin)).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert rows[0].used_at == T0 and rows[0].expires_at == T0 + timedelta(minutes=5)
        assert not any(token in str(v) for r in rows for v in (r.token_hash, r.telegram_id))


def test_a_link_expires_after_five_minutes(console: Console) -> None:
    token = console.link(WALI_1).rsplit("/", 1)[1]
    client = Client(console.app)
    csrf = csrf_of(client.get(f"/masuk/{token}"))
    console.clock.now = T0 + timedelta(minutes=5, seconds=1)
    refused = client.post(f"/masuk/{token}", data={"csrf": csrf})
    assert refused.status_code == 403 and client.get("/").status_code == 401
    console.clock.now = T0 + timedelta(minutes=4, seconds=59)  # still within: the same link works
    assert client.post(f"/masuk/{token}", data={"csrf": csrf}).status_code == 303


def test_the_login_form_needs_its_own_csrf_token(console: Console) -> None:
    token = console.link(WALI_1).rsplit("/", 1)[1]
    other = console.link(WALI_1).rsplit("/", 1)[1]
    client = Client(console.app)
    wrong = csrf_of(client.get(f"/masuk/{other}"))  # a valid token, of another link
    assert client.post(f"/masuk/{token}").status_code == 403
    assert client.post(f"/masuk/{token}", data={"csrf": wrong}).status_code == 403
    assert client.post(f"/masuk/{token}", data={"csrf": csrf_of(client.get(f"/masuk/{token}"))}).status_code == 303


def test_guessing_links_is_cut_off(console: Console) -> None:
    client = Client(console.app)
    for n in range(MAX_FAILURES_PER_CLIENT):
        guess = f"guess{n}"
        answer = client.post(f"/masuk/{guess}", data={"csrf": csrf_of(client.get(f"/masuk/{guess}"))})
        assert answer.status_code == 403
    token = console.link(WALI_1).rsplit("/", 1)[1]  # now even a valid link waits
    blocked = client.post(f"/masuk/{token}", data={"csrf": csrf_of(client.get(f"/masuk/{token}"))})
    assert blocked.status_code == 429
    with console.store.unit() as session:
        assert session.scalar(select(WebLogin.used_at).where(WebLogin.token_hash == weblogin.digest(token))) is None


def test_class_officers_are_students_and_get_no_console(console: Console) -> None:
    token = console.link(KETUA_1).rsplit("/", 1)[1]
    client = Client(console.app)
    refused = client.post(f"/masuk/{token}", data={"csrf": csrf_of(client.get(f"/masuk/{token}"))})
    assert refused.status_code == 403 and client.get("/").status_code == 401


def test_the_session_cookie(console: Console) -> None:
    token = console.link(WALI_1).rsplit("/", 1)[1]
    client = Client(console.app)
    done = client.post(f"/masuk/{token}", data={"csrf": csrf_of(client.get(f"/masuk/{token}"))})
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"] == "SameSite=Strict" and flags["path"] == "Path=/"
    assert flags["max-age"] == "Max-Age=28800" and "secure" not in flags  # plain http: the test's console
    console.app.secure = True  # behind an https proxy (--web-url https://…)
    token = console.link(WALI_1).rsplit("/", 1)[1]
    secure = client.post(f"/masuk/{token}", data={"csrf": csrf_of(client.get(f"/masuk/{token}"))})
    assert "Secure" in [part.strip() for part in secure.headers["Set-Cookie"].split(";")]


def test_a_session_ends_after_eight_hours_and_at_logout(console: Console) -> None:
    client = console.client(WALI_1)
    console.clock.now = T0 + timedelta(hours=7, minutes=59)
    assert client.get("/").status_code == 200
    console.clock.now = T0 + timedelta(hours=8)
    expired = client.get("/")
    assert expired.status_code == 401 and "Sesi Anda sudah berakhir" in expired.get_data(as_text=True)
    console.clock.now = T0
    client = console.client(WALI_1)
    kept = client.get_cookie(COOKIE)
    assert kept is not None
    home = client.get("/")
    out = client.post("/keluar", data={"csrf": csrf_of(home)})
    assert out.status_code == 303 and client.get_cookie(COOKIE) is None
    replay = Client(console.app)
    replay.set_cookie(COOKIE, kept.value)  # the old cookie, kept by someone: the session has ended
    assert replay.get("/").status_code == 401
    with console.store.unit() as session:  # the first session expired, the second was ended at logout
        assert sorted(str(x) for x in session.scalars(select(WebSession.ended_at))) == sorted([str(T0), "None"])


def test_a_forged_cookie_opens_nothing(console: Console) -> None:
    real = console.client(WALI_1).get_cookie(COOKIE)
    assert real is not None
    session_id, _, mac = real.value.rpartition(".")
    for forged in (f"{session_id}.{'0' * len(mac)}", f"x{session_id}.{mac}", session_id, ""):
        client = Client(console.app)
        client.set_cookie(COOKIE, forged)
        assert client.get("/").status_code == 401, forged
    signed_elsewhere = WebApp(console.store, lambda: console.rules, lambda: console.school, b"z" * 32,
                              clock=console.clock)
    client = Client(signed_elsewhere)
    client.set_cookie(COOKIE, real.value)  # a valid session id, signed with another secret
    assert client.get("/").status_code == 401


# ------------------------------------------------------------------------------------------ forms, headers


def test_every_post_needs_the_sessions_csrf_token(console: Console) -> None:
    admin = console.client(ADMIN)
    other = console.client(BK)
    foreign = csrf_of(other.get("/"))  # valid, but another session's
    for data in ({"semua": "1"}, {"semua": "1", "csrf": "0" * 64}, {"semua": "1", "csrf": foreign}):
        refused = admin.post("/kotak-masalah/coba-lagi", data=data)
        assert refused.status_code == 403
    assert admin.post("/keluar", data={}).status_code == 403
    with console.store.unit() as session:
        assert session.scalars(select(InboxRow.status).where(InboxRow.source_id == "sms:2")).one() == "error"
    own = csrf_of(admin.get("/kotak-masalah"))
    cross = admin.post("/kotak-masalah/coba-lagi", data={"semua": "1", "csrf": own},
                       headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    done = admin.post("/kotak-masalah/coba-lagi", data={"semua": "1", "csrf": own},
                      headers={"Origin": "http://localhost"})
    assert done.status_code == 303


def test_security_headers_on_every_answer(console: Console) -> None:
    admin = console.client(ADMIN)
    answers = [admin.get(p) for p in (*PAGES, "/static/style.css", "/static/refresh.js", "/nope", "/rekap?unduh=1")]
    answers += [Client(console.app).get("/"), Client(console.app).get("/masuk/abc")]
    for answer in answers:
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
    for answer in answers[:len(PAGES)]:
        assert answer.headers["Cache-Control"] == "no-store"
        assert "<script>" not in answer.get_data(as_text=True)  # no inline script (only src=…)
        assert ' style="' not in answer.get_data(as_text=True)


def test_pages_escape_what_they_show(console: Console) -> None:
    failed(console.store, "sms:3", "+6281234500098", "<script>alert(1)</script>")
    body = console.client(ADMIN).get("/kotak-masalah").get_data(as_text=True)
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body


# ------------------------------------------------------------------------------------------ pages


def test_every_page_for_the_admin(console: Console) -> None:
    admin = console.client(ADMIN)
    texts = {p: admin.get(p) for p in PAGES}
    assert {p: r.status_code for p, r in texts.items()} == dict.fromkeys(PAGES, 200)
    body = {p: r.get_data(as_text=True) for p, r in texts.items()}
    today = body["/"]
    assert "Budi Santoso" in today and "Citra Dewi" in today and "demam" in today
    assert re.search(r"Belum melapor \(1\)</h2>\s*<ul class=\"chips\"><li>XI RPL 1</li>", today)
    assert 'content="60"' in today and "refresh.js" in today  # refreshes itself
    for label in ("Hari ini", "Rekap", "Status", "SMS", "Kotak masalah"):
        assert f">{label}</a>" in today
    board = body["/?papan=1"]
    assert 'class="papan"' in board and "<nav>" not in board and "Budi Santoso" in board
    recap = body["/rekap"]  # the whole school: the overview per class first
    assert "REKAP BULANAN KEHADIRAN</h2>" in recap and all(c in recap for c in ("X TKJ 1", "X TKJ 2", "XI RPL 1"))
    per_student = admin.get("/rekap?kelas=X+TKJ+2").get_data(as_text=True)
    assert "REKAP BULANAN KEHADIRAN SISWA" in per_student and "Citra Dewi" in per_student
    assert "Budi Santoso" not in per_student
    semester = admin.get("/rekap?kelas=X+TKJ+1&periode=semester").get_data(as_text=True)
    assert "REKAP KETIDAKHADIRAN SEMESTER (e-Rapor)" in semester and "2026/2027 Ganjil" in semester
    assert "Status layanan" in body["/status"] and "<svg" in body["/status"] and "Antrean keluar" in body["/status"]
    sms = body["/sms"]
    assert "0812****007" in sms and "+6281234500007" not in sms and "081234500007" not in sms
    assert "<td>terkirim</td>" in sms or "<td>menunggu</td>" in sms
    assert "<td>sent</td>" not in sms and "<td>done</td>" not in sms
    assert "Pemakaian bulan November 2026" in sms
    inbox = body["/kotak-masalah"]
    assert "test: kept as failed" in inbox and "0812****099" in inbox and "Coba lagi" in inbox


def test_sms_filters(console: Console) -> None:
    admin = console.client(ADMIN)
    incoming = admin.get("/sms?tanggal=2026-11-30&jenis=masuk").get_data(as_text=True)
    assert "<td>Masuk</td>" in incoming and "<td>Keluar</td>" not in incoming
    outgoing = admin.get("/sms?tanggal=2026-11-30&jenis=registration").get_data(as_text=True)
    assert "<td>Keluar</td>" in outgoing and "<td>Masuk</td>" not in outgoing
    failed = admin.get("/sms?tanggal=2026-11-30&status=error").get_data(as_text=True)
    assert "0812****099" in failed and "0812****007" not in failed
    other_day = admin.get("/sms?tanggal=2026-11-29").get_data(as_text=True)
    assert "Tidak ada SMS untuk pilihan ini." in other_day
    assert admin.get("/sms?tanggal=kemarin").status_code == 400


def test_downloads_are_the_files_the_command_line_writes(console: Console, tmp_path: Path) -> None:
    admin = console.client(ADMIN)
    got = admin.get("/rekap?kelas=X+TKJ+1&periode=bulan&bulan=2026-11&unduh=1")
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    cli = tmp_path / "cli.xlsx"
    write_report(console.rules, console.school, console.store, "rekap-kelas", cli, class_name="X TKJ 1",
                 department=None, month="2026-11", semester=None, day=None, nis=None, today=T0.date())
    web_book, cli_book = load_workbook(io.BytesIO(got.data)), load_workbook(cli)
    assert web_book.sheetnames == cli_book.sheetnames
    for name in cli_book.sheetnames:
        assert [list(r) for r in web_book[name].iter_rows(values_only=True)] == \
            [list(r) for r in cli_book[name].iter_rows(values_only=True)]
    semester = admin.get("/rekap?kelas=X+TKJ+1&periode=semester&unduh=1")
    assert semester.status_code == 200 and load_workbook(io.BytesIO(semester.data)).sheetnames
    sms = admin.get("/sms?unduh=1")
    assert sms.status_code == 200 and load_workbook(io.BytesIO(sms.data)).sheetnames == ["Per Jenis", "Per Hari"]


def test_coba_lagi_hands_the_message_back_to_the_engine(console: Console) -> None:
    woken: list[bool] = []
    console.store.on_inbox(lambda: woken.append(True))
    admin = console.client(ADMIN)
    with console.store.unit() as session:
        failed = session.scalars(select(InboxRow.id).where(InboxRow.status == "error")).one()
    done = admin.post("/kotak-masalah/coba-lagi", data={"id": str(failed), "csrf": csrf_of(admin.get("/kotak-masalah"))})
    assert done.status_code == 303 and done.headers["Location"].endswith("dikembalikan=1")
    with console.store.unit() as session:  # back in the inbox, not handled: the web thread handles nothing
        assert session.get(InboxRow, failed).status == "new"  # type: ignore[union-attr]
    assert woken == [True]
    Engine(console.rules, console.school, console.store, T0).process_pending(T0)
    with console.store.unit() as session:
        assert session.get(InboxRow, failed).status == "done"  # type: ignore[union-attr]
    assert "Kotak masalah kosong." in admin.get("/kotak-masalah").get_data(as_text=True)


# ------------------------------------------------------------------------------------------ scope


def test_a_wali_kelas_sees_her_class_only_whatever_the_url(console: Console) -> None:
    wali = console.client(WALI_1)
    today = wali.get("/").get_data(as_text=True)
    assert "Budi Santoso" in today and "Citra Dewi" not in today and "X TKJ 2" not in today
    assert "XI RPL 1" not in today
    recap = wali.get("/rekap").get_data(as_text=True)
    assert "Budi Santoso" in recap and "Citra Dewi" not in recap and "X TKJ 2" not in recap
    for path in ("/rekap?kelas=X+TKJ+2", "/rekap?jurusan=TKJ", "/rekap?jurusan=RPL", "/rekap?kelas=X+TKJ+2&unduh=1",
                 "/rekap?kelas=X+TKJ+2&periode=semester", "/rekap?kelas=Tidak+Ada", *ADMIN_ONLY):
        assert wali.get(path).status_code == 403, path
    download = wali.get("/rekap?unduh=1")
    book = load_workbook(io.BytesIO(download.data))
    cells = " ".join(str(v) for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r if v)
    assert "Budi Santoso" in cells and "Citra Dewi" not in cells and "X TKJ 2" not in cells
    retry = wali.post("/kotak-masalah/coba-lagi", data={"semua": "1", "csrf": csrf_of(wali.get("/"))})
    assert retry.status_code == 403
    nav = wali.get("/").get_data(as_text=True)
    assert ">Status</a>" not in nav and ">SMS</a>" not in nav and ">Kotak masalah</a>" not in nav


def test_a_head_of_department_sees_the_department(console: Console) -> None:
    kajur = console.client(KAJUR_TKJ)
    today = kajur.get("/").get_data(as_text=True)
    assert "Budi Santoso" in today and "Citra Dewi" in today and "XI RPL 1" not in today
    assert kajur.get("/rekap?jurusan=TKJ").status_code == 200
    assert kajur.get("/rekap?kelas=X+TKJ+2").status_code == 200
    assert kajur.get("/rekap?jurusan=RPL").status_code == 403
    assert kajur.get("/rekap?kelas=XI+RPL+1").status_code == 403
    assert kajur.get("/status").status_code == 403


def test_a_login_follows_the_roster_in_force(console: Console, rules: CompiledRules, tmp_path: Path) -> None:
    """A session names a Telegram account, not a role: a wali kelas removed from the roster loses the console
    at her next page, though her cookie is still valid."""
    wali = console.client(WALI_1)
    staff = console.school.directory / "staff.csv"
    staff.write_text("".join(line for line in staff.read_text().splitlines(keepends=True) if "700003" not in line))
    reloaded = load_school(console.school.directory, rules.rules)
    console.app.school = lambda: reloaded
    assert wali.get("/").status_code == 401


def test_a_post_from_a_hidden_or_foreign_origin_and_a_huge_body_are_refused(console: Console) -> None:
    admin = console.client(ADMIN)
    own = csrf_of(admin.get("/kotak-masalah"))
    for origin in ("null", "http://localhost.evil.example", "https://localhost:8443"):
        refused = admin.post("/kotak-masalah/coba-lagi", data={"semua": "1", "csrf": own}, headers={"Origin": origin})
        assert refused.status_code == 403, origin
    huge = admin.post("/kotak-masalah/coba-lagi", data={"semua": "1", "csrf": own, "x": "y" * (33 * 1024 * 1024)})
    assert huge.status_code == 413 and "Berkas terlalu besar" in huge.get_data(as_text=True)
    with console.store.unit() as session:
        assert session.scalars(select(InboxRow.status).where(InboxRow.source_id == "sms:2")).one() == "error"


def test_behind_a_proxy_the_limit_is_per_forwarded_client(console: Console) -> None:
    client = Client(console.app)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # requests come from a reverse proxy on this machine

    def login(path: str, forwarded: str, csrf: str | None = None) -> int:
        csrf = csrf or csrf_of(client.get(path))
        return client.post(path, data={"csrf": csrf}, headers={"X-Forwarded-For": forwarded},
                           environ_overrides=proxy).status_code

    for n in range(MAX_FAILURES_PER_CLIENT):
        assert login(f"/masuk/guess{n}", "10.0.0.5") == 403
    path = console.link(WALI_1).removeprefix("http://localhost")
    assert login(path, "10.0.0.5") == 429
    assert login(path, "203.0.113.9, 10.0.0.7") == 303  # the proxy appended 10.0.0.7: another client
