"""SPEC §2 "History keeps its classes", through the real engine and store, on SQLite and PostgreSQL.

November 2026 on the mini school year: Siti Rahma (X TKJ 1 no. 6) is marked by her class's ketua kelas in
the first half of the month; on Monday 16 Nov the roster moves her to X TKJ 2 (where she is no. 7) and adds
Abdul Aziz to X TKJ 1; X TKJ 2's ketua kelas marks her after that. On 1 Dec the school renames X TKJ 2 to
X TKJ 3 (X TKJ 2 leaves classes.csv). Then, as the operator and the staff ask for them:

* rekap-kelas of both classes lists Siti in both, marked `pindah`, each row counting only its own school days
  (10 in X TKJ 1, 11 in X TKJ 2), the days spent elsewhere marked `-` and shaded; Abdul is `masuk` with 11;
* per row Hadir + the absences the rules count = Hari Efektif; per class the totals are the rows' sums and the
  percentages divide the student-days (the footnote says so), adding up to 100 %; the school recap agrees and
  counts a moved student once in her department;
* harian and riwayat of a day before the move show her old class (and absen number); riwayat of the month
  names both classes with their dates;
* on Telegram the old wali kelas's /rekap and /riwayat show her X TKJ 1 days only, the new wali kelas's her
  X TKJ 2 days only, the counsellor's both;
* the renamed-away X TKJ 2 is still reportable for November (grade and department from its name) and is
  refused for December, when it did not exist.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from absensi.engine.app.cli_reports import write_report
from absensi.engine.app.reload import load_checked
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store

from .conftest import read_table
from .test_reports_agree import half_up, number

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
MINI_YEAR = ROOT / "tests" / "schools" / "mini_year"
MOVED = ROOT / "tests" / "schools" / "mini_year_moved"
TODAY = date(2026, 11, 30)
KETUA_1, KETUA_2 = "700001", "700004"  # ketua kelas of X TKJ 1 and X TKJ 2
WALI_1, WALI_2, BK, WALI_RPL = "700003", "700005", "700007", "700010"
SITI, ABDUL = "1002", "1013"
NOV = [date(2026, 11, d) for d in range(1, 31)]
SCHOOL_DAYS = [d for d in NOV if d.weekday() < 5]  # 21: no holiday in November
BEFORE = [d for d in SCHOOL_DAYS if d.day < 16]  # 10: Siti in X TKJ 1
AFTER = [d for d in SCHOOL_DAYS if d.day >= 16]  # 11: Siti in X TKJ 2
ABSENT = ("S", "I", "A", "P")  # the shipped rules: D dispensasi counts as present


@dataclass
class Played:
    rules: CompiledRules
    store: Store
    engine: Engine
    renamed: School  # the school after 1 Dec (X TKJ 2 renamed X TKJ 3)
    answers: dict[tuple[str, str], list[OutboundMessage]]  # (user, command) → the engine's answers


class Clock:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.count = engine, 0

    def at(self, day: date, hh: int = 7, mm: int = 10) -> datetime:
        now = datetime.combine(day, time(hh, mm), tzinfo=self.engine.school.calendar.tz)
        self.engine.tick(now)
        return now

    def send(self, user: str, text: str, day: date, hh: int = 7, mm: int = 10) -> list[OutboundMessage]:
        now = self.at(day, hh, mm)
        self.count += 1
        msg = InboundMessage(Channel.TELEGRAM, user, now, f"test:{self.count}", text)
        return self.engine.receive(msg, now)


def _renamed_school(directory: Path) -> Path:
    """mini_year_moved with X TKJ 2 renamed X TKJ 3 (classes.csv, students.csv, staff.csv)."""
    target = directory / "renamed"
    shutil.copytree(MOVED, target)
    for name in ("classes.csv", "students.csv", "staff.csv"):
        path = target / name
        path.write_text(path.read_text(encoding="utf-8").replace("X TKJ 2", "X TKJ 3"), encoding="utf-8")
    return target


def _switch(engine: Engine, directory: Path, now: datetime) -> None:
    problems = Problems()
    loaded = load_checked(directory, RULES, problems)
    assert loaded is not None, problems.render()
    engine.switch(*loaded, now)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def played(request: pytest.FixtureRequest, fresh_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:  # type: ignore[no-untyped-def]
    with fresh_database(request, request.param, tmp_path_factory.mktemp("db")) as url:
        rules = load_rules(RULES)
        store = Store(url)
        school = load_school(MINI_YEAR, rules.rules)
        start = datetime.combine(date(2026, 11, 2), time(6, 30), tzinfo=school.calendar.tz)
        engine = Engine(rules, school, store, start)
        clock = Clock(engine)
        # X TKJ 1 by name: Adi 1, Agus 2, Ani 3, Bayu 4, Budi 5, Siti 6. X TKJ 2: Citra 1 … Indah 6.
        for day, user, line in [(3, KETUA_1, "S 6 demam"), (4, KETUA_1, "A 5 6"), (5, KETUA_2, "A 1"),
                                (10, KETUA_1, "I 6 acara keluarga"), (12, KETUA_1, "D 6 lomba LKS")]:  # fmt: skip
            assert clock.send(user, line, date(2026, 11, day)), line
        _switch(engine, MOVED, clock.at(date(2026, 11, 16), 6, 45))  # Siti → X TKJ 2 (no. 7); Abdul → X TKJ 1 (7)
        for day, user, line in [(17, KETUA_2, "A 7"), (18, KETUA_2, "S 7 flu"), (19, KETUA_1, "A 7"),
                                (23, KETUA_1, "S 5")]:  # fmt: skip
            assert clock.send(user, line, date(2026, 11, day)), line
        answers = {}
        for user, command in [(WALI_1, "/rekap 2026-11"), (WALI_2, "/rekap 2026-11"), (WALI_1, "/riwayat 1002"),
                              (WALI_2, "/riwayat 1002"), (BK, "/riwayat 1002"), (WALI_RPL, "/riwayat 1002")]:
            answers[user, command] = [m for m in clock.send(user, command, TODAY, 16, 0) if m.to == user]
        renamed = _renamed_school(tmp_path_factory.mktemp("school"))
        _switch(engine, renamed, clock.at(date(2026, 12, 1), 6, 30))
        yield Played(rules, store, engine, engine.school, answers)
        store.close()


# ------------------------------------------------------------------------------------------- reading


def report(played: Played, tmp_path: Path, name: str, school: School | None = None, **kw: str) -> tuple[bytes, str]:
    out = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.xlsx"
    args = {"class_name": None, "department": None, "month": None, "semester": None, "day": None, "nis": None}
    text = write_report(played.rules, school or played.renamed, played.store, name, out, **{**args, **kw},  # type: ignore[arg-type]
                        today=TODAY)
    return out.read_bytes(), text


def sheets(data: bytes) -> dict[str, Worksheet]:
    return {ws.title: ws for ws in load_workbook(io.BytesIO(data)).worksheets}


def table(ws: Worksheet, first: str) -> tuple[list[dict[str, object]], list[str], int]:
    """Rows as dicts, every text below the table and the header row number."""
    headers, rows, top = read_table(ws, first)
    below = [c.value for row in ws.iter_rows(min_row=top + len(rows) + 1, max_col=1) for c in row]
    return [dict(zip(headers, r, strict=True)) for r in rows], [v for v in below if isinstance(v, str)], top


def absent(row: dict[str, object]) -> int:
    return sum(int(row[c] or 0) for c in ABSENT)  # type: ignore[call-overload]


def by_name(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["Nama"]).split(",")[0]: r for r in rows if r["Nama"] != "Jumlah"}


# ------------------------------------------------------------------------------------------- the tests


def test_the_monthly_books_of_both_classes_list_the_moved_student_for_her_days_in_each(
        played: Played, tmp_path: Path) -> None:  # fmt: skip
    books = {c: sheets(report(played, tmp_path, "rekap-kelas", class_name=c, month="2026-11")[0])[c]
             for c in ("X TKJ 1", "X TKJ 2")}  # fmt: skip
    one, notes_one, top_one = table(books["X TKJ 1"], "No")
    two, notes_two, _ = table(books["X TKJ 2"], "No")
    siti_1, siti_2 = by_name(one)["Siti Rahma"], by_name(two)["Siti Rahma"]
    assert siti_1["Nama"] == "Siti Rahma, pindah ke X TKJ 2 (16 Nov)" and siti_1["No"] == 6
    assert siti_2["Nama"] == "Siti Rahma, pindah dari X TKJ 1 (16 Nov)"
    assert by_name(one)["Abdul Aziz"]["Nama"] == "Abdul Aziz, masuk (16 Nov)"
    # her records count in the class they were made in, and only there
    assert ({c: siti_1[c] for c in ("S", "I", "A", "D", "P")}, siti_1["Hadir"], siti_1["Hari Efektif"]) == (
        {"S": 1, "I": 1, "A": 1, "D": 1, "P": 0}, 7, len(BEFORE))
    assert ({c: siti_2[c] for c in ("S", "I", "A", "D", "P")}, siti_2["Hadir"], siti_2["Hari Efektif"]) == (
        {"S": 1, "I": 0, "A": 1, "D": 0, "P": 0}, 9, len(AFTER))
    assert by_name(one)["Abdul Aziz"]["Hari Efektif"] == len(AFTER) and by_name(one)["Abdul Aziz"]["A"] == 1
    assert by_name(one)["Budi Santoso"]["Hari Efektif"] == len(SCHOOL_DAYS)
    # the grid: a mark on her days in the class, '-' (shaded) on the days spent in the other
    assert [siti_1[str(d.day)] for d in (date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 17))] == ["S", "A", "-"]
    assert [siti_2[str(d.day)] for d in (date(2026, 11, 3), date(2026, 11, 17), date(2026, 11, 18))] == ["-", "A", "S"]
    assert all(siti_1[str(d)] == "-" for d in range(16, 31)) and all(siti_2[str(d)] == "-" for d in range(1, 16))
    ws = books["X TKJ 1"]
    siti_line = top_one + 1 + [r["NIS"] for r in one].index(SITI)
    day_17 = ws.cell(row=top_one, column=1 + list(one[0]).index("17"))
    assert ws.cell(row=siti_line, column=day_17.column).fill.fgColor.rgb.endswith("D9D9D9")
    assert any("- = tidak di kelas ini" in n for n in notes_one)
    assert any("pindah" in n for n in notes_two)


def test_each_row_and_each_class_keeps_the_identities(played: Played, tmp_path: Path) -> None:
    data, text = report(played, tmp_path, "rekap-kelas", month="2026-11")
    for title, ws in sheets(data).items():
        rows, notes, _ = table(ws, "No")
        students, total = rows[:-1], rows[-1]
        assert total["Nama"] == "Jumlah"
        if not students:  # X TKJ 3: today's class, from 1 Dec
            assert title == "X TKJ 3"
            continue
        whole = 0
        for row in students:
            assert row["Hadir"] + absent(row) == row["Hari Efektif"], (title, row["Nama"])  # type: ignore[operator]
            assert row["% Kehadiran"] == half_up(row["Hadir"], row["Hari Efektif"])  # type: ignore[arg-type]
            assert sum(1 for k, v in row.items() if k.isdigit() and v in ABSENT) == absent(row)
            whole += int(row["Hari Efektif"])  # type: ignore[call-overload]
        for column in ("S", "I", "A", "D", "P", "Hadir"):
            assert total[column] == sum(r[column] for r in students), (title, column)  # type: ignore[misc]
        assert total["Hadir"] + absent(total) == whole  # type: ignore[operator]
        assert total["% Kehadiran"] == half_up(total["Hadir"], whole)  # type: ignore[arg-type]
        formula = next(n for n in notes if n.startswith("Persentase ketidakhadiran kelas"))
        moved = any("," in str(r["Nama"]) for r in students)
        if moved:  # the whole is the student-days, and the footnote says which
            found = re.findall(r"= (\d+) ÷ \(Σ Hari Efektif per siswa = (\d+)\) × 100 = ([\d,]+) %", formula)
        else:
            found = [(a, str(int(n) * int(he)), p)
                     for a, n, he, p in re.findall(r"= (\d+) ÷ \((\d+) × (\d+)\) × 100 = ([\d,]+) %", formula)]
        *gone, (hadir, days_2, pct_hadir) = found  # Σ(S+I+A) (SPEC §7), then P, then Hadir
        assert {int(g[1]) for g in gone} == {int(days_2)} == {whole}
        assert (sum(int(g[0]) for g in gone), int(hadir)) == (absent(total), total["Hadir"])
        assert int(gone[0][0]) == sum(int(total[c]) for c in "SIA")  # type: ignore[call-overload]
        assert number(pct_hadir) == total["% Kehadiran"]
        assert round(number(pct_hadir) + sum(number(g[2]) for g in gone), 2) == 100
        assert moved == (title in ("X TKJ 1", "X TKJ 2")), title
    assert "Siti Rahma, pindah ke X TKJ 2 (16 Nov): S Sakit 1, I Izin 1, A Alfa 1, D Dispensasi 1 · Hadir 7/10" in text


def test_the_school_recap_agrees_and_counts_a_moved_student_once_in_her_department(
        played: Played, tmp_path: Path) -> None:  # fmt: skip
    data, _ = report(played, tmp_path, "rekap-sekolah", month="2026-11")
    rows, notes, _ = table(sheets(data)["Rekap"], "Kelas")
    by_label = {str(r["Kelas"]): r for r in rows}
    kelas = sheets(report(played, tmp_path, "rekap-kelas", month="2026-11")[0])
    for name in ("X TKJ 1", "X TKJ 2", "XI RPL 1"):
        total = table(kelas[name], "No")[0][-1]
        assert {c: by_label[name][c] for c in ("S", "I", "A", "D", "P", "% Kehadiran")} == {
            c: total[c] for c in ("S", "I", "A", "D", "P", "% Kehadiran")}, name
    assert (by_label["X TKJ 1"]["Jumlah Siswa"], by_label["X TKJ 2"]["Jumlah Siswa"]) == (7, 7)
    assert by_label["Jurusan TKJ"]["Jumlah Siswa"] == 13  # Siti once
    assert by_label["X TKJ 3"]["Jumlah Siswa"] == 0  # today's name of the class, from 1 Dec
    assert by_label["Total Sekolah"]["A"] == 5 and any("siswa pindah sekali" in n for n in notes)
    person_days = 5 * 21 + 10 + 11 + (6 * 21 + 11) + 6 * 21
    assert by_label["Total Sekolah"]["% Kehadiran"] == half_up(person_days - 9, person_days)


def test_harian_and_riwayat_of_a_day_before_the_move_show_the_old_class(played: Played, tmp_path: Path) -> None:
    def harian(day: str, class_name: str | None = None) -> list[dict[str, object]]:
        data, _ = report(played, tmp_path, "harian", day=day, class_name=class_name)
        return table(next(iter(sheets(data).values())), "Tanggal")[0]

    before = {r["NIS"]: r for r in harian("2026-11-10")}
    assert (before[SITI]["Kelas"], before[SITI]["No"], before[SITI]["Status"]) == ("X TKJ 1", 6, "I")
    assert [r["NIS"] for r in harian("2026-11-10", "X TKJ 1")] == [SITI]
    assert harian("2026-11-10", "X TKJ 2") == []
    after = {r["NIS"]: r for r in harian("2026-11-17")}
    assert (after[SITI]["Kelas"], after[SITI]["No"]) == ("X TKJ 2", 7)
    assert harian("2026-11-17", "X TKJ 1") == []

    data, text = report(played, tmp_path, "riwayat", nis=SITI, day="2026-11-10")
    ws = next(iter(sheets(data).values()))
    titles = [c.value for c in ws["A"][:8] if isinstance(c.value, str)]
    assert "Kelas: X TKJ 1" in titles and "Kelas: X TKJ 1" in text
    data, text = report(played, tmp_path, "riwayat", nis=SITI, month="2026-11")
    assert "Kelas: X TKJ 1 s.d. 15/11/2026, X TKJ 2 sejak 16/11/2026" in text
    rows = table(next(iter(sheets(data).values())), "Tanggal")[0]
    assert [r["Tanggal"].day for r in rows] == [3, 4, 10, 12, 17, 18]  # type: ignore[union-attr]
    assert "Hadir 16 dari 21 hari efektif" in text


def test_on_telegram_each_wali_kelas_sees_the_days_in_her_class(played: Played) -> None:
    def answer(user: str, command: str) -> tuple[str, bytes | None]:
        messages = played.answers[user, command]
        docs = [m.document.content for m in messages if m.document]
        return "\n".join(m.text for m in messages if not m.document), docs[0] if docs else None

    old, doc = answer(WALI_1, "/rekap 2026-11")
    assert "Siti Rahma, pindah ke X TKJ 2 (16 Nov): S Sakit 1, I Izin 1, A Alfa 1, D Dispensasi 1 · Hadir 7/10" in old
    assert "Abdul Aziz, masuk (16 Nov)" in old and "X TKJ 2 —" not in old
    assert doc is not None
    siti = by_name(table(sheets(doc)["X TKJ 1"], "No")[0])["Siti Rahma"]
    assert (siti["Hadir"], siti["Hari Efektif"], siti["17"]) == (7, 10, "-")
    new, _ = answer(WALI_2, "/rekap 2026-11")
    assert "Siti Rahma, pindah dari X TKJ 1 (16 Nov): S Sakit 1, A Alfa 1 · Hadir 9/11" in new
    assert "X TKJ 1 —" not in new

    old, _ = answer(WALI_1, "/riwayat 1002")
    assert "03/11/2026" in old and "10/11/2026" in old and "17/11/2026" not in old
    assert "Kelas: X TKJ 1 s.d. 15/11/2026" in old and "X TKJ 2" not in old
    new, _ = answer(WALI_2, "/riwayat 1002")
    assert "17/11/2026" in new and "03/11/2026" not in new and "Kelas: X TKJ 2 sejak 16/11/2026" in new
    both, _ = answer(BK, "/riwayat 1002")
    assert "03/11/2026" in both and "17/11/2026" in both
    nothing, _ = answer(WALI_RPL, "/riwayat 1002")
    assert "1002" in nothing and "03/11/2026" not in nothing


def test_a_class_no_longer_in_classes_csv_is_reportable_for_the_periods_it_existed(
        played: Played, tmp_path: Path) -> None:  # fmt: skip
    assert "X TKJ 2" not in played.renamed.classes
    data, text = report(played, tmp_path, "rekap-kelas", class_name="X TKJ 2", month="2026-11")
    rows, _, _ = table(sheets(data)["X TKJ 2"], "No")
    named = by_name(rows)
    assert set(named) == {"Citra Dewi", "Dimas Saputra", "Eka Putri", "Fajar Hidayat", "Gilang Ramadhan",
                          "Indah Permata", "Siti Rahma"}
    assert named["Citra Dewi"]["A"] == 1 and named["Citra Dewi"]["Hari Efektif"] == len(SCHOOL_DAYS)
    assert named["Siti Rahma"]["Hari Efektif"] == len(AFTER)
    assert "X TKJ 2" in text
    data, _ = report(played, tmp_path, "rekap-sekolah", month="2026-11")
    labels = [r["Kelas"] for r in table(sheets(data)["Rekap"], "Kelas")[0]]
    assert labels.index("X TKJ 2") < labels.index("Jurusan TKJ") < labels.index("Kelas X")  # grade 10, TKJ: by name
    semester, _ = report(played, tmp_path, "semester", class_name="X TKJ 2", semester="2026/2027 Ganjil")
    assert by_name(table(sheets(semester)["X TKJ 2"], "No")[0])["Citra Dewi"]["Tanpa Keterangan"] == 1
    with pytest.raises(ValueError, match="unknown class 'X TKJ 2'"):
        report(played, tmp_path, "rekap-kelas", class_name="X TKJ 2", month="2026-12")
