"""`OutboxItem` → the arguments of pyrogram's send calls. Pure functions, no network.

Texts go out with parsing disabled: names such as `Siti_Aminah` or `[X TKJ 1]` must arrive as
written, and no Markdown/HTML escaping can then go wrong. Long texts are split at line ends because
Telegram refuses messages over 4096 characters and captions over 1024.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from loguru import logger
from pyrogram import types

from absensi.engine.messages import Button
from absensi.engine.ports import OutboxItem

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# The share-contact button's label when neither the item nor the driver's texts give one (an outbox row written
# before the engine put the label on it, read by a driver started without texts): a sign, no words.
CONTACT_BUTTON_FALLBACK = "\U0001F4F1"

Markup = types.InlineKeyboardMarkup | types.ReplyKeyboardMarkup | types.ReplyKeyboardRemove


class RenderError(ValueError):
    """The item cannot be sent as it is (an engine bug); retrying would fail the same way."""


def reply_markup(item: OutboxItem, contact_label: str = "") -> Markup | None:
    """The keyboard to attach: inline buttons, the share-contact button, or the removal of a keyboard.

    The share-contact button is labelled as the item says (the engine renders `tg_contact_button`); an item
    without a label (an older outbox row) gets `contact_label`, the driver's own text."""
    if item.buttons:
        return inline_keyboard(item.buttons)
    if item.request_contact is not None:
        label = item.request_contact or contact_label or CONTACT_BUTTON_FALLBACK
        button = types.KeyboardButton(label, request_contact=True)
        return types.ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if item.remove_keyboard:
        return types.ReplyKeyboardRemove()
    return None


def driver_text(texts: Callable[[], Mapping[str, str]], key: str) -> str:
    """One of the driver's own texts (`engine.ports.DRIVER_TEXTS`), or "" when the application gave none or
    could not render it (the rules are being reloaded, say): the driver then says less, never fails."""
    try:
        return texts().get(key, "")
    except Exception as exc:
        logger.warning("telegram: text {!r} not available: {}", key, exc)
        return ""


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
