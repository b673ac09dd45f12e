"""Alembic migrations, run in-process: a new database gets every revision, an old one the missing ones.

Opening a store looks first whether the database already stands at the newest revision (one SELECT of
`alembic_version` against the revisions the migration files declare); only when it does not is Alembic
imported and run. Alembic and its templates cost ≈ 0.2 s to import, which every command and the service's
start would otherwise pay for a database that is already current.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def heads() -> frozenset[str]:
    """The revisions no migration builds on, read from the files' `revision`/`down_revision` lines (Alembic's
    own reading of them is the reference; a test holds the two equal)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"['\"]([^'\"]+)['\"]", value))
            (revisions if name == "revision" else parents).update(found)
    return frozenset(revisions - parents)


def current(db: Engine) -> frozenset[str] | None:
    """The revisions the database records, or None when it has no `alembic_version` table (a new database)."""
    with db.connect() as connection:  # a server that does not answer is an error of its own, raised here
        try:
            return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:  # no such table
            return None


def upgrade(db: Engine) -> None:
    """Bring the database to the newest revision; nothing beyond one SELECT when it is there already."""
    if current(db) == heads():
        return
    from alembic import command

    cfg = config()
    with db.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
