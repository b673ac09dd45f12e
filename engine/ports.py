"""The ports: what the engine needs from the outside world. Drivers implement them and never decide.

A driver hands every inbound message to an `Inbox` (which commits it durably before returning, so a
modem may delete the SMS from the SIM afterwards) and takes outbound work from an `Outbox`. The store
implements both; tests pass recording fakes with the same methods. A driver package exposes one
`StartDriver` callable; the application layer finds it by the address's scheme (`engine/app/drivers.py`)
and starts it with `DriverOptions`, the `DeliveryPolicy` among them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .messages import Button, Channel, Document, InboundMessage


class Inbox(Protocol):
    def submit(self, msg: InboundMessage) -> bool:
        """Commit `msg`; True when it is new, False when its `source_id` was seen before.

        Returns only after the commit, so the caller may acknowledge/delete at the source afterwards.
        """

    def keep(self, msg: InboundMessage, reason: str) -> None:
        """Commit a message the driver could not read (`msg.raw` holds its bytes) as an error, for
        `absensi inbox`: nothing that arrived is lost, even what cannot be understood."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One claimed outbound message, as a driver sees it."""

    id: int
    channel: Channel
    to: str
    text: str
    attempts: int = 0  # deliveries tried before this claim
    buttons: tuple[tuple[Button, ...], ...] = ()
    # a one-button "share my contact" keyboard with this label; "" for a row written before the engine put the
    # label on it (the driver then uses its own `contact_button` text, DRIVER_TEXTS)
    request_contact: str | None = None
    remove_keyboard: bool = False
    document: Document | None = None
    reply_to: str | None = None  # native id of a message in the same chat to reply to
    edit: str | None = None  # native id of a message in the same chat to replace instead of sending anew
    parts_sent: tuple[str, ...] = ()  # native refs of the parts a modem accepted before a crash (resume after)


class Outbox(Protocol):
    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        """Take up to `limit` due items of `channel`, oldest first, and mark them `sending` (committed).

        An item left `sending` by a crash is handed out again (see `recover`).
        """

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        """The channel accepted the item. `native_id`: the Telegram message id, or the SMS message
        reference(s) joined by commas, used later to match replies and delivery reports."""

    def handing(self, item_id: int, part: int, now: datetime) -> None:
        """Part `part` (0-based) of the item is about to go to the modem (committed before it does)."""

    def part_sent(self, item_id: int, native_ref: str) -> None:
        """The modem accepted one part of a multipart item (committed), so a resumed send skips it."""

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        """A transient failure: back to pending, due again at `next_try`."""

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        """A permanent failure: never tried again; the reason stays on the row and the admin is told."""

    def delivery_report(self, channel: Channel, native_ref: str, delivered: bool, now: datetime) -> bool:
        """Record a delivery report for the item whose native id contains `native_ref`; False if none."""

    def recover(self, channel: Channel, now: datetime, worker: str = "") -> int:
        """At start-up: items a crashed `worker` (or a process that is gone) left `sending` become pending
        again, resuming after the parts already sent. Returns how many."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential waits: `first` after the first failure, doubling, never more than `cap` (seconds)."""

    first: float
    cap: float

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures before this one (0: the first failure)."""
        return min(self.cap, self.first * 2.0 ** max(0, failures))


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The one retry and reconnect policy every driver follows (`settings.yaml` → `delivery`).

    A message that failed for a transient reason waits `retry.delay(attempts)` and is tried at most
    `max_attempts` times in all; a driver that lost its device or its network reconnects after
    `reconnect.delay(failures)`.
    """

    max_attempts: int = 8
    retry: Backoff = Backoff(30.0, 1800.0)
    reconnect: Backoff = Backoff(1.0, 60.0)

    def exhausted(self, attempts_before: int) -> bool:
        """True when the attempt after `attempts_before` failed ones is the last one allowed."""
        return attempts_before + 1 >= self.max_attempts


# What a chat driver says on its own, when the engine cannot be asked (a press the inbox could not store), or for
# an outbox row that does not carry it: key → the template in rules/templates.yaml it is rendered from. The
# application renders them and hands the driver a callable returning the current ones (they follow a reload).
DRIVER_TEXTS = {
    "press_not_stored": "tg_press_not_stored",  # the answer on a button press the inbox refused
    "contact_button": "tg_contact_button",  # the share-contact button's label, for rows written without it
}


def idle_wait(outbox: Outbox, channel: Channel, now: datetime, interval: float, fallback: float) -> float:
    """Seconds a driver whose claim found nothing waits before it looks at the outbox again, unless an outbox
    commit wakes it first: at most `fallback`, less when the earliest pending item of `channel` falls due
    sooner (a retry). One due already but not claimable (another worker holds it) is looked at again after
    `interval`, not in a loop. An outbox that cannot tell when (a test's fake) leaves `fallback` as it is."""
    wait = fallback
    next_due = getattr(outbox, "next_due", None)
    if wait > interval and callable(next_due):
        due = next_due(channel)
        if due is not None:
            wait = min(wait, max(interval, (due - now).total_seconds()))
    return wait


# (path, WSGI application) → the web console's public base URL; see DriverOptions.mount
Mount = Callable[[str, Callable[..., Any]], str]


@dataclass(frozen=True, slots=True)
class DriverOptions:
    """What the application gives every driver it starts, besides the inbox and the outbox."""

    clock: Callable[[], datetime]
    policy: DeliveryPolicy = DeliveryPolicy()
    pin: str | None = None  # a GSM SIM's PIN
    rate_per_min: float | None = None  # at most this many SMS per minute per device
    listen: str | None = None  # HOST:PORT for drivers that receive webhooks (default: loopback)
    # Serve a driver's webhooks on the service's web console listener instead (`absensi run --web`): called
    # with the path and a WSGI application, it returns the console's public base URL.
    mount: Mount | None = None
    # Devices the driver began to start before the service had its rules and store (its `warm_up`, called by
    # `absensi run` first thing), by address: the driver takes over those it serves.
    warm: Mapping[str, Any] = field(default_factory=dict)


class Running(Protocol):
    """A started driver: one or more devices serving the inbox and the outbox in threads of their own."""

    def stop(self, timeout: float = 10.0) -> None: ...

    def states(self) -> dict[str, str]:
        """Address → state of each device (`ready`, `reopening`, …), for `absensi status`."""
        ...


class StartDriver(Protocol):
    """A driver's entry point: start serving `addresses` (all of one driver); recover crashed sends first."""

    def __call__(self, addresses: list[str], inbox: Inbox, outbox: Outbox, options: DriverOptions) -> Running: ...
