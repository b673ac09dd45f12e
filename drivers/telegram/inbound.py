"""The pyrogram handlers: convert each update and hand it to the inbox. Nothing else.

The inbox commits before it returns, so an update is acknowledged (the button spinner stopped) only
once it is safely stored. A store failure is logged loudly with the message, because Telegram does
not deliver an update twice to a bot that has already received it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from loguru import logger
from pyrogram import Client, filters, types
from pyrogram.handlers import CallbackQueryHandler, MessageHandler

from absensi.engine.messages import InboundMessage
from absensi.engine.ports import Inbox

from .convert import callback_to_inbound, message_to_inbound
from .render import driver_text

MAX_ANSWER = 200  # Telegram shows at most this many characters on a pressed button


class InboundHandlers:
    """Message and button-press handlers bound to one inbox.

    `texts` gives the driver's own texts (`engine.ports.DRIVER_TEXTS`, rendered from rules/templates.yaml):
    the engine cannot be asked what to say about a press the inbox did not store."""

    def __init__(self, inbox: Inbox, clock: Callable[[], datetime],
                 texts: Callable[[], Mapping[str, str]] = dict) -> None:
        self.inbox = inbox
        self.clock = clock
        self.texts = texts
        self.groups_seen: set[int] = set()

    def register(self, client: Client) -> None:
        """Add both handlers to `client` (works on a started or a never-started client)."""
        client.add_handler(MessageHandler(self.on_message, filters.incoming))
        client.add_handler(CallbackQueryHandler(self.on_callback))

    async def on_message(self, client: Client, message: types.Message) -> None:
        me = getattr(client, "me", None)
        msg = message_to_inbound(message, bot_id=me.id if me is not None else None)
        if msg is not None:
            self._submit(msg)
        elif message.chat is not None and message.chat.id < 0:
            self._note_group(message.chat)

    async def on_callback(self, client: Client, query: types.CallbackQuery) -> None:
        msg = callback_to_inbound(query, self.clock())
        stored = msg is not None and self._submit(msg)
        try:
            # Stop the spinner on the button; the engine's answer follows as a message.
            await query.answer(None if stored or msg is None else self.sorry())
        except Exception as exc:  # the press is stored; a lost acknowledgement only costs a spinner
            logger.debug("could not answer callback {}: {}", query.id, exc)

    def sorry(self) -> str | None:
        """The answer on a press the inbox refused (`tg_press_not_stored`); None: the spinner just stops."""
        return driver_text(self.texts, "press_not_stored")[:MAX_ANSWER] or None

    def _note_group(self, chat: types.Chat) -> None:
        """Log each group's id once: it is how an operator finds the id for `school.yaml`."""
        if chat.id not in self.groups_seen:
            self.groups_seen.add(chat.id)
            logger.info("telegram: bot is in group {} ({}); only replies to the bot are read there",
                        chat.id, chat.title or "?")

    def _submit(self, msg: InboundMessage) -> bool:
        try:
            self.inbox.submit(msg)
        except Exception:
            logger.exception("inbox refused telegram message {}", msg.source_id)
            return False
        return True
