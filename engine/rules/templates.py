"""Message templates that cannot reach Python.

A template is parsed once, when the rules compile, into literal text and plain field names. Rendering
only concatenates `str(value)` for names the engine supplies: no attribute access, no indexing, no
format specs or conversions — `{student.__class__}` is a compile error, not a leak.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class TemplateError(ValueError):
    """A template that is not plain text with `{name}` fields; `column` is 0-based within the text."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    pieces: tuple[tuple[str, str | None], ...]  # (literal, field or None)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for _, f in self.pieces if f)

    def render(self, values: Mapping[str, object]) -> str:
        out: list[str] = []
        for literal, field in self.pieces:
            out.append(literal)
            if field:
                out.append(str(values.get(field, "")))
        return "".join(out)


def parse(name: str, text: str) -> Template:
    """Compile `text`; raises TemplateError for anything but literal text and `{plain_name}`."""
    pieces: list[tuple[str, str | None]] = []
    offset = 0
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"broken braces: {exc}", _first_brace(text)) from None
    for literal, field, spec, conversion in parsed:
        offset += len(literal)
        if field is None:
            pieces.append((literal, None))
            continue
        column = text.find("{" + field, offset)
        if conversion or spec:
            raise TemplateError(f"'{{{field}}}' may not use '!' or ':' (only plain {{name}} fields)", column)
        if not _NAME.match(field):
            raise TemplateError(
                f"'{{{field}}}' is not a plain field name (letters, digits, '_'; no dots or brackets)", column
            )
        pieces.append((literal, field))
        offset = column + len(field) + 2 if column >= 0 else offset
    return Template(name, tuple(pieces))


def _first_brace(text: str) -> int:
    positions = [p for p in (text.find("{"), text.find("}")) if p >= 0]
    return min(positions) if positions else 0
