"""Random histories: every report's totals equal the raw entries counted by hand over school days."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from absensi.engine import reports
from absensi.engine.reports import compute
from absensi.engine.reports.history import Held, seat_days
from absensi.engine.reports.model import ClassRow, Entry, Snapshot, StudentRow

from .conftest import open_sheets, read_table

START = date(2026, 11, 1)
WINDOW = [START + timedelta(days=i) for i in range(30)]
CLASSES = [ClassRow("X TKJ 1", 10, "TKJ", "Bu A"), ClassRow("XI RPL 1", 11, "RPL", "Pak B")]
ABSENT = "SIAP"  # the shipped rules: D (dispensasi) is a day present


@st.composite
def histories(draw: st.DrawFn) -> Snapshot:
    school = draw(st.lists(st.sampled_from(WINDOW), min_size=1, max_size=30, unique=True))
    n = draw(st.integers(1, 7))
    students = [StudentRow(str(100 + i), "", f"Siswa {i}", CLASSES[i % 2].name, i // 2 + 1) for i in range(n)]
    marks = draw(st.dictionaries(
        st.tuples(st.sampled_from([s.nis for s in students]), st.sampled_from(WINDOW)),
        st.sampled_from("SIADP"), max_size=60,
    ))  # fmt: skip
    entries = [Entry(nis, day, status) for (nis, day), status in marks.items()]
    return Snapshot("SMK", "Tangerang", "Kepsek", "November 2026", school, WINDOW, students, CLASSES, entries)


def hand_count(snap: Snapshot, nis_list: list[str] | None = None) -> Counter[str]:
    days = set(snap.school_days)
    return Counter(
        e.status for e in snap.entries if e.day in days and (nis_list is None or e.nis in nis_list)
    )


def absent(counts: Counter[str], codes: str = ABSENT) -> int:
    return sum(counts[s] for s in codes)


def half_up(part: int, whole: int) -> float:
    """part ÷ whole × 100 rounded half up to 2 decimals, exactly (no float ties)."""
    return math.floor(Fraction(part * 100 * 100, whole) + Fraction(1, 2)) / 100


def longest_run(snap: Snapshot, nis: str) -> int:
    absent = {e.day for e in snap.entries if e.nis == nis and e.status != "D"}
    best = run = 0
    for day in sorted(set(snap.school_days)):
        run = run + 1 if day in absent else 0
        best = max(best, run)
    return best


@settings(max_examples=150, deadline=None)
@given(histories())
def test_student_rows_match_a_hand_count(snap):
    days = len(set(snap.school_days))
    for cls in CLASSES:
        for row in compute.rekap_kelas(snap, cls.name).records():
            counts = hand_count(snap, [row["NIS"]])
            assert all(row[s] == counts[s] for s in "SIADP")
            assert row["Hadir"] == days - absent(counts)
            assert row["Hadir"] + absent(counts) == row["Hari Efektif"] == days
            assert row["% Kehadiran"] == half_up(row["Hadir"], days)


@settings(max_examples=150, deadline=None)
@given(histories())
def test_school_total_and_class_formula_match_a_hand_count(snap):
    days, n = len(set(snap.school_days)), len(snap.students)
    counts = hand_count(snap)
    total = next(compute.rekap_sekolah(snap).records("total"))
    assert [total[s] for s in "SIADP"] == [counts[s] for s in "SIADP"]
    assert total["% Kehadiran"] == half_up(n * days - absent(counts), n * days)
    for cls in CLASSES:
        members = [s.nis for s in snap.students if s.class_name == cls.name]
        table = compute.rekap_kelas(snap, cls.name)
        c = hand_count(snap, members)
        if not members:
            assert table.extra["class_absence_pct"] is None
            continue
        whole = len(members) * days
        # the two percentages of one whole: half up for Hadir, the rest for the absences, 100 % together
        assert table.extra["class_pct"] == half_up(whole - absent(c), whole)
        assert round(table.extra["class_absence_pct"] + table.extra["class_pct"], 2) == 100.0
        assert abs(table.extra["class_absence_pct"] - absent(c) * 100 / whole) <= 0.005 + 1e-9
        # SPEC §7's class absence % is Σ(S+I+A) alone: a share of the absences' rounded units, within 0.01
        sia = sum(c[s] for s in "SIA")
        assert abs(table.extra["class_sia_pct"] - sia * 100 / whole) <= 0.01 + 1e-9
        assert table.extra["class_sia_pct"] <= table.extra["class_absence_pct"]
        assert f"{sia} ÷ ({len(members)} × {days}) × 100" in table.footer[0].split(";")[0]


@settings(max_examples=150, deadline=None)
@given(histories())
def test_semester_buckets_and_daily_reports_match_a_hand_count(snap):
    for cls in CLASSES:
        for row in compute.semester(snap, cls.name).records():
            c = hand_count(snap, [row["NIS"]])
            assert (row["Sakit"], row["Izin"], row["Tanpa Keterangan"]) == (c["S"], c["I"], c["A"] + c["P"])
            assert (row["Dispensasi"], row["Dipulangkan"]) == (c["D"], c["P"])
    per_day = sum(len(list(compute.harian(snap, d).records())) for d in set(snap.school_days))
    assert per_day == sum(hand_count(snap).values())
    trend = list(compute.daily_trend(snap).records())
    assert sum(sum(r[s] for s in "SIADP") for r in trend) == per_day
    assert sum(r["Tidak Hadir"] for r in trend) == absent(hand_count(snap))


@settings(max_examples=150, deadline=None)
@given(histories())
def test_perhatian_flags_exactly_the_students_over_a_threshold(snap):
    days = len(set(snap.school_days))
    flagged = {r["NIS"] for r in compute.perhatian(snap).records()}
    for student in snap.students:
        c = hand_count(snap, [student.nis])
        pct = half_up(days - absent(c), days)
        over = c["A"] + c["P"] >= 3 or longest_run(snap, student.nis) >= 3 or pct < 85
        assert (student.nis in flagged) == over


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_spreadsheet_holds_the_same_numbers(snap):
    ws = open_sheets(reports.export_xlsx("rekap-kelas", snap, class_name="X TKJ 1"))["X TKJ 1"]
    headers, rows, _ = read_table(ws, "No")
    members = [s.nis for s in snap.students if s.class_name == "X TKJ 1"]
    counts = hand_count(snap, members)
    total = dict(zip(headers, rows[-1], strict=True))
    assert [total[s] for s in "SIADP"] == [counts[s] for s in "SIADP"]
    assert len(rows) == len(members) + 1


BUCKET_CHOICES = st.sampled_from(["sakit", "izin", "tanpa_keterangan", None])


@settings(max_examples=150, deadline=None)
@given(histories(), st.fixed_dictionaries({s: BUCKET_CHOICES for s in "SIADP"}), st.sampled_from([*WINDOW, None]))
def test_any_counting_rule_and_any_today_keep_the_identities(snap, counting, today):
    """Whatever the rules say of each reason and whatever day it is: Hadir + the counted absences = Hari
    Efektif, each counted absence in exactly one e-Rapor total, the footnote says what was counted."""
    snap = dataclasses.replace(snap, counting=counting, today=today)
    days = [d for d in set(snap.school_days) if today is None or d <= today]
    counted = "".join(s for s in "SIADP" if counting[s])
    for cls in CLASSES:
        kelas = {r["NIS"]: r for r in compute.rekap_kelas(snap, cls.name).records()}
        semester = {r["NIS"]: r for r in compute.semester(snap, cls.name).records()}
        for nis, row in kelas.items():
            c = Counter(e.status for e in snap.entries if e.nis == nis and e.day in days)
            assert row["Hari Efektif"] == len(days) == semester[nis]["Hari Efektif"]
            assert row["Hadir"] + sum(row[s] for s in counted) == row["Hari Efektif"]
            assert [row[s] for s in "SIADP"] == [c[s] for s in "SIADP"]
            totals = semester[nis]["Sakit"] + semester[nis]["Izin"] + semester[nis]["Tanpa Keterangan"]
            assert totals == absent(c, counted)
            assert semester[nis]["% Kehadiran"] == row["% Kehadiran"]
        note = compute.semester(snap, cls.name).footer[0]
        for s in "SIADP":
            assert (f"{s} ({snap.label(s)}) → dihitung hadir" in note) == (s not in counted)


_SEAT = st.tuples(st.integers(-10, 70), st.integers(-2, 60))  # (first day from START, length − 1)


@given(st.lists(_SEAT, max_size=4), st.integers(0, 40), st.integers(0, 30))
@settings(max_examples=300, deadline=None)
def test_seat_days_are_the_days_the_seats_cover(seats: list[tuple[int, int]], offset: int, length: int) -> None:
    """A row's days (history.seat_days): None exactly when the seats cover every day of the period, else the
    covered days, counted one by one; the shortcut for a seat over the whole period gives the same."""
    start = START + timedelta(days=offset)
    end = start + timedelta(days=length)
    held = [Held("1001", "X TKJ 1", 1, START + timedelta(days=a), START + timedelta(days=a + n)) for a, n in seats]
    covered = {d for h in held for d in (start + timedelta(days=i) for i in range(length + 1)) if h.first <= d <= h.last}
    expected = None if len(covered) == length + 1 else frozenset(covered)
    assert seat_days(held, start, end) == expected
