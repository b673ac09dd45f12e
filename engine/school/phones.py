"""Phone numbers: parse what people write, compare in E.164, mask for officers.

Parents and staff write `0812…`, `62812…`, `+62 812-…`, `0062812…`; modems hand us `+62812…` or `0812…`;
operators send from alphanumeric senders such as `TELKOMSEL` and from short codes, which must never get
a reply (SPEC §3: every reply is paid for by the school).

Two questions, two answers. `normalize` says which number a text means, and is lenient (any *possible*
number): staff.csv may hold an office landline or a number from a range newer than the metadata, and it
must still load and match a shared Telegram contact. `mobile` / `is_phone` say whether an SMS may go to a
number, and are strict: a *valid mobile* number only.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalize(raw: str, region: str = "ID") -> str | None:
    """The E.164 form of `raw` (`+62812…`), or None when it is not a plausible phone number.

    Of the ways `raw` can be read, the first that gives a valid number wins, else the first possible one,
    so a number the metadata does not know yet is still compared in one form.
    """
    return _read(raw, region)[0]


@lru_cache(maxsize=65536)
def _read(raw: str, region: str) -> tuple[str | None, PhoneNumber | None]:
    """`normalize`'s answer, with the parsed number when it is a valid one (None for a merely possible one):
    `mobile` asks its type without parsing the E.164 form again (a new sender costs two parses less)."""
    text = raw.strip()
    if not text or not any(ch.isdigit() for ch in text) or any(ch.isalpha() for ch in text):
        return None, None
    fallback: str | None = None
    for reading in _readings(text):
        number = _parse(reading, region)
        if number is None:
            continue
        if phonenumbers.is_valid_number(number):
            return _e164(number), number
        fallback = fallback or _e164(number)
    return fallback, None


def _readings(text: str) -> list[str]:
    """How `text` may be meant: as written, and with a leading `00` or bare `62` taken as the `+`.

    `00` is the international access prefix most phones accept; the `00[89]` prefixes phonenumbers knows
    for Indonesia are tried first, as written, so `008 62812…` still reads as +62812….
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    readings = [text]
    if text.startswith("00"):
        readings.append("+" + digits[2:])
    elif not text.startswith(("+", "0")) and digits.startswith("62"):
        readings.insert(0, "+" + digits)  # `62812…` written without the plus
    return readings


def _parse(text: str, region: str) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def mobile(raw: str, region: str = "ID") -> str | None:
    """The E.164 form of `raw` when it is a valid mobile number (one an SMS can reach), else None.

    Short codes (`3636`), 7–8 digit service senders, landlines and numbers the metadata calls invalid are
    refused: an SMS to them is paid for and reaches nobody.
    """
    e164, number = _read(raw, region)  # number: None unless valid
    if e164 is None or number is None or phonenumbers.number_type(number) not in _SMS_TYPES:
        return None
    return e164


def is_phone(sender: str, region: str = "ID") -> bool:
    """True when an SMS may go to `sender`: a valid mobile number (not `TELKOMSEL`, not a short code)."""
    return mobile(sender, region) is not None


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
