"""Golden reports: every report and the parent letters, as the command line writes them, are exactly what they
were when the golden files were made (tests/reports/golden/).

A fixed, seeded database is written straight through the store's tables (not through the engine, so that the
engine can change without moving these files), on SQLite and on PostgreSQL, for two schools:

* the mini school (18 students): the golden file holds each report's whole workbook, cell by cell (value,
  font, fill, border, alignment, number format), with its merged cells, column widths, row heights, frozen
  panes and print setup, the text version, and every letter's text with its position on the page;
* the sample school (790 students, 24 classes): the same, as one SHA-256 per report (the workbooks are large);
  a mismatch writes the actual canonical form beside the test's tmp directory to compare.

November 2026, today 30 November: seats from the first sync in July, three students moved on 16 November, one
joined on 9 November and one left on 20 November (no longer on the roster); absences of every reason on school
days, weekends, a holiday and tomorrow; corrections; class reports (NIHIL and not). Both backends must give
the same golden.

Regenerate (only when a report is meant to change): ABSENSI_UPDATE_GOLDEN=1 pytest tests/reports/test_reports_golden.py
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from absensi.engine.app.cli_reports import write_report
from absensi.engine.reports.letters import FONT_DIRS, render_letters
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School, Student
from absensi.engine.store import Store, enrolment
from absensi.engine.store.models import Absence, AbsenceChange, ClassReport

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
GOLDEN = Path(__file__).resolve().parent / "golden"
SCHOOLS = {"mini": ROOT / "tests" / "schools" / "mini", "sample": ROOT / "sample_school"}
TODAY = date(2026, 11, 30)
MOVE_DAY, JOIN_DAY, LEAVE_DAY = date(2026, 11, 16), date(2026, 11, 9), date(2026, 11, 20)
UPDATE = os.environ.get("ABSENSI_UPDATE_GOLDEN") == "1"


# ------------------------------------------------------------------------------------------- the seeded database


@dataclass
class Seeded:
    rules: CompiledRules
    school: School  # the roster of today (after the moves)
    store: Store
    moved: str  # a student who moved on MOVE_DAY (for riwayat)
    classes: list[str]


def _rosters(school: School, rng: random.Random) -> tuple[list[tuple[date, School]], School, str]:
    """The rosters as they changed, each with the day it applies from: July (one student not yet there),
    9 November (they joined), 16 November (three moved to another class), 20 November (one left the school);
    the roster used for reports (`moved` also serves the records of the month), and one mover's NIS.
    Each is a copy: the loaded school is never changed."""
    by_nis = sorted(school.students)
    classes = sorted(school.classes)
    joined, left, *movers = rng.sample(by_nis, 5)

    def copy(students: dict[str, Student]) -> School:
        made = replace(school, students=dict(students))
        made.index()
        return made

    moved = dict(school.students)
    for nis in movers:
        other = [c for c in classes if c != moved[nis].class_name]
        moved[nis] = replace(moved[nis], class_name=rng.choice(other), absen_no=0, explicit_no=False)
    final = copy({n: s for n, s in moved.items() if n != left})
    steps = [(date(2026, 7, 13), copy({n: s for n, s in school.students.items() if n != joined})),
             (JOIN_DAY, copy(school.students)), (MOVE_DAY, copy(moved)), (LEAVE_DAY, final)]
    return steps, copy(moved), movers[0]


def _seed(store: Store, school: School, rng: random.Random) -> tuple[School, str]:
    steps, moved, mover = _rosters(school, rng)
    for day, roster in steps:
        with store.unit() as session:
            enrolment.sync(session, roster, day)

    def class_on(nis: str, day: date) -> str | None:
        """The student's class that day as the rosters had it (None: not at the school)."""
        held = None
        for start, roster in steps:
            if start <= day or start == steps[0][0]:
                student = roster.students.get(nis)
                held = student.class_name if student else None
        return held

    _records(store, moved, class_on, rng)
    return steps[-1][1], mover


