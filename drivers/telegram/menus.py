"""Command menus per chat: each linked user sees the commands of their roles in the "/" menu.

The engine knows the roles; it hands the driver a map `chat id → [(command, description)]` and the
driver makes Telegram show it (`set_bot_commands` with a chat scope). Key 0 stands for the default
menu everyone else sees (for unlinked users: just /start). Menus are re-applied only when they change,
and a user who lost every role gets the default menu back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from loguru import logger
from pyrogram import types

MenuMap = dict[int, list[tuple[str, str]]]
DEFAULT_SCOPE = 0


class MenuApi(Protocol):
    async def set_bot_commands(self, commands: list[types.BotCommand], scope: Any = None) -> bool: ...

    async def delete_bot_commands(self, scope: Any = None) -> bool: ...


class MenuSync:
    """Keeps Telegram's per-chat menus equal to the engine's map, calling Telegram only for changes."""

    def __init__(self, api: MenuApi, sleep: Callable[[float], Awaitable[None]], spacing: float = 0.1) -> None:
        self.api = api
        self.sleep = sleep
        self.spacing = spacing  # menu calls count against the same overall rate limit as messages
        self._applied: MenuMap = {}

    async def apply(self, wanted: MenuMap) -> int:
        """Push the differences between `wanted` and what was applied before; return calls made."""
        calls = 0
        for chat_id, commands in wanted.items():
            if self._applied.get(chat_id) != commands and await self._set(chat_id, commands):
                calls += 1
        for chat_id in [c for c in self._applied if c not in wanted]:
            if await self._delete(chat_id):
                calls += 1
        return calls

    async def _set(self, chat_id: int, commands: list[tuple[str, str]]) -> bool:
        bot_commands = [types.BotCommand(name.lstrip("/"), description) for name, description in commands]
        try:
            await self.api.set_bot_commands(bot_commands, scope=_scope(chat_id))
        except Exception as exc:  # e.g. a user who never opened the bot: try again next time
            logger.info("menu for chat {} not set: {}", chat_id, exc)
            return False
        self._applied[chat_id] = list(commands)
        await self.sleep(self.spacing)
        return True

    async def _delete(self, chat_id: int) -> bool:
        try:
            await self.api.delete_bot_commands(scope=_scope(chat_id))
        except Exception as exc:
            logger.info("menu for chat {} not removed: {}", chat_id, exc)
            return False
        del self._applied[chat_id]
        await self.sleep(self.spacing)
        return True


def _scope(chat_id: int) -> types.BotCommandScope:
    if chat_id == DEFAULT_SCOPE:
        return types.BotCommandScopeDefault()
    return types.BotCommandScopeChat(chat_id)
