"""A modem worker's watch over its modem: the health book and the USSD (balance) checks it runs.

`HealthBook` keeps the worker's `ModemHealth` behind a lock: the worker thread writes (after start-up,
each health check, each send and receive), any thread reads a copy. `UssdRunner` takes balance checks asked
from any thread (`ask` returns a Future) and runs them on the worker's thread between sends, one at a time:
most sticks cannot hold a USSD session and send an SMS at once, so the worker claims no SMS while one is
open — received SMS keep flowing meanwhile — and the session lasts seconds, once a day or on `/status`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime

from loguru import logger

from .errors import ModemError
from .health import ModemHealth
from .modem import Modem, ModemInfo
from .operators import GENERIC_PATTERN, operator_for, read_balance
from .settings import ModemSettings
from .ussd import UssdAnswer, UssdFailed, UssdRequest, drain, parse_cusd

# Worker states as the health shows them; `down` is told apart by why the modem went away.
_DOWN_HUNG, _DOWN_GONE = "hung", "reopening"


def local_day(moment: datetime) -> date:
    """The day as the school box sees it (its local time zone): `sends_failed_today` restarts at midnight."""
    return moment.astimezone().date()


class HealthBook:
    """See the module docstring."""

    def __init__(self, port: str, clock: Callable[[], datetime],
                 day: Callable[[datetime], date] = local_day) -> None:
        self._health = ModemHealth(port)
        self._lock = threading.Lock()
        self.clock, self.day = clock, day

    def snapshot(self) -> ModemHealth:
        with self._lock:
            self._health.roll_day(self.day(self.clock()))
            return self._health.copy()

    def set_state(self, state: str, hung: bool = False) -> None:
        shown = (_DOWN_HUNG if hung else _DOWN_GONE) if state == "down" else state
        with self._lock:
            self._health.state = shown

    def from_info(self, info: ModemInfo) -> None:
        """What the modem answered at start-up or in a health check."""
        with self._lock:
            h = self._health
            h.operator = info.operator if info.operator not in ("?", "(none)") else None
            h.mcc_mnc = info.mcc_mnc or h.mcc_mnc
            h.imsi = info.imsi if info.imsi.isdigit() else h.imsi
            h.set_signal(info.rssi)
            h.set_registration(info.network_states)
            if info.storage_total:
                h.sim_used, h.sim_total = info.storage_used, info.storage_total
            h.checked_at = self.clock()

    def sent(self) -> None:
        with self._lock:
            self._health.sent(self.clock())

    def failed(self, reason: str) -> None:
        now = self.clock()
        with self._lock:
            self._health.failed(now, self.day(now), reason)

    def received(self) -> None:
        with self._lock:
            self._health.last_receive = self.clock()

    def error(self, reason: str) -> None:
        with self._lock:
            self._health.error(self.clock(), reason)

    def pulsa(self, amount: int | None, text: str) -> None:
        with self._lock:
            h = self._health
            h.pulsa_text = text
            if amount is not None:
                h.pulsa, h.pulsa_at = amount, self.clock()

    def operator_hints(self) -> tuple[str | None, str | None]:
        with self._lock:
            return self._health.operator, self._health.mcc_mnc or (self._health.imsi or "")[:5] or None


@dataclass
class _Ask:
    code: str | None  # None: the operator's balance code
    pattern: str | None  # None: the operator's pattern (or the generic one)
    future: Future[UssdAnswer]


class UssdRunner:
    """See the module docstring."""

    def __init__(self, url: str, settings: ModemSettings, book: HealthBook) -> None:
        self.url, self.settings, self.book = url, settings, book
        self.asks: queue.Queue[_Ask] = queue.Queue()
        self.current: tuple[_Ask, UssdRequest, str] | None = None  # the ask, its request, its pattern

    def ask(self, code: str | None = None, pattern: str | None = None) -> Future[UssdAnswer]:
        """Queue a USSD request (any thread). Without a code, the balance code of the SIM's operator."""
        future: Future[UssdAnswer] = Future()
        self.asks.put(_Ask(code, pattern, future))
        return future

    @property
    def busy(self) -> bool:
        return self.current is not None

    def step(self, modem: Modem) -> None:
        """Worker thread, between sends: read answers, give up on time, start the next request."""
        try:
            if self.current is not None:
                self._follow(modem)
            else:
                self._ignore_pushes(modem)
                self._start_next(modem)
        except ModemError as exc:  # the modem itself failed: the worker reopens it
            self.fail_all(f"modem lost during USSD: {exc}")
            raise

    def _start_next(self, modem: Modem) -> None:
        try:
            ask = self.asks.get_nowait()
        except queue.Empty:
            return
        if ask.future.cancelled():
            return
        code, pattern = self._resolve(ask)
        if code is None:
            self._fail(ask, UssdFailed("the SIM's operator is unknown; give the balance code (e.g. *888#)"))
            return
        drain(modem.cusd)
        try:
            request = UssdRequest(modem, code, timeout=self.settings.ussd_timeout, packed=self.settings.ussd_packed,
                                  charset=self.settings.ussd_charset)
            self.current = (ask, request, pattern)
            answer = request.start()
        except (UssdFailed, ValueError) as exc:
            self._fail(ask, exc)
            return
        if answer is not None:
            self._finish(answer)

    def _resolve(self, ask: _Ask) -> tuple[str | None, str]:
        operator = operator_for(*self.book.operator_hints())
        code = ask.code or (operator.balance_code if operator else None)
        pattern = ask.pattern or (operator.balance_pattern if operator else GENERIC_PATTERN)
        return code, pattern

    def _follow(self, modem: Modem) -> None:
        assert self.current is not None
        ask, request, _pattern = self.current
        for line in drain(modem.cusd):
            try:
                answer = request.take(line)
            except UssdFailed as exc:
                self._fail(ask, exc)
                return
            if answer is not None:
                self._finish(answer)
                return
        if request.expired():
            self._fail(ask, request.give_up())

    def _finish(self, answer: UssdAnswer) -> None:
        assert self.current is not None
        ask, _request, pattern = self.current
        self.current = None
        amount = read_balance(answer.text, pattern)
        self.book.pulsa(amount, answer.text)
        if amount is None:
            self.book.error(f"USSD {answer.code}: no balance found in {answer.text!r}")
        logger.info("{}: USSD {} answered ({}): {!r}{}", self.url, answer.code, answer.how, answer.text,
                    f"; pulsa Rp {amount:,}".replace(",", ".") if amount is not None else "")
        ask.future.set_result(answer)

    def _fail(self, ask: _Ask, exc: Exception) -> None:
        self.current = None
        self.book.error(f"USSD: {exc}")
        logger.warning("{}: USSD failed: {}", self.url, exc)
        if not ask.future.done():
            ask.future.set_exception(exc)

    def fail_all(self, reason: str) -> None:
        """The modem went away: the session in flight and the queued asks fail (they may be asked again)."""
        if self.current is not None:
            self._fail(self.current[0], UssdFailed(reason))
        while True:
            try:
                ask = self.asks.get_nowait()
            except queue.Empty:
                return
            if not ask.future.done():
                ask.future.set_exception(UssdFailed(reason))

    def _ignore_pushes(self, modem: Modem) -> None:
        """USSD the network sent on its own (promotions): logged; a menu that waits for a reply is closed,
        as an open session would block SMS."""
        for line in drain(modem.cusd):
            cusd = parse_cusd(line)
            logger.info("{}: USSD from the network, not asked for: {!r}", self.url, line)
            if cusd is not None and cusd.status == 1:
                modem.try_cmd("AT+CUSD=2")
