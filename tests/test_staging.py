"""A roster upload is checked and previewed in a staging copy; the live files change only on apply (issue 13)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from absensi.engine.app.reload import APPLYING_MARKER, Watch, load_checked, requested_count
from absensi.engine.app.service import Leader
from absensi.engine.rules import CompiledRules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school import staging
from absensi.engine.school.files import load_school
from absensi.engine.school.staging import (
    APPLYING,
    Staged,
    Staging,
    StagingError,
    Upload,
    finish_interrupted_apply,
    live_files,
    table_of,
)
from absensi.engine.store import Store, enrolment

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", target)
    return target


@pytest.fixture
def seated(school_dir: Path, store: Store, rules: CompiledRules) -> Store:
    """The store with this year's seats for the live roster, as a running service has them."""
    school = load_school(school_dir, rules.rules)
    with store.unit() as session:
        enrolment.sync(session, school, school.calendar.today(T0))
    return store


def _students(school_dir: Path, drop: str = "", edit: tuple[str, str] = ("", ""), add: str = "") -> bytes:
    lines = [line for line in (school_dir / "students.csv").read_text().splitlines() if not drop or
             not line.startswith(drop + ",")]
    text = "\n".join(lines) + "\n" + add
    if edit[0]:
        text = text.replace(*edit)
    return text.encode()


