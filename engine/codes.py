"""Parent codes: unguessable, unambiguous, generated with `secrets` (SPEC §2, §8).

31 symbols without 0/O, 1/I/L; 6 of them make 887 million codes, and the engine answers at most 5
wrong guesses per number per 24 hours, so guessing a code of an 800-student school by SMS is hopeless.
"""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6


def new_code(taken: set[str], length: int = LENGTH) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if code not in taken:
            taken.add(code)
            return code


def fill_codes(students_csv: Path, *, replace_weak: bool = False) -> tuple[int, int]:
    """Give every student without a parent code (or with a short one, if asked) a new code.

    Rewrites the file in place, keeping its columns and order; returns (filled, kept).
    """
    with students_csv.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if "parent_code" not in fields:
        fields.append("parent_code")
    taken = {(r.get("parent_code") or "").strip().upper() for r in rows} - {""}
    filled = 0
    for row in rows:
        code = (row.get("parent_code") or "").strip()
        if not code or (replace_weak and len(code) < LENGTH):
            row["parent_code"] = new_code(taken)
            filled += 1
    with students_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return filled, len(rows) - filled
