"""SPEC §7 "every figure has one definition": reports that agree with each other and with the records.

A month (and a scripted week before it) is played on the sample school through the real engine and store
(the demo's month: `engine.demo._play_month`), on SQLite and on PostgreSQL. Then every report is written as
the operator writes it (`absensi report …`, the same code as the CLI) and read back from the .xlsx files with
openpyxl, and `/rekap` and `/semester` are asked on Telegram and read back from the texts. The figures are
checked against the absence records in the database and against each other — per student and per class —
for the shipped rules (D dispensasi counts as present) and for a copy of the rules where D counts as absent
(under Izin):

* Hari Efektif = the school days of the period up to its last day and never after today (a parent's SAKIT
  for tomorrow is recorded but not counted), the same in rekap-kelas, rekap-sekolah, semester, riwayat,
  perhatian and the texts;
* per student: Hadir + the reason columns the rules count as absent = Hari Efektif; every reason column
  equals the records; % Kehadiran = Hadir ÷ Hari Efektif rounded half up to 2 decimals;
* per class and group: the totals are the sums of the rows; % kehadiran + % ketidakhadiran = 100 %;
* semester: Sakit + Izin + Tanpa Keterangan = the counted absences, each in one column after the D/P
  setting; the informational columns say whether they repeat a total or count as present;
* the footnotes say how each reason counts, and that is how the numbers count;
* perhatian flags exactly the students over a threshold, with "absent" as the rules count it;
* the texts spell each reason's name beside its letter (the rules' names) and show the sheets' numbers.
"""

from __future__ import annotations

import io
import math
import random
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from absensi.drivers.simulator import Simulator
from absensi.engine.app.cli_reports import write_report
from absensi.engine.app.demo import Demo, _play_month
from absensi.engine.core import Engine
from absensi.engine.messages import Channel
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import Absence, OutboxRow

from .conftest import read_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_school"
RULES = ROOT / "rules"
TODAY = date(2026, 11, 30)  # the demo's morning: the month before it has been played
TOMORROW = date(2026, 12, 1)
MONTH = (date(2026, 11, 1), date(2026, 11, 30))
SEMESTER_NAME = "2026/2027 Ganjil"
BUCKET_HEADERS = {"sakit": "Sakit", "izin": "Izin", "tanpa_keterangan": "Tanpa Keterangan"}


# ------------------------------------------------------------------------------------------- helpers


def half_up(part: int, whole: int) -> float:
    """part ÷ whole × 100, half up to 2 decimals, exactly."""
    return math.floor(Fraction(part * 10000, whole) + Fraction(1, 2)) / 100


def number(text: str) -> float:
    return float(text.replace(",", "."))


def sheets(data: bytes) -> dict[str, Worksheet]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: ws for ws in book.worksheets}


def records(ws: Worksheet, first: str) -> tuple[list[dict[str, object]], list[str]]:
    """The table's rows as dicts, and every text below the table (footnotes, signatures)."""
    headers, rows, top = read_table(ws, first)
    below = [c.value for row in ws.iter_rows(min_row=top + len(rows) + 1, max_col=1) for c in row]
    return [dict(zip(headers, r, strict=True)) for r in rows], [v for v in below if isinstance(v, str)]


def all_texts(ws: Worksheet) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def streak(days: list[date], absent: set[date]) -> int:
    best = run = 0
    for day in days:
        run = run + 1 if day in absent else 0
        best = max(best, run)
    return best


# ------------------------------------------------------------------------------------------- the played school


@dataclass
class Played:
    store: Store
    school: School
    demo: Demo
    future_nis: str  # a parent's SAKIT recorded for tomorrow
    scripted: dict[str, str]  # role in the script → nis
    records: dict[str, dict[date, str]] = field(default_factory=dict)  # nis → day → status (all of them)


def _officer(school: School, class_name: str) -> str:
    return next(str(s.telegram_id) for s in school.staff
                if s.scope == class_name and s.role == "ketua_kelas" and s.telegram_id)  # fmt: skip


