"""SMS PDU codec after 3GPP TS 23.040 (TPDU layout) and TS 23.038 (data coding).

Decodes SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT; encodes SMS-SUBMIT (what we send) and, for the
emulator and round-trip tests, SMS-DELIVER and SMS-STATUS-REPORT. Values are plain frozen dataclasses;
malformed input raises `PduError` so one bad PDU on a SIM never stops the driver.

Leniency, one rule for every coding: TP-UDL is believed only as far as the PDU's octets go. Phones and
modems do overstate it (gammu tests/at-sms/41 is a real GSM 7-bit PDU three septets short; python-gsmmodem
decodes a UCS-2 PDU that declares 160 octets and carries 10), and a PDU we reject is deleted from the SIM
and lost, so the whole characters that are present are decoded, however short they fall of the declared
length; octets past the declared length are padding and ignored. No bound on the shortfall is drawn on
purpose: the published cases range from 3 to 150 octets, so any bound would be arbitrary. What cannot be
read at all is rejected: bad hex, a PDU that ends before its user data, a reserved message type, an address
longer than 20 digits, compressed text, a user data header that is cut off, overruns itself or is longer
than the declared user data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from . import gsm7

GSM7, OCTET, UCS2 = "gsm7", "8bit", "ucs2"
TOA_INTERNATIONAL, TOA_NATIONAL, TOA_ALPHANUMERIC = 0x91, 0x81, 0xD0
_DIGITS = "0123456789*#abc"
MAX_PARTS = 255
MAX_ADDRESS_DIGITS = 20  # TS 23.040 9.1.2.5: the whole address field is at most 12 octets
MAX_UD_OCTETS = 140  # TP-UD of one SMS, user data header included
CONCAT_UDH_OCTETS = {False: 6, True: 7}  # UDHL + IEI + IEDL + IED, for an 8-bit / 16-bit reference


class PduError(ValueError):
    """The PDU is malformed or truncated."""


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation header: which part `seq` (1-based) of `total` parts sharing `ref`."""

    ref: int
    total: int
    seq: int
    wide: bool = False  # 16-bit reference (IEI 0x08) instead of 8-bit (IEI 0x00)


@dataclass(frozen=True, slots=True)
class Deliver:
    smsc: str | None
    sender: str
    sender_toa: int
    timestamp: datetime | None
    text: str
    coding: str
    concat: Concat | None = None


@dataclass(frozen=True, slots=True)
class Submit:
    smsc: str | None
    recipient: str
    reference: int
    text: str
    coding: str
    status_report: bool
    concat: Concat | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    smsc: str | None
    reference: int
    recipient: str
    timestamp: datetime | None
    discharge: datetime | None
    status: int

    @property
    def final(self) -> bool:
        """False while the SMSC is still trying (TP-ST 0x20..0x3F); such reports change nothing."""
        return not 0x20 <= self.status <= 0x3F

    @property
    def delivered(self) -> bool:
        return self.status < 0x20


@dataclass(frozen=True, slots=True)
class SubmitPdu:
    """One part ready for `AT+CMGS=<length>`: the hex PDU and its TPDU length (SMSC octets excluded)."""

    hex: str
    length: int


