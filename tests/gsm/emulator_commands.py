"""The AT command table of the emulator (mixed into `ModemEmulator`)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from absensi.drivers.gsm import pdu

from .emulator_ussd import USSD_TABLE

SIM_COMMANDS = ("AT+CPIN?", "AT+CSCA?", "AT+CPMS", "AT+CMGL", "AT+CIMI")
NEEDS_SIM = ("AT+CSCA", "AT+CPMS", "AT+CMGL", "AT+CMGR", "AT+CMGD", "AT+CMGS", "AT+CIMI", "AT+CUSD=", "AT+CMGW")


@dataclass
class SentSms:
    reference: int
    submit: pdu.Submit
    at: float


class CommandsMixin:
    """`handle(command)` answers one AT command; runs with the emulator's lock held."""

    def handle(self, command: str) -> None:
        upper = command.upper()
        head = re.split(r"[=?]", upper, maxsplit=1)[0]
        if head in self.profile.unsupported:
            return self.final(self.profile.unsupported_reply)
        if upper.startswith(SIM_COMMANDS) and self.sim_busy_left > 0:
            self.sim_busy_left -= 1
            return self.final(f"+CME ERROR: {self.profile.sim_busy_code}")
        if upper.startswith(NEEDS_SIM) and not self._need_sim():
            return None
        for pattern, method in _TABLE + USSD_TABLE:
            match = re.fullmatch(pattern, upper)
            if match:
                return getattr(self, method)(command, *match.groups())
        return self.final("ERROR")

    # ---------------------------------------------------------------------------------- basics

    def cmd_ok(self, command: str, *args: str) -> None:
        self.final("OK")

    def cmd_echo(self, command: str, flag: str) -> None:
        self.echo = flag == "1"
        self.final("OK")

    def cmd_cfun(self, command: str, *args: str) -> None:
        self.final("OK")

    def cmd_ident(self, command: str, what: str) -> None:
        p = self.profile
        value = {"GMI": p.manufacturer, "GMM": p.model, "GMR": p.revision, "GSN": p.imei, "IMI": self.imsi}[what]
        self.line(value)
        self.final("OK")

    def cmd_cpin_query(self, command: str) -> None:
        self.line(f"+CPIN: {self.sim_state}")
        if not self.profile.cpin_without_ok:
            self.final("OK")

    def cmd_cpin_enter(self, command: str, pin: str) -> None:
        self.pin_attempts.append(pin)
        if self.sim_state != "SIM PIN":
            return self.final("+CME ERROR: 3")
        if pin != self.pin:
            if len(self.pin_attempts) >= 3:
                self.sim_state = "SIM PUK"
            return self.final("+CME ERROR: 16")
        self.sim_state = "READY"
        self.final("OK")

    def _need_sim(self) -> bool:
        if self.sim_state != "READY":
            self.final("+CME ERROR: 11" if self.sim_state == "SIM PIN" else "+CME ERROR: 12")
            return False
        return True

    # ---------------------------------------------------------------------------------- network

    def cmd_creg(self, command: str, which: str) -> None:
        """`which`: '' (+CREG), 'E' (+CEREG), 'G' (+CGREG, answered like the better of the two)."""
        if which == "E" and self.profile.cereg is None:
            return self.final("ERROR")
        if self.network_state is not None:
            value = f"0,{self.network_state}"
        elif not self.registered:
            value = "0,2"
        elif which == "G":
            value = self.profile.cereg or self.profile.creg
        else:
            value = self.profile.cereg if which == "E" else self.profile.creg
        self.line(f"+C{which}REG: {value}")
        self.final("OK")

    def cmd_cops(self, command: str) -> None:
        name = self.imsi[:5] if self.cops_format == 2 else self.profile.operator
        self.line(f'+COPS: 0,{self.cops_format},"{name}",2' if self.on_network else "+COPS: 0")
        self.final("OK")

    def cmd_cops_format(self, command: str, fmt: str) -> None:
        self.cops_format = int(fmt)
        self.final("OK")

    def cmd_csq(self, command: str) -> None:
        self.line(f"+CSQ: {self.rssi},0" if self.on_network else "+CSQ: 99,99")
        self.final("OK")

    def cmd_csca(self, command: str) -> None:
        self.line('+CSCA: "+6281100000",145')
        self.final("OK")

    # ---------------------------------------------------------------------------------- settings

    def cmd_cmgf(self, command: str, value: str | None) -> None:
        if value is None:
            self.line(f"+CMGF: {self.cmgf}")
        else:
            self.cmgf = int(value)
        self.final("OK")

    def cmd_cnmi(self, command: str, values: str) -> None:
        if values in self.refuse_cnmi:
            return self.final("+CMS ERROR: 303")
        self.cnmi = tuple(int(v or 0) for v in (values.split(",") + ["0"] * 5)[:5])
        self.final("OK")

    def cmd_cpms_set(self, command: str, names: str) -> None:
        wanted = re.findall(r'"([A-Z]+)"', names)
        if any(w != self.profile.storage for w in wanted):
            return self.final("+CMS ERROR: 302")
        self.cmd_cpms_query(command, set_form=True)

    def cmd_cpms_query(self, command: str, set_form: bool = False) -> None:
        used, total, mem = len(self.storage), self.capacity, self.profile.storage
        if self.sim_full:
            used = total
        if set_form:
            self.line(f"+CPMS: {used},{total},{used},{total},{used},{total}")
        else:
            self.line(f'+CPMS: "{mem}",{used},{total},"{mem}",{used},{total},"{mem}",{used},{total}')
        self.final("OK")

    def cmd_cmms(self, command: str, value: str) -> None:
        self.mms = int(value)
        self.final("OK")

    # ---------------------------------------------------------------------------------- messages

    def cmd_cmgl(self, command: str, stat: str) -> None:
        if self.cmgf != 0:
            return self.final("+CMS ERROR: 302")  # '4' is not a text-mode status: what a rebooted modem says
        for index in sorted(self.storage):
            state, body = self.storage[index]
            if stat == "4" or int(stat) == state:
                self.line(f"+CMGL: {index},{state},,{len(body) // 2 - 1 - int(body[:2], 16)}")
                self._write(body + "\r\n")
                self.storage[index] = (1 if state == 0 else state, body)
        self.final("OK")

    def cmd_cmgr(self, command: str, index: str) -> None:
        entry = self.storage.get(int(index))
        if entry is None:
            return self.final("+CMS ERROR: 321")
        self.line(f"+CMGR: {entry[0]},,{len(entry[1]) // 2 - 1}")
        self._write(entry[1] + "\r\n")
        self.final("OK")

    def cmd_cmgd(self, command: str, index: str, flag: str | None) -> None:
        if self.storage.pop(int(index), None) is None and not flag:
            return self.final("+CMS ERROR: 321")
        self.final("OK")
        self._after_delete()

    def cmd_cmgw(self, command: str) -> None:
        """Writing to storage: refused when the SIM is full (what the knob `sim_full` is about)."""
        if self.sim_full or self._free_index() is None:
            return self.final("+CMS ERROR: 322")
        return self.final("+CMS ERROR: 304")  # the emulator does not keep written messages

    def cmd_cmgs(self, command: str, length: str) -> None:
        if self.ussd_busy:
            self.sms_during_ussd += 1
        if self.cmgf != 0:
            return self.final("+CMS ERROR: 304")
        self.in_pdu = int(length)
        self._write("\r\n> ")

    def submit(self, length: int, body: str) -> None:
        """The PDU after `> `: check it, 'send' it, answer `+CMGS: <mr>`, maybe report delivery later."""
        try:
            message = pdu.decode(body)
            smsc_octets = int(body[:2], 16) + 1
        except (pdu.PduError, ValueError):
            return self.final("+CMS ERROR: 304")
        if not isinstance(message, pdu.Submit) or len(body) // 2 - smsc_octets != length:
            return self.final("+CMS ERROR: 304")
        if self.send_errors:
            return self.final(f"+CMS ERROR: {self.send_errors.pop(0)}")
        if self.always_send_error is not None:
            return self.final(f"+CMS ERROR: {self.always_send_error}")
        if not self.on_network:
            return self.final("+CMS ERROR: 331")
        if self.send_delay:
            time.sleep(self.send_delay)
        reference = self.next_reference()
        self.sent.append(SentSms(reference, message, time.monotonic()))
        if self.hang_on_send:
            self.hung, self.hang_on_send = True, False
            return None
        self.line(f"+CMGS: {reference}")
        self.final("OK")
        if message.status_report and self.report_status is not None and self.cnmi[3]:
            self.later(0.05, f"report:{reference}:{message.recipient}")
        return None

    def fire(self, kind: str) -> None:
        """A timer came due: a status report, or a delayed USSD answer."""
        if kind.startswith("ussd:"):
            return self.ussd_fire(kind)
        _, reference, recipient = kind.split(":", 2)
        body = pdu.encode_status_report(int(reference), recipient, datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
                                        self.report_status or 0)
        if self.cnmi[3] == 1:
            self._unsolicited(f"+CDS: {len(body) // 2 - 1}", body)
            return
        index = self._free_index()
        if index is not None:
            self.storage[index] = (0, body)
            self._unsolicited(f'+CDSI: "{self.profile.storage}",{index}')
        return None


