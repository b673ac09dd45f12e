"""SMS through an Android phone running "SMS Gateway for Android" (capcom6/android-sms-gateway), local-server mode.

`Gateways` is what `absensi run --gateway URL…` starts: one worker thread per phone, taking SMS from the same
outbox as the GSM modems (channel `sms`, claims decide who sends a row), and one webhook listener for all
phones, which puts received SMS in the inbox and the phones' sent/delivered/failed reports on the outbox.
Layers: `api` (the phone's HTTP API through the PyPI client), `signing` (webhook signatures), `listener`
(the HTTP server), `outcomes` (phone state → outbox row), `worker` (the loop). See docs/android.md.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from loguru import logger

from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import DriverOptions, Inbox, Mount, Outbox
from absensi.engine.school.phones import mask, normalize

from .api import GatewayUrl, PhoneState
from .listener import WebhookListener
from .outcomes import Ledger, Outcomes
from .settings import DEFAULT_LISTEN, KEY_VARIABLE, WEBHOOK_PATH, GatewaySettings
from .worker import GatewayWorker

__all__ = ["DEFAULT_LISTEN", "GatewaySettings", "GatewayWorker", "Gateways", "inbound", "start"]
DEVICE = "phone"  # what one address is, for the service's start-up line

STATUS_EVENTS = {"sms:sent": "Sent", "sms:delivered": "Delivered", "sms:failed": "Failed",
                 "sms:cancelled": "Cancelled"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Gateways:
    """Several phones, one worker each, one webhook listener; see the module docstring.

    The listener binds when this is constructed (a taken port fails here, before anything runs).
    """

    def __init__(self, urls: list[str], inbox: Inbox, outbox: Outbox, *, listen: str = DEFAULT_LISTEN,
                 settings: GatewaySettings | None = None, clock: Callable[[], datetime] = utc_now,
                 wall: Callable[[], float] = time.time, mount: Mount | None = None) -> None:
        """`mount`: serve the webhooks on the service's web console listener instead of one of their own
        (`engine.ports.DriverOptions.mount`); not with a TLS certificate of their own."""
        if not urls:
            raise ValueError("at least one gateway URL is needed")
        self.settings = settings or GatewaySettings()
        key = self.settings.signing_key or os.environ.get(KEY_VARIABLE, "")
        if not key:
            raise ValueError(f"the phone's webhooks must be signed: set {KEY_VARIABLE} to the signing key "
                             "(the same one as in the app's webhook settings)")
        self.inbox, self.outbox, self.clock = inbox, outbox, clock
        self.outcomes = Outcomes(outbox, clock, self.settings, Ledger())
        parsed = [GatewayUrl.parse(url) for url in urls]
        share = mount if not self.settings.tls_cert else None
        self.listener = WebhookListener(listen, key, self._on_webhook, self.settings, wall,
                                        shared="" if share is not None else None)
        if share is not None:
            self.listener.shared = share(WEBHOOK_PATH, self.listener.wsgi).rstrip("/")
        self.webhook_url = self.settings.webhook_url or self.listener.url
        self.workers = [GatewayWorker(url, outbox, self.outcomes, settings=self.settings, clock=clock,
                                      webhook_url=self.webhook_url, signing_key=key) for url in parsed]

    def start(self) -> None:
        """Return items a crashed run left `sending` to the queue, then listen and start every worker."""
        recovered = sum(self.outbox.recover(Channel.SMS, self.clock(), worker=w.name) for w in self.workers)
        if recovered:
            logger.warning("{} SMS were with a phone when the last run stopped; the phone is asked about each "
                           "by its id before anything is sent again", recovered)
        self.listener.start()
        for worker in self.workers:
            worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.stop(timeout)
        self.listener.stop()

    def states(self) -> dict[str, str]:
        return {w.url.name: w.state for w in self.workers}

    # ---------------------------------------------------------------------------------- webhooks

    def _on_webhook(self, envelope: dict[str, Any] | None, body: bytes) -> None:
        """A signed webhook. Raises when it could not be recorded (the phone then sends it again)."""
        event = envelope.get("event") if envelope else None
        payload = envelope.get("payload") if envelope else None
        if envelope is None or not isinstance(event, str) or not isinstance(payload, dict):
            self._keep(body, "a signed webhook that is not the app's JSON")
            return
        device = str(envelope.get("deviceId") or "")
        if event == "sms:received":
            self._received(payload, device, body)
        elif event == "sms:batch:received":
            for one in payload.get("messages") or []:
                self._received(one, device, body)
        elif event in STATUS_EVENTS:
            self._status(event, payload, body)
        else:
            logger.debug("android: webhook {} ignored", event)

    def _received(self, payload: Any, device: str, body: bytes) -> None:
        try:
            msg = inbound(payload, device, self.clock())
        except (KeyError, TypeError, ValueError) as exc:
            self._keep(body, f"an sms:received webhook without {exc}")
            return
        new = self.inbox.submit(msg)
        logger.info("android: {} SMS from {}", "new" if new else "known", mask(msg.sender))

    def _status(self, event: str, payload: dict[str, Any], body: bytes) -> None:
        message_id = payload.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            self._keep(body, f"an {event} webhook without messageId")
            return
        reason = payload.get("reason") if event == "sms:failed" else None
        reason = str(reason) if reason is not None else None
        sent_before = bool(reason and reason.startswith("Delivery result"))  # the app's words for an SMSC report
        self.outcomes.settle(message_id, PhoneState(STATUS_EVENTS[event], reason, sent_before))

    def _keep(self, body: bytes, reason: str) -> None:
        """Nothing that arrives signed is lost: what cannot be read goes to the error inbox with its bytes."""
        digest = hashlib.sha1(body).hexdigest()[:16]
        self.inbox.keep(InboundMessage(Channel.SMS, "", self.clock(), f"smsgw-unreadable:{digest}", "",
                                       raw=body.hex()), reason)
        logger.warning("android: {} kept in the error inbox ({} bytes)", reason, len(body))


def start(addresses: list[str], inbox: Inbox, outbox: Outbox, options: DriverOptions) -> Gateways:
    """The driver's entry point (`engine.ports.StartDriver`): one worker per phone URL, one webhook listener
    on `options.listen` (default 127.0.0.1:8555); the rest from the environment (`GatewaySettings.from_env`)."""
    if options.rate_per_min:
        logger.info("android: the SMS rate limit is set on the phone (the app's Limits), not by --modem-rate")
    gateways = Gateways(addresses, inbox, outbox, listen=options.listen or DEFAULT_LISTEN,
                        settings=GatewaySettings.from_env(options.policy), clock=options.clock, mount=options.mount)
    gateways.start()
    return gateways


def inbound(payload: Any, device: str, now: datetime) -> InboundMessage:
    """An `sms:received` payload as an inbound SMS; the same SMS (the phone resends webhooks) → the same id."""
    message_id = str(payload["messageId"])[:64]
    raw_sender = str(payload.get("phoneNumber") or payload["sender"]).strip()
    text = payload["message"]
    if not isinstance(text, str) or not raw_sender or not message_id:
        raise ValueError("a sender, a message and a messageId")
    stamp_text = str(payload.get("receivedAt") or "")
    digest = hashlib.sha1(f"{raw_sender}\n{stamp_text}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return InboundMessage(Channel.SMS, normalize(raw_sender) or raw_sender, _stamp(stamp_text, now),
                          f"smsgw:{device[:32]}:{message_id}:{digest}", text)


def _stamp(text: str, now: datetime) -> datetime:
    """The phone's receivedAt (ISO 8601 with offset); our clock when it is missing or has no offset."""
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return now
    return stamp if stamp.tzinfo is not None else now
