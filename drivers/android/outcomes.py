"""What a message's state on the phone means for its outbox row — one mapping for webhooks and polls alike.

A claimed item stays `sending` while the phone holds it (queued, not yet on the network), as a GSM item does
while the modem works on it; the row becomes `sent` when the phone says Sent, like a modem's `+CMGS`
answer, and Delivered / Failed-after-Sent are the delivery reports. The `Ledger` lists the items held:
whoever (webhook thread or worker poll) takes an item out of it first records the outcome, so an event
that arrives twice, or a webhook racing a poll, is recorded once.

Message ids: `abs-<row id>-<attempts>-<digest of recipient and text>`. The phone refuses a second message
with an id it has (HTTP 409), so a row sent again after a crash is recognised instead of sent twice; a
retry after a failure the phone reported counts an attempt, which gives the new try a new id.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from absensi.drivers.gsm.pdu import choose_coding, split_text
from absensi.engine.messages import Channel
from absensi.engine.ports import Outbox, OutboxItem
from absensi.engine.school.phones import mask

from .api import PhoneState
from .settings import GatewaySettings

WAITING = frozenset({"Pending", "Processed", "Cancelling"})  # the phone still has it in hand
# Failures the phone reports that no retry can mend (the SmsManager results the app names): fail the row.
PERMANENT = ("FDN_CHECK_FAILURE", "SHORT_CODE_NOT_ALLOWED", "SHORT_CODE_NEVER_ALLOWED", "INVALID_ARGUMENTS",
             "INVALID_SMS_FORMAT", "ENCODING_ERROR", "Invalid phone number")


def message_id(item: OutboxItem) -> str:
    """Stable across a crash (the claim keeps `attempts`), new after a counted retry; at most 36 characters
    as the API allows. The digest keeps a fresh database's row 1 from matching an old message on the phone."""
    digest = hashlib.sha1(f"{item.to}\n{item.text}".encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"abs-{item.id}-{item.attempts}-{digest}"


def remaining_text(item: OutboxItem) -> str:
    """The text still to send. A GSM modem that stopped mid-way through a long SMS left the parts it sent on
    the row (SPEC §8: never a part twice): the phone sends the rest, cut where the modem cut it."""
    text: str = item.text
    if not item.parts_sent:
        return text
    parts = split_text(text, choose_coding(text))
    return "".join(parts[len(item.parts_sent):])


def backoff(attempts: int, settings: GatewaySettings) -> float:
    delay: float = settings.policy.retry.delay(attempts)
    return delay


def permanent(reason: str) -> bool:
    return any(marker in reason for marker in PERMANENT)


@dataclass(slots=True)
class Held:
    """An item this process claimed and handed (or is handing) to a phone."""

    item: OutboxItem
    message_id: str
    native_id: str  # what `sent` records: parts a modem sent before, then the phone's message id
    gateway: str  # the worker's name
    accepted: bool = False  # the phone confirmed it has the message (False: sent, but no answer yet)
    next_poll: float = 0.0  # monotonic time of the next state query


class Ledger:
    """The held items of every phone of this process, shared by the workers and the webhook listener."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, Held] = {}

    def hold(self, held: Held) -> None:
        with self._lock:
            self._held[held.message_id] = held

    def take(self, message_id: str) -> Held | None:
        with self._lock:
            return self._held.pop(message_id, None)

    def get(self, message_id: str) -> Held | None:
        with self._lock:
            return self._held.get(message_id)

    def count(self, gateway: str) -> int:
        with self._lock:
            return sum(1 for h in self._held.values() if h.gateway == gateway)

    def due(self, gateway: str, now: float) -> list[Held]:
        with self._lock:
            return [h for h in self._held.values() if h.gateway == gateway and h.next_poll <= now]


class Outcomes:
    """Records on the outbox what the phones report. Thread-safe through the ledger."""

    def __init__(self, outbox: Outbox, clock: Callable[[], datetime], settings: GatewaySettings,
                 ledger: Ledger) -> None:
        self.outbox, self.clock, self.settings, self.ledger = outbox, clock, settings, ledger

    def settle(self, message_id: str, state: PhoneState) -> None:
        if state.state in WAITING:
            held = self.ledger.get(message_id)
            if held is not None:
                held.accepted = True
            return
        held = self.ledger.take(message_id)
        if held is None:
            self._late(message_id, state)
        elif state.state in ("Sent", "Delivered") or (state.state == "Failed" and state.sent_before):
            self._sent(held, state)
        elif state.state == "Failed":
            self.send_failed(held.item, state.error or "no reason given")
        elif state.state == "Cancelled":
            self.outbox.failed(held.item.id, self.clock(), "cancelled on the phone")
        else:
            logger.warning("{}: outbox #{}: unknown state {!r} on the phone; asking again later", held.gateway,
                           held.item.id, state.state)
            self.ledger.hold(held)

    def _sent(self, held: Held, state: PhoneState) -> None:
        now = self.clock()
        self.outbox.sent(held.item.id, now, native_id=held.native_id)
        logger.info("{}: sent outbox #{} to {} as {}", held.gateway, held.item.id, mask(held.item.to), held.message_id)
        if state.state != "Sent":
            self._report(held.message_id, state.state == "Delivered", held.gateway)

    def _late(self, message_id: str, state: PhoneState) -> None:
        """An event for a message no longer held: already marked sent (then it is a delivery report), or news
        about an earlier try, or about a row a restart gave back to the queue (its next claim asks the phone)."""
        if state.state in ("Delivered", "Failed"):  # matches only a row already marked sent with this id
            self._report(message_id, state.state == "Delivered", "android")
        else:
            logger.debug("android: {} for {} not held here: nothing to record", state.state, message_id)

    def _report(self, message_id: str, delivered: bool, gateway: str) -> None:
        matched = self.outbox.delivery_report(Channel.SMS, message_id, delivered, self.clock())
        logger.info("{}: delivery report for {}: {}{}", gateway, message_id, "delivered" if delivered else "failed",
                    "" if matched else " (no matching outbox row)")

    def send_failed(self, item: OutboxItem, reason: str) -> None:
        """The phone could not hand the message to the network (a modem's CMS error): fail or retry."""
        if permanent(reason):
            self.outbox.failed(item.id, self.clock(), f"the phone could not send it: {reason}")
            logger.warning("android: outbox #{} failed for good: {}", item.id, reason)
            return
        self.retry(item, f"the phone could not send it: {reason}", backoff(item.attempts, self.settings))

    def retry(self, item: OutboxItem, reason: str, delay: float) -> None:
        """Back to the queue, or failed when the policy's attempts are spent."""
        now = self.clock()
        if self.settings.policy.exhausted(item.attempts):
            self.outbox.failed(item.id, now, f"gave up after {item.attempts + 1} attempts: {reason}")
            logger.warning("android: outbox #{} failed after {} attempts: {}", item.id, item.attempts + 1, reason)
            return
        self.outbox.retry(item.id, now, reason, now + timedelta(seconds=delay))
        logger.info("android: outbox #{} will be retried in {:.0f} s: {}", item.id, delay, reason)
