"""`absensi simulate` takes folders of scenarios as well as files (SPEC §5: `absensi simulate SCENARIO...`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from absensi.engine.app.cli import app

ROOT = Path(__file__).resolve().parent
PICKED = ("sms_help.yaml", "sms_stop.yaml")


def test_a_folder_runs_its_scenarios_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copytree(ROOT / "schools", tmp_path / "schools")  # the scenarios name ../schools/mini
    for name in reversed(PICKED):
        shutil.copy(ROOT / "scenarios" / name, folder / name)
    (folder / "notes.txt").write_text("not a scenario")
    result = CliRunner().invoke(app, ["simulate", str(folder)])
    assert result.exit_code == 0, result.output
    said = "".join(result.output.split())  # the console wraps long paths
    ran = [part.split(".yaml", 1)[0] + ".yaml" for part in said.split("▶")[1:]]
    assert ran == ["".join(str(folder / name).split()) for name in PICKED]


def test_a_folder_without_scenarios_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", str(tmp_path)])
    assert result.exit_code != 0
    assert "is a folder without scenario files" in " ".join(result.output.split())
