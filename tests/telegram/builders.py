"""Hand-built pyrogram objects, as Telegram would deliver them to the bot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyrogram import enums, types

BOT_ID = 999
GROUP_ID = -1001234567890


def user(user_id: int = 700001, first_name: str = "Budi", is_bot: bool = False) -> types.User:
    return types.User(id=user_id, first_name=first_name, is_bot=is_bot)


def private_chat(user_id: int = 700001) -> types.Chat:
    return types.Chat(id=user_id, type=enums.ChatType.PRIVATE)


def group_chat(chat_id: int = GROUP_ID) -> types.Chat:
    return types.Chat(id=chat_id, type=enums.ChatType.SUPERGROUP, title="Pejabat SMK")


def forum_chat(chat_id: int = GROUP_ID) -> types.Chat:
    """A supergroup with Topics on: kurigram reports it as FORUM, not SUPERGROUP."""
    return types.Chat(id=chat_id, type=enums.ChatType.FORUM, title="Pejabat SMK", is_forum=True)


def in_topic(topic_id: int, replied: types.Message | None = None) -> dict[str, Any]:
    """The reply fields kurigram fills for a message posted in forum topic `topic_id`, as a reply to
    `replied` or (None) simply in the topic, where it points at the topic's first message."""
    if replied is None:
        return {"message_thread_id": topic_id, "topic_message": True, "reply_to_message_id": topic_id}
    return {"message_thread_id": topic_id, "topic_message": True, "reply_to_message_id": replied.id,
            "reply_to_top_message_id": topic_id, "reply_to_message": replied}


def message(
    text: str | None = "A 3 7",
    *,
    message_id: int = 41,
    sender: types.User | None = None,
    chat: types.Chat | None = None,
    date: datetime | None = None,
    client: Any = None,
    **extra: Any,
) -> types.Message:
    sender = sender if sender is not None else user()
    return types.Message(
        id=message_id,
        from_user=sender,
        chat=chat if chat is not None else private_chat(sender.id),
        text=text,
        date=date or datetime(2026, 11, 30, 0, 31, 5).astimezone(),
        client=client,
        **extra,
    )


def bot_message(message_id: int, chat: types.Chat) -> types.Message:
    return types.Message(id=message_id, from_user=user(BOT_ID, "Absensi", is_bot=True), chat=chat, text="INFO …")
