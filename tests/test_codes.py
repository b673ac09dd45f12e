"""`absensi codes`: missing parent codes are filled with unique, unambiguous codes; existing ones kept."""

from __future__ import annotations

import csv
from pathlib import Path

from absensi.engine.school.codes import ALPHABET, LENGTH, fill_codes


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_missing_codes_are_filled_and_existing_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "students.csv"
    path.write_text("nis,name,class,parent_code\n1,Adi,X TKJ 1,AB12CD\n2,Budi,X TKJ 1,\n3,Citra,X TKJ 1,XY9\n")
    assert fill_codes(path) == (1, 2)
    rows = read(path)
    assert rows[0]["parent_code"] == "AB12CD" and rows[2]["parent_code"] == "XY9"
    new = rows[1]["parent_code"]
    assert len(new) == LENGTH and set(new) <= set(ALPHABET)
    assert fill_codes(path, replace_weak=True) == (1, 2)
    codes = [r["parent_code"] for r in read(path)]
    assert len(set(codes)) == 3 and len(codes[2]) == LENGTH


def test_codes_are_unique_over_a_large_roster(tmp_path: Path) -> None:
    path = tmp_path / "students.csv"
    path.write_text("nis,name,class,parent_code\n" + "".join(f"{i},S{i},X,\n" for i in range(3000)))
    fill_codes(path)
    codes = [r["parent_code"] for r in read(path)]
    assert len(set(codes)) == 3000
    assert not set("01OIL") & set("".join(codes))
