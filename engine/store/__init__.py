"""The durable store (SQLModel): inbox, outbox, absences with history, registrations, links."""

from .store import MissingDatabase, Store, sqlite_url

__all__ = ["MissingDatabase", "Store", "sqlite_url"]
