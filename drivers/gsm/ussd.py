"""USSD (`AT+CUSD`, 3GPP TS 27.007 §7.15): send a code such as the balance check `*888#`, read the answer.

The answer comes as `+CUSD: <m>[,"<str>"[,<dcs>]]`, usually as an unsolicited line some seconds after the
command's `OK` (operators take up to tens of seconds), sometimes among the command's own reply lines.
`<m>`: 0 done, 1 the network waits for a reply (a menu: we cancel it with `AT+CUSD=2`), 2 ended by the
network, 3 another local client answered, 4 not supported, 5 network time-out.

Decoding `<str>` is where modems differ. By the standard, `<dcs>` is a *CBS* data coding scheme (TS 23.038
§5, not the SMS one) and a GSM 7-bit answer arrives converted into the TE character set of `AT+CSCS`. In the
field: Huawei sticks hand over the network's GSM 7-bit octets *packed*, as hex, whatever `AT+CSCS` says;
many modems give UCS-2 hex with dcs 72 (0x48); others give plain text even with dcs 15; with `AT+CSCS="UCS2"`
a 7-bit answer comes as UCS-2 hex; with `"HEX"` as one hex pair per septet. Hence `decode_ussd` tries, in
an order set by the dcs and the charset, every reading the hex allows and keeps the first that reads as
text. The same Huawei sticks also want the *request* packed (`AT+CUSD=1,"AA180C3602",15` for `*100#`):
`ModemSettings.ussd_packed` says so, or None tries plain first and packed when the modem refuses.
"""

from __future__ import annotations

import queue
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from loguru import logger

from . import gsm7
from .errors import CommandError, ModemError

if TYPE_CHECKING:
    from .modem import Modem

Alphabet = Literal["gsm7", "8bit", "ucs2"]

STATUS_MEANINGS = {
    0: "answered", 1: "the network waits for a reply (menu)", 2: "ended by the network",
    3: "answered by another local client", 4: "not supported by the network or the modem",
    5: "network time-out",
}
CR = 0x0D
_CUSD = re.compile(r'^\+CUSD:\s*(\d+)\s*(?:,\s*(?:"(.*)"|([^,"]*?))\s*(?:,\s*(\d+))?)?\s*$', re.DOTALL)
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
# What operators' answers are made of (Indonesian ones are plain ASCII). A wrong reading of the hex (UCS-2
# read as packed septets, packed read as UCS-2) yields accented letters, Greek capitals, control characters
# CJK and '@' (zero septets) instead.
_USUAL = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \r\n.,:;!?-+*#/()%=&'\"_<>[]{}$~|\\^€£")
_PLAUSIBLE = 0.9


