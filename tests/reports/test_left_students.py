"""SPEC §2: a student who leaves the school keeps their history. The seats the store keeps name them, so the
reports of the periods they were there still say who they were, and their riwayat is still there — on the
command line and on Telegram, within the viewer's scope. Both backends, through the real engine and store.

Budi Santoso (X TKJ 1 no. 5, NIS 1001) is marked alfa on Wednesday 4 November and sick on Thursday 5; on
Monday 16 November he is no longer in students.csv (he left the school).
"""

from __future__ import annotations

import io
import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from absensi.engine.app.cli_reports import write_report
from absensi.engine.app.reload import load_checked
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.files import load_school
from absensi.engine.store import Store
from absensi.engine.store.models import Enrolment

from .conftest import read_table

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
MINI_YEAR = ROOT / "tests" / "schools" / "mini_year"
KETUA_1, WALI_1, WALI_2 = "700001", "700003", "700005"  # ketua and wali kelas of X TKJ 1, wali of X TKJ 2
BUDI = "1001"
TODAY = date(2026, 11, 30)
OPTIONS = {"class_name": None, "department": None, "month": None, "semester": None, "day": None, "nis": None}


class Played:
    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.rules: CompiledRules = load_rules(RULES)
        self.store = Store(db_url)
        school = load_school(MINI_YEAR, self.rules.rules)
        self.engine = Engine(self.rules, school, self.store, self.at(2, 6))
        self.tmp, self.count = tmp_path, 0

    def at(self, day: int, hh: int = 7) -> datetime:
        now = datetime.combine(date(2026, 11, day), time(hh, 10), tzinfo=_tz())
        if hasattr(self, "engine"):
            self.engine.tick(now)
        return now

    def say(self, user: str, text: str, day: int, hh: int = 7) -> list[OutboundMessage]:
        now = self.at(day, hh)
        self.count += 1
        return self.engine.receive(InboundMessage(Channel.TELEGRAM, user, now, f"t:{self.count}", text), now)

    def switch(self, directory: Path, day: int) -> None:
        problems = Problems()
        loaded = load_checked(directory, RULES, problems)
        assert loaded is not None, problems.render()
        self.engine.switch(*loaded, self.at(day, 6))

    def report(self, name: str, **options: str) -> tuple[list[list[object]], str]:
        out = self.tmp / f"{name}-{self.count}.xlsx"
        self.count += 1
        text = write_report(self.rules, self.engine.school, self.store, name, out, **{**OPTIONS, **options},  # type: ignore[arg-type]
                            today=TODAY)
        sheet = load_workbook(io.BytesIO(out.read_bytes())).worksheets[0]
        return read_table(sheet, "Tanggal" if name == "riwayat" else "No")[1], text

    def seat_names(self) -> dict[str, str | None]:
        with self.store.unit() as session:
            return dict(session.execute(select(Enrolment.nis, Enrolment.name)).all())  # type: ignore[arg-type]


def _tz():  # type: ignore[no-untyped-def]
    return load_school(MINI_YEAR, load_rules(RULES).rules).calendar.tz


def _without_budi(directory: Path) -> Path:
    target = directory / "left"
    shutil.copytree(MINI_YEAR, target)
    students = target / "students.csv"
    students.write_text("".join(line for line in students.read_text().splitlines(keepends=True)
                                if not line.startswith(f"{BUDI},")))
    return target


@pytest.fixture
def played(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    game = Played(db_url, tmp_path)
    assert game.say(KETUA_1, "A 5", 4) and game.say(KETUA_1, "S 5 demam", 5)  # Budi is no. 5 in X TKJ 1
    yield game
    game.store.close()


def test_the_month_of_a_student_who_left_names_him_and_his_riwayat_is_still_there(played: Played) -> None:
    played.switch(_without_budi(played.tmp), 16)
    assert BUDI not in played.engine.school.students

    rows, text = played.report("rekap-kelas", class_name="X TKJ 1", month="2026-11")
    budi = [row for row in rows if str(row[1]) == BUDI]
    assert len(budi) == 1 and str(budi[0][2]).startswith("Budi Santoso"), budi  # not "(tidak lagi di daftar …)"
    assert "keluar (16 Nov)" in str(budi[0][2])

    rows, text = played.report("riwayat", nis=BUDI, month="2026-11")
    assert "Budi Santoso" in text and "04/11/2026" in text and "05/11/2026" in text
    assert len(rows) == 2

    with pytest.raises(ValueError, match="unknown student NIS '9999'"):  # a NIS never seated is still unknown
        played.report("riwayat", nis="9999", month="2026-11")

    answer = [m for m in played.say(WALI_1, f"/riwayat {BUDI}", 30, 16) if m.to == WALI_1]
    assert any(m.document for m in answer) and "04/11/2026" in "\n".join(m.text for m in answer)
    other = [m for m in played.say(WALI_2, f"/riwayat {BUDI}", 30, 16) if m.to == WALI_2]  # not her class
    assert not any(m.document for m in other) and "04/11/2026" not in "\n".join(m.text for m in other)


def test_seats_kept_before_names_were_are_named_at_the_next_seating(played: Played) -> None:
    with played.store.unit() as session:  # as an upgraded database has them
        session.execute(update(Enrolment).values(name=None))
    assert set(played.seat_names().values()) == {None}
    played.switch(MINI_YEAR, 9)  # any seating: a reload, a restart
    names = played.seat_names()
    assert names[BUDI] == "Budi Santoso" and None not in names.values()
    played.switch(_without_budi(played.tmp), 16)
    rows, _ = played.report("rekap-kelas", class_name="X TKJ 1", month="2026-11")
    assert [str(row[2]).split(",")[0] for row in rows if str(row[1]) == BUDI] == ["Budi Santoso"]
