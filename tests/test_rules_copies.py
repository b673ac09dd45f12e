"""Rule sets committed for scenarios are the shipped rules with one deliberate change, so they never drift."""

from __future__ import annotations

import difflib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
P_NOTICE = ROOT / "tests" / "schools" / "rules_p_notice"  # README's changed rule: notify_parents on P


def test_the_p_notice_rules_are_the_shipped_rules_plus_notify_parents_on_p() -> None:
    shipped = {p.name: p.read_text() for p in RULES.glob("*.yaml")}
    copy = {p.name: p.read_text() for p in P_NOTICE.glob("*.yaml")}
    assert copy.keys() == shipped.keys()
    for name in shipped:
        if name != "reasons.yaml":
            assert copy[name] == shipped[name], f"{name} differs: cp rules/{name} {P_NOTICE.relative_to(ROOT)}/"
    changed = [line for line in difflib.ndiff(shipped["reasons.yaml"].splitlines(), copy["reasons.yaml"].splitlines())
               if line.startswith(("+ ", "- ")) and not line.startswith("+ #")]
    assert changed == ["+     notify_parents: true"]
    reasons = copy["reasons.yaml"]
    assert reasons.index("notify_parents: true", reasons.index("  P:")) > reasons.index("  P:")
