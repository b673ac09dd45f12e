"""Where the project's own files are: the shipped rules and the sample school (light to import)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_RULES = PROJECT_ROOT / "rules"
SAMPLE_SCHOOL = PROJECT_ROOT / "sample_school"  # only `absensi demo` uses it unasked (SPEC §5)


def resolve_rules_dir(school_dir: Path, rules: Path | None) -> Path:
    """--rules, else the school's own rules/ folder, else the project's rules."""
    if rules is not None:
        return rules
    own = school_dir / "rules"
    return own if own.is_dir() else PROJECT_RULES
