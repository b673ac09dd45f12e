"""Pacing of outgoing Telegram messages, so the bot stays under Telegram's flood limits.

Telegram's Bot FAQ asks for at most about one message per second in one chat, twenty per minute in
one group and thirty per second overall; going over earns a `FloodWait` and, if repeated, a longer
ban. Pacing ahead of time is cheaper than being told to wait, so the deliverer asks the pacer when a
chat may get its next message and sends whatever chat is ready first.

The pacer works on plain seconds (a float timeline) passed in by the caller: it never reads a clock,
so tests and the bench drive it with a simulated one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's published limits, as numbers the pacer enforces."""

    per_chat_interval: float = 1.0  # seconds between two messages in one chat
    group_window: float = 60.0  # seconds of the sliding window for groups …
    group_max: int = 20  # … and how many messages fit in it
    global_window: float = 1.0  # seconds of the sliding window for the whole bot …
    global_max: int = 30  # … and how many messages fit in it


def is_group(chat_id: str) -> bool:
    """Groups and supergroups have negative ids; users have positive ones."""
    return chat_id.startswith("-")


class Pacer:
    """Remembers when messages went out and answers when the next one to a chat may go."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._last: dict[str, float] = {}
        self._group_sent: dict[str, deque[float]] = {}
        self._global_sent: deque[float] = deque()
        self._paused_until: dict[str, float] = {}

    def ready_at(self, chat_id: str, now: float) -> float:
        """The earliest time (≥ now) at which one more message to `chat_id` stays within every limit."""
        return max(
            now,
            self._chat_ready(chat_id),
            self._group_ready(chat_id),
            self._window_ready(self._global_sent, self.limits.global_max, self.limits.global_window),
            self._paused_until.get(chat_id, 0.0),
        )

    def record(self, chat_id: str, at: float) -> None:
        """A message to `chat_id` went out at `at`."""
        self._last[chat_id] = at
        self._push(self._global_sent, at, self.limits.global_window)
        if is_group(chat_id):
            window = self._group_sent.setdefault(chat_id, deque())
            self._push(window, at, self.limits.group_window)

    def pause(self, chat_id: str, until: float) -> None:
        """Telegram asked us to wait (FloodWait): nothing goes to this chat before `until`."""
        self._paused_until[chat_id] = max(until, self._paused_until.get(chat_id, 0.0))

    def forget_before(self, cutoff: float) -> None:
        """Drop bookkeeping that can no longer limit anything, so a long run does not grow memory."""
        horizon = cutoff - max(self.limits.per_chat_interval, self.limits.group_window)
        for chat_id in [c for c, t in self._last.items() if t < horizon]:
            self._last.pop(chat_id, None)
            self._group_sent.pop(chat_id, None)
        for chat_id in [c for c, t in self._paused_until.items() if t < cutoff]:
            del self._paused_until[chat_id]

    def _chat_ready(self, chat_id: str) -> float:
        last = self._last.get(chat_id)
        return 0.0 if last is None else last + self.limits.per_chat_interval

    def _group_ready(self, chat_id: str) -> float:
        if not is_group(chat_id):
            return 0.0
        window = self._group_sent.get(chat_id)
        if window is None:
            return 0.0
        return self._window_ready(window, self.limits.group_max, self.limits.group_window)

    @staticmethod
    def _window_ready(sent: deque[float], most: int, window: float) -> float:
        """With `most` sends allowed per `window`, the next may go `window` after the `most`-th last."""
        if len(sent) < most:
            return 0.0
        return sent[-most] + window

    @staticmethod
    def _push(sent: deque[float], at: float, window: float) -> None:
        sent.append(at)
        while sent and sent[0] <= at - window:
            sent.popleft()
