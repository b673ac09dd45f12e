"""`OutboxItem` → the arguments of pyrogram's send calls. Pure functions, no network.

Texts go out with parsing disabled: names such as `Siti_Aminah` or `[X TKJ 1]` must arrive as
written, and no Markdown/HTML escaping can then go wrong. Long texts are split at line ends because
Telegram refuses messages over 4096 characters and captions over 1024.
"""

from __future__ import annotations

from pyrogram import types

from absensi.engine.messages import Button
from absensi.engine.ports import OutboxItem

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
CONTACT_BUTTON_LABEL = "Bagikan nomor saya"

Markup = types.InlineKeyboardMarkup | types.ReplyKeyboardMarkup | types.ReplyKeyboardRemove


class RenderError(ValueError):
    """The item cannot be sent as it is (an engine bug); retrying would fail the same way."""


def reply_markup(item: OutboxItem) -> Markup | None:
    """The keyboard to attach: inline buttons, the share-contact button, or the removal of a keyboard."""
    if item.buttons:
        return inline_keyboard(item.buttons)
    if item.request_contact:
        button = types.KeyboardButton(CONTACT_BUTTON_LABEL, request_contact=True)
        return types.ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if item.remove_keyboard:
        return types.ReplyKeyboardRemove()
    return None


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> types.InlineKeyboardMarkup:
    """Rows of inline buttons; refuses callback data Telegram would reject (1–64 bytes)."""
    for row in rows:
        for button in row:
            check_callback_data(button)
    return types.InlineKeyboardMarkup(
        [[types.InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows if row]
    )


def check_callback_data(button: Button) -> None:
    size = len(button.data.encode("utf-8"))
    if not 1 <= size <= MAX_CALLBACK_DATA:
        raise RenderError(
            f"button {button.label!r}: callback data is {size} bytes, Telegram accepts 1 to "
            f"{MAX_CALLBACK_DATA}: {button.data[:80]!r}"
        )


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, at line ends where possible."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def text_parts(item: OutboxItem) -> list[str]:
    """The text messages to send before (or instead of) the document.

    A document carries the text as its caption when it fits; otherwise the text goes first on its
    own and the document follows without a caption.
    """
    if item.document is not None and len(item.text) <= MAX_CAPTION:
        return []
    if item.document is not None and not item.text:
        return []
    return split_text(item.text)


def caption(item: OutboxItem) -> str:
    return item.text if len(item.text) <= MAX_CAPTION else ""
