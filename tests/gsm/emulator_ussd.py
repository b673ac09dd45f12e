"""USSD in the emulator (mixed into `ModemEmulator`): `AT+CUSD`, `AT+CSCS`, and the network's answer.

How the answer is handed over is the modem's quirk (`Profile.ussd_answer`) unless the test sets
`emu.ussd.encoding`: `text` converts the text into the TE charset of `AT+CSCS` the way TS 27.007 §7.15 says
(GSM/IRA: as is; UCS2: UTF-16 hex; HEX: one hex pair per septet); `packed` gives GSM 7-bit packed hex with
dcs 15 whatever the charset (Huawei); `ucs2` UTF-16 hex with dcs 72; `ucs2-lang` dcs 0x11 (two packed
language characters, then UCS-2); `8bit` Latin-1 hex with dcs 68. The packing here is written out bit by bit,
apart from the driver's codec, so a mistake there cannot hide behind the same mistake here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from absensi.drivers.gsm import gsm7

CHARSETS = ("GSM", "IRA", "UCS2", "HEX", "8859-1", "PCCP437")


@dataclass
class UssdService:
    """What the emulated network answers to a USSD code, and how."""

    text: str = "Sisa pulsa Anda Rp 12.500. Berlaku s.d. 31-12-2026"
    status: int = 0  # <m>: 0 done, 1 menu (waits for a reply), 2 ended
    encoding: str | None = None  # None: the profile's quirk (module docstring)
    delay: float = 0.0  # seconds between OK and the +CUSD line
    inline: bool = False  # the +CUSD line among the command's replies, before OK
    unsupported: bool = False  # answer `+CUSD: 4`
    silent: bool = False  # OK, then never an answer
    error: str | None = None  # a final error instead of OK, e.g. "+CME ERROR: 100"
    codes: tuple[str, ...] | None = None  # codes the network knows (None: any); others get `+CUSD: 4`


def pack_septets_bitwise(septets: list[int]) -> bytes:
    """GSM 7-bit packing, LSB first, written out bit by bit; 7 spare bits at the end carry a CR."""
    if len(septets) % 8 == 7:
        septets = [*septets, 0x0D]
    bits = "".join(format(s, "07b")[::-1] for s in septets)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))


def unpack_request(payload: str) -> str | None:
    """A packed request back to its code; None when it is not packed hex."""
    if not re.fullmatch(r"(?:[0-9A-F]{2})+", payload):
        return None
    bits = "".join(format(b, "08b")[::-1] for b in bytes.fromhex(payload))
    septets = [int(bits[i : i + 7][::-1], 2) for i in range(0, len(bits) - 6, 7)]
    if septets and septets[-1] in (0x0D, 0) and len(payload) // 2 % 7 == 0:
        septets.pop()
    text = gsm7.from_septets(septets)
    return text if re.fullmatch(r"[0-9*#+]+", text) else None


class UssdMixin:
    """`cmd_cusd`, `cmd_cscs` and the delayed answer; state lives on the emulator (see `_ussd_reset`)."""

    def _ussd_reset(self) -> None:
        self.ussd = UssdService()
        self.ussd_requests: list[str] = []  # codes as the emulator understood them
        self.ussd_raw: list[str] = []  # the <str> of each AT+CUSD=1 as written
        self.ussd_cancels = 0
        self.ussd_pending = False  # a request waits for the network's answer
        self.ussd_menu_open = False
        self.sms_during_ussd = 0  # +CMGS while a USSD session was open: must stay 0
        self._ussd_lines: dict[int, str] = {}

    def cmd_cscs_query(self, command: str) -> None:
        self.line(f'+CSCS: "{self.cscs}"')
        self.final("OK")

    def cmd_cscs_set(self, command: str, charset: str) -> None:
        if charset not in CHARSETS:
            return self.final("+CME ERROR: 4")
        self.cscs = charset
        return self.final("OK")

    def cmd_cusd_query(self, command: str) -> None:
        self.line("+CUSD: 1")
        self.final("OK")

    def cmd_cusd(self, command: str, mode: str, payload: str | None, dcs: str | None) -> None:
        if mode == "2":
            self.ussd_cancels += 1
            self.ussd_menu_open = self.ussd_pending = False
            return self.final("OK")
        if payload is None:
            return self.final("OK")  # AT+CUSD=1 / =0: presentation on or off
        self.ussd_raw.append(payload)
        service = self.ussd
        if service.error:
            return self.final(service.error)
        if not self.on_network:
            return self.final("+CME ERROR: 30")
        code = unpack_request(payload) if self.profile.ussd_request == "packed" else payload
        if code is None or not re.fullmatch(r"[0-9*#+]+", code):
            return self.final("ERROR")  # a packed-only stick given plain text, or the reverse
        self.ussd_requests.append(code)
        if service.silent:
            self.ussd_pending = True
            return self.final("OK")
        known = service.codes is None or code in service.codes
        answer = "+CUSD: 4" if service.unsupported or not known else self.ussd_answer_line(service)
        if service.inline:
            self._after_answer(service, answer)
            self.line(answer)
            return self.final("OK")
        self.final("OK")
        self.ussd_pending = True
        key = len(self.ussd_raw)
        self._ussd_lines[key] = answer
        if service.delay:
            return self.later(service.delay, f"ussd:{key}")
        return self.ussd_fire(f"ussd:{key}")

    def ussd_fire(self, kind: str) -> None:
        answer = self._ussd_lines.pop(int(kind.split(":", 1)[1]), None)
        if answer is None or self.hung or not self.ussd_pending:
            return  # cancelled meanwhile, or the modem hangs
        self._after_answer(self.ussd, answer)  # before the line goes out: the driver may look at once
        self._unsolicited(answer)

    def _after_answer(self, service: UssdService, answer: str) -> None:
        self.ussd_pending = False
        self.ussd_menu_open = answer.startswith("+CUSD: 1")

    def ussd_answer_line(self, service: UssdService) -> str:
        payload, dcs = self.ussd_payload(service.text, service.encoding or self.profile.ussd_answer)
        return f'+CUSD: {service.status},"{payload}",{dcs}'.replace("\n", "\r\n")

    def ussd_payload(self, text: str, encoding: str) -> tuple[str, int]:
        if encoding == "packed":
            return pack_septets_bitwise(gsm7.to_septets(text)).hex().upper(), 15
        if encoding == "ucs2":
            return text.encode("utf-16-be").hex().upper(), 72
        if encoding == "ucs2-lang":
            language = pack_septets_bitwise(gsm7.to_septets("id"))
            return (language + text.encode("utf-16-be")).hex().upper(), 0x11
        if encoding == "8bit":
            return text.encode("latin-1").hex().upper(), 0x44
        if self.cscs == "UCS2":
            return text.encode("utf-16-be").hex().upper(), 15
        if self.cscs == "HEX":
            return bytes(gsm7.to_septets(text)).hex().upper(), 15
        return text, 15

    @property
    def ussd_busy(self) -> bool:
        return self.ussd_pending or self.ussd_menu_open


USSD_TABLE = [
    (r"AT\+CSCS\?", "cmd_cscs_query"),
    (r'AT\+CSCS="([^"]*)"', "cmd_cscs_set"),
    (r"AT\+CUSD\?", "cmd_cusd_query"),
    (r'AT\+CUSD=(\d)(?:,"([^"]*)"(?:,(\d+))?)?', "cmd_cusd"),
]
