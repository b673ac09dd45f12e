"""Read `rules/*.yaml` with positions, so every later check can say file:line:column.

ruamel.yaml's round-trip loader keeps the line and column of every key and item and rejects
duplicate keys. Each top-level key of a file is a section (`settings`, `reasons`, …); a section may
live in any file, but only in one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import ScalarNode

from .diagnostics import Problems, did_you_mean
from .schema import SECTIONS

Path_ = tuple[str | int, ...]


@dataclass
class Source:
    """Where each section came from: its file and its ruamel node."""

    files: dict[str, Path] = field(default_factory=dict)
    nodes: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # 0-based position of the section key

    def locate(self, path: Path_, *, key: bool = False) -> tuple[str, int, int]:
        """1-based (file, line, column) of the node at `path` (first element: the section).

        Walks as deep as the path exists; `key=True` points at a mapping key instead of its value.
        """
        section = str(path[0])
        file = str(self.files.get(section, "rules"))
        line, col = self.keys.get(section, (-1, -1))
        node = self.nodes.get(section)
        rest = path[1:]
        for i, step in enumerate(rest):
            last = i == len(rest) - 1
            if isinstance(node, CommentedMap) and step in node:
                line, col = node.lc.key(step) if (key and last) or _is_container(node[step]) else _value(node, step)
                node = node[step]
            elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
                line, col = node.lc.item(step)
                node = node[step]
            else:
                break
        return file, line + 1, col + 1


def _is_container(value: Any) -> bool:
    return isinstance(value, (CommentedMap, CommentedSeq))


def _value(node: CommentedMap, key: Any) -> tuple[int, int]:
    pos = node.lc.value(key)
    return (pos[0], pos[1]) if pos and pos[0] is not None else node.lc.key(key)


def plain(node: Any) -> Any:
    """ruamel containers → plain dicts and lists (pydantic wants no surprises)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, bool)) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, except that a scalar that looks like a date but is none (`2026-13-01`,
    `2027-02-30`) stays text: the check that wants a date then says so at the value's own line and column,
    instead of ruamel's unmarked "month must be in 1..12" for the whole file."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        """Python's own errors while making a value (`!!int abc`, `!!bool maybe`) get the node's mark."""
        try:
            return super().construct_non_recursive_object(node, tag)
        except (ValueError, TypeError, KeyError):
            if not isinstance(node, ScalarNode):
                raise
            kind = str(tag or node.tag).rsplit(":", 1)[-1]
            raise ConstructorError(None, None, f"'{node.value}' cannot be read as !!{kind}",
                                   node.start_mark) from None


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(path: Path, problems: Problems) -> Any:
    """Load one YAML file; syntax errors become problems at their mark, never tracebacks."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, 0, 0, f"cannot read: {exc}")
        return None
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "YAML syntax error"
        duplicate = re.search(r'duplicate key "([^"]*)"', message)
        if duplicate:
            message = f"duplicate key '{duplicate.group(1)}' (each key may appear once in a mapping)"
        problems.add(path, (mark.line + 1) if mark else 0, (mark.column + 1) if mark else 0, message)
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad tags)
        problems.add(path, 0, 0, f"YAML error: {exc}")
    return None


def load_rules_dir(rules_dir: Path, problems: Problems) -> tuple[dict[str, Any], Source]:
    """All sections from `rules_dir/*.yaml`, as plain data, with their `Source`."""
    data: dict[str, Any] = {}
    source = Source()
    files = sorted(rules_dir.glob("*.yaml")) + sorted(rules_dir.glob("*.yml"))
    if not files:
        problems.add(rules_dir, 0, 0, "no rule files (*.yaml) in this directory")
    for path in files:
        doc = read_yaml(path, problems)
        if doc is None:
            continue
        if not isinstance(doc, CommentedMap):
            problems.add(path, 1, 1, "a rules file must be a mapping of sections (e.g. 'templates:')")
            continue
        for key in doc:
            _take_section(path, doc, key, data, source, problems)
    return data, source


def _take_section(
    path: Path, doc: CommentedMap, key: Any, data: dict[str, Any], source: Source, problems: Problems
) -> None:
    line, col = doc.lc.key(key)
    name = str(key)
    if name not in SECTIONS:
        problems.add(path, line + 1, col + 1, f"unknown section '{name}'", hint=did_you_mean(name, SECTIONS))
        return
    if name in data:
        problems.add(
            path, line + 1, col + 1, f"section '{name}' is already defined in {source.files[name]}",
            hint="each section may appear in one file only",
        )
        return
    data[name] = plain(doc[key])
    source.files[name] = path
    source.nodes[name] = doc[key]
    source.keys[name] = (line, col)
