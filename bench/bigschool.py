"""Bigger schools for the benches: the sample school cloned `factor` times into a new directory.

    .venv/bin/python bench/bigschool.py FACTOR OUTDIR      # e.g. 10 /tmp/school10 (≈ 7,900 students, 240 classes)

Every class of sample_school is repeated `factor` times under the next free numbers of its grade and
department (X TKJ 1, 2 → X TKJ 3, 4, …), with new students (new NIS, NISN, names, parent codes, same
genders), a new wali kelas and new class officers (who are students of their class, as in the sample),
new phone numbers and Telegram ids; parents.csv is repeated for each copy with new numbers (siblings keep
sharing one). School-wide staff, the calendar and the groups stay as they are. Seeded: the same factor
gives the same files. The first copy is the sample school itself.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_school"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # as the sample's: no 0/O, 1/I/L
CLASS = re.compile(r"^(\S+) (\S+) (\d+)$")


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "62" + digits[1:] if digits.startswith("0") else digits


class Names:
    """New full names in the sample's style: given names and family names recombined, unique school-wide."""

    def __init__(self, students: list[dict[str, str]], rng: random.Random) -> None:
        self.rng = rng
        self.taken = {s["name"] for s in students}
        self.first: dict[str, list[str]] = defaultdict(list)
        self.middle: dict[str, list[str]] = defaultdict(list)
        self.last: dict[str, list[str]] = defaultdict(list)
        for s in students:
            words = s["name"].split()
            self.first[s["gender"]].append(words[0])
            if len(words) == 3:
                self.middle[s["gender"]].append(words[1])
            if len(words) > 1:
                self.last[s["gender"]].append(words[-1])

    def new(self, gender: str, words: int) -> str:
        for attempt in range(1000):
            parts = [self.rng.choice(self.first[gender])]
            if words == 3 or attempt > 50:
                parts.append(self.rng.choice(self.middle[gender] or self.first[gender]))
            if words > 1 or attempt > 20:
                parts.append(self.rng.choice(self.last[gender]))
            name = " ".join(parts)
            if name not in self.taken and len(set(parts)) == len(parts):
                self.taken.add(name)
                return name
        raise RuntimeError("ran out of names")


class Numbers:
    """Unique Indonesian mobile numbers (written like the sample's: +62 8xx-xxxx-xxxx)."""

    def __init__(self, taken: set[str], rng: random.Random) -> None:
        self.taken, self.rng = set(taken), rng

    def new(self) -> str:
        while True:
            prefix = self.rng.choice(("811", "812", "813", "821", "822", "852", "853", "857", "878", "895"))
            rest = f"{self.rng.randrange(10**8):08d}"
            digits = f"628{prefix[1:]}{rest}"
            if digits not in self.taken:
                self.taken.add(digits)
                return f"+62 {prefix}-{rest[:4]}-{rest[4:]}"


