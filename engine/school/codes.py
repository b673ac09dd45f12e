"""Parent codes: unguessable, unambiguous, generated with `secrets` (SPEC §2, §8).

31 symbols without 0/O, 1/I/L; 6 of them make 887 million codes, and the engine answers at most 5
wrong guesses per number per 24 hours, so guessing a code of an 800-student school by SMS is hopeless.

`fill_codes` edits the school's own file: a file it has nothing to change in is not written at all, and
in a file it changes only the rows that get a code are rewritten, in the file's delimiter, encoding (BOM
included) and line endings.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from .tables import (
    TABLES,
    column_for,
    decode,
    encode,
    header_index,
    records,
    sniff,
    split,
)
from .tables import join as join_cells

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
REQUIRED, OPTIONAL = TABLES["students"]
STUDENT_COLUMNS = REQUIRED + OPTIONAL


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
    decoded = decode(students_csv.read_bytes())
    delimiter = sniff(decoded.text, STUDENT_COLUMNS)
    found = records(decoded.text, delimiter)
    if not found:
        return 0, 0
    cells = [split(r.body, delimiter) for r in found]
    at = header_index(cells, REQUIRED)
    header = cells[at]
    position = next((i for i, h in enumerate(header) if column_for(h, STUDENT_COLUMNS) == "parent_code"), None)
    students = [i for i in range(at + 1, len(found)) if any(c.strip() for c in cells[i])]
    taken = {cells[i][position].strip().upper() for i in students if position is not None and position < len(cells[i])}
    taken -= {""}
    changed: set[int] = set()
    if position is None:  # a new last column: the header and every row get a cell
        position = len(header)
        header.append("parent_code")
        changed.add(at)
    filled = 0
    for i in students:
        row = cells[i]
        if len(row) <= position:
            row.extend([""] * (position + 1 - len(row)))
            changed.add(i)
        code = row[position].strip()
        if not code or (replace_weak and len(code) < LENGTH):
            row[position] = new_code(taken)
            changed.add(i)
            filled += 1
    if changed:
        text = "".join((join_cells(cells[i], delimiter) if i in changed else r.body) + r.end
                       for i, r in enumerate(found))
        students_csv.write_bytes(encode(text, decoded.encoding))
    return filled, len(students) - filled
