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


# One SMS holds 160 septets or 70 UTF-16 units; a part of a longer one 153 or 67, beside its concatenation
# header with an 8-bit reference (what the modem driver sends).
SINGLE = {True: 160, False: 70}
PART = {True: 153, False: 67}


def _char_sizes(text: str) -> tuple[list[int], bool]:
    """The room each character takes (septets when all of `text` is GSM 7-bit, else UTF-16 units)."""
    if gsm7_septets(text) is not None:
        return [2 if ch in _EXT else 1 for ch in text], True
    return [len(ch.encode("utf-16-be")) // 2 for ch in text], False


def segments(text: str) -> tuple[int, bool]:
    """(number of SMS parts, True if GSM 7-bit) for `text`, counted as the modem driver splits it.

    Parts are filled greedily and a character is never cut (an extension character's two septets, an
    emoji's surrogate pair stay in one part), so a long text may need one part more than its length alone
    says: what the operator bills is what `drivers/gsm/pdu.split_text` makes, so this counts the same way.
    """
    sizes, gsm = _char_sizes(text)
    if sum(sizes) <= SINGLE[gsm]:
        return 1, gsm
    parts, used = 1, 0
    for size in sizes:
        if used + size > PART[gsm]:
            parts, used = parts + 1, 0
        used += size
    return parts, gsm


def fitting_length(text: str, max_parts: int) -> int:
    """How many characters of `text`, from its start, fit in `max_parts` SMS (what a writer must cut to)."""
    low, high = 0, len(text)
    while low < high:  # a longer prefix never needs fewer parts, so the lengths that fit are 0..answer
        middle = (low + high + 1) // 2
        if segments(text[:middle])[0] <= max_parts:
            low = middle
        else:
            high = middle - 1
    return low


def rupiah(amount: int) -> str:
    """`Rp 450`, `Rp 1.500`: money as Indonesians write it (a dot between thousands)."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def fit_one(text: str) -> str:
    """Trim `text` to one SMS segment where possible (replies should cost one SMS)."""
    if segments(text)[0] == 1:
        return text
    _, gsm = segments(text)
    cut = text[: 157 if gsm else 67]
    while cut and segments(cut + "...")[0] > 1:
        cut = cut[:-1]
    return cut.rstrip() + "..."
