"""Opening a store looks at the database's revision first and runs Alembic only when it is behind (issue 11:
every command and the service's start paid ≈ 0.2 s importing Alembic for a database already current)."""

from __future__ import annotations

import subprocess
import sys

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from absensi.engine.store import Store, models, sqlite_url
from absensi.engine.store.migrate import config, current, heads

assert models  # the tables the migrations must build are registered in SQLModel.metadata


def test_the_heads_read_from_the_files_are_alembic_s() -> None:
    assert heads() == frozenset(ScriptDirectory.from_config(config()).get_heads())
    assert len(heads()) == 1


def test_a_database_behind_is_upgraded(db_url: str) -> None:
    db = create_engine(db_url)
    try:
        assert current(db) is None  # a new database: no alembic_version table
        revisions = [r.revision for r in ScriptDirectory.from_config(config()).walk_revisions()]
        older = revisions[1]  # the revision before the head
        cfg = config()
        with db.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, older)
        assert current(db) == {older}
        Store(db_url).close()
        assert current(db) == heads()
        missing = set(SQLModel.metadata.tables) - set(inspect(db).get_table_names())
        assert not missing, f"tables of the newer revisions were not created: {missing}"
    finally:
        db.dispose()


def test_opening_a_current_database_does_not_import_alembic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = sqlite_url(tmp_path / "absensi.db")
    Store(url).close()
    code = ("import sys\nfrom absensi.engine.store import Store\n"
            f"Store({url!r}).close()\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    fresh = sqlite_url(tmp_path / "new.db")  # a new database does need it
    code = code.replace(repr(url), repr(fresh))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "alembic" in out
