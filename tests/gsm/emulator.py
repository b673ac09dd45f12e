"""A GSM modem emulator speaking AT over a real pseudo-terminal.

The driver opens `emulator.port` with pyserial exactly like `/dev/serial/by-id/…`: the path is a symlink
to the pty's slave side, so unplugging (closing the pty) and plugging back (a new pty behind the same
symlink) behave like a USB stick that vanishes and returns. Quirks come from a `Profile` (profiles.py);
faults are knobs set by the test: lose `+CMTI`, fail `+CMGS` with `+CMS ERROR`s (the next few, or every one),
hang, reboot, unplug, lose the network or be denied it (`network_state`), a full SIM (`sim_full`), tiny
storage, a weak signal (`rssi`), and USSD answers in every encoding (`emu.ussd`, emulator_ussd.py).
Everything the driver did is recorded for assertions.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from datetime import UTC, datetime
from pathlib import Path

from absensi.drivers.gsm import pdu

from .emulator_commands import CommandsMixin, SentSms
from .emulator_ussd import UssdMixin
from .profiles import PROFILES, Profile


class ModemEmulator(CommandsMixin, UssdMixin):
    """See the module docstring. Call `start()`, use `.port`, call `close()`."""

    def __init__(self, link_dir: Path, profile: str | Profile = "sim800", *, pin: str | None = None,
                 capacity: int | None = None, name: str = "modem0") -> None:
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.port = str(Path(link_dir) / f"usb-{self.profile.name}-{name}")
        self.capacity = capacity or self.profile.capacity
        self.imsi = self.profile.imsi[: -len(name)] + name.encode().hex()[-len(name):] if name else self.profile.imsi
        self.pin = pin
        # knobs
        self.lose_cmti = 0  # the next N +CMTI are not sent
        self.lose_all_cmti = False
        self.send_errors: list[int] = []  # +CMS ERROR codes for the next +CMGS
        self.always_send_error: int | None = None  # +CMS ERROR code for every +CMGS (e.g. no pulsa left)
        self.send_delay = 0.0
        self.reply_delay = 0.0  # seconds before answering any command (real modems: ~10–100 ms)
        self.hung = False
        self.hang_on_send = False  # accept the next PDU, then stop answering
        self.registered = True
        self.network_state: int | None = None  # <stat> for CREG/CGREG/CEREG (0, 2, 3, 5…); None: `registered`
        self.rssi = 18  # AT+CSQ while on the network
        self.sim_full = False  # storage reports used = total; new SMS wait in the network, +CMGW fails
        self.report_status: int | None = 0x00  # TP-ST of status reports; None: never report
        self.noise_every = 0.0  # seconds between unsolicited chatter lines (0: none)
        self.interleave = bool(self.profile.noise)  # put chatter inside replies
        self.refuse_cnmi: set[str] = set()  # +CNMI settings this unit does not support
        # state
        self.storage: dict[int, tuple[int, str]] = {}  # index -> (stat, pdu)
        self.backlog: list[str] = []  # deliveries refused while storage was full (the network retries)
        self.sent: list[SentSms] = []
        self.commands: list[str] = []
        self.pin_attempts: list[str] = []
        self.unplugs = 0
        self._ussd_reset()
        self._lock = threading.RLock()
        self._timers: list[tuple[float, str]] = []  # (due, kind/value)
        self._mr = 0
        self._stop = threading.Event()
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._power_on()

    # ---------------------------------------------------------------------------------- lifecycle

    def start(self) -> ModemEmulator:
        self._plug()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self._unplug_fds()
        Path(self.port).unlink(missing_ok=True)

    def _plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tmp = Path(self.port + ".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.port)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"emu-{self.port}", daemon=True)
        self._thread.start()

    def _unplug_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _power_on(self) -> None:
        """Settings after power-up: text mode, echo on, no notifications, SIM busy for a while."""
        self.echo, self.cmgf, self.cnmi = True, 1, (0, 0, 0, 0, 0)
        self.sim_busy_left = self.profile.sim_busy_answers
        self.sim_state = "SIM PIN" if self.pin else "READY"
        self.in_pdu: int | None = None  # length announced by AT+CMGS while waiting for the PDU
        self.cscs = self.profile.cscs
        self.cops_format = 0
        self.ussd_pending = self.ussd_menu_open = False
        self.buffer = b""
        self.mms = 0

    # ---------------------------------------------------------------------------------- fault knobs

    def unplug(self) -> None:
        """The stick is pulled: the port and its by-id link vanish."""
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self._unplug_fds()
        Path(self.port).unlink(missing_ok=True)
        self.unplugs += 1

    def replug(self) -> None:
        """The stick returns under the same by-id name, freshly powered (settings lost, SIM kept)."""
        self._power_on()
        self.hung = False
        self._plug()

    def reboot(self) -> None:
        """The modem restarts by itself: settings lost, boot lines said."""
        with self._lock:
            self._power_on()
            self.hung = False
            for line in self.profile.boot_lines:
                self._unsolicited(line)

    # ---------------------------------------------------------------------------------- the network side

    def deliver(self, pdu_hex: str) -> int | None:
        """An SMS arrives from the network: stored and announced (unless storage is full or +CMTI is lost)."""
        with self._lock:
            index = self._free_index()
            if index is None:
                self.backlog.append(pdu_hex)
                return None
            self.storage[index] = (0, pdu_hex)
            if self.cnmi[1] == 1 and not self._drop_cmti():
                self._unsolicited(f'+CMTI: "{self.profile.storage}",{index}')
            return index

    def deliver_text(self, sender: str, text: str, stamp: datetime | None = None) -> list[int | None]:
        """Deliver `text` from `sender`, split like a phone would (concatenated when long)."""
        stamp = stamp or datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
        return [self.deliver(p) for p in deliver_pdus(sender, text, stamp, ref=len(self.commands) & 0xFF)]

    def _drop_cmti(self) -> bool:
        if self.lose_all_cmti:
            return True
        if self.lose_cmti > 0:
            self.lose_cmti -= 1
            return True
        return False

    @property
    def on_network(self) -> bool:
        return self.network_state in (1, 5) if self.network_state is not None else self.registered

    def _free_index(self) -> int | None:
        if self.sim_full:
            return None
        for index in range(self.profile.first_index, self.profile.first_index + self.capacity):
            if index not in self.storage:
                return index
        return None

    def _after_delete(self) -> None:
        while self.backlog and self._free_index() is not None:
            self.deliver(self.backlog.pop(0))

    # ---------------------------------------------------------------------------------- the line

    def _serve(self) -> None:
        next_noise = time.monotonic() + (self.noise_every or 3600)
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02 if self._timers else 0.2)
            except (OSError, ValueError):
                return
            if ready:
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    return
                if data and not self.hung:
                    self._feed(data)
            self._run_timers()
            if self.noise_every and time.monotonic() >= next_noise and self.profile.noise:
                self._unsolicited(self.profile.noise[int(time.monotonic()) % len(self.profile.noise)])
                next_noise = time.monotonic() + self.noise_every

    def _feed(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer and not self.hung:
            if self.in_pdu is not None:
                if not self._take_pdu():
                    return
                continue
            cut = self.buffer.find(b"\r")
            if cut < 0:
                return
            raw, self.buffer = self.buffer[:cut], self.buffer[cut + 1 :].lstrip(b"\n")
            command = raw.decode("latin-1").strip()
            if command:
                with self._lock:
                    if self.echo:
                        self._write(command + "\r")
                    self.commands.append(command)
                    if self.reply_delay:
                        time.sleep(self.reply_delay)
                    self.handle(command)

    def _take_pdu(self) -> bool:
        ends = [i for i in (self.buffer.find(b"\x1a"), self.buffer.find(b"\x1b")) if i >= 0]
        if not ends:
            return False
        cut = min(ends)
        body, terminator, self.buffer = self.buffer[:cut], self.buffer[cut : cut + 1], self.buffer[cut + 1 :]
        length, self.in_pdu = self.in_pdu, None
        with self._lock:
            if terminator == b"\x1b":
                self.final("OK")
            else:
                self.submit(length or 0, body.decode("latin-1").strip())
        return True

    def _write(self, text: str) -> None:
        if self._master < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._master, text.encode("latin-1"))

    def line(self, text: str) -> None:
        self._write(f"\r\n{text}\r\n")

    def final(self, text: str) -> None:
        if self.interleave and self.profile.noise and len(self.commands) % 3 == 0:
            self._unsolicited(self.profile.noise[len(self.commands) % len(self.profile.noise)])
        self.line(text)

    def _unsolicited(self, text: str, pdu_line: str | None = None) -> None:
        with self._lock:
            self.line(text)
            if pdu_line is not None:
                self._write(f"{pdu_line}\r\n")

    def later(self, delay: float, kind: str) -> None:
        with self._lock:
            self._timers.append((time.monotonic() + delay, kind))

    def _run_timers(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [t for t in self._timers if t[0] <= now]
            self._timers = [t for t in self._timers if t[0] > now]
            for _, kind in due:
                self.fire(kind)

    def next_reference(self) -> int:
        self._mr = (self._mr + 1) % 256
        return self._mr

    def sent_texts(self) -> list[str]:
        return [s.submit.text for s in self.sent]


def deliver_pdus(sender: str, text: str, stamp: datetime, ref: int = 7) -> list[str]:
    """SMS-DELIVER PDUs for `text` as a phone would send it (split with 8-bit concatenation headers)."""
    coding = pdu.choose_coding(text)
    chunks = pdu.split_text(text, coding)
    if len(chunks) == 1:
        return [pdu.encode_deliver(sender, text, stamp, coding=coding)]
    return [pdu.encode_deliver(sender, chunk, stamp, coding=coding, concat=pdu.Concat(ref, len(chunks), i))
            for i, chunk in enumerate(chunks, start=1)]


