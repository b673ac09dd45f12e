"""`absensi simulate` as SPEC §5–§6 call it: folders of scenarios as well as files; times with or without a zone."""

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


NAIVE = """name: times without a zone are the school's
school: {school}
start: 2026-11-30T12:00:00
steps:
  - sms: {{from: "081234500001", text: "REG AB12CD"}}
  - at: 2026-11-30 13:59
  - sms: {{from: "081234500001", text: "SAKIT demam"}}
    expect:
      - sms: {{to: "081234500001", contains: ["30 November 2026"]}}
  - at: 2026-11-30T14:30:00
  - sms: {{from: "081234500001", text: "IZIN kontrol"}}
    expect:
      - sms: {{to: "081234500001", contains: ["1 Desember 2026"]}}
"""


def test_a_scenario_time_without_a_zone_is_the_schools_time(tmp_path: Path) -> None:
    scenario = tmp_path / "naive.yaml"  # 13:59 in Jakarta is before the 14:00 cutoff; 13:59 UTC is not
    scenario.write_text(NAIVE.format(school=ROOT / "schools" / "mini"))
    result = CliRunner().invoke(app, ["simulate", str(scenario)])
    assert result.exit_code == 0, result.output


def test_a_scenario_time_that_is_not_one_is_named_with_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(NAIVE.format(school=ROOT / "schools" / "mini").replace("2026-11-30 13:59", "jam dua"))
    result = CliRunner().invoke(app, ["simulate", str(scenario)])
    said = " ".join(result.output.split())
    assert result.exit_code != 0 and "bad.yaml:6: 'jam dua' is not a time" in said, said
