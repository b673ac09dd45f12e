"""One thread per modem: keep it open and initialised, drain what it received, send what the outbox holds.

The loop is single-threaded on purpose (the reader thread of the `Link` only sorts lines): every AT
command of a modem is issued from here, so receive, send, health checks and USSD never race. A modem that
hangs or vanishes stops only its own worker; its claimed item goes back to the outbox for the other modems.
`health()` is the modem's `ModemHealth` for any thread; `check_balance()` queues a USSD balance check that
this loop runs between sends (monitor.py).
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

import serial
from loguru import logger

from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import Inbox, Outbox, idle_wait
from absensi.engine.school.phones import mask

from .errors import AtTimeout, CommandError, ModemError, SimLocked
from .health import ModemHealth
from .inbound import Ready, Reassembler
from .link import Unsolicited
from .modem import Modem, ModemInfo, StoredMessage
from .monitor import HealthBook, UssdRunner
from .outbound import CannotSend, ModemHung, SendContext, modem_key, native_ref, send_item
from .pdu import Deliver, PduError, StatusReport, decode
from .settings import ModemSettings
from .warm import WarmModem

REBOOT_MARKERS = ("RDY", "^SYSSTART")
# How often a running worker looks for SMS a dead process left `sending` (a killed engine beside this
# standby, SPEC §8). The pool does it at start; without this they would wait for the next restart.
RECOVER_INTERVAL = 30.0
_STOP = Unsolicited("\x00stop")
_WORK = Unsolicited("\x00work")  # the outbox has new rows, or a USSD was asked: look now


class ModemWorker:
    """See the module docstring. `state`: starting, ready, no-network, down, sim-locked, stopped."""

    def __init__(self, url: str, inbox: Inbox, outbox: Outbox, *, clock: Callable[[], datetime],
                 settings: ModemSettings, pin: str | None = None, send_rate_per_min: float | None = None,
                 progress: dict | None = None, warm: WarmModem | None = None) -> None:
        self.url, self.inbox, self.outbox, self.clock, self.settings = url, inbox, outbox, clock, settings
        self.name = f"gsm:{url}"
        self.book = HealthBook(url, clock)
        self.state = "starting"
        self.events: queue.Queue[tuple[float, Unsolicited]] = queue.Queue()
        self.modem = Modem(url, settings, lambda ev: self.events.put((time.monotonic(), ev)), pin)
        self._warm = warm  # this port's modem, already starting (warm.py): taken over by the first connect
        if warm is not None:
            warm.modem.settings = settings
        self.reassembler = Reassembler(settings.reassembly_timeout)
        self.ctx = SendContext(outbox, clock, settings, modem_key(url), progress if progress is not None else {},
                               name=url, on_sent=self.book.sent, on_failure=self.book.failed)
        self.ussd = UssdRunner(url, settings, self.book)
        self.part_interval = 60.0 / send_rate_per_min if send_rate_per_min else 0.0
        self.stats = {"received": 0, "parts_sent": 0, "opens": 0, "inits": 0, "drains": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._initialised_at = 0.0
        self._deleted = 0  # SIM slots this worker has emptied (see `_drain`)
        self._next_part = self._next_claim = self._next_poll = self._next_health = 0.0
        self._next_recover = time.monotonic() + RECOVER_INTERVAL
        # Woken by the outbox (the store calls back when rows are added) rather than asking it every
        # `claim_interval`: between wake-ups it looks only when the next retry is due or, for what another
        # process wrote where no signal crosses (SQLite), every `claim_fallback` seconds. An outbox that
        # cannot wake anyone (a test's fake) is asked every `claim_interval` as before.
        listen = getattr(outbox, "on_outbox", None)
        self.claim_fallback = float(listen(self.wake)) if callable(listen) else settings.claim_interval

    # ---------------------------------------------------------------------------------- health, pulsa

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value
        self.book.set_state(value)

    def health(self) -> ModemHealth:
        """A copy of what this worker knows about its modem (any thread)."""
        return self.book.snapshot()

    def check_balance(self, code: str | None = None, pattern: str | None = None) -> Future:
        """Ask the pulsa by USSD between sends (any thread). Without `code`, the SIM's operator's balance code;
        without `pattern`, its pattern. The Future gives the `UssdAnswer` or raises `UssdFailed`; the amount
        read lands in `health().pulsa`."""
        future = self.ussd.ask(code, pattern)
        if self._stop.is_set():
            self.ussd.fail_all("the modem worker is stopped")
        self.wake()
        return future

    def wake(self) -> None:
        """Look at the outbox (and the USSD queue) now (any thread; the store calls it on new outbox rows)."""
        self.events.put((time.monotonic(), _WORK))

    # ---------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end (returns at once; `stop` waits)."""
        self._stop.set()
        self.events.put((time.monotonic(), _STOP))

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        warm = self._warm
        if warm is not None:  # stopped before its first connect: the early start ends here
            warm.close()
        link = self.modem.link
        if link is not None:
            link.close()  # wakes a command waiting on a hung modem; the loop then sees the stop
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.modem.close()

    @property
    def healthy(self) -> bool:
        return self.state == "ready"

    def run(self) -> None:
        reconnect = self.settings.policy.reconnect
        failures = 0
        while not self._stop.is_set():
            delay = reconnect.delay(failures)
            try:
                self._connect()
                failures, delay = 0, reconnect.first  # a modem that served and then failed starts over
                self._serve()
            except SimLocked as exc:
                self._down("sim-locked", f"SIM problem: {exc}")
                self._sleep(max(reconnect.cap, delay))
            except (ModemError, serial.SerialException, OSError, ValueError) as exc:
                self._down("down", f"{type(exc).__name__}: {exc}; reopening in {delay:.0f} s",
                           hung=isinstance(exc, (AtTimeout, ModemHung)))
                self._sleep(delay)
                failures += 1
            except Exception as exc:  # e.g. the database refused a claim: the modem thread must not die
                logger.exception("{}: unexpected {}; reopening in {:.0f} s", self.url, type(exc).__name__, delay)
                self._down("down", f"{type(exc).__name__}; reopening in {delay:.0f} s")
                self._sleep(delay)
                failures += 1
        self.modem.close()
        self.ussd.fail_all("the modem worker stopped")
        self.state = "stopped"

    def _down(self, state: str, message: str, hung: bool = False) -> None:
        self._state = state
        self.book.set_state(state, hung=hung)  # health tells a hung modem from a vanished port
        self.book.error(message)
        self.ussd.fail_all(f"modem {'hung' if hung else 'lost'}: {message}")
        self.modem.close()
        if not self._stop.is_set():
            logger.warning("{}: {}", self.url, message)

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    # ---------------------------------------------------------------------------------- start-up

    def _connect(self) -> None:
        warm, self._warm = self._warm, None
        if warm is not None:  # the modem began to start before the service had its store (warm.py)
            self.modem = warm.modem  # its PIN state included, also when its start failed
            warm.take(self.events.put)  # waits for the end of its start-up; raises what that raised
            self.stats["opens"] += 1
            self._initialised(self.modem.info, warm.ready_at)
            return
        self.modem.open()
        self.stats["opens"] += 1
        self._initialised(self.modem.start(self._sleep), time.monotonic())

    def _initialise(self) -> None:
        self._initialised(self.modem.initialise(), time.monotonic())

    def _initialised(self, info: ModemInfo, at: float) -> None:
        """The modem is initialised (since `at`, monotonic): ready to serve; its state and the start line."""
        self.stats["inits"] += 1
        self._initialised_at = at
        self.ctx.modem_id = modem_key(self.url, info.imsi)
        self.book.from_info(info)
        self.state = "ready" if info.registered else "no-network"
        logger.info("{}: {} {} (rev {}), IMEI {}, SIM {}, network {} / {}, signal {}, SMSC {}, storage {} {}/{}",
                    self.url, info.manufacturer, info.model, info.revision, info.imei, info.sim, info.registration,
                    info.operator, info.signal, info.smsc, info.storage, info.storage_used, info.storage_total)
        for note in info.notes:
            logger.warning("{}: {}", self.url, note)

    # ---------------------------------------------------------------------------------- main loop

    def _serve(self) -> None:
        self._drain()
        self._next_poll = time.monotonic() + self.settings.poll_interval
        self._next_health = time.monotonic() + self.settings.health_interval
        while not self._stop.is_set():
            try:
                self._tick()
            except AtTimeout as exc:
                self._probe(exc)
            except CommandError as exc:
                self._after_refusal(exc)

    def _tick(self) -> None:
        """One round. Each due time is moved on *before* its work, so a failing step cannot spin."""
        if self._handle_events(self._idle_timeout()):
            self._next_poll = 0.0
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + self.settings.poll_interval
            self._drain()
        if now >= self._next_health:
            self._next_health = now + (self.settings.health_interval if self.healthy
                                       else min(5.0, self.settings.health_interval))
            self._health()
        self._expire()
        self.ussd.step(self.modem)
        if now >= self._next_recover:
            self._next_recover = now + RECOVER_INTERVAL
            self._recover()
        self._send_if_due()

    def _idle_timeout(self) -> float:
        """Until the next thing due: the +CMGL look, the health check, the recovery look, the next claim. A USSD
        session in flight is followed every `claim_interval` (its answer also wakes the loop as an event)."""
        now = time.monotonic()
        wake = min(self._next_poll, self._next_health, self._next_recover,
                   self._next_claim if self.healthy else self._next_poll)
        if self.ussd.busy:
            wake = min(wake, now + self.settings.claim_interval)
        return max(0.0, wake - now)

    def _after_refusal(self, exc: CommandError) -> None:
        """A routine command was refused: most often the modem restarted unseen and lost PDU mode."""
        logger.warning("{}: {}", self.url, exc)
        if self.modem.settings_lost():
            logger.warning("{}: modem is back in text mode (restarted unseen): initialising again", self.url)
            self._initialise()

    def _probe(self, exc: AtTimeout) -> None:
        """A command went unanswered: ask `AT`; if that is silent too, the modem is hung — reopen it."""
        logger.warning("{}: {} — probing", self.url, exc)
        for _ in range(2):
            try:
                self.modem.cmd("AT", timeout=min(2.0, self.settings.command_timeout))
                return
            except AtTimeout:
                continue
        raise ModemHung(f"no answer to AT after {exc}")

    # ---------------------------------------------------------------------------------- events

    def _handle_events(self, timeout: float) -> bool:
        """Process queued unsolicited lines; True when stored messages should be listed."""
        need_drain = False
        try:
            stamp, event = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
        except queue.Empty:
            return False
        while True:
            need_drain |= self._on_event(stamp, event)
            try:
                stamp, event = self.events.get_nowait()
            except queue.Empty:
                return need_drain

    def _on_event(self, stamp: float, event: Unsolicited) -> bool:
        name = event.name
        if name in ("+CMTI", "+CDSI"):
            return True
        if event is _WORK:
            self._next_claim = 0.0
            return False
        if (name == "+CMT" and event.pdu) or (name == "+CDS" and event.pdu):
            self._take_pdu(event.pdu)
        elif name == "+CUSD":
            pass  # read from the modem's +CUSD queue by the USSD runner in this round
        elif name.startswith(REBOOT_MARKERS) and stamp > self._initialised_at:
            logger.warning("{}: modem restarted ({}): initialising again", self.url, event.line)
            self._initialise()
            return True
        elif event is not _STOP:
            logger.debug("{}: unsolicited {!r}", self.url, event.line)
        return False

    # ---------------------------------------------------------------------------------- receiving

    def _drain(self) -> None:
        listed = self.modem.list_messages()
        self.stats["drains"] += 1
        deleted = self._deleted
        for stored in listed:
            self._take_stored(stored)
        # Full only if it still is: slots this drain freed let the network's held SMS in (the missing part
        # among them), so giving up on a waiting message then would split it for nothing.
        left = len(listed) - (self._deleted - deleted)
        total = self.modem.info.storage_total
        if total and left >= total and self.reassembler.waiting:
            ready = self.reassembler.flush_oldest()
            logger.warning("{}: SIM storage full ({}/{}); handing over an incomplete message to make room",
                           self.url, left, total)
            if ready:
                self._commit(ready)

    def _take_stored(self, stored: StoredMessage) -> None:
        try:
            sms = decode(stored.pdu)
        except PduError as exc:
            if self._keep_unreadable(stored.pdu, exc):
                logger.warning("{}: unreadable PDU at index {} kept in the error inbox and deleted from the SIM "
                               "({}, {} hex characters)", self.url, stored.index, exc, len(stored.pdu))
                self._delete(stored.index)
            return
        if isinstance(sms, StatusReport):
            self._report(sms)
            self._delete(stored.index)
        elif isinstance(sms, Deliver):
            ready = self.reassembler.add(stored.index, sms, self.clock(), stored.pdu)
            if ready is not None:
                self._commit(ready)

    def _take_pdu(self, pdu_hex: str) -> None:
        """A PDU routed straight to us (`+CMT`/`+CDS`): nothing on the SIM to delete."""
        try:
            sms = decode(pdu_hex)
        except PduError as exc:
            if self._keep_unreadable(pdu_hex, exc):
                logger.warning("{}: unreadable routed PDU kept in the error inbox ({}, {} hex characters)",
                               self.url, exc, len(pdu_hex))
            return
        if isinstance(sms, StatusReport):
            self._report(sms)
        elif isinstance(sms, Deliver):
            ready = self.reassembler.add(-1, sms, self.clock(), pdu_hex)  # index -1: nothing stored to delete
            if ready is not None:
                self._commit(ready)

    def _keep_unreadable(self, pdu_hex: str, exc: PduError) -> bool:
        """Into the error inbox with its bytes before the SIM copy goes (SPEC §8: nothing is lost).
        False when the database refused: the PDU stays on the SIM for the next drain."""
        digest = hashlib.sha1(pdu_hex.encode()).hexdigest()[:16]
        msg = InboundMessage(Channel.SMS, "", self.clock(), f"sms-unreadable:{digest}", "", raw=pdu_hex)
        try:
            self.inbox.keep(msg, f"unreadable PDU: {exc}")
        except Exception:
            logger.exception("{}: inbox refused an unreadable PDU; it stays on the SIM", self.url)
            return False
        return True

    def _commit(self, ready: Ready) -> None:
        """Inbox first, SIM second: a crash in between means a re-read, which the inbox refuses as known."""
        if ready.message is not None:
            try:
                new = self.inbox.submit(ready.message)
            except Exception:
                logger.exception("{}: inbox refused an SMS from {}; it stays on the SIM", self.url, mask(ready.message.sender))
                return
            self.stats["received"] += int(new)
            self.book.received()
            logger.info("{}: {} SMS from {}", self.url, "new" if new else "known", mask(ready.message.sender))
        self.reassembler.mark_done(ready)
        for index in ready.indexes:
            if index >= 0:
                self._delete(index)

    def _delete(self, index: int) -> None:
        try:
            self.modem.delete(index)
        except CommandError as exc:  # already gone (invalid index): nothing left to do
            logger.debug("{}: delete {} refused: {}", self.url, index, exc)
            self.reassembler.forget_index(index)
        self._deleted += 1

    def _expire(self) -> None:
        for ready in self.reassembler.expire(self.clock()):
            logger.warning("{}: parts of a long SMS from {} missing after {}; handing over what arrived",
                           self.url, mask(ready.message.sender) if ready.message else "?", self.settings.reassembly_timeout)
            self._commit(ready)

    def _report(self, report: StatusReport) -> None:
        if not report.final:
            return
        ref = native_ref(self.ctx.modem_id, report.reference)
        matched = self.outbox.delivery_report(Channel.SMS, ref, report.delivered, self.clock())
        logger.info("{}: delivery report {} for {}: {}{}", self.url, ref, mask(report.recipient),
                    "delivered" if report.delivered else f"failed (status 0x{report.status:02X})",
                    "" if matched else " (no matching outbox row)")

    # ---------------------------------------------------------------------------------- sending

    def _recover(self) -> None:
        """Items whose claimant died go back to the queue (only those: see `Store.recover`). Called from this
        worker's loop between sends, so its own items are never in flight here."""
        try:
            count = self.outbox.recover(Channel.SMS, self.clock(), worker=self.name)
        except Exception:  # the database is away for a moment: the next round tries again
            logger.exception("{}: looking for SMS a stopped process left unsent failed", self.url)
            return
        if count:
            logger.warning("{}: {} SMS left sending by a stopped process are queued again", self.url, count)

    def _health(self) -> None:
        if self.modem.settings_lost():
            logger.warning("{}: modem is back in text mode (restarted unseen): initialising again", self.url)
            self._initialise()
            return
        registered = self.modem.refresh()
        self.book.from_info(self.modem.info)
        if registered != self.healthy:
            logger.info("{}: network {}", self.url, "back: sending resumes" if registered else "lost: sends held")
        self.state = "ready" if registered else "no-network"

    def _send_if_due(self) -> None:
        while self.healthy and not self.ussd.busy and not self._stop.is_set() and time.monotonic() >= self._next_claim:
            items = self.outbox.claim(Channel.SMS, self.clock(), limit=1, worker=self.name)
            if not items:
                self._next_claim = time.monotonic() + self._claim_wait()
                return
            try:
                self.stats["parts_sent"] += send_item(self.modem, items[0], self.ctx, self._pace)
            except CannotSend as exc:
                logger.warning("{}: {}: sends held until the health check passes", self.url, exc)
                self.state = "no-network"
                self._next_health = time.monotonic() + min(5.0, self.settings.health_interval)
                return
            if not self.events.empty():
                return  # let received messages and reports in between sends

    def _claim_wait(self) -> float:
        """After a claim found nothing: seconds until the next look, unless a new row wakes the worker first.
        The earliest pending item's due time bounds it (a retry); one due already but not claimable (another
        worker holds it) is looked at again after `claim_interval`, not in a loop."""
        return idle_wait(self.outbox, Channel.SMS, self.clock(), self.settings.claim_interval, self.claim_fallback)

    def _pace(self) -> None:
        """Optional per-modem rate: spaces parts `60 / rate` seconds apart."""
        if self.part_interval:
            wait = self._next_part - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._next_part = time.monotonic() + self.part_interval
