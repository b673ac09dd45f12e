"""Signing the session cookie and the forms' CSRF tokens, and limiting guesses at login links.

The secret is 32 random bytes made once and kept in a file only the service's user can read, beside the
Telegram session in the school directory (`SECRET_FILE`): restarts keep sessions valid, and deleting the
file ends them all. The cookie is `<session id>.<HMAC>`; the session id itself is also checked against
the store (`store.weblogin`), so a logout or expiry ends it whatever the cookie says. A form's CSRF token is
an HMAC of the session id: it cannot be made without the secret and differs per session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from ..app.private import write_private

SECRET_FILE = ".absensi-web.key"
MAX_FAILURES_PER_CLIENT = 10  # wrong or spent login links from one address per WINDOW
MAX_FAILURES = 60  # from all addresses together (behind a proxy every client has the proxy's address)
WINDOW_SECONDS = 600.0


def load_secret(directory: Path) -> bytes:
    """The console's signing secret, made on first use."""
    path = directory / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    data = secrets.token_bytes(32)
    write_private(path, data)
    os.chmod(path, 0o600)
    return data


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def cookie(self, session_id: str) -> str:
        return f"{session_id}.{self._mac('session', session_id)}"

    def session_id(self, cookie: str | None) -> str | None:
        """The session id a cookie carries, if its signature is right."""
        if not cookie or "." not in cookie or len(cookie) > 300:
            return None
        session_id, _, mac = cookie.rpartition(".")
        return session_id if hmac.compare_digest(mac, self._mac("session", session_id)) else None

    def csrf(self, bound_to: str) -> str:
        """The CSRF token of forms shown within a session (or, on the login page, for one login token)."""
        return self._mac("csrf", bound_to)

    def csrf_ok(self, bound_to: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf(bound_to))


class Limiter:
    """Failed login attempts in the last WINDOW_SECONDS, per client address and in all; past either limit a
    login is refused before the store is asked. Tokens have 256 bits: this keeps the log and the store
    quiet rather than making guessing feasible."""

    def __init__(self, per_client: int = MAX_FAILURES_PER_CLIENT, total: int = MAX_FAILURES,
                 window: float = WINDOW_SECONDS) -> None:
        self.per_client, self.total, self.window = per_client, total, window
        self._failures: deque[tuple[float, str]] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        while self._failures and now - self._failures[0][0] > self.window:
            self._failures.popleft()

    def blocked(self, client: str) -> bool:
        with self._lock:
            self._trim(time.monotonic())
            mine = sum(1 for _, who in self._failures if who == client)
            return mine >= self.per_client or len(self._failures) >= self.total

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures.append((time.monotonic(), client))
