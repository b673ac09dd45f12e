"""The simulator: a driver for both channels that delivers to memory instead of a modem or Telegram.

It takes work from the outbox exactly like the real drivers (claim → sent), gives every Telegram
message a native id per chat as Telegram would (so replies and the reply bridge work), and remembers
the last inline keyboard sent to each chat (so a scenario can press its buttons).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from absensi.engine.messages import Button, Channel
from absensi.engine.ports import Outbox, OutboxItem


@dataclass
class Delivered:
    channel: Channel
    to: str
    text: str
    native_id: str
    document: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: bool = False


@dataclass
class Simulator:
    outbox: Outbox
    log: list[Delivered] = field(default_factory=list)
    last_message: dict[str, str] = field(default_factory=dict)  # chat → native id of the last message sent
    keyboards: dict[str, tuple[tuple[Button, ...], ...]] = field(default_factory=dict)
    keyboard_message: dict[str, str] = field(default_factory=dict)  # chat → native id of its keyboard
    _ids: dict[str, itertools.count[int]] = field(default_factory=dict)
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def deliver(self, now: datetime) -> list[Delivered]:
        """Deliver everything due on both channels; returns what went out, in order."""
        delivered: list[Delivered] = []
        for channel in (Channel.SMS, Channel.TELEGRAM):
            while items := self.outbox.claim(channel, now, limit=100, worker="simulator"):
                delivered.extend(self._one(item, now) for item in items)
        self.log.extend(delivered)
        return delivered

    def _one(self, item: OutboxItem, now: datetime) -> Delivered:
        if item.channel == Channel.TELEGRAM and item.edit:  # an updated keyboard replaces its message
            native = item.edit
            self.keyboards[item.to] = item.buttons
        elif item.channel == Channel.TELEGRAM:
            native = str(next(self._ids.setdefault(item.to, itertools.count(1))))
            self.last_message[item.to] = native
            if item.buttons:
                self.keyboards[item.to] = item.buttons
                self.keyboard_message[item.to] = native
        else:
            native = str(next(self._refs) % 256)
        self.outbox.sent(item.id, now, native_id=native)
        return Delivered(item.channel, item.to, item.text, native,
                         item.document.filename if item.document else None, item.buttons,
                         item.request_contact is not None)

    def button(self, chat: str, label: str) -> Button | None:
        """The button labelled `label` on the chat's last keyboard: the exact label (any case), else the one
        label that starts with it, else the one that contains it ("Budi Santoso" finds "5. Budi Santoso")."""
        buttons = [b for row in self.keyboards.get(chat, ()) for b in row]
        wanted = label.strip().lower()
        for matches in ([b for b in buttons if b.label.lower() == wanted],
                        [b for b in buttons if b.label.lower().startswith(wanted)],
                        [b for b in buttons if wanted in b.label.lower()]):
            if matches:
                return matches[0] if len(matches) == 1 or matches[0].label.lower() == wanted else None
        return None
