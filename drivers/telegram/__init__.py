"""The Telegram driver: pyrogram updates in, outbox items out, nothing decided here.

Public API used by `absensi run`:
- `credentials_from_env()` → `(Credentials | None, reason)`;
- `TelegramService(inbox, outbox, session_dir=…, clock=…, menus=…)` and `await service.run(stop)`.
"""

from .credentials import Credentials, TelegramCredentialsError, credentials_from_env, parse_credentials
from .deliver import Deliverer, RetryPolicy
from .pacing import Limits, Pacer
from .service import TelegramService, make_client

__all__ = [
    "Credentials",
    "Deliverer",
    "Limits",
    "Pacer",
    "RetryPolicy",
    "TelegramCredentialsError",
    "TelegramService",
    "credentials_from_env",
    "make_client",
    "parse_credentials",
]
