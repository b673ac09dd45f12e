"""What a failed send means for the outbox: wait exactly, retry later, or give up.

Telegram's answers fall into four kinds, and each has one right reaction:
- flood: Telegram names the seconds to wait (`FloodWait`, `SlowmodeWait`); wait exactly that long;
- transient: the network or Telegram's servers hiccuped; retry with exponential backoff;
- permanent: this chat will not take the message (user blocked the bot, bot not in the group…);
  mark the item failed so the engine can tell the admin, and never retry it;
- credentials: the bot's session was revoked; nothing will be delivered until an operator acts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from pyrogram import errors

from .render import RenderError


class Kind(StrEnum):
    FLOOD = "flood"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    CREDENTIALS = "credentials"


@dataclass(frozen=True, slots=True)
class Failure:
    kind: Kind
    reason: str
    wait: float = 0.0  # seconds Telegram asked for (flood only)
    network: bool = False  # the link is down, not this chat: pause all sending, not just this item


# Why a chat refuses the bot, in words the admin can act on.
_PERMANENT_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (errors.UserIsBlocked, "the user blocked the bot"),
    (errors.InputUserDeactivated, "the Telegram account was deleted"),
    (errors.PeerIdInvalid, "unknown chat: the user never started the bot, or the id is wrong"),
    (errors.ChannelPrivate, "the bot is not a member of this group"),
    (errors.ChatWriteForbidden, "the bot may not write in this group"),
    (errors.ChatAdminRequired, "the bot needs admin rights in this group"),
    (errors.ChatIdInvalid, "unknown group id"),
    (errors.ChannelInvalid, "unknown group id"),
    (errors.UserIsBot, "the recipient is a bot"),
    (errors.ChatRestricted, "the group restricts the bot"),
    (errors.UserBannedInChannel, "the bot is banned from sending in groups"),
)

_NETWORK = (OSError, ConnectionError, TimeoutError, asyncio.TimeoutError)


def classify(exc: BaseException) -> Failure:
    """Map an exception raised by a send call to its kind and a short reason."""
    if isinstance(exc, errors.FloodWait | errors.SlowmodeWait) and isinstance(exc.value, int):
        return Failure(Kind.FLOOD, f"Telegram asked to wait {exc.value} s", wait=float(exc.value))
    for error_type, reason in _PERMANENT_REASONS:
        if isinstance(exc, error_type):
            return Failure(Kind.PERMANENT, f"{reason} ({_error_id(exc)})")
    if isinstance(exc, RenderError):
        return Failure(Kind.PERMANENT, f"not sendable: {exc}")
    if isinstance(exc, errors.Unauthorized):
        return Failure(Kind.CREDENTIALS, f"Telegram no longer accepts the bot's session ({_error_id(exc)})")
    if isinstance(exc, errors.BadRequest | errors.Forbidden | errors.NotAcceptable):
        return Failure(Kind.PERMANENT, f"Telegram refused the message ({_error_id(exc)})")
    if isinstance(exc, _NETWORK):
        return Failure(Kind.TRANSIENT, f"network error: {type(exc).__name__}: {exc}".rstrip(": "), network=True)
    return Failure(Kind.TRANSIENT, f"{type(exc).__name__}: {exc}")


def _error_id(exc: BaseException) -> str:
    return getattr(exc, "ID", None) or getattr(exc, "NAME", None) or type(exc).__name__
