"""The durable store (SQLModel): inbox, outbox, absences with history, registrations, links."""

from .store import Store, sqlite_url

__all__ = ["Store", "sqlite_url"]
