"""Timeouts, pacing and webhook options of the Android gateway driver, in one place so tests can shrink them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from absensi.engine.ports import DeliveryPolicy

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
    recover_interval: float = 30.0  # look for SMS a dead process left `sending` (as the GSM workers do)
    pause_after_loss: float = 5.0  # an item the phone refused for a reason of its own waits this long
    # transient send failures (retry), an unreachable phone (reconnect), attempts before a message is
    # failed: the one policy of every driver, from settings.yaml `delivery`
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)

    @classmethod
    def from_env(cls, policy: DeliveryPolicy, environ: Mapping[str, str] = os.environ) -> GatewaySettings:
        """What `absensi run --gateway` takes from the environment (the command line has no room for secrets):
        ABSENSI_GATEWAY_KEY (required), ABSENSI_GATEWAY_WEBHOOK_URL, ABSENSI_GATEWAY_TLS_CERT / _TLS_KEY,
        ABSENSI_GATEWAY_REGISTER=0 to leave the phone's webhook settings alone."""
        return cls(signing_key=environ.get(KEY_VARIABLE) or None,
                   webhook_url=environ.get("ABSENSI_GATEWAY_WEBHOOK_URL") or None,
                   register_webhooks=environ.get("ABSENSI_GATEWAY_REGISTER", "1").strip() not in ("0", "no", ""),
                   tls_cert=environ.get("ABSENSI_GATEWAY_TLS_CERT") or None,
                   tls_key=environ.get("ABSENSI_GATEWAY_TLS_KEY") or None, policy=policy)
