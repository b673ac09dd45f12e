"""Golden tests: broken rule files (a comment in each says what is wrong) and the exact messages
`absensi check` prints for them. Regenerate after a deliberate change with UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from absensi.engine.app.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "rules"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def run_check(rules_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", "--rules", str(rules_dir), "--school", str(ROOT / "tests/schools/mini")])
    text = result.output.replace(str(rules_dir), "rules").replace(str(ROOT) + "/", "")
    return result.exit_code, text


@pytest.mark.parametrize("case", CASES)
def test_broken_rules_give_pinned_messages(case: str, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    for path in (GOLDEN / case).glob("*.yaml"):
        shutil.copy(path, rules_dir / path.name)
    code, output = run_check(rules_dir)
    expected_file = GOLDEN / case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(output)
    assert code == 1, output
    assert output == expected_file.read_text()


def test_shipped_rules_and_sample_school_pass() -> None:
    result = CliRunner().invoke(app, ["check", "--school", str(ROOT / "sample_school")])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_no_traceback_for_any_golden_case(tmp_path: Path) -> None:
    for case in CASES:
        rules_dir = tmp_path / case
        shutil.copytree(ROOT / "rules", rules_dir)
        for path in (GOLDEN / case).glob("*.yaml"):
            shutil.copy(path, rules_dir / path.name)
        _, output = run_check(rules_dir)
        assert "Traceback" not in output and "Error:" not in output.split("\n")[0]
