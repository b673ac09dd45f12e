"""The simulator's button lookup, as scenario authors write `press:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from absensi.drivers.simulator import Simulator
from absensi.engine.app.scenario import ScenarioError, run_scenario
from absensi.engine.messages import Button


def keyboard() -> Simulator:
    sim = Simulator(outbox=None)  # type: ignore[arg-type]
    sim.keyboards["7"] = ((Button("5. Budi Santoso", "t5"), Button("6. Siti Rahma [S]", "t6")),
                          (Button("Kirim", "k"), Button("Batal", "x")))
    return sim


def test_press_by_exact_label_prefix_or_part() -> None:
    sim = keyboard()
    assert sim.button("7", "kirim").data == "k"  # type: ignore[union-attr]
    assert sim.button("7", "5. Budi").data == "t5"  # type: ignore[union-attr]
    assert sim.button("7", "Budi Santoso").data == "t5"  # type: ignore[union-attr]
    assert sim.button("7", "Siti Rahma").data == "t6"  # type: ignore[union-attr]


def test_ambiguous_or_missing_labels_find_nothing() -> None:
    sim = keyboard()
    assert sim.button("7", "a") is None  # in several labels
    assert sim.button("7", "Dimas") is None
    assert sim.button("8", "Kirim") is None  # no keyboard in that chat


def test_a_malformed_scenario_step_is_reported_with_its_line(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "bad.yaml"
    school = str(Path(__file__).parent / "schools" / "mini")
    path.write_text(f"name: bad\nschool: {school}\nstart: 2026-11-30T07:00:00+07:00\nsteps:\n"
                    "  - sms: {from: '081234500001', text: 'REG AB12CD'}\n  - sms: 'REG AB12CD'\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml:6: malformed step"):
        run_scenario(path, db_url)


def test_a_press_that_finds_no_button_names_the_labels_it_could_press(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "press.yaml"
    school = str(Path(__file__).parent / "schools" / "mini")
    path.write_text(f"name: press\nschool: {school}\nstart: 2026-11-30T07:00:00+07:00\nsteps:\n"
                    "  - telegram: {from: 700001, press: 'Kirim'}\n"
                    "  - telegram: {from: 700001, text: '/absen'}\n"
                    "  - telegram: {from: 700001, press: 'Dimas'}\n")
    result = run_scenario(path, db_url)
    before, _, missing = result.steps
    assert before.failures == ["no button 'Kirim': no keyboard was sent to 700001"]
    (failure,) = missing.failures
    assert failure.startswith("no single button 'Dimas' on the last keyboard sent to 700001; its buttons: ")
    assert all(f"'{label}'" in failure for label in ("1. Adi Nugroho", "6. Siti Rahma", "Alfa", "Kirim", "Batal"))
