"""Roster and rule changes while the service runs (SPEC §2): validate the whole new set, then switch.

A change is noticed three ways: the files' fingerprints change (checked every few seconds), `SIGHUP`,
or `absensi reload` (which signals the engine's process, or leaves a request in the database for an
engine on another host). The new rules and school are loaded and checked exactly as `absensi check`
does; an invalid set is not used — the running set stays and the admin gets the `file:line:column`
errors on Telegram. A valid one is switched in between two messages (`Engine.switch`), which keeps
everything the database learned and seats the new roster (stable absen numbers, class history).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..rules import compile_rules
from ..rules.compiler import CompiledRules
from ..rules.diagnostics import Problems
from ..school.files import read_school
from ..school.model import School

if TYPE_CHECKING:  # the store (SQLAlchemy) only when a command uses it: `absensi check` never does
    from ..store import Store

REQUEST_KEY = "reload:request"  # a counter `absensi reload` bumps; the engine reloads when it moves
WATCHED_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
APPLYING_MARKER = ".absensi-applying"  # engine/school/staging.py's apply, while it replaces files


def check_groups(compiled: CompiledRules, school: School, problems: Problems) -> None:
    """Routes that name a Telegram group school.yaml does not list (the service would refuse them)."""
    for event, targets in compiled.rules.routes.items():
        for target in targets:
            group = target.split(":", 1)[1] if target.startswith("group:") else None
            if group is not None and group not in school.groups:
                problems.add(school.directory / "school.yaml", *school.groups_at,
                             f"routes.{event} sends to group:{group}, but telegram_groups has no '{group}'")


def load_checked(school_dir: Path, rules_dir: Path, problems: Problems) -> tuple[CompiledRules, School] | None:
    """Rules and school as `absensi check` validates them; None (with `problems`) when anything is wrong."""
    compiled = compile_rules(rules_dir, problems)
    if compiled is None:
        return None
    school = read_school(school_dir, compiled.rules, problems)
    if school is None:
        return None
    check_groups(compiled, school, problems)
    return None if problems.errors else (compiled, school)


@dataclass(frozen=True)
class Fingerprint:
    files: tuple[tuple[str, int, int], ...]


def fingerprint(*directories: Path) -> Fingerprint:
    """Name, size and modification time of every roster and rules file: cheap to compare every few seconds."""
    entries = []
    for directory in directories:
        for path in sorted(directory.glob("*")) if directory.is_dir() else []:
            if path.suffix.lower() in WATCHED_SUFFIXES and path.is_file():
                stat = path.stat()
                entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    return Fingerprint(tuple(entries))


class Watch:
    """Says when the school directory or the rules changed, or a reload was asked for."""

    def __init__(self, school_dir: Path, rules_dir: Path, store: Store) -> None:
        self.school_dir, self.rules_dir, self.store = school_dir, rules_dir, store
        self.seen = fingerprint(school_dir, rules_dir)
        self.requests = requested_count(store)
        self.signalled = False

    def due(self) -> bool:
        """True once per change (files, SIGHUP or `absensi reload`); not while an upload is being put live
        (the web console's apply leaves APPLYING_MARKER for the moment it switches files; a stale one is ignored)."""
        if applying(self.school_dir):
            return False
        now_print, requests = fingerprint(self.school_dir, self.rules_dir), requested_count(self.store)
        changed = now_print != self.seen or requests != self.requests or self.signalled
        self.seen, self.requests, self.signalled = now_print, requests, False
        return changed


def applying(school_dir: Path) -> bool:
    """A set of roster files is being switched in right now (a marker younger than a minute)."""
    try:
        age = time.time() - (school_dir / APPLYING_MARKER).stat().st_mtime
    except OSError:
        return False
    return age < 60


def requested_count(store: Store) -> int:
    from ..store.models import Tally

    with store.unit() as session:
        row = session.get(Tally, REQUEST_KEY)
        return row.count if row is not None else 0


def request(store: Store, now: datetime) -> str:
    """`absensi reload`: leave a request for the engine, and signal it when it runs on this host."""
    from ..store.claims import process_tag
    from ..store.lease import current_holder
    from ..store.models import Tally

    with store.unit() as session:
        row = session.get(Tally, REQUEST_KEY) or Tally(key=REQUEST_KEY, count=0, updated_at=now)
        row.count, row.updated_at = row.count + 1, now
        session.add(row)
    holder = current_holder(store)
    if holder is None:
        return "no engine has run on this database yet; the next `absensi run` loads the files as they are"
    host, _, pid = holder.holder.rpartition(":")
    if host == process_tag().rpartition(":")[0] and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), signal.SIGHUP)
            return f"asked the engine (process {pid}) to reload"
        except ProcessLookupError:
            return f"the engine's process {pid} is not running; the next engine reloads"
    return f"left a reload request for the engine on {host}; it reloads within a few seconds"
