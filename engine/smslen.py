"""How many SMS a text costs: GSM 03.38 7-bit when every character allows it, UCS-2 otherwise."""

from __future__ import annotations

# GSM 03.38 / 3GPP TS 23.038: the default alphabet (index = code) and the extension table (code → char,
# sent as ESC + code). The modem driver's codec packs with these same tables.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
                  0x40: "|", 0x65: "€"}
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXT = frozenset(GSM7_EXTENSION.values())


def gsm7_septets(text: str) -> int | None:
    """Septets `text` needs in GSM 7-bit, or None when a character forces UCS-2."""
    total = 0
    for ch in text:
        if ch in _BASIC:
            total += 1
        elif ch in _EXT:
            total += 2
        else:
            return None
    return total


def segments(text: str) -> tuple[int, bool]:
    """(number of SMS parts, True if GSM 7-bit) for `text`."""
    septets = gsm7_septets(text)
    if septets is not None:
        return (1 if septets <= 160 else -(-septets // 153)), True
    units = len(text.encode("utf-16-be")) // 2
    return (1 if units <= 70 else -(-units // 67)), False


def fit_one(text: str) -> str:
    """Trim `text` to one SMS segment where possible (replies should cost one SMS)."""
    if segments(text)[0] == 1:
        return text
    _, gsm = segments(text)
    cut = text[: 157 if gsm else 67]
    while cut and segments(cut + "...")[0] > 1:
        cut = cut[:-1]
    return cut.rstrip() + "..."