def make_school(factor: int, out: Path, seed: int = 2026) -> dict[str, int]:
    """Write the cloned school into `out` (created; must not hold a school already)."""
    if factor < 1:
        raise ValueError("factor must be at least 1")
    rng = random.Random(seed * 1000 + factor)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE / "school.yaml", out / "school.yaml")
    class_header, classes = _read("classes.csv")
    student_header, students = _read("students.csv")
    staff_header, staff = _read("staff.csv")
    parent_header, parents = _read("parents.csv")

    per_group: dict[tuple[str, str], int] = defaultdict(int)  # (roman, department) → classes in the sample
    for c in classes:
        roman, dept, _ = CLASS.match(c["class"]).groups()  # type: ignore[union-attr]
        per_group[roman, dept] += 1

    def clone_name(name: str, copy: int) -> str:
        roman, dept, number = CLASS.match(name).groups()  # type: ignore[union-attr]
        return f"{roman} {dept} {int(number) + copy * per_group[roman, dept]}"

    names = Names(students, rng)
    codes = {s["parent_code"] for s in students}
    nisns = {s["nisn"] for s in students}
    phones = Numbers({_digits(r["phone"]) for r in staff + parents if r["phone"]}, rng)
    next_telegram = max(int(r["telegram_id"]) for r in staff if r["telegram_id"]) + 1
    new_classes, new_students, new_staff, new_parents = [], [], [], []
    class_rows = [r for r in staff if r["scope"] in {c["class"] for c in classes}]
    school_rows = [r for r in staff if r not in class_rows]
    for copy in range(factor):
        renamed: dict[str, str] = {}  # the sample's student name → this copy's
        nis_of: dict[str, str] = {}
        for c in classes:
            new_classes.append({**c, "class": clone_name(c["class"], copy)})
        for s in students:
            if copy == 0:
                row = dict(s)
            else:
                nis = f"{s['nis'][:2]}{copy}{s['nis'][2:]}"
                nisn = s["nisn"]
                while nisn in nisns:
                    nisn = f"{s['nisn'][:3]}{rng.randrange(10**7):07d}"
                nisns.add(nisn)
                code = s["parent_code"]
                while code in codes:
                    code = "".join(rng.choice(CODE_ALPHABET) for _ in range(len(s["parent_code"])))
                codes.add(code)
                row = {**s, "nis": nis, "nisn": nisn, "name": names.new(s["gender"], len(s["name"].split())),
                       "class": clone_name(s["class"], copy), "parent_code": code}
            renamed[s["name"]] = row["name"]
            nis_of[s["nis"]] = row["nis"]
            new_students.append(row)
        people: dict[tuple[str, str], tuple[str, str, str]] = {}  # a teacher of the sample → this copy's
        for r in class_rows:
            if copy == 0:
                new_staff.append(dict(r))
                continue
            if r["role"] in ("ketua_kelas", "sekretaris"):
                person = (renamed.get(r["name"]) or names.new("L", 2), phones.new(), "")
            else:  # a teacher: one new person per teacher of the sample, whatever their roles
                key = (r["name"], r["phone"])
                if key not in people:
                    title = r["name"].split(",", 1)[1] if "," in r["name"] else ""
                    people[key] = (names.new(rng.choice("LP"), 2) + (f",{title}" if title else ""), phones.new(), "")
                person = people[key]
            telegram = ""
            if r["telegram_id"]:
                telegram, next_telegram = str(next_telegram), next_telegram + 1
            new_staff.append({**r, "name": person[0], "scope": clone_name(r["scope"], copy), "phone": person[1],
                              "telegram_id": telegram})
        numbers: dict[str, str] = {}
        for p in parents:
            if copy == 0:
                new_parents.append(dict(p))
                continue
            numbers.setdefault(p["phone"], phones.new())
            new_parents.append({"phone": numbers[p["phone"]], "nis": nis_of[p["nis"]]})
    # A teacher who is wali kelas of a class keeps one Telegram id and phone across all their rows.
    ids: dict[str, str] = {}
    for r in new_staff:
        key = r["name"]
        if r["telegram_id"]:
            r["telegram_id"] = ids.setdefault(key, r["telegram_id"])
    # The sample's order of grades and departments, each class's copies after it: factor 1 is the sample.
    groups = list(dict.fromkeys(CLASS.match(c["class"]).group(1, 2) for c in classes))  # type: ignore[union-attr]

    def place(name: str) -> tuple[int, int]:
        roman, dept, number = CLASS.match(name).groups()  # type: ignore[union-attr]
        return groups.index((roman, dept)), int(number)

    new_classes.sort(key=lambda c: place(c["class"]))
    order = {c["class"]: i for i, c in enumerate(new_classes)}
    new_students.sort(key=lambda s: (order[s["class"]], s["name"]))
    _write(out / "classes.csv", class_header, new_classes)
    _write(out / "students.csv", student_header, new_students)
    _write(out / "staff.csv", staff_header, school_rows + sorted(new_staff, key=lambda r: order[r["scope"]]))
    _write(out / "parents.csv", parent_header, new_parents)
    return {"classes": len(new_classes), "students": len(new_students), "staff rows": len(school_rows) + len(new_staff),
            "parent numbers": len(new_parents)}


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit("usage: bigschool.py FACTOR OUTDIR")
    counts = make_school(int(argv[1]), Path(argv[2]))
    print(f"{argv[2]}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


if __name__ == "__main__":
    main(sys.argv)