def _records(store: Store, school: School, class_on: Callable[[str, date], str | None], rng: random.Random) -> None:
    """Absences, their corrections and the classes' reports from 1 October to 1 December (tomorrow)."""
    statuses = ["S", "I", "A", "D", "P"]
    sources = [("ketua_kelas", "Andi"), ("sekretaris", "Sinta"), ("wali_kelas", "Bu Sari"), ("ortu", "+6281234567890"),
               ("guru_piket", "Pak Budi")]  # fmt: skip
    notes = ["", "demam", "acara keluarga", "lomba LKS", "terlambat", "ke dokter gigi"]
    day, last = date(2026, 10, 1), date(2026, 12, 1)
    students = sorted(school.students.values(), key=lambda s: s.nis)
    classes = sorted(school.classes)
    tz = school.calendar.tz
    with store.unit() as session:
        while day <= last:
            weekend = day.weekday() >= 5
            share = 0.01 if weekend else 0.06
            for student in students:
                held = class_on(student.nis, day)
                if rng.random() >= share or held is None:
                    continue
                status = rng.choice(statuses)
                source, reporter = rng.choice(sources)
                moment = datetime.combine(day, time(6 + rng.randrange(3), rng.randrange(60)), tzinfo=tz)
                withdrawn = rng.random() < 0.03
                session.add(Absence(nis=student.nis, day=day, class_name=held,
                                    state="withdrawn" if withdrawn else "recorded",
                                    status=None if withdrawn else status, note=rng.choice(notes), source=source,
                                    reporter=reporter, reported_at=moment, parent_notified=rng.random() < 0.4))
                session.add(AbsenceChange(nis=student.nis, day=day, old=None, new=status, by=reporter, source=source,
                                          at=moment))
                if rng.random() < 0.2:
                    later = moment + timedelta(minutes=rng.randrange(1, 240))
                    session.add(AbsenceChange(nis=student.nis, day=day, old=status, new=None if withdrawn else status,
                                              by="Bu Sari", source="wali_kelas", at=later))
            if not weekend:
                for name in classes:
                    if rng.random() < 0.85:
                        moment = datetime.combine(day, time(7, rng.randrange(60)), tzinfo=tz)
                        session.add(ClassReport(class_name=name, day=day, reporter="Andi", source="ketua_kelas",
                                                at=moment, nihil=rng.random() < 0.3))
            day += timedelta(days=1)


@pytest.fixture(scope="module", params=[("mini", "sqlite"), ("mini", "postgresql"), ("sample", "sqlite"),
                                        ("sample", "postgresql")], ids=lambda p: "-".join(p))
def seeded(request: pytest.FixtureRequest, fresh_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:  # type: ignore[no-untyped-def]
    which, backend = request.param
    with fresh_database(request, backend, tmp_path_factory.mktemp("db")) as url:
        rules = load_rules(RULES)
        school = load_school(SCHOOLS[which], rules.rules)
        store = Store(url)
        final, mover = _seed(store, school, random.Random(f"golden-{which}"))
        yield Seeded(rules, final, store, mover, sorted(final.classes))
        store.close()


# ------------------------------------------------------------------------------------------- canonical forms


def _value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def _color(fill: Any) -> str | None:
    if fill is None or fill.fill_type is None:
        return None
    return f"{fill.fill_type}:{fill.fgColor.rgb}"


def _style(cell: Any) -> list[object]:
    font, border, align = cell.font, cell.border, cell.alignment
    return [
        [font.b, font.i, font.sz and float(font.sz), font.u],
        _color(cell.fill),
        [border.left.style, border.right.style, border.top.style, border.bottom.style,
         border.left.color.rgb if border.left.color is not None else None],
        [align.horizontal, align.vertical, align.wrap_text],
        cell.number_format,
    ]  # fmt: skip


def canonical_workbook(data: bytes) -> list[dict[str, object]]:
    """Every sheet as the reader sees it: cells (value and style), merges, sizes, panes, print setup, images."""
    book = load_workbook(io.BytesIO(data))
    sheets = []
    for ws in book.worksheets:
        styles: dict[str, int] = {}
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                style = json.dumps(_style(cell))
                if cell.value is None and style == _PLAIN:
                    continue
                cells.append([cell.coordinate, _value(cell.value), styles.setdefault(style, len(styles))])
        setup = ws.page_setup
        sheets.append({
            "title": ws.title,
            "cells": cells,
            "styles": [json.loads(s) for s in styles],
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in sorted(ws.column_dimensions.items()) if d.width},
            "heights": {str(k): d.height for k, d in sorted(ws.row_dimensions.items()) if d.height},
            "freeze": ws.freeze_panes,
            "print": [setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight,
                      ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
                      ws.print_title_rows, str(ws.print_area) if ws.print_area else None,
                      ws.print_options.horizontalCentered, ws.page_margins.left, ws.page_margins.top,
                      ws.sheet_view.zoomScale],
            "images": [[str(img.anchor._from.row), img.width, img.height] for img in ws._images],
        })  # fmt: skip
    return sheets


