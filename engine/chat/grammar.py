"""Parsing what people type: SMS keycodes and the officers' one-line report. Never raises.

Keywords are case-insensitive and tolerate punctuation and spaces around them ("reg: ab12",
"Sakit,demam", "  izin  acara keluarga").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..rules import CompiledRules

_KEYWORD = re.compile(r"^[\W_]*([^\W\d_]+)[\W_]*(.*)$", re.S)
_REFS = re.compile(r"^((?:\d+(?:\s*-\s*\d+)?(?:[\s,;.]+|$))+)(.*)$", re.S)
MAX_TEXT = 1000  # longer messages are cut: nobody types more, and it bounds the work


def split_keyword(text: str) -> tuple[str, str]:
    """('REG', 'ab12') from 'reg: ab12'; ('', text) when the text does not start with a word."""
    match = _KEYWORD.match(text[:MAX_TEXT])
    if not match:
        return "", text[:MAX_TEXT].strip()
    return match.group(1).upper(), match.group(2).strip()


def split_refs(rest: str) -> tuple[list[str], str]:
    """(['3', '7', '12'], 'demam') from '3, 7 12 demam'; ranges such as 3-5 are expanded."""
    match = _REFS.match(rest)
    if not match:
        return [], rest.strip()
    refs: list[str] = []
    for token in re.findall(r"\d+(?:\s*-\s*\d+)?", match.group(1)):
        if "-" in token:
            low, high = (int(x) for x in token.split("-"))
            if 0 < high - low < 60:
                refs.extend(str(n) for n in range(low, high + 1))
                continue
        refs.append(token.replace(" ", ""))
    return list(dict.fromkeys(refs)), match.group(2).strip()


@dataclass(frozen=True)
class OfficerLine:
    kind: str  # report, nihil, withdraw, unknown
    reason: str | None = None
    refs: list[str] = field(default_factory=list)
    note: str = ""


def parse_officer(text: str, rules: CompiledRules) -> OfficerLine:
    word, rest = split_keyword(text)
    if word in rules.nihil:
        return OfficerLine("nihil")
    if word in rules.withdraw:
        refs, _ = split_refs(rest)
        return OfficerLine("withdraw", refs=refs)
    if word in rules.reason_words:
        refs, note = split_refs(rest)
        return OfficerLine("report", rules.reason_words[word], refs, note)
    return OfficerLine("unknown")