# ---------------------------------------------------------------------------------------------- reading


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        return self.take(1)[0]

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise PduError(f"PDU truncated at octet {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


def _semi_octets(data: bytes, ndigits: int) -> str:
    digits = []
    for octet in data:
        digits.append(_DIGITS[octet & 0x0F] if (octet & 0x0F) < 15 else "")
        digits.append(_DIGITS[octet >> 4] if (octet >> 4) < 15 else "")
    return "".join(digits)[:ndigits]


def _read_smsc(r: _Reader) -> str | None:
    length = r.byte()
    if length == 0:
        return None
    toa = r.byte()
    number = _semi_octets(r.take(length - 1), (length - 1) * 2)
    return "+" + number if toa & 0x70 == 0x10 else number


def _read_address(r: _Reader) -> tuple[str, int]:
    ndigits = r.byte()
    if ndigits > MAX_ADDRESS_DIGITS:
        raise PduError(f"address of {ndigits} digits; at most {MAX_ADDRESS_DIGITS} fit (TS 23.040 9.1.2.5)")
    toa = r.byte()
    raw = r.take((ndigits + 1) // 2)
    if toa & 0x70 == 0x50:
        return gsm7.from_septets(gsm7.unpack(raw, ndigits * 4 // 7)), toa
    number = _semi_octets(raw, ndigits)
    return ("+" + number if toa & 0x70 == 0x10 else number), toa


def _swap(octet: int) -> int:
    return (octet & 0x0F) * 10 + (octet >> 4)


def _read_time(r: _Reader) -> datetime | None:
    raw = r.take(7)
    quarters = (raw[6] & 0x07) * 10 + (raw[6] >> 4)
    offset = timedelta(minutes=15 * quarters) * (-1 if raw[6] & 0x08 else 1)
    year, month, day, hour, minute, second = (_swap(b) for b in raw[:6])
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None  # some modems report zeros; the caller falls back to its clock


def _coding(dcs: int) -> str:
    """The alphabet of TP-DCS (TS 23.038 §4).

    Compressed text (TS 23.042) is refused: phones practically never send it, we cannot decompress it, and
    its raw octets handed on as text would reach the engine as garbage (gammu refuses it too:
    tests/at-sms-failing/35).
    """
    group = dcs >> 4
    if group <= 0x07:
        if dcs & 0x20:
            raise PduError(f"compressed user data (TP-DCS {dcs:02X}) is not supported")
        return {0: GSM7, 1: OCTET, 2: UCS2}.get((dcs >> 2) & 0x03, GSM7)
    if group == 0x0F:
        return OCTET if dcs & 0x04 else GSM7
    return UCS2 if group == 0x0E else GSM7


def _parse_udh(header: bytes) -> Concat | None:
    concat, i = None, 0
    while i + 1 < len(header):
        iei, size = header[i], header[i + 1]
        body = header[i + 2 : i + 2 + size]
        if len(body) != size:
            raise PduError("user data header element overruns the header")
        if iei == 0x00 and size == 3:
            concat = Concat(body[0], body[1], body[2])
        elif iei == 0x08 and size == 4:
            concat = Concat((body[0] << 8) | body[1], body[2], body[3], wide=True)
        i += 2 + size
    if concat is not None and not 1 <= concat.seq <= concat.total:
        return None
    return concat


def _read_user_data(r: _Reader, coding: str, has_udh: bool) -> tuple[str, Concat | None]:
    """TP-UDL and TP-UD under the module's leniency rule, the same for every coding."""
    udl = r.byte()
    if udl == 0:
        return "", None  # nothing declared: a UDHI flag alone brings no header (gammu tests/at-sms/20)
    data = r.rest()[: _declared_octets(udl, coding)]
    header = _udh_octets(data) if has_udh else 0
    concat = _parse_udh(data[1:header]) if header else None
    if coding == GSM7:
        return _gsm7_text(data, udl, header), concat
    if header > udl:
        raise PduError("user data length shorter than its header")
    cut = len(data) < udl
    body = data[header:]
    return (_ucs2_text(body, cut) if coding == UCS2 else body.decode("latin-1")), concat


def _declared_octets(udl: int, coding: str) -> int:
    """Octets TP-UDL stands for: septets for GSM 7-bit (header included), octets otherwise."""
    return (udl * 7 + 7) // 8 if coding == GSM7 else udl


def _udh_octets(data: bytes) -> int:
    """Length of the user data header with its UDHL octet. A header must be whole: a partial one could
    hide the concatenation reference, and guessing it would join parts of different messages."""
    if not data:
        raise PduError("user data header announced but missing")
    size = 1 + data[0]
    if size > len(data):
        raise PduError(f"user data header of {size} octets cut off after {len(data)}")
    return size


def _gsm7_text(data: bytes, udl: int, header: int) -> str:
    """The septets after a `header`-octet UDH (fill bits align them to a septet boundary): as many as
    TP-UDL declares, or as many whole septets as the octets hold when it overstates."""
    skip = (header * 8 + 6) // 7
    if skip > udl:
        raise PduError("user data length shorter than its header")
    fill = skip * 7 - header * 8
    body = data[header:]
    present = max(0, (len(body) * 8 - fill) // 7)
    return gsm7.from_septets(gsm7.unpack(body, min(udl - skip, present), fill))


def _ucs2_text(body: bytes, cut: bool) -> str:
    """UTF-16 (UCS-2 with surrogate pairs, as phones send emoji). When the PDU was cut short, a high
    surrogate left without its partner is half a character and is dropped, like an odd last octet."""
    units = body[: len(body) & ~1]
    if cut and len(units) >= 2 and 0xD8 <= units[-2] <= 0xDB:
        units = units[:-2]
    return units.decode("utf-16-be", errors="replace")


def decode(pdu_hex: str) -> Deliver | Submit | StatusReport:
    """Decode a PDU as the modem shows it (`+CMGL`, `+CMGR`, `+CMT`, `+CDS`): SMSC field first.

    An overstated TP-UDL is forgiven alike in GSM 7-bit, 8-bit and UCS-2: the whole characters present are
    decoded, never more than the octets hold. `PduError` only for what cannot be read (module docstring).
    """
    try:
        data = bytes.fromhex(pdu_hex.strip())
    except ValueError as exc:
        raise PduError(f"not hexadecimal: {pdu_hex[:40]!r}") from exc
    r = _Reader(data)
    smsc = _read_smsc(r)
    first = r.byte()
    kind = first & 0x03
    if kind == 0x00:
        return _decode_deliver(r, smsc, first)
    if kind == 0x01:
        return _decode_submit(r, smsc, first)
    if kind == 0x02:
        return _decode_status(r, smsc)
    raise PduError(f"reserved message type in first octet {first:02X}")


def _decode_deliver(r: _Reader, smsc: str | None, first: int) -> Deliver:
    sender, toa = _read_address(r)
    r.byte()  # TP-PID
    coding = _coding(r.byte())
    stamp = _read_time(r)
    text, concat = _read_user_data(r, coding, bool(first & 0x40))
    return Deliver(smsc, sender, toa, stamp, text, coding, concat)


def _decode_submit(r: _Reader, smsc: str | None, first: int) -> Submit:
    reference = r.byte()
    recipient, _ = _read_address(r)
    r.byte()  # TP-PID
    coding = _coding(r.byte())
    vpf = (first >> 3) & 0x03
    r.take({0: 0, 2: 1}.get(vpf, 7))
    text, concat = _read_user_data(r, coding, bool(first & 0x40))
    return Submit(smsc, recipient, reference, text, coding, bool(first & 0x20), concat)


def _decode_status(r: _Reader, smsc: str | None) -> StatusReport:
    reference = r.byte()
    recipient, _ = _read_address(r)
    stamp = _read_time(r)
    discharge = _read_time(r)
    return StatusReport(smsc, reference, recipient, stamp, discharge, r.byte())


# ---------------------------------------------------------------------------------------------- writing


def _encode_semi_octets(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    codes = [("0123456789*#abcF".index(d.lower()) if d != "F" else 15) for d in digits]
    return bytes(codes[i] | (codes[i + 1] << 4) for i in range(0, len(codes), 2))


def encode_address(address: str) -> bytes:
    """TP-DA/TP-OA: '+62…' international, digits national/unknown, anything else alphanumeric."""
    if address.startswith("+") and address[1:].isdigit():
        digits = address[1:]
        return bytes([len(digits), TOA_INTERNATIONAL]) + _encode_semi_octets(digits)
    if address.isdigit():
        return bytes([len(address), TOA_NATIONAL]) + _encode_semi_octets(address)
    packed = gsm7.pack(gsm7.to_septets(address))
    semi = (len(gsm7.to_septets(address)) * 7 + 3) // 4
    return bytes([semi, TOA_ALPHANUMERIC]) + packed


def encode_smsc(smsc: str | None) -> bytes:
    if not smsc:
        return b"\x00"
    body = encode_address(smsc)[1:]
    return bytes([len(body)]) + body


def encode_time(stamp: datetime) -> bytes:
    """TP-SCTS: swapped BCD, zone in quarter hours with the sign in bit 3."""
    offset = stamp.utcoffset() or timedelta(0)
    quarters = int(abs(offset).total_seconds() // 900)
    fields = [stamp.year % 100, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second]
    out = [(v % 10) << 4 | (v // 10) for v in fields]
    zone = (quarters % 10) << 4 | (quarters // 10) | (0x08 if offset < timedelta(0) else 0)
    return bytes([*out, zone])


def choose_coding(text: str) -> str:
    """GSM 7-bit when every character allows it, UCS-2 otherwise."""
    return GSM7 if gsm7.can_encode(text) else UCS2


def split_text(text: str, coding: str, *, wide_ref: bool = False) -> list[str]:
    """Split into the chunks of one SMS each.

    One SMS holds 140 octets of user data: 160 septets, 70 UTF-16 units or 140 octets. A concatenated part
    gives up room to its header, and the part size follows that header: 153 septets / 67 units / 134 octets
    after an 8-bit reference (6 octets), 152 / 66 / 133 after a 16-bit one (7 octets).

    Characters are never cut: an extension character (ESC + code) and a surrogate pair (emoji) always stay
    within one part, so every part decodes on its own.
    """
    if sum(_units(ch, coding) for ch in text) <= part_capacity(coding, 0):
        return [text]
    parts = _fill_parts(text, coding, part_capacity(coding, CONCAT_UDH_OCTETS[wide_ref]))
    if len(parts) > MAX_PARTS:
        raise ValueError(f"text needs {len(parts)} parts; at most {MAX_PARTS} are possible")
    return parts


def part_capacity(coding: str, header_octets: int) -> int:
    """Septets, UTF-16 units or octets that fit in one SMS beside a user data header of that many octets
    (GSM 7-bit text starts on the septet boundary after the header, so the fill bits are lost too)."""
    room = MAX_UD_OCTETS - header_octets
    if coding == GSM7:
        return room * 8 // 7
    return room // 2 if coding == UCS2 else room


def _units(ch: str, coding: str) -> int:
    """The room one character takes: 1 or 2 septets, 1 or 2 UTF-16 units, or 1 octet."""
    if coding == GSM7:
        return len(gsm7.char_septets(ch))
    return len(ch.encode("utf-16-be")) // 2 if coding == UCS2 else 1


def _fill_parts(text: str, coding: str, capacity: int) -> list[str]:
    """Fill parts greedily, moving a whole character to the next part when it does not fit."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        size = _units(ch, coding)
        if used + size > capacity:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += size
    parts.append("".join(current))
    return parts


def _concat_header(concat: Concat) -> bytes:
    if concat.wide:
        return bytes([5 + 1, 0x08, 4, concat.ref >> 8 & 0xFF, concat.ref & 0xFF, concat.total, concat.seq])
    return bytes([5, 0x00, 3, concat.ref & 0xFF, concat.total, concat.seq])


def _user_data(text: str, coding: str, concat: Concat | None) -> tuple[int, bytes]:
    """(TP-DCS, TP-UDL + TP-UD) for one part."""
    header = _concat_header(concat) if concat else b""
    if coding == GSM7:
        septets = gsm7.to_septets(text)
        skip = (len(header) * 8 + 6) // 7
        fill = skip * 7 - len(header) * 8
        return 0x00, bytes([skip + len(septets)]) + header + gsm7.pack(septets, fill)
    body = text.encode("utf-16-be") if coding == UCS2 else text.encode("latin-1")
    return (0x08 if coding == UCS2 else 0x04), bytes([len(header) + len(body)]) + header + body


def encode_submit(
    recipient: str,
    text: str,
    *,
    smsc: str | None = None,
    status_report: bool = False,
    validity: int | None = None,
    reject_duplicates: bool = False,
    reference: int = 0,
    concat_ref: int = 0,
    coding: str | None = None,
) -> list[SubmitPdu]:
    """SMS-SUBMIT part(s) for `text`. `validity`: relative TP-VP octet (0xA7 = 24 h), None for none.

    `concat_ref` above 255 is sent as a 16-bit reference (IEI 0x08), whose longer header leaves one septet
    (or UTF-16 unit) less per part; 0..255 uses the 8-bit reference that every phone understands.
    """
    if not 0 <= concat_ref <= 0xFFFF:
        raise ValueError(f"concatenation reference {concat_ref} is outside 0..65535")
    coding = coding or choose_coding(text)
    wide = concat_ref > 0xFF
    chunks = split_text(text, coding, wide_ref=wide)
    result = []
    for seq, chunk in enumerate(chunks, start=1):
        concat = Concat(concat_ref, len(chunks), seq, wide) if len(chunks) > 1 else None
        first = 0x01 | (0x04 if reject_duplicates else 0) | (0x10 if validity is not None else 0)
        first |= (0x20 if status_report else 0) | (0x40 if concat else 0)
        dcs, ud = _user_data(chunk, coding, concat)
        tpdu = bytes([first, reference & 0xFF]) + encode_address(recipient) + bytes([0x00, dcs])
        tpdu += (bytes([validity]) if validity is not None else b"") + ud
        result.append(SubmitPdu((encode_smsc(smsc) + tpdu).hex().upper(), len(tpdu)))
    return result


def encode_deliver(
    sender: str, text: str, stamp: datetime, *, smsc: str | None = None, coding: str | None = None,
    concat: Concat | None = None,
) -> str:
    """One SMS-DELIVER PDU as a modem would list it (for the emulator and round-trip tests)."""
    coding = coding or choose_coding(text)
    dcs, ud = _user_data(text, coding, concat)
    first = 0x04 | (0x40 if concat else 0)
    tpdu = bytes([first]) + encode_address(sender) + bytes([0x00, dcs]) + encode_time(stamp) + ud
    return (encode_smsc(smsc) + tpdu).hex().upper()


def encode_status_report(reference: int, recipient: str, stamp: datetime, status: int) -> str:
    """One SMS-STATUS-REPORT PDU (for the emulator)."""
    tpdu = bytes([0x06, reference & 0xFF]) + encode_address(recipient) + encode_time(stamp) * 2
    return (b"\x00" + tpdu + bytes([status])).hex().upper()