def _script_week(demo: Demo) -> dict[str, str]:
    """26–30 Oct, before the month: an alfa run (3 in a month, 3 days in a row), a dispensasi run (a run only
    when D counts as absent) and two days sent home (P)."""
    school = demo.school
    classes = sorted(c for c in school.by_class if any(
        s.scope == c and s.role == "ketua_kelas" and s.telegram_id for s in school.staff))  # fmt: skip
    first, second = school.by_class[classes[0]], school.by_class[classes[1]]
    alfa, dispen, pulang = first[2], first[4], second[3]
    plan = {
        date(2026, 10, 26): [(classes[0], f"D {dispen.absen_no} lomba LKS")],
        date(2026, 10, 27): [(classes[0], f"A {alfa.absen_no}"), (classes[0], f"D {dispen.absen_no} lomba LKS")],
        date(2026, 10, 28): [(classes[0], f"A {alfa.absen_no}"), (classes[0], f"D {dispen.absen_no} lomba LKS")],
        date(2026, 10, 29): [(classes[0], f"A {alfa.absen_no}"), (classes[1], f"P {pulang.absen_no} terlambat")],
        date(2026, 10, 30): [(classes[1], f"P {pulang.absen_no} terlambat")],
    }
    for day, lines in plan.items():
        demo.at(7, 0, day)
        for class_name, line in lines:
            demo.send(Channel.TELEGRAM, _officer(school, class_name), line)
    return {"alfa": alfa.nis, "dispen": dispen.nis, "pulang": pulang.nis}


