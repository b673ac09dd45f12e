"""Problems a school's IT teacher can act on: `file:line:column: message`, the line, a hint.

Rule and data loaders never raise on bad input; they collect every `Problem` and the caller prints
them all at once, sorted, or stops with `DataError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based
    message: str
    severity: str = "error"  # or "warning"
    hint: str = ""
    source: str = field(default="", compare=False)
    caret: int = field(default=0, compare=False)  # 1-based character under the ^ (0: the column)

    def render(self, with_source: bool = True) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}" if self.column else f":{self.line}"
        label = "" if self.severity == "error" else "warning: "
        text = f"{where}: {label}{self.message}"
        if with_source and self.source:
            text += f"\n    {self.source.rstrip()}"
            if self.caret or self.column:
                text += f"\n    {' ' * ((self.caret or self.column) - 1)}^"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class Problems:
    """A collector: add problems, then ask whether any is an error.

    Files are listed in the order their first problem was found (rules, school.yaml, classes, students,
    staff, parents: a cause before its consequences), each file's problems by line and column.
    """

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._lines: dict[str, list[str]] = {}

    def add(
        self, file: str | Path, line: int, column: int, message: str, *, hint: str = "", warning: bool = False,
        caret: int = 0, quote: bool = True,
    ) -> None:
        """`caret`: where the ^ goes under the quoted line when that is not `column` (a CSV field's start);
        `quote=False`: no quoted line (a summary of other rows)."""
        name = str(file)
        source = self._line(name, line) if quote else ""
        self.items.append(
            Problem(name, line, column, message, "warning" if warning else "error", hint, source, caret)
        )

    def set_lines(self, file: str | Path, lines: list[str]) -> None:
        """The text of `file` as it was decoded (a Windows-1252 CSV), or [] for a file not to quote (xlsx)."""
        self._lines[str(file)] = lines

    def extend(self, other: Problems) -> None:
        self.items.extend(other.items)

    def _line(self, file: str, line: int) -> str:
        if line <= 0:
            return ""
        if file not in self._lines:
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._lines[file] = []
        lines = self._lines[file]
        return lines[line - 1] if line <= len(lines) else ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def sorted(self) -> list[Problem]:
        order: dict[str, int] = {}
        for problem in self.items:
            order.setdefault(problem.file, len(order))
        return sorted(set(self.items), key=lambda p: (order[p.file], p))

    def render(self, with_source: bool = True) -> str:
        return "\n".join(p.render(with_source) for p in self.sorted())


class DataError(Exception):
    """Bad rules or school data; carries every problem found."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__(problems.render(with_source=False))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""
