"""Alembic environment: the connection comes from `engine.store.migrate` (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

from absensi.engine.store import models  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
