"""A roster upload is checked and previewed in a staging copy; the live files change only on apply (issue 13)."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from absensi.engine.app.reload import APPLYING_MARKER, Watch, requested_count
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.school.staging import APPLYING, Staging, StagingError, Upload, table_of
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
