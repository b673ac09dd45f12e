"""GSM 03.38 / 3GPP TS 23.038 default alphabet, its extension table, and septet packing.

Text is GSM 7-bit only when every character is in the default table or the extension table; anything else
(emoji, most accented letters, non-Latin scripts) forces UCS-2. Extension characters cost two septets
(ESC + code), which is why length is counted in septets and never in characters.
"""

from __future__ import annotations

from collections.abc import Iterable

from absensi.engine.rules.smslen import GSM7_BASIC, GSM7_EXTENSION

ESC = 0x1B

DEFAULT = GSM7_BASIC  # one copy of the tables, shared with the engine's SMS length checks
assert len(DEFAULT) == 128

EXTENSION = GSM7_EXTENSION

_ENCODE: dict[str, tuple[int, ...]] = {ch: (code,) for code, ch in enumerate(DEFAULT) if code != ESC}
_ENCODE.update({ch: (ESC, code) for code, ch in EXTENSION.items()})


def can_encode(text: str) -> bool:
    """True when the whole text fits the default alphabet plus its extension table."""
    return all(ch in _ENCODE for ch in text)


def to_septets(text: str) -> list[int]:
    """Septet codes for `text`; raises ValueError on a character outside the alphabet."""
    out: list[int] = []
    for ch in text:
        codes = _ENCODE.get(ch)
        if codes is None:
            raise ValueError(f"character {ch!r} is not in the GSM 7-bit alphabet")
        out.extend(codes)
    return out


def char_septets(ch: str) -> tuple[int, ...]:
    """The septets of one character (one or two); raises KeyError when not encodable."""
    return _ENCODE[ch]


def from_septets(septets: Iterable[int]) -> str:
    """Decode septet codes. An unknown extension code shows its default-table character, as 23.038 asks."""
    out: list[str] = []
    escaped = False
    for code in septets:
        code &= 0x7F
        if escaped:
            out.append(EXTENSION.get(code, DEFAULT[code] if code != ESC else " "))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(DEFAULT[code])
    return "".join(out)


def pack(septets: Iterable[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first into octets, after `fill_bits` zero bits (used to align after a UDH)."""
    out = bytearray()
    acc, nbits = 0, fill_bits
    for code in septets:
        acc |= (code & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits > 0:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Read `count` septets from packed `data`, skipping `fill_bits` first; raises ValueError if short.

    Zero septets need no octets even after fill bits (a UDH that fills the user data leaves no text).
    """
    if count and (count * 7 + fill_bits + 7) // 8 > len(data):
        raise ValueError(f"{count} septets need more than {len(data)} octets")
    value = int.from_bytes(data, "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]