_PLAIN = json.dumps([[False, False, 11.0, None], None, [None, None, None, None, None],
                     [None, None, None], "General"])  # fmt: skip


def assert_sized(data: bytes) -> None:
    """Each sheet states its extent (`<dimension>`) as its cells span it: a reader in openpyxl's read-only mode
    pads every row to that width (a school's script reading rows by column index relies on it)."""
    full = load_workbook(io.BytesIO(data))
    fast = load_workbook(io.BytesIO(data), read_only=True)
    for ws, ro in zip(full.worksheets, fast.worksheets, strict=True):
        assert ro.calculate_dimension() == ws.calculate_dimension(), ws.title
        assert {len(row) for row in ro.iter_rows(values_only=True)} == {ws.max_column}, ws.title
    fast.close()


# --- PDF text, read back from the file (fpdf2 writes Type0 fonts with a ToUnicode map, and core fonts as latin-1)


def _objects(pdf: bytes) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Each object's dictionary, and the (inflated) data of those that are streams (read by their /Length,
    from one object to the next: a font's bytes may hold anything)."""
    objects, streams = {}, {}
    start = re.compile(rb"(\d+) 0 obj\s*")
    found = start.search(pdf)
    while found is not None:
        number, at = int(found.group(1)), found.end()
        ends = [i for i in (pdf.find(b"stream", at), pdf.find(b"endobj", at)) if i >= 0]
        end = min(ends)
        head = pdf[at:end]
        objects[number] = head
        if pdf.startswith(b"stream", end):
            length = re.search(rb"/Length (\d+)", head)
            assert length is not None
            data_at = end + len(b"stream") + (2 if pdf.startswith(b"\r\n", end + 6) else 1)
            data = pdf[data_at : data_at + int(length.group(1))]
            streams[number] = zlib.decompress(data) if b"/FlateDecode" in head else data
            end = pdf.index(b"endobj", data_at + len(data))
        found = start.search(pdf, end)
    return objects, streams


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int.from_bytes(bytes.fromhex(dst.decode()), "big")
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(first + i)
    return mapping


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i]
        if ch == 0x5C:  # backslash
            nxt = raw[i + 1 : i + 2]
            if nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1 :]).group()  # type: ignore[union-attr]
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return bytes(out)


def pdf_pages(pdf: bytes) -> list[list[list[object]]]:
    """Each page's text runs in order, [font, size, x, y, text], with the code's box and the cut line as
    ["box", x, y, w, h] and ["line", x1, y1, x2, y2] (positions in points, 2 decimals)."""
    objects, streams = _objects(pdf)
    fonts: dict[str, dict[int, str] | None] = {}  # resource name → ToUnicode map (None: a one-byte core font)
    for body in objects.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            font = objects[int(ref)]
            unicode = re.search(rb"/ToUnicode (\d+) 0 R", font)
            fonts[name.decode()] = _cmap(streams[int(unicode.group(1))]) if unicode else None
    pages = []
    tree = next(body for body in objects.values() if b"/Type /Pages" in body)
    kids = re.search(rb"/Kids \[(.*?)\]", tree, re.S)
    assert kids is not None
    for ref in re.findall(rb"(\d+) 0 R", kids.group(1)):
        page = objects[int(ref)]
        contents = re.search(rb"/Contents (\d+) 0 R", page)
        assert contents is not None
        runs, font, size = [], "", 0.0
        for match in re.finditer(rb"/(F\d+) ([\d.]+) Tf|([\d.-]+) ([\d.-]+) Td \(((?:\\.|[^\\)])*)\) Tj"
                                 rb"|([\d.-]+ [\d.-]+ [\d.-]+ [\d.-]+) re|([\d.-]+ [\d.-]+) m ([\d.-]+ [\d.-]+) l",
                                 streams[int(contents.group(1))], re.S):
            if match.group(1):
                font, size = match.group(1).decode(), float(match.group(2))
                continue
            if match.group(6) or match.group(7):  # the code's box, the cut line
                shape = "box" if match.group(6) else "line"
                numbers = (match.group(6) or match.group(7) + b" " + match.group(8)).split()
                runs.append([shape, *(round(float(n), 2) for n in numbers)])
                continue
            raw = _unescape(match.group(5))
            cmap = fonts[font]
            if cmap is None:
                text = raw.decode("latin-1")
            else:
                text = "".join(cmap.get(int.from_bytes(raw[i : i + 2], "big"), "\ufffd") for i in range(0, len(raw), 2))
            runs.append([font, size, round(float(match.group(3)), 2), round(float(match.group(4)), 2), text])
        pages.append(runs)
    return pages


