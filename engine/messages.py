"""Channel-neutral message values exchanged between drivers and the engine.

Drivers turn native input (a PDU from a modem, a pyrogram update) into an `InboundMessage` and deliver
`OutboundMessage`s; the engine never sees a native object and never calls a driver. Both values are
frozen so they can be logged, stored and compared without surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """A way messages travel. Which conversation a channel carries (parents' keycodes or staff's chat) is the
    rules' choice (`settings.conversations`), not the channel's; a driver serves one channel."""

    SMS = "sms"
    TELEGRAM = "telegram"

    @property
    def metered(self) -> bool:
        """Paid per segment and limited in length, with no keyboards or files: replies are kept to one part."""
        return self is Channel.SMS


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message comes from or goes to: one address of a contact (a parent, a staff member, a group).

    SMS: an E.164 number (`+62812…`) or an alphanumeric sender (`TELKOMSEL`).
    Telegram: the decimal chat id as text (users positive, groups negative).
    """

    channel: Channel
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact card shared in Telegram; `user_id` is None when the card belongs to no Telegram user."""

    phone: str
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message as it arrived.

    `source_id` is unique per message at its source (e.g. `sms:<sender>:<scts>:<hash>` or
    `tg:<chat>:<message id>`); the inbox refuses a second row with the same id, so a message
    read twice is processed once.
    """

    channel: Channel
    sender: str
    received_at: datetime
    source_id: str
    text: str = ""
    chat: str | None = None  # Telegram chat id when it is not the sender's private chat
    press: str | None = None  # callback data of a pressed inline button (reply_to: the keyboard's message)
    contact: Contact | None = None
    reply_to: str | None = None  # native id of the message this one answers (Telegram message id)
    incomplete: bool = False  # a concatenated SMS whose parts did not all arrive in time
    raw: str | None = None  # the native bytes as hex (an SMS's PDUs, comma-separated), kept with the message

    @property
    def address(self) -> Address:
        return Address(self.channel, self.chat or self.sender)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes (Telegram's limit)


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message the engine wants delivered.

    `key` is an idempotency key: the outbox keeps at most one row per key, so one event never
    produces two SMS to one parent even if the event is processed twice.
    `bridge` names the SMS sender a Telegram reply to this message is sent back to (the reply bridge).
    """

    channel: Channel
    to: str
    text: str
    key: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: str | None = None  # show a one-button "share my contact" keyboard with this label
    remove_keyboard: bool = False
    document: Document | None = None
    bridge: str | None = None
    edit: str | None = None  # native id of a message in the same chat to replace (an updated keyboard)
    kind: str = "reply"  # what produced it: reply, forward, alfa, push, reminder, info…

    @property
    def address(self) -> Address:
        return Address(self.channel, self.to)
