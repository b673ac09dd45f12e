"""Timeouts, pacing and webhook options of the Android gateway driver, in one place so tests can shrink them."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LISTEN = "127.0.0.1:8555"
WEBHOOK_PATH = "/absensi/webhook"
KEY_VARIABLE = "ABSENSI_GATEWAY_KEY"  # where the webhooks' signing key comes from when the settings hold none


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    # Webhooks. The phone signs every webhook with this key; unsigned or wrongly signed ones are refused.
    signing_key: str | None = None  # None: the environment variable KEY_VARIABLE
    webhook_url: str | None = None  # what the phone posts to; None: http(s)://<listen address>/absensi/webhook
    register_webhooks: bool = False  # at start: register the four webhooks and set the signing key on the phone
    tls_cert: str | None = None  # PEM files: serve the webhooks over HTTPS (the phone's release build
    tls_key: str | None = None  # posts only to https:// or to http://127.0.0.1)
    signature_tolerance: float = 300.0  # seconds a webhook's X-Timestamp may be off our clock (replays)
    max_body: int = 1_000_000  # bytes; a bigger webhook is refused
    # The phone's HTTP API.
    connect_timeout: float = 5.0  # a phone that does not take the connection is unreachable: nothing was sent
    request_timeout: float = 20.0  # a phone that took the request but did not answer may have queued it
    # Sending.
    claim_interval: float = 1.0  # how often an idle worker asks the outbox for work
    max_in_flight: int = 20  # messages the phone holds for us (queued, not yet sent) before we claim more
    poll_interval: float = 30.0  # ask the phone for a held message's state when no webhook told us
    recover_interval: float = 5.0  # look for SMS a dead process left `sending` (as the GSM workers do)
    reopen_min: float = 1.0  # backoff while the phone is unreachable
    reopen_max: float = 60.0
    retry_base: float = 30.0  # transient send failures: 30 s, 60 s, 120 s … up to retry_max (as GSM)
    retry_max: float = 1800.0
    pause_after_loss: float = 5.0  # an item claimed just as the phone vanished waits this long