class UssdFailed(ModemError):
    """No usable answer: refused, not supported, ended without text, timed out. `status` is `<m>` if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------------------- the codec


@dataclass(frozen=True, slots=True)
class Cusd:
    """One `+CUSD:` line, taken apart."""

    status: int
    payload: str | None
    dcs: int | None


def parse_cusd(line: str) -> Cusd | None:
    """`+CUSD: 0,"…",15` → Cusd; the string may hold commas, quotes and line breaks (the closing quote is
    the last one). None when the line is not a `+CUSD` result."""
    match = _CUSD.match(line.strip())
    if match is None:
        return None
    status, quoted_text, bare, dcs = match.groups()
    payload = quoted_text if quoted_text is not None else (bare or None)
    return Cusd(int(status), payload, int(dcs) if dcs else None)


@dataclass(frozen=True, slots=True)
class Dcs:
    """What a CBS data coding scheme (TS 23.038 §5) says about the string."""

    alphabet: Alphabet
    language_prefix: bool = False  # 0x10: "xx" + CR before the text; 0x11: two packed characters first
    compressed: bool = False


def read_dcs(dcs: int | None) -> Dcs:
    """TS 23.038 §5. Groups 0000, 0010, 0011 and the reserved ones are GSM 7-bit; 0001 0000 and 0001 0001
    carry a language indication (GSM 7-bit / UCS-2); 01xx and 1001 name the alphabet in bits 3..2
    (00 GSM 7-bit, 01 8-bit, 10 UCS-2, 11 reserved), bit 5 = compressed; 1111 has 8-bit in bit 2."""
    if dcs is None:
        return Dcs("gsm7")
    group = dcs >> 4
    if dcs == 0x10:
        return Dcs("gsm7", language_prefix=True)
    if dcs == 0x11:
        return Dcs("ucs2", language_prefix=True)
    if 0x4 <= group <= 0x7 or group == 0x9:
        alphabet: Alphabet = ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 0x03]
        return Dcs(alphabet, compressed=bool(dcs & 0x20) and group != 0x9)
    if group == 0xF:
        return Dcs("8bit" if dcs & 0x04 else "gsm7")
    return Dcs("gsm7")


def pack_text(text: str) -> str:
    """Text → GSM 7-bit packed, as uppercase hex (what Huawei sticks want for the request). TS 23.038
    §6.1.2.3.1: when the last octet would carry 7 spare bits they hold a CR, not zeros that read as '@'."""
    septets = gsm7.to_septets(text)
    if len(septets) % 8 == 7:
        septets.append(CR)
    return gsm7.pack(septets).hex().upper()


def unpack_septets(data: bytes) -> str:
    """GSM 7-bit packed octets → text. Every septet the octets hold is read; a last septet that is the
    padding of §6.1.2.3.1 (a CR filling a whole octet's worth of spare bits), or zeros from a sender that
    padded with zeros, is dropped."""
    septets = gsm7.unpack(data, len(data) * 8 // 7)
    if len(data) % 7 == 0 and septets and septets[-1] in (CR, 0):
        septets = septets[:-1]
    return gsm7.from_septets(septets)


def _ucs2(data: bytes) -> str | None:
    if len(data) % 2:
        return None
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError:
        return None


def _septets_unpacked(data: bytes) -> str | None:
    """`AT+CSCS="HEX"`: one octet per septet."""
    return gsm7.from_septets(data) if all(b < 0x80 for b in data) else None


def plausibility(text: str, wide: bool = False) -> float:
    """Share of characters that operators' answers are made of (see _USUAL). `wide`: the dcs or the charset
    says UCS-2, so letters of any script count too."""
    if not text:
        return 0.0
    return sum(ch in _USUAL or (wide and ch.isalpha()) for ch in text) / len(text)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    how: str  # gsm7-packed, ucs2, text, gsm7-hex, 8bit


def _candidates(payload: str, dcs: Dcs, charset: str) -> list[tuple[str, str | None]]:
    data = bytes.fromhex(payload)
    packed = ("gsm7-packed", unpack_septets(data))
    wide = ("ucs2", _ucs2(data[2:] if dcs.language_prefix and dcs.alphabet == "ucs2" else data))
    septets = ("gsm7-hex", _septets_unpacked(data))
    octets = ("8bit", data.decode("latin-1"))
    text = ("text", payload)
    if dcs.alphabet == "ucs2":
        return [wide, packed, text]
    if dcs.alphabet == "8bit":
        return [octets, wide, text]
    if charset == "UCS2":
        return [wide, packed, septets, text]
    if charset == "HEX":
        return [septets, packed, text]
    return [packed, wide, septets, text]


def decode_ussd(payload: str, dcs: int | None, charset: str = "") -> Decoded:
    """The text of a USSD string as a modem shows it (module docstring). `charset` is the `AT+CSCS` in force
    if known ("GSM", "IRA", "UCS2", "HEX", …). A payload that is not hex is text already. Of the readings the
    hex allows, the first (in the dcs/charset order) that reads as text wins; if none does, the best one."""
    info = read_dcs(dcs)
    charset = charset.upper().replace("-", "")
    if not _HEX.match(payload):
        return Decoded(_strip_language(_from_charset(payload, charset), info, dcs), "text")
    wide = info.alphabet == "ucs2" or charset == "UCS2"
    readings = [(how, text, plausibility(text, wide and how == "ucs2"))
                for how, text in _candidates(payload, info, charset) if text is not None]
    best = max(readings, key=lambda r: r[2])
    chosen = next((r for r in readings if r[2] >= _PLAUSIBLE), best)
    return Decoded(_strip_language(chosen[1], info, dcs), chosen[0])


def _from_charset(payload: str, charset: str) -> str:
    """The link reads bytes as Latin-1; with `AT+CSCS="UTF-8"` the bytes were UTF-8."""
    if charset in ("UTF8",):
        try:
            return payload.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return payload
    return payload


def _strip_language(text: str, info: Dcs, dcs: int | None) -> str:
    """DCS 0x10: the text starts with a two-letter language and a CR (TS 23.038 §5)."""
    if info.language_prefix and dcs == 0x10 and len(text) >= 3 and text[:2].isalpha() and text[2] in "\r\n":
        return text[3:]
    return text


# ------------------------------------------------------------------------------------------- the dialogue


@dataclass(frozen=True, slots=True)
class UssdAnswer:
    """A decoded answer; `raw` is the `+CUSD` line exactly as the modem sent it."""

    code: str
    status: int
    text: str
    dcs: int | None
    how: str
    raw: str
    packed_request: bool = False

    @property
    def menu(self) -> bool:
        """The network offered a menu (`<m>` 1); it was cancelled."""
        return self.status == 1


def check_code(code: str) -> bool:
    """A USSD code is digits, '*', '#' and '+' (nothing that could end the AT command early)."""
    return bool(code) and len(code) <= 160 and all(ch in "0123456789*#+" for ch in code)


def request_argument(code: str, packed: bool) -> str:
    return pack_text(code) if packed else code


class UssdRequest:
    """One USSD exchange, driven from the thread that owns the modem.

    `start()` sends the code (and returns the answer when the modem put it among the command's reply
    lines); `take(line)` is handed each `+CUSD` line that arrives later and returns the answer, or None
    when it re-sent the code packed; `expired()` says the time is up (it cancels the session and raises).
    The blocking `ussd()` below and the modem worker both drive it.
    """

    def __init__(self, modem: Modem, code: str, *, timeout: float, packed: bool | None = None,
                 charset: str | None = None) -> None:
        if not check_code(code):
            raise ValueError(f"not a USSD code: {code!r} (digits, '*' and '#', e.g. *888#)")
        self.modem, self.code, self.timeout = modem, code, timeout
        self.auto = packed is None
        self.packed = bool(packed)
        self.wanted_charset = charset
        self.charset = ""
        self.first_failure: UssdFailed | None = None
        self.deadline = 0.0

    def start(self) -> UssdAnswer | None:
        self.charset = self._settle_charset()
        return self._send()

    def _settle_charset(self) -> str:
        """Set `AT+CSCS` when asked to, then read what is in force (the decoder wants to know)."""
        if self.wanted_charset:
            self.modem.try_cmd(f'AT+CSCS="{self.wanted_charset}"')
        lines = self.modem.try_cmd("AT+CSCS?") or []
        found = next((m.group(1) for ln in lines if (m := re.search(r'"([^"]+)"', ln))), "")
        return found.upper()

    def _send(self) -> UssdAnswer | None:
        command = f'AT+CUSD=1,"{request_argument(self.code, self.packed)}",15'
        self.deadline = time.monotonic() + self.timeout
        try:
            lines = self.modem.cmd(command)
        except CommandError as exc:
            return self._failed(UssdFailed(f"the modem refused the USSD request ({exc.line})"))
        inline = next((ln for ln in lines if ln.startswith("+CUSD:")), None)  # links that do not set it apart
        return None if inline is None else self.take(inline)

    def _failed(self, failure: UssdFailed) -> UssdAnswer | None:
        """A refusal that the packed form may cure: try it once when the settings leave it open, else raise
        (the first failure first: it is the one about the code as the user wrote it)."""
        if self.auto and not self.packed:
            self.packed, self.first_failure = True, failure
            logger.info("{}: USSD {}: {}; sending the code GSM 7-bit packed", self.modem.url, self.code, failure)
            return self._send()
        if self.first_failure is not None:
            raise UssdFailed(f"{self.first_failure}; packed: {failure}", self.first_failure.status)
        raise failure

    def take(self, line: str) -> UssdAnswer | None:
        """Read one `+CUSD` line: the answer, or None when the code went out again packed. Raises
        UssdFailed for an answer without text."""
        cusd = parse_cusd(line)
        if cusd is None:
            raise UssdFailed(f"unreadable USSD answer: {line!r}")
        if cusd.status == 1:
            self.modem.try_cmd("AT+CUSD=2")  # leave the menu: an open session blocks SMS on many sticks
        if cusd.payload is None or cusd.status in (3, 4, 5):
            meaning = STATUS_MEANINGS.get(cusd.status, f"status {cusd.status}")
            failure = UssdFailed(f"USSD {self.code}: {meaning if cusd.status not in (0, 1) else 'no text'} "
                                 f"({line.strip()})", cusd.status)
            return self._failed(failure) if cusd.status in (2, 4) else _raise(failure)
        decoded = decode_ussd(cusd.payload, cusd.dcs, self.charset)
        return UssdAnswer(self.code, cusd.status, decoded.text, cusd.dcs, decoded.how, line, self.packed)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def give_up(self) -> UssdFailed:
        """Time is up: cancel the session so the modem is free for SMS again."""
        self.modem.try_cmd("AT+CUSD=2")
        return UssdFailed(f"USSD {self.code}: no answer within {self.timeout:.0f} s")


def ussd(modem: Modem, code: str, *, timeout: float = 30.0, packed: bool | None = None,
         charset: str | None = None) -> UssdAnswer:
    """Send `code` on an open, initialised `Modem` and wait for its answer (blocking; the modem's own
    thread only — the worker uses `UssdRequest` so that received SMS keep flowing meanwhile).

    Raises `UssdFailed` (refused, not supported, ended without text, no answer within `timeout`) and the
    modem's own errors (`AtTimeout`, `LinkClosed`) when the modem itself fails.
    """
    drain(modem.cusd)
    request = UssdRequest(modem, code, timeout=timeout, packed=packed, charset=charset)
    answer = request.start()
    while answer is None:
        remaining = request.deadline - time.monotonic()
        try:
            line = modem.cusd.get(timeout=max(0.0, remaining)) if remaining > 0 else modem.cusd.get_nowait()
        except queue.Empty:
            raise request.give_up() from None
        answer = request.take(line)
    return answer


def _raise(failure: UssdFailed) -> UssdAnswer | None:
    raise failure


def drain(lines: queue.Queue[str]) -> list[str]:
    """Empty a queue of `+CUSD` lines (answers to an earlier, abandoned request or network pushes)."""
    found = []
    while True:
        try:
            found.append(lines.get_nowait())
        except queue.Empty:
            return found
