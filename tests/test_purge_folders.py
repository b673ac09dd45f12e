"""Retention of the school directory's folders (SPEC §8): the roster backups an applied upload leaves
(`SCHOOL/backups/DATE_TIME/`, personal data) go after `retention_backup_days`, staged uploads after their
expiry — by `absensi purge` (dry-run aware) and by the service's daily purge. The CLI and the daily job run on
SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from absensi.engine.app.cli import app
from absensi.engine.core import Engine
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school
from absensi.engine.school.staging import BACKUPS, STAGING, Staging, Upload, purge_backups, purge_files
from absensi.engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "schools" / "mini"
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    """The mini school with backups of several ages, a hand-made copy and two staged uploads (one expired)."""
    target = tmp_path / "school"
    shutil.copytree(MINI, target)
    for name in ("2026-08-01_070000", "2026-08-01_070000_2", "2026-08-31_020000", "2026-09-02_040000",
                 "2026-11-29_101500", "salinan-manual"):
        folder = target / BACKUPS / name
        folder.mkdir(parents=True)
        (folder / "students.csv").write_text("nis,nama\n1001,Ahmad\n")
    (target / BACKUPS / "2026-01-01_000000.zip").write_bytes(b"not a folder")
    return target


def _staged(school_dir: Path, rules: CompiledRules, at: datetime) -> str:
    data = (school_dir / "students.csv").read_bytes()
    return Staging(school_dir, rules.directory).stage([Upload("students.csv", data)], None, at).id


def _left(school_dir: Path) -> list[str]:
    return sorted(p.name for p in (school_dir / BACKUPS).iterdir())


def test_backups_older_than_the_retention_go_and_other_folders_stay(school_dir: Path) -> None:
    # 90 days before NOW is 2026-09-01 03:00 (UTC): the August ones go, September's stay
    assert purge_backups(school_dir, NOW, 90, dry_run=True) == 3
    assert len(_left(school_dir)) == 7  # a dry run deletes nothing
    assert purge_backups(school_dir, NOW, 90) == 3
    assert _left(school_dir) == ["2026-01-01_000000.zip", "2026-09-02_040000", "2026-11-29_101500", "salinan-manual"]
    assert purge_backups(school_dir, NOW, 90) == 0
    assert purge_backups(school_dir, NOW, 1) == 1  # a shorter setting: the September one goes too
    assert _left(school_dir) == ["2026-01-01_000000.zip", "2026-11-29_101500", "salinan-manual"]


def test_staged_uploads_past_their_expiry_go_with_the_backups(school_dir: Path, rules: CompiledRules) -> None:
    fresh = _staged(school_dir, rules, NOW - timedelta(minutes=30))
    old = _staged(school_dir, rules, NOW - timedelta(hours=3))  # (staging purges expired sets: this one last)
    (school_dir / STAGING / "broken").mkdir()  # no meta.json: nothing can use it
    assert purge_files(school_dir, rules.directory, NOW, 90, dry_run=True) == {"backups": 3, "staging": 2}
    assert {p.name for p in (school_dir / STAGING).iterdir()} == {old, fresh, "broken"}
    assert purge_files(school_dir, rules.directory, NOW, 90) == {"backups": 3, "staging": 2}
    assert [p.name for p in (school_dir / STAGING).iterdir()] == [fresh]
    assert Staging(school_dir, rules.directory).get(fresh, NOW) is not None


def _count(output: str, kind: str) -> int:
    found = re.search(rf"^{kind}\s+(\d+)\s", output, re.MULTILINE)
    assert found is not None, (kind, output)
    return int(found.group(1))


def test_absensi_purge_says_how_many_folders_go_and_a_dry_run_keeps_them(store: Store, school_dir: Path) -> None:
    """The CLI uses the real clock: backups named 100, 91, 89 and 10 days ago, and a hand-made copy."""
    now = datetime.now(UTC)
    shutil.rmtree(school_dir / BACKUPS)
    names = [f"{now - timedelta(days=days):%Y-%m-%d_%H%M%S}" for days in (100, 91, 89, 10)]
    for name in [*names, "salinan-manual"]:
        (school_dir / BACKUPS / name).mkdir(parents=True)
        (school_dir / BACKUPS / name / "parents.csv").write_text("nis,hp\n1001,081234567890\n")
    runner = CliRunner()
    args = ["purge", "--school", str(school_dir), "--db", store.url]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert _count(dry.output, "backups") == 2 and _count(dry.output, "staging") == 0
    assert "and 2 folder(s) would be deleted (dry run" in dry.output
    assert len(_left(school_dir)) == 5
    real = runner.invoke(app, args)
    assert real.exit_code == 0, real.output
    assert _count(real.output, "backups") == 2 and "and 2 folder(s) deleted" in real.output
    assert _left(school_dir) == sorted([*names[2:], "salinan-manual"])


def test_the_daily_purge_deletes_old_backups_too(store: Store, rules: CompiledRules, school_dir: Path) -> None:
    school = load_school(school_dir, rules.rules)
    Engine(rules, school, store, NOW).tick(NOW)
    assert _left(school_dir) == ["2026-01-01_000000.zip", "2026-09-02_040000", "2026-11-29_101500", "salinan-manual"]


def test_the_retention_setting_is_checked_by_the_schema(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    settings = rules_dir / "settings.yaml"
    text, found = re.subn(r"retention_backup_days: \d+", "retention_backup_days: 0", settings.read_text())
    assert found == 1
    settings.write_text(text)
    result = CliRunner().invoke(app, ["check", "--school", str(MINI), "--rules", str(rules_dir)])
    assert result.exit_code != 0
    assert re.search(r"settings\.yaml:\d+:\d+: .*retention_backup_days", result.output), result.output
