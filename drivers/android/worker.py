"""One thread per phone: keep it reachable, hand it SMS from the outbox, ask after the messages it holds.

Like a modem worker, it claims only while its phone answers, so queued SMS wait for (or go to) a healthy
route. Unlike a modem, the phone queues what it is given and reports later (by webhook, or when asked):
each claimed item is held in the shared `Ledger` until the phone says Sent, Delivered or Failed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import datetime

from loguru import logger

from absensi.engine.messages import Channel
from absensi.engine.ports import Outbox, OutboxItem, idle_wait
from absensi.engine.school.phones import mask

from .api import GatewayUrl, NoAnswer, PhoneApi, Refused, Unreachable
from .outcomes import Held, Ledger, Outcomes, backoff, message_id, remaining_text
from .settings import GatewaySettings

_PHONE = re.compile(r"\+?[0-9]{3,20}")
AUTH_STATUSES = frozenset({401, 403})


class PhoneDown(Exception):
    """The phone stopped answering (or answered as a broken server): stop claiming, probe with backoff."""


class GatewayWorker:
    """See the module docstring. `state`: starting, ready, down, refused (wrong credentials), stopped."""

    def __init__(self, url: GatewayUrl, outbox: Outbox, outcomes: Outcomes, *, settings: GatewaySettings,
                 clock: Callable[[], datetime], webhook_url: str, signing_key: str) -> None:
        self.url, self.outbox, self.outcomes, self.settings, self.clock = url, outbox, outcomes, settings, clock
        self.ledger: Ledger = outcomes.ledger
        self.api = PhoneApi(url, settings)
        self.name = f"android:{url.name}"
        self.webhook_url, self.signing_key = webhook_url, signing_key
        self.state = "starting"
        self.stats = {"handed": 0, "probes": 0, "polls": 0}
        self._registered = not settings.register_webhooks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._next_recover = time.monotonic() + settings.recover_interval
        # As a modem worker: woken by the outbox (the store calls back when rows are added) rather than asking
        # it every `claim_interval`; with nothing held by the phone it sleeps until the next retry is due, the
        # recovery look, or `claim_fallback` (another process's rows on SQLite). A fake outbox: every interval.
        self._work = threading.Event()
        listen = getattr(outbox, "on_outbox", None)
        self.claim_fallback = float(listen(self._work.set)) if callable(listen) else settings.claim_interval
        self._claim_wait = settings.claim_interval

    # ---------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        self._work.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Messages the phone still holds stay `sending`: the next run asks the phone about them (by id)."""
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def healthy(self) -> bool:
        return self.state == "ready"

    def run(self) -> None:
        failures = 0
        reconnect = self.settings.policy.reconnect
        while not self._stop.is_set():
            try:
                if not self.healthy:
                    self._connect()
                failures = 0
                self._serve()
            except Refused as exc:  # _connect and _serve let only a refusal of our credentials through
                self._down("refused", f"the phone refuses our user/password ({exc}): check the --gateway URL "
                                      "against the app's Local Server settings")
                self._stop.wait(reconnect.cap)
            except (Unreachable, NoAnswer, PhoneDown) as exc:
                delay = reconnect.delay(failures)
                self._down("down", f"{exc}; trying again in {delay:.0f} s")
                self._stop.wait(delay)
                failures += 1
            except Exception as exc:  # e.g. the database refused a claim: the thread must not die
                delay = reconnect.delay(failures)
                logger.exception("{}: unexpected {}; trying again in {:.0f} s", self.name, type(exc).__name__, delay)
                self._down("down", f"{type(exc).__name__}")
                self._stop.wait(delay)
                failures += 1
        self.state = "stopped"

    def _down(self, state: str, message: str) -> None:
        if self.state != state and not self._stop.is_set():
            logger.warning("{}: {}", self.name, message)
        self.state = state

    def _connect(self) -> None:
        self.stats["probes"] += 1
        try:
            self.api.probe()
            if not self._registered:
                for problem in self.api.register(self.webhook_url, self.signing_key):
                    logger.warning("{}: {}", self.name, problem)
                logger.info("{}: webhooks registered to {}", self.name, self.webhook_url)
                self._registered = True
        except Refused as exc:
            if exc.status in AUTH_STATUSES:
                raise
            raise PhoneDown(str(exc)) from exc
        if self.state != "ready":
            logger.info("{}: the phone answers; sending", self.name)
        self.state = "ready"

    # ---------------------------------------------------------------------------------- main loop

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._work.clear()  # before the look: a commit during it brings the next one at once
            self._poll_due()
            if time.monotonic() >= self._next_recover:
                self._next_recover = time.monotonic() + self.settings.recover_interval
                self._recover()
            self._send_while_room()
            self._work.wait(self._idle_timeout())

    def _idle_timeout(self) -> float:
        """While the phone holds messages, every `claim_interval` (their states, room for more); else until the
        next retry or recovery look, at most `claim_fallback`."""
        if self.ledger.count(self.name):
            return self.settings.claim_interval
        return max(0.0, min(self._claim_wait, self._next_recover - time.monotonic()))

    def _recover(self) -> None:
        """SMS a dead process left `sending` go back to the queue. Named "" so that this process's own held
        items (claimed under this worker's name) are never taken back while the phone has them."""
        count = self.outbox.recover(Channel.SMS, self.clock(), worker="")
        if count:
            logger.warning("{}: {} SMS left sending by a stopped process are queued again", self.name, count)

    def _send_while_room(self) -> None:
        while (self.healthy and not self._stop.is_set()
               and self.ledger.count(self.name) < self.settings.max_in_flight):
            items = self.outbox.claim(Channel.SMS, self.clock(), limit=1, worker=self.name)
            if not items:
                self._claim_wait = self._wait_for_work()
                return
            self._hand(items[0])
        self._claim_wait = self.settings.claim_interval

    def _wait_for_work(self) -> float:
        """After a claim found nothing: until the earliest pending item is due (at least `claim_interval`), at
        most `claim_fallback`."""
        return float(idle_wait(self.outbox, Channel.SMS, self.clock(), self.settings.claim_interval,
                               self.claim_fallback))

    # ---------------------------------------------------------------------------------- sending

    def _hand(self, item: OutboxItem) -> None:
        if not _PHONE.fullmatch(item.to):
            self.outbox.failed(item.id, self.clock(), f"not a phone number: {item.to!r}")
            return
        text = remaining_text(item)
        mid = message_id(item)
        held = Held(item, mid, ",".join([*item.parts_sent, mid]), self.name)
        if not text:  # a modem had sent every part before it stopped
            self.outbox.sent(item.id, self.clock(), native_id=",".join(item.parts_sent))
            return
        self.ledger.hold(held)  # before the request: a webhook faster than the answer finds it
        try:
            state = self.api.send(mid, item.to, text)
        except Unreachable as exc:
            self.ledger.take(mid)
            self.outcomes.retry(item, f"phone unreachable: {exc}", backoff(item.attempts, self.settings))
            raise
        except NoAnswer as exc:
            self._unsure(held, str(exc))
            raise PhoneDown(f"no answer while handing outbox #{item.id}: {exc}") from exc
        except Refused as exc:
            self._refused(held, exc)
            return
        self.stats["handed"] += 1
        held.accepted = True
        held.next_poll = time.monotonic() + self.settings.poll_interval
        logger.info("{}: outbox #{} to {} handed to the phone as {} ({})", self.name, item.id, mask(item.to), mid,
                    state.state)
        self.outcomes.settle(mid, state)

    def _unsure(self, held: Held, why: str) -> None:
        """The phone may or may not have the message: keep the claim and ask it by id once it answers."""
        held.accepted, held.next_poll = False, 0.0
        logger.warning("{}: outbox #{}: {}; the phone is asked whether it has {} before anything is sent again",
                       self.name, held.item.id, why, held.message_id)

    def _refused(self, held: Held, exc: Refused) -> None:
        item = held.item
        if exc.status == 409:  # the phone has this id already: a send before a crash, or a lost answer
            logger.info("{}: outbox #{}: the phone already has {}; not sent again", self.name, item.id,
                        held.message_id)
            held.accepted, held.next_poll = True, 0.0
            return
        if exc.status in AUTH_STATUSES or exc.status == 404 or exc.status >= 500:
            if exc.status >= 500:
                self._unsure(held, f"the phone failed ({exc})")
            else:
                self.ledger.take(held.message_id)
                self.outcomes.retry(item, f"the phone refused the request: {exc}", self.settings.pause_after_loss)
            if exc.status in AUTH_STATUSES:
                raise exc
            raise PhoneDown(f"the phone answered {exc}")
        self.ledger.take(held.message_id)
        self.outbox.failed(item.id, self.clock(), f"the phone refused it: {exc}")
        logger.warning("{}: outbox #{} refused by the phone: {}", self.name, item.id, exc)

    # ---------------------------------------------------------------------------------- asking

    def _poll_due(self) -> None:
        for held in self.ledger.due(self.name, time.monotonic()):
            self.stats["polls"] += 1
            try:
                state = self.api.state(held.message_id)
            except Refused as exc:
                if exc.status in AUTH_STATUSES:
                    raise
                raise PhoneDown(f"asking after {held.message_id}: {exc}") from exc
            held.next_poll = time.monotonic() + self.settings.poll_interval
            if state is not None:
                self.outcomes.settle(held.message_id, state)
            elif self.ledger.take(held.message_id) is not None:
                why = "the phone never got it" if not held.accepted else "the phone no longer knows it"
                self.outcomes.retry(held.item, why, self.settings.pause_after_loss)
