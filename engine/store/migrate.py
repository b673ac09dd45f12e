"""Alembic migrations, run in-process: a new database gets every revision, an old one the missing ones."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(db: Engine) -> None:
    cfg = config()
    with db.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
