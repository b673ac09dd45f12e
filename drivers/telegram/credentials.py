"""Telegram credentials from the environment, checked before anything connects.

A bot needs three things: the token from BotFather and an `api_id`/`api_hash` pair from
my.telegram.org (MTProto libraries such as kurigram log in as an application, not only as a bot).
A school's IT teacher sets them as environment variables; a typo should be reported by name, at
start, not discovered as an obscure server error later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

TOKEN_VAR = "TELEGRAM_BOT_TOKEN"
API_ID_VAR = "TELEGRAM_API_ID"
API_HASH_VAR = "TELEGRAM_API_HASH"

_TOKEN = re.compile(r"^(\d{3,20}):[A-Za-z0-9_-]{20,}$")
_API_HASH = re.compile(r"^[0-9a-fA-F]{32}$")


class TelegramCredentialsError(RuntimeError):
    """The credentials are missing, malformed or were rejected by Telegram; retrying will not help."""


@dataclass(frozen=True, slots=True)
class Credentials:
    bot_token: str
    api_id: int
    api_hash: str

    @property
    def bot_id(self) -> str:
        """The numeric part of the token: it names the bot, so it names the session file too."""
        return self.bot_token.split(":", 1)[0]

    def __repr__(self) -> str:  # never print secrets into a log
        return f"Credentials(bot_id={self.bot_id}, api_id={self.api_id}, api_hash=***)"


def credentials_from_env(env: Mapping[str, str] | None = None) -> tuple[Credentials | None, str]:
    """Read the three variables; return `(credentials, "")` or `(None, reason)`.

    The reason is a sentence an operator can act on; `absensi run` prints it and runs without
    Telegram (messages wait in the outbox).
    """
    env = os.environ if env is None else env
    values = {name: env.get(name, "").strip() for name in (TOKEN_VAR, API_ID_VAR, API_HASH_VAR)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        return None, f"Telegram is off: {', '.join(missing)} not set (see docs/telegram.md)."
    try:
        return parse_credentials(values[TOKEN_VAR], values[API_ID_VAR], values[API_HASH_VAR]), ""
    except TelegramCredentialsError as exc:
        return None, f"Telegram is off: {exc}"


def parse_credentials(token: str, api_id: str | int, api_hash: str) -> Credentials:
    """Check the shapes of the three values; raise `TelegramCredentialsError` naming the bad one."""
    if not _TOKEN.match(token):
        raise TelegramCredentialsError(
            f"{TOKEN_VAR} does not look like a bot token (expected digits, ':' and the secret, "
            "as BotFather shows it)."
        )
    api_id_text = str(api_id).strip()
    if not api_id_text.isdecimal() or int(api_id_text) <= 0:
        raise TelegramCredentialsError(f"{API_ID_VAR} must be the number shown at my.telegram.org.")
    if not _API_HASH.match(api_hash):
        raise TelegramCredentialsError(f"{API_HASH_VAR} must be the 32-character hash shown at my.telegram.org.")
    return Credentials(token, int(api_id_text), api_hash.lower())
