"""Phone numbers: parse what people write, compare in E.164, mask for officers.

Parents and staff write `0812…`, `62812…`, `+62 812-…`; modems hand us `+62812…` or `0812…`;
operators send from alphanumeric senders such as `TELKOMSEL`, which must never get a reply.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=65536)
def normalize(raw: str, region: str = "ID") -> str | None:
    """The E.164 form of `raw` (`+62812…`), or None when it is not a plausible phone number."""
    text = raw.strip()
    if not text or not any(ch.isdigit() for ch in text) or any(ch.isalpha() for ch in text):
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith(("+", "0")) and digits.startswith("62"):
        text = "+" + digits  # `62812…` written without the plus
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_phone(sender: str, region: str = "ID") -> bool:
    """True when a reply to `sender` can go out as an SMS (not `TELKOMSEL`, not a short code)."""
    e164 = normalize(sender, region)
    return e164 is not None and len(e164) >= 10


def national(e164: str) -> str:
    """`+62812…` → `0812…` (how Indonesians read their own numbers)."""
    if e164.startswith("+62"):
        return "0" + e164[3:]
    return e164


def mask(number: str) -> str:
    """`+6281234567890` → `0812****890`: enough to recognise, not enough to call."""
    local = national(number)
    if len(local) <= 7:
        return local[:2] + "*" * max(len(local) - 2, 0)
    return local[:4] + "****" + local[-3:]
