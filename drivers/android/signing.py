"""Webhook signatures as the app makes them: `X-Signature` is the hex HMAC-SHA256, keyed with the signing key,
of the request body followed by the `X-Timestamp` header (Unix seconds)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"


def signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode("utf-8"), body + timestamp.encode("ascii"), hashlib.sha256).hexdigest()


def refusal(key: str, body: bytes, sig: str | None, timestamp: str | None, now: float, tolerance: float) -> str | None:
    """Why this webhook must be refused, or None when it is signed with `key` and fresh.

    A stale timestamp is refused even with a good signature, so a recorded webhook cannot be replayed later.
    """
    if not sig or not timestamp:
        return "unsigned"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "bad timestamp"
    if abs(now - int(timestamp)) > tolerance:
        return "stale timestamp"
    if not hmac.compare_digest(signature(key, body, timestamp), sig.strip().lower()):
        return "wrong signature"
    return None
