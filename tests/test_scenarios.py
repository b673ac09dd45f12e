"""Acceptance scenarios (SPEC §6): every `tests/scenarios/*.yaml` played through the real engine.

Each file runs twice, on a fresh SQLite database and on a fresh PostgreSQL database (`db_url`); a failure prints every failed step with what was
expected and every message the engine produced in that step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from absensi.engine.app.scenario import run_scenario

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


def _explain(result) -> str:
    lines = [f"scenario {result.name!r} ({result.path.name}) failed:"]
    for step in result.steps:
        if not step.failures:
            continue
        lines.append(f"  step {step.number} (line {step.line}): {step.label}")
        lines.extend(f"    ✗ {failure}" for failure in step.failures)
        if not step.produced:
            lines.append("    (no message produced)")
        for msg in step.produced:
            doc = f" [document {msg.document}]" if msg.document else ""
            text = msg.text.replace("\n", "\n        ")
            lines.append(f"    → {msg.channel} {msg.to}{doc}: {text}")
            lines.extend("      " + " ".join(f"[{b.label}]" for b in row) for row in msg.buttons)
    return "\n".join(lines)


def test_scenarios_found() -> None:
    assert SCENARIOS, "no scenario files in tests/scenarios/"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, db_url: str) -> None:
    result = run_scenario(path, db_url)
    assert result.steps, f"{path.name}: no steps were run"
    assert result.ok, _explain(result)