_TABLE = [
    (r"AT", "cmd_ok"),
    (r"ATE([01])", "cmd_echo"),
    (r"AT\+CMEE=\d", "cmd_ok"),
    (r"AT\+CFUN.*", "cmd_cfun"),
    (r"AT\+C(GMI|GMM|GMR|GSN|IMI)", "cmd_ident"),
    (r"AT\+CPIN\?", "cmd_cpin_query"),
    (r'AT\+CPIN="?(\d+)"?', "cmd_cpin_enter"),
    (r"AT\+C([EG]?)REG\?", "cmd_creg"),
    (r"AT\+COPS\?", "cmd_cops"),
    (r"AT\+COPS=3,([02])", "cmd_cops_format"),
    (r"AT\+CSQ", "cmd_csq"),
    (r"AT\+CSCA\?", "cmd_csca"),
    (r"AT\+CMGF(?:=([01])|\?)", "cmd_cmgf"),
    (r"AT\+CNMI=([\d,]*)", "cmd_cnmi"),
    (r"AT\+CPMS=(.*)", "cmd_cpms_set"),
    (r"AT\+CPMS\?", "cmd_cpms_query"),
    (r"AT\+CMMS=(\d)", "cmd_cmms"),
    (r"AT\+CMGL=(\d)", "cmd_cmgl"),
    (r"AT\+CMGR=(\d+)", "cmd_cmgr"),
    (r"AT\+CMGD=(\d+)(,\d)?", "cmd_cmgd"),
    (r"AT\+CMGS=(\d+)", "cmd_cmgs"),
    (r"AT\+CMGW.*", "cmd_cmgw"),
]
