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


def test_a_school_copy_made_for_an_older_version_takes_the_shipped_wording(tmp_path: Path) -> None:
    """Upgrading must not stop a school whose own rules/ lacks a template added since: a warning, and the
    engine uses the shipped text. A template no version ships (a school's own reminder) stays an error."""
    from absensi.engine.rules import compile_rules

    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    templates = rules_dir / "templates.yaml"
    lines = templates.read_text().splitlines(keepends=True)
    templates.write_text("".join(line for line in lines if not line.lstrip().startswith("tg_welcome:")))
    code, output = run_check(rules_dir)
    assert code == 0, output
    assert "warning: template 'tg_welcome' is missing: the wording this version ships is used" in output
    compiled = compile_rules(rules_dir)
    shipped = compile_rules(ROOT / "rules")
    assert compiled is not None and shipped is not None
    fields = {"school": "SMK X", "button": "Bagikan"}
    assert compiled.templates["tg_welcome"].render(fields) == shipped.templates["tg_welcome"].render(fields)

    settings = rules_dir / "settings.yaml"
    settings.write_text(settings.read_text().replace("template: pengingat_wali}", "template: pengingat_khusus}"))
    code, output = run_check(rules_dir)
    assert code == 1, output
    assert "template 'pengingat_khusus' is missing" in output


def test_the_shipped_rules_themselves_must_hold_every_template(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fallback is the shipped wording: in the shipped rules a missing template is an error."""
    from absensi.engine.rules import compiler

    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    templates = rules_dir / "templates.yaml"
    lines = templates.read_text().splitlines(keepends=True)
    templates.write_text("".join(line for line in lines if not line.lstrip().startswith("tg_welcome:")))
    monkeypatch.setattr(compiler, "SHIPPED_RULES", rules_dir.resolve())
    code, output = run_check(rules_dir)
    assert code == 1, output
    assert "template 'tg_welcome' is missing" in output and "warning: template 'tg_welcome'" not in output
