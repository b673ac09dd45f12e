"""`absensi finger import FILE...` (SPEC §10): the fingerprint machines' files into the store, once.

All or nothing, like a roster import: a line that is not a punch is an error at `file:line` and nothing of
that run is written. Ids no student has are warnings in the same `file:line: message` form (one line per
id, with its count), and their punches are kept without a student.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from ..finger.files import FileError, RawPunch, read_punch_file, shifted
from ..finger.punches import ImportResult, store_punches
from ..rules.diagnostics import Problems
from ..school.model import School
from ..store import Store

console = Console(highlight=False)


def import_files(files: list[Path], loaded: School, open_store: Callable[[], Store], device: str | None,
                 shift: int) -> None:
    problems = Problems()
    punches: list[RawPunch] = []
    for path in files:
        try:
            punches += read_punch_file(path, problems, device)
        except FileError as exc:
            console.print(f"[red]{exc}[/red]", soft_wrap=True)
            raise typer.Exit(2) from None
    if problems.errors:
        typer.echo(problems.render())
        console.print(f"[red]{len(problems.errors)} error(s): nothing was imported[/red]")
        raise typer.Exit(1)
    store = open_store()
    now = datetime.now(loaded.calendar.tz)
    try:
        with store.unit() as session:
            result = store_punches(session, loaded, shifted(punches, shift), now)
    finally:
        store.close()
    tell_stored(result, problems)
    if result.future:
        console.print(f"{result.future} punch(es) are later than now: is the machine's clock ahead? "
                      "(--shift MINUTES corrects a clock that is off)", style="yellow", markup=False)


def tell_stored(result: ImportResult, problems: Problems, device: str | None = None) -> None:
    """What an import or a pull stored: each id no student has as a warning at its file and line (or the
    machine's, `device`), with the problems found before, then the counts."""
    for number, unknown in enumerate(sorted(result.unknown.values(), key=lambda u: (u.file, u.line))):
        problems.add(device or unknown.file, unknown.line, 1, f"unknown finger id {unknown.user_id} "
                     f"({unknown.count} punch{'es' if unknown.count > 1 else ''})", warning=True,
                     hint="" if number else "a teacher's id, or a student without the right finger_id in "
                                             "students.csv: the punches are kept and matched once it is there")
    if problems.items:
        typer.echo(problems.render(with_source=False))
    console.print(summary(result), markup=False, soft_wrap=True)


def summary(result: ImportResult) -> str:
    text = f"{result.read} punch(es) read: {result.added} new, {result.again} already stored"
    if result.unknown:
        text += f"; {result.unknown_punches} by {len(result.unknown)} unknown id(s), kept without a student"
    if result.matched_later:
        text += f"; {result.matched_later} stored earlier now matched to their student"
    return text