# ------------------------------------------------------------------------------------------- the reports


def _requests(seeded: Seeded) -> dict[str, dict[str, str | None]]:
    first, dept = seeded.classes[0], seeded.school.classes[seeded.classes[0]].department
    return {
        "harian": {"day": "2026-11-19"},
        "status": {"day": "2026-11-19"},
        "rekap-kelas": {"month": "2026-11"},
        "rekap-kelas-class": {"month": "2026-11", "class_name": first},
        "rekap-sekolah": {"month": "2026-11"},
        "rekap-sekolah-department": {"month": "2026-11", "department": dept},
        "semester": {"semester": "2026/2027 Ganjil"},
        "riwayat": {"month": "2026-11", "nis": seeded.moved},
        "perhatian": {"month": "2026-11"},
        "perhatian-semester": {},
    }


def produce(seeded: Seeded, tmp_path: Path) -> dict[str, object]:
    made: dict[str, object] = {}
    for key, asked in _requests(seeded).items():
        name = key.split("-class")[0].split("-department")[0].removesuffix("-semester")
        args: dict[str, str | None] = {"class_name": None, "department": None, "month": None, "semester": None,
                                       "day": None, "nis": None, **asked}  # fmt: skip
        out = tmp_path / f"{key}.xlsx"
        text = write_report(seeded.rules, seeded.school, seeded.store, name, out, today=TODAY, **args)  # type: ignore[arg-type]
        made[key] = {"text": text, "sheets": canonical_workbook(out.read_bytes())}
        assert_sized(out.read_bytes())
    students = sorted(seeded.school.students.values(), key=lambda s: (s.class_name, s.absen_no))
    letters = [(s.name, s.class_name, s.nis, s.parent_code) for s in students]
    for per_page in (1, 2):
        pdf = render_letters(seeded.school.name, seeded.school.sms_number, letters, place=seeded.school.place,
                             on=TODAY, per_page=per_page)
        made[f"letters-{per_page}"] = pdf_pages(pdf)
    return made


def readable(value: object, indent: str = "") -> str:
    """JSON with a list of plain values (a cell, a text run, a style part) on one line, so that a change in
    a report shows as a few changed lines."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {readable(v, inner)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}" if items else "{}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(f"{inner}{readable(v, inner)}" for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_reports_and_letters_match_the_golden_files(seeded: Seeded, request: pytest.FixtureRequest,
                                                    tmp_path: Path) -> None:
    which = request.node.callspec.params["seeded"][0]
    if not any((folder / "DejaVuSans.ttf").is_file() for folder in FONT_DIRS):
        pytest.skip("the golden letters are printed with DejaVu (apt-get install fonts-dejavu-core)")
    made = produce(seeded, tmp_path)
    assert all(made[f"letters-{n}"] for n in (1, 2))
    assert len(made["letters-1"]) == len(seeded.school.students)  # type: ignore[arg-type]
    if which == "mini":
        expected_file, actual = GOLDEN / "reports-mini.json", made
    else:
        expected_file, actual = GOLDEN / "reports-sample.json", {k: digest(v) for k, v in made.items()}
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        expected_file.write_text(readable(actual) + "\n", encoding="utf-8")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(actual, sort_keys=True, ensure_ascii=False))
    if actual != expected:
        dump = tmp_path / "actual.json"
        dump.write_text(json.dumps(made, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        differ = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
        pytest.fail(f"not as the golden file {expected_file.name}: {', '.join(differ)} (actual: {dump})")
