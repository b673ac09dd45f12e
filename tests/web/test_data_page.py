"""*Data sekolah* over HTTP (issue 13): admin only, CSRF on every form, an upload with errors cannot be applied,
a valid one is previewed, then applied (files replaced, backup kept, reload asked) or cancelled."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.test import Client, TestResponse

from absensi.engine.app.reload import requested_count
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.store import Store, enrolment
from absensi.engine.web.app import WebApp
from absensi.engine.web.server import login_link

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta
ADMIN, WALI = 700012, 700003  # Rudi Hartono (admin), Ahmad Fauzi (wali kelas X TKJ 1) in the mini school
NEW_STUDENT = "1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n"
BAD_STUDENT = "1014,0101000014,Zaki Akbar,L,X TKJ 9,ZK23QR\n"


@dataclass
class Console:
    app: WebApp
    store: Store
    school_dir: Path

    def client(self, chat_id: int) -> Client:
        """A browser logged in as `chat_id` through a link made as `/web` makes it."""
        client = Client(self.app)
        token = login_link(self.store, chat_id, "http://localhost", now=T0).rsplit("/", 1)[1]
        form = client.get(f"/masuk/{token}")
        done = client.post(f"/masuk/{token}", data={"csrf": csrf_of(form)})
        assert done.status_code == 303, done.get_data(as_text=True)
        return client


@pytest.fixture
def console(tmp_path: Path, store: Store, rules: CompiledRules) -> Iterator[Console]:
    school_dir = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school_dir)
    school = load_school(school_dir, rules.rules)
    with store.unit() as session:
        enrolment.sync(session, school, school.calendar.today(T0))
    app = WebApp(store, lambda: rules, lambda: school, b"k" * 32, clock=lambda: T0)
    yield Console(app, store, school_dir)


def csrf_of(response: TestResponse) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def students_csv(school_dir: Path, extra: str) -> bytes:
    return ((school_dir / "students.csv").read_text() + extra).encode()


def upload(client: Client, csrf: str, data: bytes, name: str = "students.csv", field: str = "students") -> TestResponse:
    return client.post("/data/unggah", data={"csrf": csrf, field: (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def staged_folders(school_dir: Path) -> list[Path]:
    root = school_dir / ".staging"
    return sorted(root.iterdir()) if root.is_dir() else []


def test_an_admin_uploads_previews_and_applies_a_roster(console: Console) -> None:
    client = console.client(ADMIN)
    form = client.get("/data")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.get_data(as_text=True)
    sent = upload(client, csrf_of(form), students_csv(console.school_dir, NEW_STUDENT), "Siswa 2026.csv")
    assert sent.status_code == 303
    preview = client.get(sent.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "0 kesalahan" in html and "Abdul Aziz" in html and "X TKJ 1 no. 7" in html and ">Baru<" in html
    assert "Siswa 2026.csv" in html and "Terapkan" in html
    assert NEW_STUDENT not in (console.school_dir / "students.csv").read_text()  # not live before apply
    old = (console.school_dir / "students.csv").read_bytes()
    action = re.search(r'action="([^"]+/terapkan)"', html)
    assert action is not None
    applied = client.post(action.group(1), data={"csrf": csrf_of(preview)})
    assert applied.status_code == 303 and "diterapkan=2026-11-30_030000" in applied.headers["Location"]
    assert (console.school_dir / "students.csv").read_text().endswith(NEW_STUDENT)
    assert (console.school_dir / "backups/2026-11-30_030000/students.csv").read_bytes() == old
    assert requested_count(console.store) == 1 and staged_folders(console.school_dir) == []
    after = client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "backups/2026-11-30_030000" in after


def test_an_upload_with_errors_is_shown_and_cannot_be_applied(console: Console) -> None:
    client = console.client(ADMIN)
    before = (console.school_dir / "students.csv").read_bytes()
    sent = upload(client, csrf_of(client.get("/data")), students_csv(console.school_dir, BAD_STUDENT), "siswa.csv")
    preview = client.get(sent.headers["Location"])
    html = preview.get_data(as_text=True)
    assert "1 kesalahan" in html and "siswa.csv:20:5: unknown class &#39;X TKJ 9&#39;" in html
    assert "/terapkan" not in html and "belum bisa diterapkan" in html
    refused = client.post(sent.headers["Location"] + "/terapkan", data={"csrf": csrf_of(preview)})
    assert refused.status_code == 409 and "kesalahan" in refused.get_data(as_text=True)
    assert (console.school_dir / "students.csv").read_bytes() == before
    assert requested_count(console.store) == 0


def test_cancel_deletes_the_staged_copy(console: Console) -> None:
    client = console.client(ADMIN)
    sent = upload(client, csrf_of(client.get("/data")), students_csv(console.school_dir, NEW_STUDENT))
    preview = client.get(sent.headers["Location"])
    assert len(staged_folders(console.school_dir)) == 1
    gone = client.post(sent.headers["Location"] + "/batal", data={"csrf": csrf_of(preview)})
    assert gone.status_code == 303 and staged_folders(console.school_dir) == []
    assert client.get(sent.headers["Location"]).status_code == 404


def test_a_forged_form_is_refused_and_stages_nothing(console: Console) -> None:
    client = console.client(ADMIN)
    data = students_csv(console.school_dir, NEW_STUDENT)
    assert upload(client, "", data).status_code == 403
    assert upload(client, "forged", data).status_code == 403
    other = console.client(ADMIN)  # another session's token is not this session's
    assert upload(client, csrf_of(other.get("/data")), data).status_code == 403
    assert staged_folders(console.school_dir) == []
    sent = upload(client, csrf_of(client.get("/data")), data)
    location = sent.headers["Location"]
    assert client.post(location + "/terapkan", data={"csrf": "forged"}).status_code == 403
    assert client.post(location + "/batal", data={}).status_code == 403
    assert NEW_STUDENT not in (console.school_dir / "students.csv").read_text()
    assert len(staged_folders(console.school_dir)) == 1


def test_the_page_is_for_admins_only(console: Console) -> None:
    admin = console.client(ADMIN)
    location = upload(admin, csrf_of(admin.get("/data")), students_csv(console.school_dir, NEW_STUDENT)).headers[
        "Location"]
    wali = console.client(WALI)
    home = wali.get("/").get_data(as_text=True)
    assert "Data sekolah" not in home
    token = csrf_of(wali.get("/"))
    assert wali.get("/data").status_code == 403
    assert wali.get(location).status_code == 403
    assert upload(wali, token, students_csv(console.school_dir, NEW_STUDENT)).status_code == 403
    assert wali.post(location + "/terapkan", data={"csrf": token}).status_code == 403
    assert wali.post(location + "/batal", data={"csrf": token}).status_code == 403
    assert len(staged_folders(console.school_dir)) == 1 and requested_count(console.store) == 0
    assert Client(console.app).get("/data").status_code == 401  # nobody logged in: the login page
