"""pyrogram updates → `InboundMessage`. Pure functions: no network, no store, no decisions.

What is kept and what is dropped here is about the channel, not about the school: private messages,
presses and shared contacts all go to the engine; in groups only replies to the bot's own messages
do (the reply bridge), never the officials' chatter with each other. Everything the engine needs to
decide — who sent it, from which chat, in reply to what — is carried over unchanged.

A group with Topics on is reported as `ChatType.FORUM`, not SUPERGROUP; it is a group all the same. The
topic a message was posted in is not carried: `InboundMessage` has no field for it, so the engine cannot
yet answer inside the topic (its group answers land in the General topic).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pyrogram import enums, types

from absensi.engine.messages import Channel, Contact, InboundMessage

_PRIVATE = {enums.ChatType.PRIVATE, enums.ChatType.BOT}
_GROUPS = {enums.ChatType.GROUP, enums.ChatType.SUPERGROUP, enums.ChatType.FORUM}
_COMMAND_MENTION = re.compile(r"^(/\w+)@\w+")


def message_to_inbound(message: types.Message, bot_id: int | None) -> InboundMessage | None:
    """Convert one new message, or return None when it is not for the engine."""
    user = message.from_user
    chat = message.chat
    if user is None or user.is_bot or chat is None:
        return None  # channel posts, anonymous admins, other bots
    if not (message.text or message.caption or message.contact):
        return None  # stickers, photos without caption, service messages: nothing to read
    if chat.type in _PRIVATE:
        return _build(message, chat_id=None, reply_to=_replied_id(message))
    if chat.type in _GROUPS and _replies_to_bot(message, bot_id):
        return _build(message, chat_id=str(chat.id), reply_to=_replied_id(message))
    return None


def callback_to_inbound(query: types.CallbackQuery, now: datetime) -> InboundMessage | None:
    """Convert a button press. Telegram gives presses no timestamp, so the caller's `now` is used."""
    if query.from_user is None or query.data is None:
        return None
    data = query.data.decode("utf-8", "replace") if isinstance(query.data, bytes) else query.data
    chat = query.message.chat if query.message is not None else None
    group_chat = str(chat.id) if chat is not None and chat.type in _GROUPS else None
    return InboundMessage(
        channel=Channel.TELEGRAM,
        sender=str(query.from_user.id),
        chat=group_chat,
        received_at=as_utc(now),
        source_id=f"tgcb:{query.id}",
        press=data,
        reply_to=str(query.message.id) if query.message is not None else None,  # the keyboard to update
    )


def normalize_phone(raw: str) -> str:
    """Telegram gives an account's number in international form without '+'; add it back.

    Numbers typed into a phone book (`0812…`, `+62 812-…`) are passed on as written, minus the
    spaces and dashes: the engine parses phone numbers, the driver only undoes Telegram's format.
    """
    compact = re.sub(r"[\s\-().]", "", raw)
    if compact.isdecimal() and not compact.startswith("0"):
        return "+" + compact
    return compact


def as_utc(moment: datetime) -> datetime:
    """pyrogram builds dates with `datetime.fromtimestamp` (naive local time); make them aware UTC."""
    return moment.astimezone(UTC)


def _build(message: types.Message, *, chat_id: str | None, reply_to: int | None) -> InboundMessage:
    assert message.from_user is not None and message.chat is not None
    return InboundMessage(
        channel=Channel.TELEGRAM,
        sender=str(message.from_user.id),
        chat=chat_id,
        text=_text_of(message),
        contact=_contact_of(message),
        reply_to=None if reply_to is None else str(reply_to),
        source_id=f"tg:{message.chat.id}:{message.id}",
        received_at=as_utc(message.date) if message.date else datetime.now(UTC),
    )


def _text_of(message: types.Message) -> str:
    """The text or caption; a command loses its `@botname` suffix (`/absen@SekolahBot` → `/absen`)."""
    text = str(message.text or message.caption or "")
    return _COMMAND_MENTION.sub(r"\1", text, count=1)


def _contact_of(message: types.Message) -> Contact | None:
    contact = message.contact
    if contact is None:
        return None
    return Contact(phone=normalize_phone(contact.phone_number), user_id=contact.user_id)


def _replied_id(message: types.Message) -> int | None:
    """The id of the message this one answers, if it answers one.

    Inside a forum topic every message points at the topic's first message (kurigram then gives
    `reply_to_message_id == message_thread_id` and no `reply_to_top_message_id`); that says where it was
    posted, not what it answers. A real reply inside a topic names its message and the topic apart.
    """
    replied = message.reply_to_message_id
    in_topic_only = replied == message.message_thread_id and message.reply_to_top_message_id is None
    return None if replied is None or in_topic_only else replied


def _replies_to_bot(message: types.Message, bot_id: int | None) -> bool:
    """True only when the replied-to message is known to be the bot's own."""
    original = message.reply_to_message
    if bot_id is None or original is None or original.from_user is None or _replied_id(message) is None:
        return False
    return original.from_user.id == bot_id
