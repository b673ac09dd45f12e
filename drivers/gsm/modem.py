"""One modem: open the port, bring it into a known state, and the few AT operations the driver needs.

`Modem.initialise()` is written to survive real sticks: SIM busy for seconds after power-up (`+CME ERROR:
14`, Wavecom's 515), `+CPIN` answered without `OK`, commands a model does not know (each optional step is
tried and skipped). It never resets the modem (`+CFUN=1,1`): resets in a loop are how USB sticks end up
in mass-storage mode. A PIN is sent at most once per process: a second wrong PIN leads towards a PUK lock.
"""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import serial
from loguru import logger

from .at import ESC, AtChannel
from .errors import AtTimeout, CmeError, CommandError, ModemError, SimLocked
from .link import Link, Unsolicited
from .pdu import SubmitPdu
from .settings import ModemSettings

_SIM_WAIT_CODES = {14, 515}  # SIM busy / init in progress: ask again shortly
_NUMBERS = re.compile(r"-?\d+")
REGISTERED = {1, 5}  # home network, roaming
REGISTRATION_COMMANDS = (("CREG", "AT+CREG?"), ("CEREG", "AT+CEREG?"), ("CGREG", "AT+CGREG?"))
SMS_DOMAINS = ("CREG", "CEREG")  # SMS go over circuit-switched GSM or LTE; GPRS (CGREG) is shown only
USSD_BACKLOG = 8  # +CUSD lines kept for a waiter; older ones (network pushes nobody asked for) are dropped
CNMI_CHOICES = ("2,1,0,1,0", "2,1,0,2,0", "1,1,0,1,0", "1,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0")


@dataclass(slots=True)
class ModemInfo:
    """What `initialise()`/`probe` learned; logged at start and printed by `absensi modem probe`."""

    port: str
    manufacturer: str = "?"
    model: str = "?"
    revision: str = "?"
    imei: str = "?"
    imsi: str = "?"
    sim: str = "?"
    registration: str = "?"
    registered: bool = False
    operator: str = "?"
    signal: str = "?"
    smsc: str = "?"
    storage: str = "?"
    storage_used: int = 0
    storage_total: int = 0
    rssi: int | None = None  # AT+CSQ 0..31; None: unknown (99) or not read
    mcc_mnc: str | None = None  # serving network from AT+COPS numeric, else the SIM's home (IMSI prefix)
    network_states: dict[str, int] = field(default_factory=dict)  # <stat> of CREG, CGREG, CEREG
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    index: int
    stat: int
    pdu: str


def numbers(line: str) -> list[int]:
    """All integers in a reply line after its prefix: '+CREG: 0,1' → [0, 1]."""
    return [int(n) for n in _NUMBERS.findall(line.split(":", 1)[-1])]


def quoted(line: str) -> list[str]:
    return re.findall(r'"([^"]*)"', line)


