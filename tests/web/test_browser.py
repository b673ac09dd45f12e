"""The console in a real browser (issue 13): Debian's Chromium driven by Selenium through the system chromedriver.

The sample school's November is played through the engine (`absensi demo`'s month) into a SQLite store, the
console is served on loopback by `server.start`, and the browser logs in through a link made as `/web` makes
it, opens every page (Hari ini, the board, Rekap with a download, Status, SMS, Kotak masalah, Data sekolah),
uploads a roster and applies it. Each step leaves a screenshot in the test's output folder (printed at the end)
and must not log a browser error (a Content-Security-Policy violation is one).

Without chromium, chromedriver or selenium the test is skipped with the reason; with ABSENSI_REQUIRE_BROWSER=1
(set by .ci/run) it fails instead. ABSENSI_SCREENSHOTS=DIR also writes the README's pictures (board.png,
status.png, the whole page with its chart) to DIR: `ABSENSI_SCREENSHOTS=docs/img pytest tests/web/test_browser.py`.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 9, 45, tzinfo=ZoneInfo("Asia/Jakarta"))  # the demo's morning, after it
SIZE = (1280, 800)
WAIT = 20.0  # seconds for a page or a download on a loaded machine
README_PICTURES = {"board": "board.png", "status-full": "status.png"}  # the status page with its chart
NEW_STUDENT = "269999,0119799999,Zahra Aulia Putri,P,X TKJ 1,ZA99QR\n"  # nis,nisn,name,gender,class,code


def _browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or skip (fail under ABSENSI_REQUIRE_BROWSER=1) saying what is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/bin/chromedriver",
                                                                "/usr/lib/chromium/chromedriver") if os.path.exists(p)),
                                                  None)
    missing = [name for name, found in (("chromium", chromium), ("chromedriver", driver)) if not found]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        reason = f"no {', '.join(missing)}: apt-get install chromium chromium-driver; pip install selenium"
        if os.environ.get("ABSENSI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ABSENSI_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    assert chromium is not None and driver is not None
    return chromium, driver


@dataclass
class Site:
    url: str
    driver: Any  # selenium WebDriver
    shots: Path
    downloads: Path
    school_dir: Path
    taken: list[Path]
    leader: Any  # engine.app.service.Leader

    def open(self, path: str) -> None:
        self.driver.get(self.url + path)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.taken.append(path)
        extra = os.environ.get("ABSENSI_SCREENSHOTS")
        if extra and name in README_PICTURES:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(extra) / README_PICTURES[name])
        return path

    def shot_full(self, name: str) -> Path:
        """The whole page, however long (the window grows to it for the picture)."""
        width, height = self.driver.get_window_size()["width"], self.driver.get_window_size()["height"]
        page = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(width, height + max(0, page - SIZE[1]))
        try:
            return self.shot(name)
        finally:
            self.driver.set_window_size(width, height)

    def text(self) -> str:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
            WebDriverException,
        )
        from selenium.webdriver.common.by import By

        try:
            return str(self.driver.find_element(By.TAG_NAME, "body").text)
        except (NoSuchElementException, StaleElementReferenceException):  # the next page is loading
            return ""
        except WebDriverException as exc:  # the same race as Chromium words it when the body went between the calls
            if "does not belong to the document" in str(exc):
                return ""
            raise

    def click_link(self, label: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.LINK_TEXT, label).click()

    def errors(self) -> list[str]:
        """What the browser logged as an error since the last call (CSP violations, failed loads, scripts)."""
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"
                and "/favicon.ico" not in entry["message"]]  # the browser asks for one on its own


def wait_for(condition: Callable[[], Any], what: str, site: Site | None = None) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    seen = f"; the page says:\n{site.text()}" if site is not None else ""
    raise AssertionError(f"waited {WAIT:.0f} s for {what}{seen}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, rules: CompiledRules) -> Iterator[Site]:
    chromium, chromedriver = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from absensi.engine.app.demo import run_demo
    from absensi.engine.app.service import Leader
    from absensi.engine.web.server import login_link, start

    base = tmp_path_factory.mktemp("browser")
    school_dir = base / "school"
    shutil.copytree(ROOT / "sample_school", school_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    school = load_school(school_dir, rules.rules)
    db = run_demo(rules, school, base / "demo", Console(file=io.StringIO()))
    store = Store(sqlite_url(db.resolve()))
    leader = Leader(rules, school, store)  # the service's engine: holds the lease, reloads what the console applies
    assert leader.try_lead(NOW)
    running = start(store, lambda: leader.rules, lambda: leader.school, "127.0.0.1:0", secret_dir=base,
                    clock=lambda: NOW)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={SIZE[0]},{SIZE[1]}", "--hide-scrollbars", "--lang=id-ID"):
        options.add_argument(argument)
    downloads = base / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch a browser or a driver
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    admin = next(s for s in school.staff if s.role == "admin" and s.telegram_id)
    try:
        driver.set_page_load_timeout(WAIT * 3)
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * SIZE[0] - inner[0], 2 * SIZE[1] - inner[1])  # the page itself is SIZE
        result = Site(running.url, driver, base / "screenshots", downloads, school_dir, [], leader)
        result.shots.mkdir()
        result.driver.get(login_link(store, int(admin.telegram_id or 0), running.url, now=NOW))
        yield result
        print(f"\nscreenshots: {result.shots}")
    finally:
        driver.quit()
        running.stop()
        leader.lease.release()
        store.close()


def test_the_link_from_the_bot_logs_in(site: Site) -> None:
    from selenium.webdriver.common.by import By

    site.shot("01-login-confirm")
    assert "Masuk" in site.text()
    site.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "Ketidakhadiran hari ini" in site.text(), "the Hari ini page after login", site)
    assert site.errors() == []


def test_today_and_the_board(site: Site) -> None:
    text = site.text()
    assert "Belum melapor" in text or "Semua kelas sudah melapor" in text
    assert "X MPLB 1" in text  # the demo's class, with its absences of this morning
    site.shot("02-hari-ini")
    site.click_link("Mode papan (layar penuh)")
    wait_for(lambda: "papan=1" in site.driver.current_url, "the board")
    assert "Keluar" not in site.text()  # no navigation on the board
    site.shot("board")
    assert site.errors() == []


def test_recap_and_its_download(site: Site) -> None:
    site.open("/")
    site.click_link("Rekap")
    wait_for(lambda: "Rekap kehadiran" in site.text(), "the Rekap page", site)
    site.shot_full("03-rekap")
    site.click_link("Unduh .xlsx")
    done = wait_for(lambda: [p for p in site.downloads.glob("*.xlsx")], "the .xlsx download")
    from openpyxl import load_workbook

    book = load_workbook(done[0], read_only=True)
    try:
        assert book.sheetnames
    finally:
        book.close()
    assert site.errors() == []


@pytest.mark.parametrize(("label", "heading", "name"), [
    ("Status", "Status", "status"), ("SMS", "SMS", "05-sms"), ("Kotak masalah", "Kotak masalah", "06-kotak-masalah"),
])
def test_the_operator_pages(site: Site, label: str, heading: str, name: str) -> None:
    site.open("/")
    site.click_link(label)
    wait_for(lambda: heading in site.text(), f"the {label} page", site)
    site.shot(name)
    site.shot_full(f"{name}-full")
    assert site.errors() == []


def test_a_roster_upload_is_previewed_and_applied(site: Site) -> None:
    from selenium.webdriver.common.by import By

    site.open("/")
    site.click_link("Data sekolah")
    wait_for(lambda: "Unggah data" in site.text(), "the Data sekolah page", site)
    site.shot("07-data-sekolah")
    students = site.school_dir / "students.csv"
    assert students.read_text().startswith("nis,nisn,name,gender,class,parent_code\n")
    wrong = site.shots.parent / "siswa-salah.csv"
    wrong.write_text(students.read_text() + NEW_STUDENT.replace("X TKJ 1", "X TKJ 9"))
    site.driver.find_element(By.ID, "f-students").send_keys(str(wrong))
    site.driver.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
    wait_for(lambda: "Pratinjau data sekolah" in site.text(), "the preview of a file with an error", site)
    assert "1 kesalahan" in site.text() and "siswa-salah.csv:" in site.text() and "X TKJ 9" in site.text()
    assert not site.driver.find_elements(By.XPATH, "//button[normalize-space()='Terapkan']")
    site.shot_full("08-pratinjau-salah")
    site.driver.find_element(By.XPATH, "//button[normalize-space()='Batal']").click()
    wait_for(lambda: "Unggah data" in site.text(), "the form again after Batal", site)
    assert NEW_STUDENT not in students.read_text()
    upload = site.shots.parent / "siswa-baru.csv"
    upload.write_text(students.read_text() + NEW_STUDENT)
    site.driver.find_element(By.ID, "f-students").send_keys(str(upload))
    site.driver.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
    wait_for(lambda: "Pratinjau data sekolah" in site.text(), "the preview", site)
    text = site.text()
    assert "0 kesalahan" in text and "Zahra Aulia Putri" in text and "Baru" in text
    site.shot_full("09-pratinjau")
    site.driver.find_element(By.XPATH, "//button[normalize-space()='Terapkan']").click()
    wait_for(lambda: "Data baru sudah dipasang" in site.text(), "the applied notice", site)
    site.shot("10-diterapkan")
    assert students.read_text().endswith(NEW_STUDENT)
    assert list((site.school_dir / "backups").iterdir())
    assert site.errors() == []
    told = site.leader.reload_if_changed(NOW)  # the service's next look at the files
    assert site.leader.engine.school.students["269999"].name == "Zahra Aulia Putri"
    assert any("Zahra Aulia Putri" in m.text for m in told)  # the admin hears of the change on Telegram


def test_without_a_browser_the_test_skips_or_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reason names what is missing; ABSENSI_REQUIRE_BROWSER=1 (.ci/run) turns the skip into a failure."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    monkeypatch.delenv("ABSENSI_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium, chromedriver"):
        _browser()
    monkeypatch.setenv("ABSENSI_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="ABSENSI_REQUIRE_BROWSER=1 but no chromium"):
        _browser()
