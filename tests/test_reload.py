"""Roster and rule changes while the service runs (SPEC §2), through the service's own `Leader`."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.app.reload import requested_count
from absensi.engine.app.service import Leader
from absensi.engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 07:30 in Jakarta


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", target)
    return target


def _leader(school_dir: Path, db_url: str, rules) -> Leader:  # type: ignore[no-untyped-def]
    from absensi.engine.school.files import load_school

    leader = Leader(rules, load_school(school_dir, rules.rules), Store(db_url))
    assert leader.try_lead(T0)
    return leader


def _touch(path: Path, text: str) -> None:
    path.write_text(text)
    time.sleep(0.01)  # a new mtime even on coarse clocks


def test_an_edited_roster_is_used_from_the_next_message_and_the_admin_is_told(school_dir, db_url, rules) -> None:  # type: ignore[no-untyped-def]
    leader = _leader(school_dir, db_url, rules)
    students = school_dir / "students.csv"
    _touch(students, students.read_text() + "1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n")
    told = leader.reload_if_changed(T0)
    assert leader.engine is not None and "1013" in leader.engine.school.students
    assert leader.engine.school.students["1013"].absen_no == 7
    assert [(m.to, "Abdul Aziz" in m.text) for m in told] == [("700012", True)]
    assert leader.reload_if_changed(T0) == []  # nothing changed since: nothing to do
    leader.lease.release()
    leader.store.close()


def test_an_invalid_change_keeps_the_running_set_and_sends_the_errors(school_dir, db_url, rules) -> None:  # type: ignore[no-untyped-def]
    leader = _leader(school_dir, db_url, rules)
    running = leader.engine.school if leader.engine else None
    students = school_dir / "students.csv"
    _touch(students, students.read_text() + "1014,0101000014,Zaki Akbar,L,X TKJ 9,ZK23QR\n")
    told = leader.reload_if_changed(T0)
    assert leader.engine is not None and leader.engine.school is running and "1014" not in running.students
    assert len(told) == 1 and "TIDAK dipakai" in told[0].text and "students.csv:20" in told[0].text
    leader.lease.release()
    leader.store.close()


def test_absensi_reload_leaves_a_request_the_engine_sees(school_dir, db_url, rules) -> None:  # type: ignore[no-untyped-def]
    leader = _leader(school_dir, db_url, rules)
    before = requested_count(leader.store)
    result = CliRunner().invoke(app, ["reload", "--school", str(school_dir), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert requested_count(leader.store) == before + 1
    assert leader.watch.due() and not leader.watch.due()  # once per request
    leader.lease.release()
    leader.store.close()


def test_check_prints_the_numbering_a_new_roster_would_cause_and_changes_nothing(school_dir, db_url, rules) -> None:  # type: ignore[no-untyped-def]
    leader = _leader(school_dir, db_url, rules)  # the running service seated the roster
    students = school_dir / "students.csv"
    _touch(students, students.read_text() + "1013,0101000013,Abdul Aziz,L,X TKJ 1,AZ23QR\n")
    for _ in range(2):  # twice: check writes nothing, so it says the same again
        result = CliRunner().invoke(app, ["check", "--school", str(school_dir), "--db", db_url])
        assert result.exit_code == 0, result.output
        assert "numbering: X TKJ 1: + Abdul Aziz → 7" in result.output
    leader.lease.release()
    leader.store.close()