class Modem:
    """The AT operations of one modem on one port; the worker owns the threads and the policy."""

    def __init__(self, url: str, settings: ModemSettings, on_event: Callable[[Unsolicited], None],
                 pin: str | None = None) -> None:
        self.url, self.settings, self.pin = url, settings, pin
        self._on_event = on_event
        self.link: Link | None = None
        self.at: AtChannel | None = None
        self.pin_rejected = False
        self.info = ModemInfo(url)
        self.cusd: queue.Queue[str] = queue.Queue()  # +CUSD lines, for whoever waits on a USSD answer

    # ---------------------------------------------------------------------------------- port

    def open(self) -> None:
        port = serial.serial_for_url(self.url, baudrate=self.settings.baudrate, timeout=0.5,
                                     write_timeout=self.settings.command_timeout)
        if callable(getattr(port, "cancel_read", None)):
            # The link's reader sleeps until bytes come instead of waking every 0.5 s; closing the link
            # cancels the read. Ports that cannot cancel a read (sockets, RFC 2217) keep the timeout.
            port.timeout = None
        self.link = Link(port, self._event, name=self.url).start()
        self.at = AtChannel(self.link, self.settings.command_timeout)

    def _event(self, event: Unsolicited) -> None:
        """From the link's reader thread: USSD answers also go to `cusd`, then everything to `on_event`."""
        if event.name == "+CUSD":
            while self.cusd.qsize() >= USSD_BACKLOG:
                try:
                    self.cusd.get_nowait()
                except queue.Empty:
                    break
            self.cusd.put(event.line)
        self._on_event(event)

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        self.link, self.at = None, None

    @property
    def is_open(self) -> bool:
        return self.link is not None and not self.link.closed

    def cmd(self, command: str, timeout: float | None = None, **kw: str) -> list[str]:
        if self.at is None:
            raise ModemError("port not open")
        return self.at.command(command, timeout, **kw)

    def try_cmd(self, command: str, timeout: float | None = None) -> list[str] | None:
        """Optional step: None when the modem refuses it (a timeout still propagates: that is a hang)."""
        try:
            return self.cmd(command, timeout)
        except CommandError as exc:
            logger.debug("{}: optional {} refused: {}", self.url, command, exc)
            return None

    # ---------------------------------------------------------------------------------- start-up

    def wake(self) -> None:
        """Get any answer to `AT`; the first bytes after opening often meet a modem still booting."""
        for attempt in range(3):
            try:
                self.cmd("AT", timeout=self.settings.command_timeout / (2 if attempt < 2 else 1))
                return
            except AtTimeout:
                continue
        raise AtTimeout("AT: modem does not answer")

    def start(self, sleep: Callable[[float], object] = time.sleep) -> ModemInfo:
        """`initialise` an open modem; one silent from the start is first taken out of PDU entry. `sleep`:
        the caller's (stoppable) wait."""
        try:
            return self.initialise()
        except AtTimeout:
            if not self.leave_pdu_entry(sleep):
                raise
            return self.initialise()

    def leave_pdu_entry(self, sleep: Callable[[float], object] = time.sleep) -> bool:
        """A modem silent from the start may be waiting for a PDU: a process killed between `AT+CMGS` and its
        PDU leaves it so, and every command after becomes part of that PDU. ESC ends PDU entry without
        sending (27.005 §3.5.1). True when the modem answers `AT` afterwards."""
        if self.link is None:
            return False
        self.link.write(ESC)
        sleep(0.2)  # its answer to the ESC passes before the next command waits for one
        try:
            self.cmd("AT", timeout=min(2.0, self.settings.command_timeout))
        except (AtTimeout, CommandError):
            return False
        logger.warning("{}: the modem was still waiting for an SMS of a stopped run: cancelled it", self.url)
        return True

    def initialise(self) -> ModemInfo:
        self.info = ModemInfo(self.url)
        self.wake()
        self.try_cmd("ATE0")
        self.try_cmd("AT+CMEE=1")
        self.unlock_sim()
        self.cmd("AT+CMGF=0")
        self.identify()
        self.wait_registered(self.settings.register_timeout)
        self.select_storage()
        self.enable_notifications()
        self.check_smsc()
        self.read_signal()
        self.read_network_code()
        self.read_operator()
        return self.info

    def sim_state(self) -> str:
        deadline = time.monotonic() + self.settings.sim_busy_timeout
        while True:
            try:
                lines = self.cmd("AT+CPIN?", ok_without="+CPIN:")
                state = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("+CPIN:")), "READY")
                return state.strip('"')
            except CmeError as exc:
                if exc.code == 10:
                    raise SimLocked("no SIM card inserted (+CME ERROR: 10)") from exc
                if exc.code not in _SIM_WAIT_CODES or time.monotonic() > deadline:
                    raise
                logger.info("{}: SIM not ready yet ({}), waiting", self.url, exc.meaning)
                time.sleep(self.settings.sim_busy_retry)

    def unlock_sim(self) -> None:
        state = self.sim_state()
        if state == "SIM PIN":
            self._enter_pin()
            state = self._wait_ready()
        if state == "READY":
            self.info.sim = "READY"
            return
        self.info.sim = state
        if "PUK" in state:
            raise SimLocked(f"the SIM is locked and wants its PUK ({state}); put it in a phone and enter the "
                            "PUK there — absensi never tries PUKs")
        raise SimLocked(f"the SIM is not ready: {state}")

    def _enter_pin(self) -> None:
        if not self.pin or self.pin_rejected:
            why = "it was rejected before" if self.pin_rejected else "none is configured (--pin / modem.pin)"
            raise SimLocked(f"the SIM wants its PIN and {why}")
        try:
            self.cmd(f'AT+CPIN="{self.pin}"', timeout=self.settings.command_timeout * 2)
        except CmeError as exc:
            self.pin_rejected = True
            raise SimLocked(f"the SIM refused the configured PIN ({exc.meaning}); fix it before the SIM "
                            "locks for good — it will not be tried again") from exc
        logger.info("{}: PIN accepted", self.url)

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + self.settings.pin_settle
        while True:
            state = self.sim_state()
            if state == "READY" or time.monotonic() >= deadline:
                return state
            time.sleep(self.settings.sim_busy_retry)

    def identify(self) -> None:
        for attr, command in (("manufacturer", "AT+CGMI"), ("model", "AT+CGMM"), ("revision", "AT+CGMR"),
                              ("imei", "AT+CGSN"), ("imsi", "AT+CIMI")):
            lines = self.try_cmd(command)
            if lines:
                setattr(self.info, attr, lines[0].split(":", 1)[-1].strip())

    def registration_states(self) -> dict[str, int]:
        """`<stat>` of each registration the modem answers: CREG (GSM), CEREG (LTE), CGREG (GPRS)."""
        states: dict[str, int] = {}
        for name, command in REGISTRATION_COMMANDS:
            for line in self.try_cmd(command) or []:
                values = numbers(line)
                if line.startswith(f"+{name}:") and len(values) >= 2:
                    states[name] = values[1]
        self.info.network_states = states
        return states

    def registration(self) -> int | None:
        """Best registration state over CREG (GSM) and CEREG (LTE), the domains SMS use; None when neither
        is known."""
        states = self.registration_states()
        found = [states[name] for name in SMS_DOMAINS if name in states]
        return next((s for s in found if s in REGISTERED), found[0] if found else None)

    def wait_registered(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        names = {0: "not registered", 1: "home network", 2: "searching", 3: "denied", 4: "unknown",
                 5: "roaming"}
        while True:
            state = self.registration()
            self.info.registration = names.get(state, str(state)) if state is not None else "unknown"
            self.info.registered = state in REGISTERED
            if self.info.registered or time.monotonic() >= deadline:
                return self.info.registered
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def refresh(self) -> bool:
        """The readings of a health check: registration (True when SMS can go), signal, storage, operator."""
        registered = self.wait_registered(0)
        self.read_signal()
        self.read_storage()
        self.read_operator()
        return registered

    def select_storage(self) -> None:
        """Read, delete and receive in one storage, so +CMTI indexes and +CMGL listings agree."""
        for wanted in dict.fromkeys((self.settings.storage, "SM", "ME", "MT")):
            if self.try_cmd(f'AT+CPMS="{wanted}","{wanted}","{wanted}"') is not None:
                break
        else:
            self.info.notes.append("message storage cannot be selected; using the modem's default")
        self.read_storage()

    def read_storage(self) -> tuple[int, int]:
        lines = self.try_cmd("AT+CPMS?") or []
        for line in lines:
            names, values = quoted(line), numbers(line)
            if names and len(values) >= 2:
                self.info.storage = names[0]
                self.info.storage_used, self.info.storage_total = values[0], values[1]
        return self.info.storage_used, self.info.storage_total

    def enable_notifications(self) -> None:
        for choice in CNMI_CHOICES:
            if self.try_cmd(f"AT+CNMI={choice}") is not None:
                if choice.split(",")[3] == "0":
                    self.info.notes.append("the modem routes no delivery reports; none will be recorded")
                return
        self.info.notes.append("+CNMI refused: relying on +CMGL polling only")

    def check_smsc(self) -> None:
        lines = self.try_cmd("AT+CSCA?") or []
        smsc = next((quoted(ln)[0] for ln in lines if quoted(ln)), "")
        self.info.smsc = smsc or "(none)"
        if not smsc:
            self.info.notes.append("no SMSC number on the SIM: sends will fail until it is set (AT+CSCA)")

    def read_signal(self) -> None:
        lines = self.try_cmd("AT+CSQ") or []
        values = numbers(lines[0]) if lines else []
        if values:
            rssi = values[0]
            self.info.rssi = rssi if 0 <= rssi <= 31 else None
            self.info.signal = "unknown (99)" if self.info.rssi is None else f"{rssi}/31 ({-113 + 2 * rssi} dBm)"

    def read_operator(self) -> None:
        lines = self.try_cmd("AT+COPS?") or []
        names = quoted(lines[0]) if lines else []
        self.info.operator = names[0] if names else "(none)"

    def read_network_code(self) -> None:
        """MCC-MNC of the serving network (`AT+COPS=3,2` then `AT+COPS?`, format put back to long names);
        when the modem cannot, the SIM's home network from the IMSI (MCC 3 + MNC 2 digits, as in Indonesia)."""
        code = None
        if self.try_cmd("AT+COPS=3,2") is not None:
            lines = self.try_cmd("AT+COPS?") or []
            found = quoted(lines[0]) if lines else []
            code = found[0] if found and found[0].isdigit() else None
            self.try_cmd("AT+COPS=3,0")
        imsi = self.info.imsi
        self.info.mcc_mnc = code or (imsi[:5] if imsi.isdigit() and len(imsi) >= 5 else None)

    # ---------------------------------------------------------------------------------- messages

    def list_messages(self) -> list[StoredMessage]:
        """Every stored message (`+CMGL=4`: read and unread), oldest index first."""
        lines = self.cmd("AT+CMGL=4", timeout=self.settings.list_timeout)
        found, header = [], None
        for line in lines:
            if line.startswith("+CMGL:"):
                header = numbers(line)
            elif header is not None:
                found.append(StoredMessage(header[0], header[1] if len(header) > 1 else 0, line.strip()))
                header = None
        return sorted(found, key=lambda m: m.index)

    def read_message(self, index: int) -> str | None:
        lines = self.try_cmd(f"AT+CMGR={index}") or []
        return lines[1].strip() if len(lines) >= 2 else None

    def delete(self, index: int) -> None:
        self.cmd(f"AT+CMGD={index}")

    def send(self, part: SubmitPdu) -> int:
        """Hand one part to the modem; returns the message reference from `+CMGS: <mr>`."""
        assert self.at is not None
        lines = self.at.send_pdu(part.length, part.hex, self.settings.prompt_timeout, self.settings.send_timeout)
        for line in lines:
            if line.startswith("+CMGS:"):
                return numbers(line)[0]
        raise ModemError(f"+CMGS without a message reference: {lines!r}")

    def settings_lost(self) -> bool:
        """True when the modem fell back to text mode: it rebooted behind our back (no RDY seen)."""
        lines = self.try_cmd("AT+CMGF?") or []
        return any(numbers(ln)[:1] == [1] for ln in lines if ln.startswith("+CMGF"))
