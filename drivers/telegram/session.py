"""The kurigram session file: where it lives and who may read it.

The session file holds the bot's authorisation key — whoever copies it can act as the bot — so it is
created readable by its owner only (mode 600) and kept in the school directory beside the database.
It is named after the bot's id: when the school switches to another bot, a fresh session starts
instead of silently logging in as the old bot.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyrogram.storage import SQLiteStorage

PRIVATE_MODE = 0o600


def session_name(bot_id: str) -> str:
    return f"telegram-{bot_id}"


def session_path(session_dir: Path, bot_id: str) -> Path:
    return session_dir / (session_name(bot_id) + SQLiteStorage.FILE_EXTENSION)


class PrivateSQLiteStorage(SQLiteStorage):
    """kurigram's SQLite session storage, with the file made owner-only before any secret is written."""

    def __init__(self, session_dir: Path, bot_id: str) -> None:
        super().__init__(session_name(bot_id), workdir=session_dir)
        self.path = session_path(session_dir, bot_id)

    async def create(self) -> None:
        # SQLite has just created the empty file; tighten it before the schema and the key go in.
        os.chmod(self.path, PRIVATE_MODE)
        await super().create()

    async def open(self) -> None:
        await super().open()
        # An older file (copied, restored from a backup) may be too open: fix it on every start.
        os.chmod(self.path, PRIVATE_MODE)


def forget_session(session_dir: Path, bot_id: str) -> bool:
    """Delete a session Telegram no longer accepts (token revoked); True if there was one."""
    path = session_path(session_dir, bot_id)
    existed = path.exists()
    path.unlink(missing_ok=True)
    Path(f"{path}-journal").unlink(missing_ok=True)
    return existed
