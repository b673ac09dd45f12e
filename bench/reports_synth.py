"""A synthetic but realistic school for the report benchmarks and sample renders.

24 classes (grades 10–12 × TKJ, RPL, AKL, MPLB × 2), ~33 students each, one month (or a semester)
of absences: mostly present, illnesses that last a few days, the occasional alfa streak, corrections
from parents. Seeded, so every run renders the same school.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from absensi.engine.reports.model import Change, ClassReport, ClassRow, Entry, Snapshot, StudentRow

FIRST = ["Budi", "Andi", "Siti", "Dewi", "Rina", "Agus", "Eko", "Fajar", "Putri", "Nur", "Ahmad", "Dimas", "Rizky", "Intan", "Ayu", "Bayu", "Citra", "Dian", "Fitri", "Gilang", "Hendra", "Indah", "Joko", "Kartika", "Lestari", "Maya", "Nanda", "Oktavia", "Rahmat", "Sari", "Taufik", "Wahyu", "Yuni", "Zahra"]  # fmt: skip
LAST = ["Santoso", "Wijaya", "Saputra", "Lestari", "Pratama", "Nugroho", "Hidayat", "Kusuma", "Rahayu", "Setiawan", "Siregar", "Nasution", "Simanjuntak", "Purnomo", "Utami", "Maharani", "Ramadhan", "Firmansyah", "Hakim", "Permana"]  # fmt: skip
GRADES = {10: "X", 11: "XI", 12: "XII"}
DEPTS = ("TKJ", "RPL", "AKL", "MPLB")
NOTES = {"S": ["demam", "flu", "sakit perut", "tifus", ""], "I": ["acara keluarga", "ke luar kota", ""],
         "A": [""], "D": ["lomba LKS", "paskibra", "OSIS"], "P": ["terlambat"]}  # fmt: skip


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def span(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def school_days_of(days: list[date], holidays: frozenset[date] = frozenset()) -> list[date]:
    return [d for d in days if d.weekday() < 5 and d not in holidays]


def roster(rng: random.Random, per_class: int = 33) -> tuple[list[ClassRow], list[StudentRow]]:
    classes, students, nis = [], [], 24001
    for grade, roman in GRADES.items():
        for dept in DEPTS:
            for n in (1, 2):
                name = f"{roman} {dept} {n}"
                classes.append(ClassRow(name, grade, dept, f"{rng.choice(FIRST)} {rng.choice(LAST)}, S.Pd."))
                names = sorted(
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(per_class + rng.randint(-2, 2))
                )
                for i, student in enumerate(names, 1):
                    nisn = f"00{rng.randint(10_000_000, 99_999_999)}"
                    students.append(StudentRow(str(nis), nisn, student, name, i, rng.choice("LP")))
                    nis += 1
    return classes, students


def absences(
    rng: random.Random, students: list[StudentRow], days: list[date]
) -> tuple[list[Entry], list[Change]]:
    """About 3–4 % absence: episodes of 1–3 days; a few truants with alfa streaks; some A → S corrections."""
    entries, changes = [], []
    truants = {s.nis for s in rng.sample(students, max(1, len(students) // 40))}
    for student in students:
        rate = 0.06 if student.nis in truants else 0.022
        i = 0
        while i < len(days):
            if rng.random() < rate:
                status = "A" if student.nis in truants and rng.random() < 0.7 else _status(rng)
                length = rng.choice((1, 1, 1, 2, 3)) if status in "SA" else 1
                for day in days[i : i + length]:
                    entries.append(_entry(rng, student, day, status))
                    if status == "A" and rng.random() < 0.1:
                        changes += _correction(rng, student, day)
                        entries[-1] = _entry(rng, student, day, "S", source="ortu")
                i += length
            i += 1
    return entries, changes


def _status(rng: random.Random) -> str:
    return rng.choices("SIADP", weights=(45, 25, 15, 10, 5))[0]


def _entry(rng: random.Random, student: StudentRow, day: date, status: str, source: str = "") -> Entry:
    source = source or rng.choice(("ketua_kelas", "sekretaris", "ortu", "wali_kelas"))
    reporter = f"08{rng.randint(1_100_000_000, 1_399_999_999)}" if source == "ortu" else rng.choice(FIRST)
    at = datetime.combine(day, time(6, 45)) + timedelta(minutes=rng.randint(0, 150))
    note = rng.choice(NOTES[status])
    return Entry(student.nis, day, status, note, source, reporter, at, status == "A")


def _correction(rng: random.Random, student: StudentRow, day: date) -> list[Change]:
    t0 = datetime.combine(day, time(7, 20))
    return [Change(student.nis, day, None, "A", "Ketua", t0, "ketua_kelas"),
            Change(student.nis, day, "A", "S", "0812" + str(rng.randint(1_000_000, 9_999_999)),
                   t0 + timedelta(minutes=55), "ortu")]  # fmt: skip


def class_reports(classes: list[ClassRow], days: list[date]) -> list[ClassReport]:
    return [ClassReport(c.name, d, "Ketua", datetime.combine(d, time(7, 5 + i % 40)), "ketua_kelas")
            for d in days for i, c in enumerate(classes) if (i + d.day) % 9]  # fmt: skip


def school(all_days: list[date], label: str, seed: int = 7, per_class: int = 33) -> Snapshot:
    rng = random.Random(seed)
    classes, students = roster(rng, per_class)
    days = school_days_of(all_days, frozenset({date(2026, 12, 25), date(2026, 8, 17)}))
    entries, changes = absences(rng, students, days)
    return Snapshot(
        school_name="SMK PGRI 1 Tangerang", place="Tangerang", headmaster="Drs. H. Suharto, M.Pd.",
        period_label=label, school_days=days, all_days=all_days, students=students, classes=classes,
        entries=entries, changes=changes, class_reports=class_reports(classes, days),
    )  # fmt: skip


def month_school(year: int = 2026, month: int = 11, **kw: int) -> Snapshot:
    from absensi.engine.reports.fmt import month_label

    return school(month_days(year, month), month_label(year, month), **kw)


def semester_school(**kw: int) -> Snapshot:
    return school(span(date(2026, 7, 13), date(2026, 12, 19)), "2026/2027 Ganjil", **kw)