def test_a_valid_upload_previews_new_moved_and_leaving_students_and_keeps_the_live_files(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    before = (school_dir / "students.csv").read_bytes()
    data = _students(school_dir, drop="1012", edit=("Citra Dewi,P,X TKJ 2", "Citra Dewi,P,X TKJ 1"),
                     add="1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n")
    staged = Staging(school_dir, RULES).stage([Upload("students.csv", data)], seated, T0, by="Rudi")
    assert staged.errors == 0 and staged.applicable
    kinds = {(c.kind, c.name, c.before, c.after) for c in staged.changes}
    assert ("new", "Abdul Aziz", "", "X TKJ 1 no. 7") in kinds
    assert ("moved", "Citra Dewi", "X TKJ 2 no. 1", "X TKJ 1 no. 8") in kinds
    assert ("leaving", "Indah Permata", "X TKJ 2 no. 6", "") in kinds
    assert len(staged.changes) == 3
    assert "Siswa: 18 → 18 (+1 baru, −1 dihapus)" in staged.summary
    assert (school_dir / "students.csv").read_bytes() == before  # nothing live changed
    staged_file = school_dir / ".staging" / staged.id / "students.csv"
    assert staged_file.read_bytes() == data and (staged_file.stat().st_mode & 0o077) == 0


def test_findings_name_the_uploaded_file_and_such_a_set_cannot_be_applied(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    before = (school_dir / "students.csv").read_bytes()
    data = _students(school_dir, add="1014,0101000014,Zaki Akbar,L,X TKJ 9,ZK23QR\n")
    staging = Staging(school_dir, RULES)
    staged = staging.stage([Upload("Data Siswa Baru.csv", data, table="students")], seated, T0)
    assert staged.errors == 1 and not staged.applicable and staged.changes == []
    first = staged.rendered()[0]
    assert first.startswith("Data Siswa Baru.csv:20:5: unknown class 'X TKJ 9'"), first
    assert "1014,0101000014,Zaki Akbar" in first  # the offending line is quoted, as `absensi check` does
    with pytest.raises(StagingError, match="kesalahan"):
        staging.apply(staged.id, seated, T0)
    assert (school_dir / "students.csv").read_bytes() == before
    assert requested_count(seated) == 0


def test_apply_replaces_the_files_keeps_a_backup_and_asks_for_a_reload(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    old = (school_dir / "students.csv").read_bytes()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [line.split(",") for line in _students(school_dir, drop="1001").decode().splitlines()]:
        sheet.append(row)
    path = school_dir.parent / "siswa.xlsx"
    book.save(path)
    staging = Staging(school_dir, RULES)
    staged = staging.stage([Upload("siswa.xlsx", path.read_bytes())], seated, T0)
    assert staged.applicable and staged.removes == ["students.csv"] and staged.writes == ["students.xlsx"]
    done = staging.apply(staged.id, seated, T0)
    assert (school_dir / "students.xlsx").read_bytes() == path.read_bytes()
    assert not (school_dir / "students.csv").exists()
    assert done.backup == school_dir / "backups" / "2026-11-30_030000"
    assert (done.backup / "students.csv").read_bytes() == old
    assert requested_count(seated) == 1 and "no engine has run" in done.reload
    assert not (school_dir / ".staging" / staged.id).exists() and not (school_dir / APPLYING).exists()
    assert "1001" not in load_school(school_dir, load_rules_once()).students
    with pytest.raises(StagingError, match="tidak ada lagi"):
        staging.apply(staged.id, seated, T0)  # applied once: gone


def load_rules_once():  # type: ignore[no-untyped-def]
    from absensi.engine.rules import load_rules

    return load_rules(RULES).rules


def test_an_import_workbook_replaces_the_tables_it_holds(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    book = Workbook()
    book.remove(book.worksheets[0])
    classes = book.create_sheet("classes")
    for line in (school_dir / "classes.csv").read_text().splitlines():
        classes.append(line.split(","))
    classes.append(["XI RPL 2", "11", "RPL"])
    path = school_dir.parent / "sekolah.xlsx"
    book.save(path)
    staged = Staging(school_dir, RULES).stage([Upload("sekolah.xlsx", path.read_bytes())], seated, T0)
    assert staged.writes == ["data-sekolah.xlsx"] and staged.removes == ["classes.csv"]
    assert "Kelas: 3 → 4 (+1 baru, −0 dihapus)" in staged.summary
    warnings = "\n".join(staged.rendered())
    assert "sekolah.xlsx[classes]" in warnings and "XI RPL 2" in warnings  # a class without staff: a warning
    assert staged.applicable


def test_a_set_staged_before_the_live_files_changed_is_refused(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    staging = Staging(school_dir, RULES)
    staged = staging.stage([Upload("students.csv", _students(school_dir))], seated, T0)
    staff = school_dir / "staff.csv"
    staff.write_text(staff.read_text() + "Budi,guru_bk,,081399990001,\n")
    with pytest.raises(StagingError, match="berubah"):
        staging.apply(staged.id, seated, T0)


def test_cancel_deletes_and_an_expired_set_is_gone(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    staging = Staging(school_dir, RULES, ttl=timedelta(hours=1))
    first = staging.stage([Upload("students.csv", _students(school_dir))], seated, T0)
    second = staging.stage([Upload("students.csv", _students(school_dir))], seated, T0)
    assert staging.cancel(first.id) and not (school_dir / ".staging" / first.id).exists()
    assert not staging.cancel(first.id) and staging.get(first.id, T0) is None
    assert staging.get(second.id, T0 + timedelta(minutes=59)) is not None
    assert staging.get(second.id, T0 + timedelta(hours=1)) is None
    assert not (school_dir / ".staging" / second.id).exists()
    assert staging.get("../../etc", T0) is None and not staging.cancel("../school")


def test_a_third_set_purges_the_expired_ones(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    staging = Staging(school_dir, RULES, ttl=timedelta(hours=1))
    old = staging.stage([Upload("students.csv", _students(school_dir))], seated, T0)
    staging.stage([Upload("students.csv", _students(school_dir))], seated, T0 + timedelta(hours=2))
    assert not (school_dir / ".staging" / old.id).exists()
    assert len(list((school_dir / ".staging").iterdir())) == 1


def test_files_that_cannot_be_placed_are_findings(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    uploads = [Upload("rekap.pdf", b"%PDF"), Upload("lama.xls", b"\xd0\xcf"), Upload("daftar.csv", b"a,b\n"),
               Upload("students.csv", _students(school_dir)), Upload("siswa.csv", _students(school_dir))]
    staged = Staging(school_dir, RULES).stage(uploads, seated, T0)
    text = "\n".join(staged.rendered())
    assert "rekap.pdf: not a .csv or .xlsx file" in text
    assert "lama.xls: this is the old Excel format" in text
    assert "daftar.csv: cannot tell which table" in text
    assert "siswa.csv: students.csv is also students.csv" in text
    assert not staged.applicable
    nothing = Staging(school_dir, RULES).stage([], seated, T0)
    assert nothing.errors == 1 and not nothing.applicable


@pytest.mark.parametrize(("name", "table"), [
    ("students.csv", "students"), ("Siswa.xlsx", "students"), ("data kelas.csv", "classes"),
    ("STAFF.xlsx", "staff"), ("orang_tua.csv", "parents"), ("rekap.csv", None), ("kelas siswa.csv", None),
])
def test_the_name_says_the_table(name: str, table: str | None) -> None:
    assert table_of(name) == table


def test_the_reload_watch_waits_while_files_are_being_switched(school_dir, store) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(school_dir, RULES, store)
    (school_dir / "classes.csv").write_text((school_dir / "classes.csv").read_text() + "XI RPL 2,11,RPL\n")
    marker = school_dir / APPLYING_MARKER
    marker.write_text("")
    assert not watch.due()
    stale = time.time() - 120
    os.utime(marker, (stale, stale))  # a crashed apply's marker does not hold reloads back
    assert watch.due()
    assert not watch.due()


def test_before_any_numbering_this_year_there_is_nothing_to_compare(school_dir, store) -> None:  # type: ignore[no-untyped-def]
    data = _students(school_dir, add="1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n")
    staged = Staging(school_dir, RULES).stage([Upload("students.csv", data)], store, T0)
    assert staged.applicable and staged.first_numbering and staged.changes == []
    seated = Staging(school_dir, RULES)
    with store.unit() as session:
        enrolment.sync(session, load_school(school_dir, load_rules_once()), T0.date())
    again = seated.stage([Upload("students.csv", data)], store, T0)
    assert not again.first_numbering and [c.name for c in again.changes] == ["Abdul Aziz"]


# ------------------------------------------------------------------------- an apply a crash interrupted


class Crash(BaseException):
    """The process dying at this point: none of apply's `except Exception` clauses runs."""


STEPS = ("_durable_write", "_durable_replace", "_durable_unlink", "_remove_tree")  # apply's changes on disk


def crash_at(monkeypatch: pytest.MonkeyPatch, limit: int) -> list[str]:
    """Let `limit` of apply's disk steps happen, then die at the next one (a write dies half-way, leaving half
    its bytes); the steps done are returned as they happen."""
    done: list[str] = []
    for name in STEPS:
        real = getattr(staging, name)

        def step(*args: Any, _real: Any = real, _name: str = name) -> None:
            if len(done) == limit:
                if _name == "_durable_write":
                    path, data = args
                    path.write_bytes(data[: len(data) // 2])
                raise Crash(_name)
            done.append(_name)
            _real(*args)

        monkeypatch.setattr(staging, name, step)
    return done


def files_of(school_dir: Path) -> dict[str, bytes]:
    return {name: (school_dir / name).read_bytes() for name in live_files(school_dir)}


def stage_two_tables(school_dir: Path, store: Store) -> tuple[Staging, Staged]:
    """A set the school cannot run half of: a new class, and a students workbook (it replaces students.csv)
    that puts a new student in it."""
    classes = (school_dir / "classes.csv").read_text() + "XI RPL 2,11,RPL\n"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    rows = _students(school_dir, add="1013,0101000013,Abdul Aziz,L,XI RPL 2,AZ23QR\n").decode().splitlines()
    for row in rows:
        sheet.append(row.split(","))
    path = school_dir.parent / f"siswa-{school_dir.name}.xlsx"
    book.save(path)
    staging_ = Staging(school_dir, RULES)
    staged = staging_.stage([Upload("siswa.xlsx", path.read_bytes()), Upload("kelas.csv", classes.encode())],
                            store, T0)
    assert staged.applicable and staged.writes == ["students.xlsx", "classes.csv"]
    assert staged.removes == ["students.csv"]
    return staging_, staged


def consistent(school_dir: Path) -> set[str] | None:
    """The students a reload would load (as the service validates a set), or None when it would refuse."""
    loaded = load_checked(school_dir, RULES, Problems())
    return set(loaded[1].students) if loaded is not None else None


def test_a_crash_at_any_step_of_apply_leaves_the_whole_old_or_the_whole_new_set(tmp_path, seated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outcomes: dict[str, int] = {}
    mixed = 0
    limit = 0
    while True:
        school_dir = tmp_path / f"school{limit}"
        shutil.copytree(ROOT / "tests/schools/mini_year", school_dir)
        staging_, staged = stage_two_tables(school_dir, seated)
        old = files_of(school_dir)
        new = {k: v for k, v in old.items() if k not in staged.removes}
        new |= {name: (school_dir / ".staging" / staged.id / name).read_bytes() for name in staged.writes}
        with monkeypatch.context() as patch:
            done = crash_at(patch, limit)
            try:
                staging_.apply(staged.id, seated, T0)
            except Crash:
                pass
            else:
                break  # every step passed: apply ran to the end
        if files_of(school_dir) not in (old, new):
            mixed += 1  # what a reload would have met before finish_interrupted_apply
        said = finish_interrupted_apply(school_dir)
        after = files_of(school_dir)
        assert after in (old, new), (limit, done, said)
        backup = school_dir / "backups" / "2026-11-30_030000"
        if after == new:
            outcomes["new"] = outcomes.get("new", 0) + 1
            assert (backup / "students.csv").read_bytes() == old["students.csv"]
            assert (backup / "classes.csv").read_bytes() == old["classes.csv"]
            assert consistent(school_dir) == {*old_students(old), "1013"}
            if said is not None:
                assert said.startswith(f"finished the roster upload {staged.id}"), said
                assert not (school_dir / ".staging" / staged.id).exists()
        else:
            outcomes["old"] = outcomes.get("old", 0) + 1
            assert said is None, said  # the marker was never written: nothing live had changed
            assert {k: list(v) for k, v in live_files(school_dir).items()} == staged.base
            assert consistent(school_dir) == old_students(old)
        assert not (school_dir / APPLYING).exists()
        assert not [p.name for p in school_dir.iterdir() if p.name.endswith(".tmp")]
        assert finish_interrupted_apply(school_dir) is None  # once is enough
        limit += 1
    assert limit >= 10 and mixed >= 2, (limit, mixed)  # the crashes did hit between the files' switches
    assert outcomes["old"] >= 3 and outcomes["new"] >= 5, outcomes
    assert requested_count(seated) == 1  # only the apply that ran to the end asked for a reload


def old_students(files: dict[str, bytes]) -> set[str]:
    return {line.split(",", 1)[0] for line in files["students.csv"].decode().splitlines()[1:]}


CHILD = """
import os, signal, sys
from datetime import datetime
from pathlib import Path
from absensi.engine.school import staging

real, count = staging._durable_replace, [0]
def replace(source, target):
    if count[0] == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
    count[0] += 1
    real(source, target)
staging._durable_replace = replace
staging.Staging(Path(sys.argv[1]), Path(sys.argv[2])).apply(sys.argv[4], None, datetime.fromisoformat(sys.argv[5]))
"""


def killed_while_applying(school_dir: Path, staged: Staged, renames: int) -> None:
    """Apply in a child process that is killed (SIGKILL) before its rename number `renames` (0: the marker's)."""
    child = subprocess.run([sys.executable, "-c", CHILD, str(school_dir), str(RULES), str(renames), staged.id,
                            T0.isoformat()], capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr


def test_an_apply_killed_between_two_files_is_finished_from_the_staging_copy(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    staging_, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    killed_while_applying(school_dir, staged, renames=2)  # the marker and students.xlsx went, classes.csv not
    mix = files_of(school_dir)  # the new students workbook beside the old students.csv and classes.csv
    assert mix["students.csv"] == old["students.csv"] and mix["classes.csv"] == old["classes.csv"]
    assert "students.xlsx" in mix
    plan = json.loads((school_dir / APPLYING).read_text())
    assert plan["writes"] == staged.writes and plan["removes"] == staged.removes
    assert sorted(plan["backed"]) == ["classes.csv", "students.csv"] and plan["backup"] == "backups/2026-11-30_030000"
    said = finish_interrupted_apply(school_dir)  # the dead child's lock is gone with it
    assert said == (f"finished the roster upload {staged.id} (applied at {T0.isoformat()}), interrupted by a stop: "
                    "put students.xlsx, classes.csv live, removed students.csv; the previous files are in "
                    "backups/2026-11-30_030000")
    assert sorted(live_files(school_dir)) == ["classes.csv", "school.yaml", "staff.csv", "students.xlsx"]
    assert b"XI RPL 2" in (school_dir / "classes.csv").read_bytes()
    assert consistent(school_dir) == {*old_students(old), "1013"}
    assert (school_dir / "backups/2026-11-30_030000/students.csv").read_bytes() == old["students.csv"]
    assert staging_.get(staged.id, T0) is None and not (school_dir / APPLYING).exists()


def test_without_its_staging_copy_an_interrupted_apply_is_rolled_back(school_dir, seated) -> None:  # type: ignore[no-untyped-def]
    _, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    killed_while_applying(school_dir, staged, renames=2)
    shutil.rmtree(school_dir / ".staging" / staged.id)
    said = finish_interrupted_apply(school_dir)
    assert said is not None and said.startswith(f"rolled back the roster upload {staged.id}"), said
    assert "the staged students.xlsx is gone" in said
    assert files_of(school_dir) == old and consistent(school_dir) == old_students(old)
    assert {k: list(v) for k, v in live_files(school_dir).items()} == staged.base  # times too: no reload is due
    assert not (school_dir / APPLYING).exists()


def test_a_damaged_staging_copy_is_not_put_live(school_dir, seated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    staging_, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    with monkeypatch.context() as patch:
        crash_at(patch, 5)  # two backups, the marker written and renamed, students.xlsx written: not renamed
        with pytest.raises(Crash):
            staging_.apply(staged.id, seated, T0)
    classes = school_dir / ".staging" / staged.id / "classes.csv"
    classes.write_text(classes.read_text() + "XII TKJ 1,12,TKJ\n")
    said = finish_interrupted_apply(school_dir)
    assert said is not None and said.startswith("rolled back") and "the staged classes.csv is damaged" in said
    assert files_of(school_dir) == old and not (school_dir / ".staging" / staged.id).exists()


def test_when_neither_copy_is_whole_the_files_are_left_for_the_operator(school_dir, seated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    staging_, staged = stage_two_tables(school_dir, seated)
    with monkeypatch.context() as patch:
        crash_at(patch, 7)  # students.xlsx is live, classes.csv not yet
        with pytest.raises(Crash):
            staging_.apply(staged.id, seated, T0)
    shutil.rmtree(school_dir / ".staging" / staged.id)
    (school_dir / "backups/2026-11-30_030000/students.csv").write_text("nis\n")
    before = files_of(school_dir)
    said = finish_interrupted_apply(school_dir)
    assert said is not None and said.startswith("error: could not finish or roll back"), said
    assert "the backup of students.csv is damaged" in said and "backups/2026-11-30_030000" in said
    assert files_of(school_dir) == before and (school_dir / APPLYING).exists()  # nothing guessed


def test_a_failure_inside_apply_puts_the_old_files_back_and_the_set_can_be_applied_again(school_dir, seated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    staging_, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    real, calls = staging._durable_replace, []

    def full_disk(source: Path, target: Path) -> None:
        calls.append(target.name)
        if target.name == "classes.csv" and calls.count("classes.csv") == 1:
            raise OSError(28, "No space left on device")
        real(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(staging, "_durable_replace", full_disk)
        with pytest.raises(StagingError, match="dikembalikan seperti semula"):
            staging_.apply(staged.id, seated, T0)
    assert files_of(school_dir) == old and not (school_dir / "students.xlsx").exists()
    assert {k: list(v) for k, v in live_files(school_dir).items()} == staged.base
    assert not (school_dir / APPLYING).exists() and requested_count(seated) == 0
    assert not (school_dir / "backups").exists() or not any((school_dir / "backups").iterdir())
    done = staging_.apply(staged.id, seated, T0)  # the set is still there and the base still matches
    assert done.backup.name == "2026-11-30_030000" and consistent(school_dir) == {*old_students(old), "1013"}
    assert (done.backup / "students.csv").read_bytes() == old["students.csv"]


def test_an_old_marker_without_a_plan_is_removed_with_a_warning(school_dir) -> None:  # type: ignore[no-untyped-def]
    (school_dir / APPLYING).write_text(T0.isoformat())  # what the previous version wrote
    before = files_of(school_dir)
    said = finish_interrupted_apply(school_dir)
    assert said is not None and said.startswith("warning: removed") and "without a plan" in said
    assert not (school_dir / APPLYING).exists() and files_of(school_dir) == before
    assert finish_interrupted_apply(school_dir) is None


def test_a_running_apply_is_not_finished_by_someone_else(school_dir, seated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    staging_, staged = stage_two_tables(school_dir, seated)
    with monkeypatch.context() as patch:
        crash_at(patch, 6)
        with pytest.raises(Crash):
            staging_.apply(staged.id, seated, T0)
    with staging._apply_lock(school_dir, wait=True):  # as a live apply in another thread holds it
        assert finish_interrupted_apply(school_dir) is None
        assert (school_dir / APPLYING).exists()
    assert finish_interrupted_apply(school_dir) is not None and not (school_dir / APPLYING).exists()


def test_the_console_finishes_an_interrupted_apply_before_showing_the_files(school_dir, seated, rules, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from loguru import logger
    from werkzeug.test import Client

    from absensi.engine.web.app import WebApp
    from absensi.engine.web.server import login_link

    school = load_school(school_dir, rules.rules)  # the roster the service runs
    staging_, staged = stage_two_tables(school_dir, seated)
    with monkeypatch.context() as patch:
        crash_at(patch, 8)  # both new files are live, students.csv is not removed yet
        with pytest.raises(Crash):
            staging_.apply(staged.id, seated, T0)
    assert {"students.csv", "students.xlsx"} <= set(live_files(school_dir))
    app = WebApp(seated, lambda: rules, lambda: school, b"k" * 32, clock=lambda: T0)
    client = Client(app)
    token = login_link(seated, 700012, "http://localhost", now=T0).rsplit("/", 1)[1]  # Rudi Hartono, admin
    form = client.get(f"/masuk/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    assert client.post(f"/masuk/{token}", data={"csrf": csrf.group(1)}).status_code == 303
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="WARNING")
    try:
        page = client.get("/data")
    finally:
        logger.remove(sink)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<code>students.xlsx</code>" in html and "<code>students.csv</code>" not in html
    assert not (school_dir / APPLYING).exists()
    assert any(f"data sekolah: finished the roster upload {staged.id}" in line for line in lines), lines


def test_the_services_reload_finishes_an_interrupted_apply_instead_of_loading_a_mix(school_dir, seated, rules) -> None:  # type: ignore[no-untyped-def]
    _, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    leader = Leader(rules, load_school(school_dir, rules.rules), seated)
    assert leader.try_lead(T0)
    try:
        killed_while_applying(school_dir, staged, renames=2)  # a mix: the new students workbook, the old classes
        stale = time.time() - 120  # old enough that the watch no longer waits for the apply to end
        os.utime(school_dir / APPLYING, (stale, stale))
        leader.reload_if_changed(T0)
        assert not (school_dir / APPLYING).exists()
        assert leader.engine is not None and set(leader.engine.school.students) == {*old_students(old), "1013"}
        assert "XI RPL 2" in leader.engine.school.classes
    finally:
        leader.lease.release()


def test_absensi_run_finishes_an_interrupted_apply_before_it_reads_the_roster(school_dir, seated, db_url) -> None:  # type: ignore[no-untyped-def]
    _, staged = stage_two_tables(school_dir, seated)
    old = files_of(school_dir)
    killed_while_applying(school_dir, staged, renames=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["PYTHONUNBUFFERED"] = "1"
    service = subprocess.Popen([sys.executable, "-m", "absensi.engine.app.cli", "run", "--school", str(school_dir),
                                "--db", db_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert service.stdout is not None
    said = []
    for line in service.stdout:  # nothing configured: it serves anyway (SPEC §5) and says so
        said.append(line)
        if line.startswith("Telegram: not running"):
            break
    service.send_signal(signal.SIGTERM)
    rest, _ = service.communicate(timeout=60)
    output = "".join(said) + rest
    assert service.returncode == 0, output
    assert f"data sekolah: finished the roster upload {staged.id}" in output, output
    assert f"{len(old_students(old)) + 1} students" in output, output  # the roster it read was the whole new set
    assert not (school_dir / APPLYING).exists()
    assert consistent(school_dir) == {*old_students(old), "1013"}
