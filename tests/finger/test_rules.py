"""The `finger` section (rules/finger.yaml): defaults, and names checked against roles and reasons at file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

from absensi.engine.rules import compile_rules
from absensi.engine.rules.diagnostics import Problems

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_shipped_section_is_the_defaults(rules) -> None:  # type: ignore[no-untyped-def]
    finger = rules.rules.finger
    assert (finger.bell, finger.late_at, finger.nihil_at) == ("07:00", "08:00", None)
    assert finger.absent_but_present == ["wali_kelas", "guru_bk"] and finger.late_to == ["guru_piket"]


def test_unknown_roles_reasons_and_times_are_errors_at_their_place(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "finger.yaml").read_text()
    text = text.replace("absent_but_present: [wali_kelas, guru_bk]", "absent_but_present: [wali_kelas, guru_kb]")
    text = text.replace("# absent_reasons: [A]  ", "absent_reasons: [A, X]")
    (rules / "finger.yaml").write_text(text)
    problems = Problems()
    assert compile_rules(rules, problems) is None
    rendered = problems.render(with_source=False)
    assert f"{rules / 'finger.yaml'}:13:36: unknown role 'guru_kb'" in rendered
    assert "guru_bk" in rendered  # the hint
    assert f"{rules / 'finger.yaml'}:14:23: unknown reason 'X'" in rendered
    (rules / "finger.yaml").write_text(text.replace('bell: "07:00"', 'bell: "7 pagi"'))
    problems = Problems()
    assert compile_rules(rules, problems) is None
    assert "is not a time of day" in problems.render(with_source=False)