def _read_records(store: Store) -> dict[str, dict[date, str]]:
    found: dict[str, dict[date, str]] = defaultdict(dict)
    with store.unit() as session:
        for row in session.execute(select(Absence.nis, Absence.day, Absence.status)):
            if row.status:
                found[row.nis][row.day] = row.status
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def played(request: pytest.FixtureRequest, fresh_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:  # type: ignore[no-untyped-def]
    """The sample school's October week and November, played once per backend (the tests only read it)."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("db")) as url:
        rules = load_rules(RULES)
        school = load_school(SAMPLE, rules.rules)
        store = Store(url)
        start = datetime.combine(date(2026, 10, 26), time(6, 0), tzinfo=school.calendar.tz)
        demo = Demo(Engine(rules, school, store, start), Simulator(store), school, tmp_path_factory.mktemp("out"),
                    start)  # fmt: skip
        scripted = _script_week(demo)
        _play_month(demo, random.Random(2026))  # the demo's month: every class reports each school day
        phone, nis = next(iter(school_parents(SAMPLE)))
        demo.at(15, 0, TODAY)  # after the cutoff: the parent's SAKIT is for tomorrow
        demo.send(Channel.SMS, phone, f"SAKIT {nis} demam sejak sore")
        found = _read_records(store)
        assert found[nis].get(TOMORROW) == "S", "the parent's SAKIT for tomorrow was not recorded"
        yield Played(store, school, demo, nis, scripted, found)
        store.close()


def school_parents(directory: Path) -> Iterator[tuple[str, str]]:
    for line in (directory / "parents.csv").read_text(encoding="utf-8").splitlines()[1:]:
        phone, nis = line.rsplit(",", 1)
        yield phone.strip(), nis.strip()


# ------------------------------------------------------------------------------------------- the reports


@dataclass
class Books:
    name: str
    rules: CompiledRules
    school: School
    played: Played
    counted: dict[str, str]  # reason → e-Rapor total, for the reasons that count as absent
    codes: tuple[str, ...]  # every reason, in the rules' order
    month_days: list[date]
    semester_days: list[date]
    kelas: dict[str, tuple[list[dict[str, object]], list[str]]]  # class → (rows incl. total, footnotes)
    sekolah: tuple[list[dict[str, object]], list[str]]
    trend: list[dict[str, object]]
    semester: dict[str, tuple[list[dict[str, object]], list[str]]]
    semester_notes: dict[str, str]  # header → the note above it
    semester_texts: list[str]
    riwayat: dict[str, tuple[list[dict[str, object]], list[str]]]
    perhatian: list[dict[str, object]]
    texts: dict[str, str]  # who → the /rekap text
    rekap_docs: dict[str, bytes]
    semester_text: str

    def truth(self, nis: str, days: list[date]) -> Counter[str]:
        marks = self.played.records.get(nis, {})
        return Counter(marks[d] for d in days if d in marks)

    def absent(self, counts: Counter[str] | dict[str, object]) -> int:
        return sum(int(counts[c] or 0) for c in self.counted if c in counts)  # type: ignore[call-overload]


def _rules_where_d_counts(directory: Path) -> Path:
    target = directory / "rules"
    shutil.copytree(RULES, target)
    reasons = target / "reasons.yaml"
    text = reasons.read_text(encoding="utf-8")
    block = "  D:\n    name: Dispensasi\n    words: [DISPEN, DISPENSASI, D]\n    erapor: null\n"
    assert text.count(block) == 1, "rules/reasons.yaml changed: update this test's copy"
    reasons.write_text(text.replace(block, block.replace("erapor: null", "erapor: izin")), encoding="utf-8")
    return target


def _report(books_dir: Path, rules: CompiledRules, school: School, store: Store, name: str, **kw: str) -> bytes:
    out = books_dir / f"{name}-{'-'.join(kw.values()) or 'all'}.xlsx".replace("/", "_").replace(" ", "_")
    args = {"class_name": None, "department": None, "month": None, "semester": None, "day": None, "nis": None}
    write_report(rules, school, store, name, out, **{**args, **kw}, today=TODAY)  # type: ignore[arg-type]
    return out.read_bytes()


def _ask(demo: Demo, user: str, text: str) -> tuple[str, bytes | None]:
    """`text` sent on Telegram by `user`; the text answer and the document sent with it, if any."""
    answers = [d for d in demo.send(Channel.TELEGRAM, user, text) if d.to == user]
    body = next(d.text for d in answers if not d.document)
    names = [d.document for d in answers if d.document]
    if not names:
        return body, None
    with demo.engine.store.unit() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.channel == "telegram").order_by(OutboxRow.id.desc()))
        doc = next(r.payload["document"] for r in rows if (r.payload.get("document") or {}).get("filename") == names[0])
    return body, bytes.fromhex(doc["hex"])


@pytest.fixture(scope="module", params=["shipped rules", "D counts as absent"])
def books(request: pytest.FixtureRequest, played: Played, tmp_path_factory: pytest.TempPathFactory) -> Books:
    directory = tmp_path_factory.mktemp("books")
    rules_dir = RULES if request.param == "shipped rules" else _rules_where_d_counts(directory)
    rules = load_rules(rules_dir)
    school = load_school(SAMPLE, rules.rules)
    store = played.store

    def report(name: str, **kw: str) -> bytes:
        return _report(directory, rules, school, store, name, **kw)

    kelas = {title: records(ws, "No") for title, ws in sheets(report("rekap-kelas", month="2026-11")).items()}
    sekolah_book = sheets(report("rekap-sekolah", month="2026-11"))
    semester_book = sheets(report("semester", semester=SEMESTER_NAME))
    semester = {title: records(ws, "No") for title, ws in semester_book.items()}
    first = next(iter(semester_book.values()))
    top = read_table(first, "No")[2]
    notes = {str(h.value): str(n.value) for h, n in zip(first[top], first[top - 1], strict=True) if n.value}
    picked = [played.future_nis, *played.scripted.values()]
    picked += [nis for nis, marks in sorted(played.records.items()) if set(marks.values()) & {"D", "P"}][:8]
    picked += sorted(played.records)[:4] + [s.nis for s in school.by_class[sorted(school.by_class)[-1]][:2]]
    riwayat = {nis: records(next(iter(sheets(report("riwayat", nis=nis, semester=SEMESTER_NAME)).values())),
                            "Tanggal") for nis in dict.fromkeys(picked)}  # fmt: skip
    perhatian, _ = records(sheets(report("perhatian"))["Perhatian"], "No")

    calendar = school.calendar
    semester_period = calendar.semester_named(SEMESTER_NAME)
    assert semester_period is not None
    walis = [s for s in school.staff if s.role == "wali_kelas" and s.telegram_id][:2]
    heads = [next(s for s in school.staff if s.role == role and s.telegram_id) for role in ("ketua_jurusan", "guru_bk")]
    askers = {f"{s.role} {s.scope}".strip(): str(s.telegram_id) for s in [*walis, *heads]}
    demo = played.demo
    demo.at(16, 0, TODAY)
    demo.engine = Engine(rules, school, store, demo.now)  # the service, running with these rules
    texts, docs = {}, {}
    for who, user in askers.items():
        texts[who], doc = _ask(demo, user, "/rekap 2026-11")
        if doc is not None:
            docs[who] = doc
    semester_text, _ = _ask(demo, str(walis[0].telegram_id), "/semester")
    if request.config.getoption("verbose") > 1:
        print(*texts.values(), semester_text, sep="\n\n-----\n")
    return Books(
        name=request.param, rules=rules, school=school, played=played,
        counted={c: str(r.erapor) for c, r in rules.rules.reasons.items() if r.erapor},
        codes=tuple(rules.rules.reasons),
        month_days=calendar.school_days(MONTH[0], min(MONTH[1], TODAY)),
        semester_days=calendar.school_days(semester_period.start, min(semester_period.end, TODAY)),
        kelas=kelas, sekolah=records(sekolah_book["Rekap"], "Kelas"),
        trend=records(sekolah_book["Tren Harian"], "Tanggal")[0], semester=semester, semester_notes=notes,
        semester_texts=[t for ws in semester_book.values() for t in all_texts(ws)], riwayat=riwayat,
        perhatian=perhatian, texts=texts, rekap_docs=docs, semester_text=semester_text,
    )  # fmt: skip


def data_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in rows if r.get("Nama") != "Jumlah"]


# ------------------------------------------------------------------------------------------- the identities


def test_the_rules_variant_is_what_the_reports_use(books: Books) -> None:
    assert ("D" in books.counted) == (books.name == "D counts as absent")
    assert books.counted.get("P") == "tanpa_keterangan"


def test_hari_efektif_is_the_school_days_up_to_today_everywhere(books: Books) -> None:
    month, semester = len(books.month_days), len(books.semester_days)
    assert month == 20  # 2–30 Nov on weekdays, minus 25 Nov (Hari Guru); 30 Nov is today and counts
    whole = books.school.calendar.semester_named(SEMESTER_NAME)
    assert whole is not None and semester < len(books.school.calendar.school_days(whole.start, whole.end))
    assert {r["Hari Efektif"] for rows, _ in books.kelas.values() for r in rows} == {month}
    assert {r["Hari Efektif"] for r in books.sekolah[0]} == {month}
    assert {r["Hari Efektif"] for rows, _ in books.semester.values() for r in rows} == {semester}
    assert {r["Hari Efektif"] for r in books.perhatian} <= {semester}
    for nis, (_, notes) in books.riwayat.items():
        assert f"dari {semester} hari efektif" in notes[0], nis


def test_each_student_in_the_monthly_book_matches_the_records(books: Books) -> None:
    days = books.month_days
    seen = 0
    for class_name, (rows, _) in books.kelas.items():
        nis_of = {s.nis for s in books.school.by_class[class_name]}
        for row in data_rows(rows):
            assert row["NIS"] in nis_of
            truth = books.truth(str(row["NIS"]), days)
            assert {c: row[c] for c in books.codes} == {c: truth[c] for c in books.codes}, row["NIS"]
            assert row["Hadir"] + books.absent(row) == row["Hari Efektif"]  # type: ignore[operator]
            assert row["% Kehadiran"] == half_up(row["Hadir"], row["Hari Efektif"])  # type: ignore[arg-type]
            grid = Counter(v for k, v in row.items() if k.isdigit() and v)
            assert grid == +Counter({c: truth[c] for c in books.codes})  # the marks are the counts
            seen += 1
    assert seen == len(books.school.students)


def test_each_class_total_is_the_sum_of_its_students_and_its_percentages_make_100(books: Books) -> None:
    main = [c for c in books.codes if c in books.counted and c in "SIA"]  # SPEC §7: class absence % = Σ(S+I+A)
    rest = [c for c in books.codes if c in books.counted and c not in "SIA"]  # e.g. P: its own part of the whole
    for class_name, (rows, notes) in books.kelas.items():
        students, total = data_rows(rows), rows[-1]
        assert total["Nama"] == "Jumlah"
        for column in (*books.codes, "Hadir"):
            assert total[column] == sum(r[column] for r in students), (class_name, column)  # type: ignore[misc]
        whole = len(students) * len(books.month_days)
        assert total["Hadir"] + books.absent(total) == whole  # type: ignore[operator]
        assert total["% Kehadiran"] == half_up(total["Hadir"], whole)  # type: ignore[arg-type]
        formula = next(n for n in notes if n.startswith("Persentase ketidakhadiran kelas"))
        assert formula.startswith(f"Persentase ketidakhadiran kelas = Σ({'+'.join(main)}) ÷")
        assert (f"Σ({'+'.join(rest)}) ÷" in formula) == bool(rest)
        found = re.findall(r"= (\d+) ÷ \((\d+) × (\d+)\) × 100 = ([\d,]+) %", formula)
        assert len(found) == 3 if rest else 2
        (sia, n, he, pct_sia), *others, (hadir, n2, he2, pct_hadir) = found
        assert int(sia) == sum(int(total[c]) for c in main)  # type: ignore[call-overload]
        assert [int(o[0]) for o in others] == ([sum(int(total[c]) for c in rest)] if rest else [])  # type: ignore[call-overload]
        assert int(sia) + sum(int(o[0]) for o in others) + int(hadir) == whole
        assert int(hadir) == total["Hadir"]
        assert {int(n), int(n2), *(int(o[1]) for o in others)} == {len(students)}
        assert {int(he), int(he2), *(int(o[2]) for o in others)} == {len(books.month_days)}
        assert number(pct_hadir) == total["% Kehadiran"]
        assert abs(number(pct_sia) - int(sia) * 100 / whole) <= 0.01
        parts = [pct_sia, *(o[3] for o in others), pct_hadir]
        assert round(sum(number(p) for p in parts), 2) == 100.0 and "jumlah 100,00 %" in formula
        assert any("metode sisa terbesar" in n for n in notes)


def test_the_footnotes_say_how_each_reason_counts_and_the_numbers_count_so(books: Books) -> None:
    for notes in [books.kelas[next(iter(books.kelas))][1], books.sekolah[1],
                  next(iter(books.semester.values()))[1], next(iter(books.riwayat.values()))[1]]:  # fmt: skip
        note = next(n for n in notes if n.startswith("Penghitungan"))
        said = dict(re.findall(r"(\w) \([^)]*\) → ([^;.]+)", note))
        assert set(said) == set(books.codes)
        for code in books.codes:
            expected = BUCKET_HEADERS[books.counted[code]] if code in books.counted else "dihitung hadir"
            assert said[code].startswith(expected), (code, note)
        counted = [c for c in books.codes if not said[c].startswith("dihitung hadir")]
        assert f"Hadir = Hari Efektif − ({' + '.join(counted)})" in note
        assert counted == [c for c in books.codes if c in books.counted]  # and the numbers above use this set


def test_the_school_recap_agrees_with_the_class_books(books: Books) -> None:
    rows, notes = books.sekolah
    by_label = {str(r["Kelas"]): r for r in rows}
    he = len(books.month_days)
    hadir: dict[str, int] = {}
    for class_name, (class_rows, _) in books.kelas.items():
        total, mine = class_rows[-1], by_label[class_name]
        hadir[class_name] = int(total["Hadir"])  # type: ignore[call-overload]
        assert mine["Jumlah Siswa"] == len(data_rows(class_rows))
        assert {c: mine[c] for c in books.codes} == {c: total[c] for c in books.codes}
        assert mine["% Kehadiran"] == total["% Kehadiran"]
    classes = books.school.classes.values()
    groups = {f"Jurusan {d}": [c.name for c in classes if c.department == d] for d in {c.department for c in classes}}
    groups |= {label: [c.name for c in classes if f"Kelas {_roman(c.grade)}" == label]
               for label in {f"Kelas {_roman(c.grade)}" for c in classes}}  # fmt: skip
    groups["Total Sekolah"] = [c.name for c in classes]
    for label, members in groups.items():
        row = by_label[label]
        assert row["Jumlah Siswa"] == sum(by_label[m]["Jumlah Siswa"] for m in members), label  # type: ignore[misc]
        for code in books.codes:
            assert row[code] == sum(by_label[m][code] for m in members), (label, code)  # type: ignore[misc]
        whole = int(row["Jumlah Siswa"]) * he  # type: ignore[call-overload]
        assert row["% Kehadiran"] == half_up(sum(hadir[m] for m in members), whole), label
        assert whole - sum(hadir[m] for m in members) == books.absent(row)
    formula = next(n for n in notes if n.startswith("Persentase ketidakhadiran"))
    *absences, (_, _, _, pct_hadir) = re.findall(r"= (\d+) ÷ \((\d+) × (\d+)\) × 100 = ([\d,]+) %", formula)
    assert number(pct_hadir) == by_label["Total Sekolah"]["% Kehadiran"]
    assert sum(int(a[0]) for a in absences) == books.absent(by_label["Total Sekolah"])  # Σ(S+I+A), then e.g. P
    assert round(number(pct_hadir) + sum(number(a[3]) for a in absences), 2) == 100.0
    # the daily trend: 'Tidak Hadir' is what the rules count, day by day, and adds up to the school's absences
    assert [r["Tanggal"].date() for r in books.trend] == books.month_days  # type: ignore[union-attr]
    for r in books.trend:
        assert r["Tidak Hadir"] == books.absent(r)
    assert sum(r["Tidak Hadir"] for r in books.trend) == books.absent(by_label["Total Sekolah"])  # type: ignore[misc]


def _roman(grade: int) -> str:
    return {10: "X", 11: "XI", 12: "XII"}.get(grade, str(grade))


def test_the_semester_sheet_puts_each_absence_in_exactly_one_erapor_column(books: Books) -> None:
    for code, header in {"D": "Dispensasi", "P": "Dipulangkan"}.items():
        bucket = books.counted.get(code)
        expected = f"info: sudah di {BUCKET_HEADERS[bucket]}" if bucket else "info: dihitung hadir"
        assert books.semester_notes[header] == expected
    days = books.semester_days
    seen = 0
    for rows, notes in books.semester.values():
        for row in rows:
            truth = books.truth(str(row["NIS"]), days)
            per_bucket = Counter[str]()
            for code, n in truth.items():
                if code in books.counted:
                    per_bucket[BUCKET_HEADERS[books.counted[code]]] += n
            erapor = {h: row[h] for h in BUCKET_HEADERS.values()}
            assert erapor == {h: per_bucket[h] for h in BUCKET_HEADERS.values()}, row["NIS"]
            assert sum(erapor.values()) == books.absent(truth)  # type: ignore[arg-type]
            assert (row["Dispensasi"], row["Dipulangkan"]) == (truth["D"], truth["P"])
            hadir = row["Hari Efektif"] - sum(erapor.values())  # type: ignore[operator, arg-type]
            assert row["% Kehadiran"] == half_up(hadir, row["Hari Efektif"])  # type: ignore[arg-type]
            seen += 1
        assert any("tepat satu kolom e-Rapor" in n for n in notes)
    assert seen == len(books.school.students)
    assert not [t for t in books.semester_texts if "Semester Semester" in t or "semester Semester" in t]
    assert f"Semester: {SEMESTER_NAME}" in books.semester_texts
    # the scripted D run: three days present by default, three days of Izin when D counts
    dispen = next(r for rows, _ in books.semester.values() for r in rows if r["NIS"] == books.played.scripted["dispen"])
    assert dispen["Dispensasi"] >= 3  # type: ignore[operator]
    assert (dispen["Izin"] >= 3) == ("D" in books.counted)  # type: ignore[operator]


def test_riwayat_agrees_with_the_semester_sheet(books: Books) -> None:
    semester = {r["NIS"]: r for rows, _ in books.semester.values() for r in rows}
    for nis, (rows, notes) in books.riwayat.items():
        sentence = notes[0]
        assert sentence.startswith("Jumlah: ")
        named = sentence.removeprefix("Jumlah: ").split(";")[0].split(", ")
        counts = {part.split()[0]: int(part.split()[-1]) for part in named}
        hadir, he, pct = re.search(r"Hadir (\d+) dari (\d+) hari efektif \(([\d,]+) %\)", sentence).groups()  # type: ignore[union-attr]
        truth = books.truth(nis, books.semester_days)
        assert counts == {c: truth[c] for c in books.codes}, (nis, sentence)
        for code in books.codes:  # the reason's name is spelled beside its letter
            assert f"{code} {books.rules.rules.reasons[code].name} {counts[code]}" in sentence
        assert int(hadir) + books.absent(counts) == int(he) == semester[nis]["Hari Efektif"]
        assert number(pct) == semester[nis]["% Kehadiran"]
        listed = Counter(str(r["Status"]).split()[0] for r in rows if r["Status"] != "Dibatalkan")
        assert listed == +truth
        assert all(r["Tanggal"].date() <= TODAY for r in rows)  # type: ignore[union-attr]
    assert TOMORROW in books.played.records[books.played.future_nis]  # recorded, never counted above


def test_perhatian_flags_exactly_the_students_over_a_threshold(books: Books) -> None:
    limits = books.rules.rules.settings.thresholds
    semester = {r["NIS"]: r for rows, _ in books.semester.values() for r in rows}
    expected = set()
    for nis, row in semester.items():
        marks = books.played.records.get(str(nis), {})
        counted = {d for d, s in marks.items() if d in books.semester_days and s in books.counted}
        alfa = Counter((d.year, d.month) for d in counted if marks[d] == "A")  # SPEC §7: A only, not P
        if (max(alfa.values(), default=0) >= limits.alfa_per_month
                or streak(books.semester_days, counted) >= limits.consecutive_days
                or row["% Kehadiran"] < limits.min_attendance_pct):  # type: ignore[operator]
            expected.add(nis)
    flagged = {r["NIS"]: r for r in books.perhatian}
    assert set(flagged) == expected
    scripted = books.played.scripted
    assert scripted["alfa"] in flagged  # A on 27, 28, 29 Oct
    assert (scripted["dispen"] in flagged) == ("D" in books.counted)  # D on 26, 27, 28 Oct: a run only if absent
    for nis, row in flagged.items():
        truth = books.truth(str(nis), books.semester_days)
        assert {c: row[c] for c in books.codes} == {c: truth[c] for c in books.codes}
        assert row["Hadir"] + books.absent(row) == row["Hari Efektif"] == len(books.semester_days)  # type: ignore[operator]
        assert row["% Kehadiran"] == semester[nis]["% Kehadiran"]


STUDENT = re.compile(r"^(\d+)\. (.+?): (.+) · Hadir (\d+)/(\d+) · ([\d,]+) %$")
CLASS = re.compile(r"^(.+) — (\d+) hari efektif, kehadiran ([\d,]+) % \+ ketidakhadiran (.+) = 100 %$")
PART = re.compile(r"^\(([A-Z+]+)\) ([\d,]+) %$")  # one part of the absence %: "(S+I+A) 3,50 %", "(P) 0,80 %"
SUMMARY = re.compile(r"^(.+?): (.+) · Hadir (\d+) dari (\d+) × (\d+) · ([\d,]+) %$")


def _named_counts(books: Books, text: str) -> dict[str, int]:
    """'S Sakit 2, A Alfa 3' → {'S': 2, 'A': 3}, checking each name is the rules' name of the letter."""
    if text in ("hadir penuh", "nihil"):
        return {}
    found = {}
    for part in text.split(", "):
        code, rest = part.split(" ", 1)
        name, n = rest.rsplit(" ", 1)
        assert name == books.rules.rules.reasons[code].name, part
        found[code] = int(n)
    return found


def test_the_rekap_texts_show_the_sheets_numbers_with_the_reasons_named(books: Books) -> None:
    counted = ", ".join(f"{c} {r.name}" for c, r in books.rules.rules.reasons.items() if r.erapor)
    checked_students = checked_classes = 0
    for who, text in books.texts.items():
        lines = text.splitlines()
        assert lines[0] == "Rekap kehadiran November 2026", who
        assert lines[1].startswith(f"Dihitung tidak hadir: {counted}"), (who, lines[1])
        current: str | None = None
        listed: set[int] = set()
        for line in lines[2:]:
            if match := CLASS.match(line):
                current, listed = match.group(1), set()
                rows, _ = books.kelas[current]
                total = rows[-1]
                assert int(match.group(2)) == total["Hari Efektif"]
                assert number(match.group(3)) == total["% Kehadiran"]
                parts = [PART.match(part) for part in match.group(4).split(" + ")]
                assert all(parts) and parts[0].group(1) == "S+I+A", line  # type: ignore[union-attr]
                sia = sum(total[c] for c in ("S", "I", "A"))  # type: ignore[misc]
                whole = total["Hari Efektif"] * (len(rows) - 1)  # type: ignore[operator]
                assert abs(number(parts[0].group(2)) - sia * 100 / whole) <= 0.011, line  # type: ignore[union-attr]
                assert round(number(match.group(3)) + sum(number(p.group(2)) for p in parts), 2) == 100.0  # type: ignore[union-attr]
                checked_classes += 1
            elif (match := STUDENT.match(line)) and current:
                row = data_rows(books.kelas[current][0])[int(match.group(1)) - 1]
                assert row["Nama"] == match.group(2)
                shown = _named_counts(books, match.group(3))
                assert shown == {c: row[c] for c in books.codes if row[c]}, line
                assert (int(match.group(4)), int(match.group(5))) == (row["Hadir"], row["Hari Efektif"])
                assert number(match.group(6)) == row["% Kehadiran"]
                listed.add(int(match.group(1)))
                checked_students += 1
            elif match := SUMMARY.match(line):
                total = books.kelas[match.group(1)][0][-1]
                assert _named_counts(books, match.group(2)) == {c: total[c] for c in books.codes if total[c]}
                assert int(match.group(3)) == total["Hadir"]
                assert int(match.group(5)) == total["Hari Efektif"]
                assert number(match.group(6)) == total["% Kehadiran"]
                checked_classes += 1
            elif line == "(siswa lain hadir penuh)" and current:
                for i, row in enumerate(data_rows(books.kelas[current][0]), 1):  # the unlisted have no reason at all
                    assert i in listed or not any(row[c] for c in books.codes)
    assert checked_students > 50 and checked_classes >= len(books.school.classes)
    for who, data in books.rekap_docs.items():  # the document sent with the text holds the same rows
        for title, ws in sheets(data).items():
            rows, _ = records(ws, "No")
            assert rows == books.kelas[title][0], (who, title)


def test_the_semester_text_shows_the_sheets_numbers(books: Books) -> None:
    lines = books.semester_text.splitlines()
    assert lines[0] == f"Rekap semester {SEMESTER_NAME} (untuk e-Rapor)"
    sheet: dict[object, dict[str, object]] = {}
    pattern = re.compile(r"^\d+\. (.+?): Sakit (\d+), Izin (\d+), Tanpa Ket\. (\d+)(?: \(rincian: (.+)\))? · "
                         r"kehadiran ([\d,]+) % dari (\d+) hari efektif$")  # fmt: skip
    checked = 0
    for line in lines:
        if line in books.semester:  # the class's name starts its rows
            sheet = {r["Nama"]: r for r in books.semester[line][0]}
        elif match := pattern.match(line):
            row = sheet[match.group(1)]
            assert [int(match.group(i)) for i in (2, 3, 4)] == [row["Sakit"], row["Izin"], row["Tanpa Keterangan"]]
            info = _named_counts(books, match.group(5)) if match.group(5) else {}
            assert info == {c: row[h] for c, h in (("D", "Dispensasi"), ("P", "Dipulangkan")) if row[h]}
            assert (number(match.group(6)), int(match.group(7))) == (row["% Kehadiran"], row["Hari Efektif"])
            checked += 1
    assert checked >= 20
    assert any(line.startswith("Penghitungan") for line in lines)


def test_a_reason_added_to_the_rules_appears_in_every_recap(tmp_path: Path) -> None:
    """No report knows the list S, I, A, D, P: a reason the school adds is counted, named and footnoted."""
    from absensi.engine import reports
    from absensi.engine.reports.model import ClassRow, Entry, Snapshot, StudentRow

    days = [date(2026, 11, d) for d in (2, 3, 4, 5, 6)]
    snap = Snapshot(
        "SMK", "Tangerang", "Kepsek", "November 2026", days, days,
        [StudentRow("1", "", "Ani", "X A", 1), StudentRow("2", "", "Budi", "X A", 2)], [ClassRow("X A", 10, "A")],
        [Entry("1", days[0], "T"), Entry("1", days[1], "T"), Entry("2", days[2], "S")],
        counting={"S": "sakit", "A": "tanpa_keterangan", "T": "tanpa_keterangan"}, statuses=("S", "A", "T"),
        status_labels={"S": "Sakit", "A": "Alfa", "T": "Tugas sekolah terlambat"},
    )  # fmt: skip
    kelas, _ = records(sheets(reports.export_xlsx("rekap-kelas", snap))["X A"], "No")
    assert (kelas[0]["T"], kelas[0]["Hadir"], kelas[0]["Hari Efektif"]) == (2, 3, 5)
    sem, notes = records(sheets(reports.export_xlsx("semester", snap))["X A"], "No")
    assert (sem[0]["Tanpa Keterangan"], sem[0]["Tugas"]) == (2, 2)
    assert any("Tugas (T) hanya keterangan, sudah termasuk kolom Tanpa Keterangan" in n for n in notes)
    text = reports.export_text("rekap-kelas", snap)
    assert "1. Ani: T Tugas sekolah terlambat 2 · Hadir 3/5 · 60,00 %" in text
    assert "X A: 70,00 % (S Sakit 1, T Tugas sekolah terlambat 2)" in reports.export_text("rekap-sekolah", snap)
