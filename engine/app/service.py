"""`absensi run`: the engine worker, the scheduler and whichever drivers are configured.

Drivers commit inbound messages to the inbox from their own threads; one engine thread handles the
inbox in order and runs the scheduled jobs; drivers take their work from the outbox. The database is
the only thing they share.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loguru import logger
from rich.console import Console

from ..messages import Channel, OutboundMessage
from ..ports import DRIVER_TEXTS, DeliveryPolicy, DriverOptions
from ..rules import CompiledRules
from ..rules.diagnostics import Problems
from ..school.model import School
from ..school.staging import settle
from ..store import Store
from ..store.lease import RETRY_SECONDS, Lease, current_holder
from .drivers import Started, UnknownDriver, Warm, start_all
from .monitor import Monitor
from .reload import Watch, load_checked
from .stopping import StopAsked, Stopping
from .wakeup import Wakeup

if TYPE_CHECKING:  # the engine and its handlers are imported when an engine is built (`new_engine`): the
    from ..core import Engine  # service's drivers start first, so the modem initialises meanwhile

POLL_SECONDS = 2.0  # without a wake-up signal (tests, SQLite across processes): the longest wait
TICK_SECONDS = 30.0
WATCH_SECONDS = 5.0  # how often the roster and rules files are looked at (with the lease's heartbeat)
WATCH_SLACK = 1.0  # a look due this soon is taken now: it shares the heartbeat's wake-up

HOW_TO = """Neither a modem nor Telegram is configured: the engine runs, and what it sends waits in the outbox.
  SMS:      absensi run --modem /dev/serial/by-id/usb-HUAWEI_…-if00-port0   (see docs/modem.md)
            absensi run --gateway http://user:pass@192.168.1.20:8080       (an Android phone, docs/android.md)
  Telegram: export TELEGRAM_BOT_TOKEN=… TELEGRAM_API_ID=… TELEGRAM_API_HASH=…  (see docs/telegram.md)
  To try everything without hardware or accounts: absensi demo"""


def clock() -> datetime:
    return datetime.now(UTC)


def command_menus(engine: Engine | None) -> dict[int, list[tuple[str, str]]]:
    """Per linked Telegram account, the commands its roles allow (for Telegram's command menu)."""
    if engine is None:  # a standby: the engine process keeps the menus
        return {}
    from ..chat.staff import allowed_commands, command_description
    from ..turn import Live, Turn

    with engine.store.unit() as session:  # its own Live: this runs in the Telegram thread, not the engine's
        turn = Turn(Live(engine.rules, engine.school), session, clock())
        users = {s.telegram_id for s in engine.school.staff if s.telegram_id} | set(turn.linked_phones().values())
        menus = {}
        for uid in users:
            if uid is not None:
                roles = turn.roles_of(uid)  # a role's variant of a command (the admin's /status) says its own words
                menus[uid] = [(c, command_description(turn, c, roles)) for c in allowed_commands(turn, roles)]
        return menus


def engine_loop(engine: Engine, stop: threading.Event, now: Callable[[], datetime] = clock,
                poll: float = POLL_SECONDS, wake: Callable[[], None] | None = None,
                wakeup: Wakeup | None = None) -> None:
    """Handle the inbox as it fills and run the scheduler when it is due. Survives its own errors.

    Between rounds it waits for `wakeup` (an inbox commit, here or, on PostgreSQL, in another process) for
    `poll` seconds at most, less when a scheduled job falls due sooner; without `wakeup` it looks every
    `poll` seconds. `wake` tells the Telegram driver that replies are waiting, so they go out now.
    """
    ticks = Ticks()
    while not stop.is_set():
        if wakeup is not None:
            wakeup.clear()  # before the round: a commit during it brings the next one at once
        _round(engine, now, ticks, wake)
        timeout = min(poll, ticks.until_due(now()))
        if wakeup is not None:
            wakeup.wait(timeout)
        else:
            stop.wait(timeout)


class Ticks:
    """When the scheduled jobs next run: every TICK_SECONDS (the alerts, failed deliveries), and at once when
    the scheduler's next due time (a reminder, a new day) comes sooner."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.next_job: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last is None or time.monotonic() - self.last >= TICK_SECONDS \
            or (self.next_job is not None and now >= self.next_job)

    def ran(self, engine: Engine, now: datetime) -> None:
        self.last, self.next_job = time.monotonic(), engine.next_due(now)

    def until_due(self, now: datetime) -> float:
        """Seconds until the next run is due (0 when it is)."""
        if self.last is None:
            return 0.0
        wait = TICK_SECONDS - (time.monotonic() - self.last)
        if self.next_job is not None:
            wait = min(wait, (self.next_job - now).total_seconds())
        return max(0.0, wait)


def _round(engine: Engine, now: Callable[[], datetime], ticks: Ticks, wake: Callable[[], None] | None) -> None:
    """Handle what the inbox holds and the scheduled jobs when due; survives its own errors."""
    try:
        produced = engine.process_pending(now())
        moment = now()
        if ticks.due(moment):
            try:
                produced += engine.tick(moment)
            finally:
                ticks.ran(engine, moment)
        if wake is not None and any(m.channel == Channel.TELEGRAM for m in produced):
            wake()
    except Exception:
        logger.exception("engine loop error; continuing")


def new_engine(rules: CompiledRules, school: School, store: Store, now: datetime) -> Engine:
    from ..core import Engine

    return Engine(rules, school, store, now)


class Leader:
    """The engine of `absensi run`, built only while this process holds the lease (SPEC §8).

    A standby's drivers keep serving: they fill the inbox and drain the outbox; the leader alone handles
    messages and runs the scheduled jobs. When the leader dies, its lock goes with it and a standby takes
    over within RETRY_SECONDS of the database noticing.
    """

    def __init__(self, rules: CompiledRules, school: School, store: Store) -> None:
        self.rules, self.school, self.store = rules, school, store
        self.lease = Lease(store)
        self.engine: Engine | None = None
        self._standby_said = False
        self.watch = Watch(school.directory, rules.directory, store)
        self._next_watch = 0.0
        self.punched = threading.Event()  # a fingerprint pull stored punches: run the cross-checks now

    def request_reload(self) -> None:
        """SIGHUP: reload at the next look (between two messages)."""
        self.watch.signalled = True
        self._next_watch = 0.0

    def reload_if_changed(self, now: datetime) -> list[OutboundMessage]:
        """Every WATCH_SECONDS: a changed roster or rule set is validated whole, then used or refused."""
        if self.engine is None or time.monotonic() < self._next_watch - WATCH_SLACK:
            return []
        self._next_watch = time.monotonic() + WATCH_SECONDS
        settle(self.school.directory)  # an apply a crash or a failed restore left half done: never reload a mix
        if not self.watch.due():
            return []
        problems = Problems()
        loaded = load_checked(self.school.directory, self.rules.directory, problems)
        if loaded is None:
            logger.warning("reload refused: {} error(s) in the school data or rules; the running set stays",
                           len(problems.errors))
            return self.engine.refuse(problems.render(), len(problems.errors), now)
        self.rules, self.school = loaded
        logger.info("reload: new school data and rules in use")
        return self.engine.switch(self.rules, self.school, now)

    def try_lead(self, now: datetime) -> bool:
        """Hold the lease and have an engine; False while another process is the engine."""
        if self.lease.keep(now):
            if self.engine is None:
                self.engine = new_engine(self.rules, self.school, self.store, now)
            return True
        self.engine = None  # lost or never held: caches of a former leadership are not trusted
        if not self.lease.acquire(now):
            if not self._standby_said:
                holder = current_holder(self.store)
                logger.warning("standby: another process ({}) is the engine for this database; "
                               "taking over when it stops", holder.holder if holder else "?")
                self._standby_said = True
            return False
        self._standby_said = False
        self.engine = new_engine(self.rules, self.school, self.store, now)
        return True

    def run(self, stop: threading.Event, now: Callable[[], datetime] = clock, poll: float = POLL_SECONDS,
            wake: Callable[[], None] | None = None, wakeup: Wakeup | None = None) -> None:
        """Lead when the lease allows; then handle the inbox when `wakeup` fires (or every `poll` seconds at
        most), run the scheduler when due, keep the lease's heartbeat and look at the rule files."""
        ticks = Ticks()
        while not stop.is_set():
            if wakeup is not None:
                wakeup.clear()
            try:
                leading = self.try_lead(now())
            except Exception:
                logger.exception("engine lease: database unreachable; retrying")
                leading = False
            if not leading or self.engine is None:
                ticks = Ticks()  # a new leadership runs the jobs at once
                stop.wait(RETRY_SECONDS)
                continue
            if self.punched.is_set():
                self.punched.clear()
                ticks.last = None  # the scheduled jobs (the finger cross-checks among them) run this round
            try:
                self.reload_if_changed(now())
            except Exception:
                logger.exception("reload failed; the running set stays")
            _round(self.engine, now, ticks, wake)
            moment = now()
            timeout = min(poll, ticks.until_due(moment), self.lease.until_beat(moment),
                          max(0.0, self._next_watch - time.monotonic()))
            if wakeup is not None:
                wakeup.wait(timeout)
            else:
                stop.wait(timeout)
        self.lease.release()


def serve(rules: CompiledRules, school: School, url: str, modems: list[str], pin: str | None,
          console: Console, modem_rate: float | None = None, listen: str | None = None,
          fingers: list[str] | None = None, web: str | None = None, web_url: str | None = None,
          stopping: Stopping | None = None, warm: Warm | None = None) -> int:
    """`absensi run`: `modems` are the addresses of every SMS device (serial ports, pyserial URLs, gateway
    URLs); each is served by the driver its scheme names (`drivers.py`). `fingers`: fingerprint machines
    whose logs are pulled (`finger_pull.py`). SIGTERM and SIGINT stop it cleanly from its first moment on:
    during start-up the start-up ends and what was already started is stopped (`Stopping`; the command
    installs it before it imports this module). `warm`: devices the drivers began to start before the rules
    and the store were there (`drivers.warm_up`); their drivers take them over."""
    own = stopping is None
    stopping = stopping or Stopping()  # first of all: until now a signal's default action kills the process
    try:
        return _serve(stopping, rules, school, url, modems, pin, console, modem_rate, listen, fingers, web,
                      web_url, warm or Warm())
    finally:
        if own:
            stopping.restore()


def _serve(stopping: Stopping, rules: CompiledRules, school: School, url: str, modems: list[str],
           pin: str | None, console: Console, modem_rate: float | None, listen: str | None,
           fingers: list[str] | None, web: str | None, web_url: str | None, warm: Warm) -> int:
    from absensi.drivers.telegram import TelegramCredentialsError, credentials_from_env

    credentials, reason = credentials_from_env()
    if fingers and not _finger_addresses(fingers, console):
        return 2
    if not modems and credentials is None and not fingers:  # still a service: the scheduler, reloads,
        console.print(HOW_TO)  # the console, a standby for another process's engine (SPEC §5)
    if stopping.asked.is_set():
        console.print("absensi: stopped")
        return 0
    store = Store(url)
    store.policy = rules.delivery_policy()
    leader = Leader(rules, school, store)
    console.print(f"absensi: {school.name}, {len(school.students)} students, database {_safe_url(url)}")
    site = pool = machines = monitor = telegram = wakeup = worker = None
    stop = threading.Event()
    try:
        stopping.check()
        try:
            site = _start_web(web, web_url, store, leader, console) if web else None
        except (ValueError, OSError) as exc:  # a wrong address, a taken port
            console.print(f"[red]Web: {exc}[/red]")
            return 2
        stopping.check()
        # With the console on, phones post their webhooks to its listener (unless --gateway-listen names
        # another address): one port to forward, one TLS set-up at the proxy.
        share = site is not None and (listen is None or _same_listener(listen, site.url))
        try:  # first: a modem initialises (mostly waiting on it) while the engine is built
            pool = _start_drivers(modems, store, DriverOptions(
                clock=clock, policy=rules.delivery_policy(), pin=pin, rate_per_min=modem_rate,
                listen=None if share else listen, mount=site.mount if share else None,
                warm=warm.started), console)
        except (UnknownDriver, ValueError, OSError) as exc:  # a wrong address, a missing key, a taken port
            console.print(f"[red]SMS: {exc}[/red]")
            return 2
        stopping.check()
        if not leader.try_lead(clock()):
            holder = current_holder(store)
            console.print(f"Engine: standby — {holder.holder if holder else 'another process'} handles messages; "
                          f"this one takes over when it stops (drivers serve meanwhile).")
        stopping.check()
        telegram = (_telegram_service(leader, store, credentials, school, rules.delivery_policy())
                    if credentials is not None else None)
        wakeup = Wakeup(store)  # drivers' inbox commits (and on PostgreSQL other processes') wake the engine
        worker = threading.Thread(target=leader.run, args=(stop, clock, wakeup.fallback,
                                                           telegram.wake if telegram else None, wakeup),
                                  name="engine", daemon=True)
        worker.start()
        signal.signal(signal.SIGHUP, lambda *_: (leader.request_reload(), wakeup.set()))
        if stopping.reload_asked:
            leader.request_reload()
        if credentials is None:
            console.print(f"Telegram: not running ({reason}); Telegram messages wait in the outbox.")
        machines = _start_fingers(fingers or [], store, leader, wakeup, console)
        # what the drivers know, published for `absensi status`, /status and the alerts (SPEC §9)
        monitor = Monitor(store, lambda: leader.rules, school.calendar.tz, pool, telegram, clock,
                          leading=lambda: leader.engine is not None, telegram_reason=reason or "",
                          fingers=machines, calendar=lambda: leader.school.calendar).start()
        stopping.check()
        if telegram is not None:
            asyncio.run(_run_telegram(telegram, stopping))
        else:
            stopping.asked.wait()
    except (StopAsked, KeyboardInterrupt):
        pass
    except TelegramCredentialsError as exc:
        console.print(f"[red]Telegram refused the credentials: {exc}[/red]")
        return 1
    finally:
        stop.set()
        if wakeup is not None:
            wakeup.close()
        if monitor is not None:
            monitor.stop()
        if pool is not None:
            pool.stop()
        if machines is not None:
            machines.stop()
        if site is not None:
            site.stop()
        if worker is not None:
            worker.join(timeout=5)
        if worker is None or not worker.is_alive():
            leader.lease.release()  # the engine thread releases it on its way out; not when it never ran
        store.close()
        console.print("absensi: stopped")
    return 0


def _start_drivers(addresses: list[str], store: Store, options: DriverOptions, console: Console) -> Started | None:
    if not addresses:
        console.print("SMS: no modem or gateway given (--modem PORT, --gateway URL); SMS wait in the outbox.")
        return None
    return start_all(addresses, store, store, options, say=console.print)


def _finger_addresses(addresses: list[str], console: Console) -> bool:
    from absensi.drivers.finger.poller import device_name

    try:
        names = [device_name(address) for address in addresses]
    except ValueError as exc:
        console.print(f"[red]Finger: {exc}[/red]")
        return False
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        console.print(f"[red]Finger: the same machine is given twice: {', '.join(twice)}[/red]")
    return not twice


def _start_fingers(addresses: list[str], store: Store, leader: Leader, wakeup: Wakeup, console: Console) -> Any:
    """A thread per fingerprint machine; new punches wake the engine, which runs its cross-checks at once."""
    if not addresses:
        return None
    from absensi.drivers.finger.poller import device_name

    from .finger_pull import start_pollers

    def punched() -> None:
        leader.punched.set()
        wakeup.set()

    minutes = leader.rules.rules.finger.poll_minutes
    console.print(f"Finger: {len(addresses)} machine(s): {', '.join(map(device_name, addresses))}, pulled every "
                  f"{minutes} min (rules/finger.yaml poll_minutes)", soft_wrap=True)
    return start_pollers(addresses, store, lambda: leader.school, lambda: leader.rules.rules.finger.poll_minutes,
                         punched)


def _same_listener(listen: str, served: str) -> bool:
    """Whether --gateway-listen names the address the console serves (`served`: its http://host:port)."""
    from ..web.server import parse_address

    try:
        return parse_address(listen) == parse_address(served.removeprefix("http://"))
    except ValueError:
        return False  # not an address: the driver says so in its own words


def _start_web(address: str, public_url: str | None, store: Store, leader: Leader, console: Console) -> Any:
    """The web console (issue 13) in threads of this process; Werkzeug and Jinja2 are imported only now."""
    from ..web.server import start

    site = start(store, lambda: leader.rules, lambda: leader.school, address, public_url)
    console.print(f"Web: console at {site.url}" + (f", links name {site.public_url}" if public_url else "")
                  + " (staff log in with /web in Telegram)")
    return site


def _telegram_service(leader: Leader, store: Store, credentials: Any, school: School, policy: DeliveryPolicy) -> Any:
    from absensi.drivers.telegram import TelegramService

    return TelegramService(store, store, session_dir=school.directory, clock=clock, policy=policy,
                           menus=lambda: command_menus(leader.engine), texts=lambda: driver_texts(leader),
                           credentials=credentials)


def driver_texts(leader: Leader) -> dict[str, str]:
    """What a chat driver says on its own (`ports.DRIVER_TEXTS`), from the rules and school in use: a reload
    changes them at once. Rendered on each use (a rare press the inbox refused, an old outbox row)."""
    rules, school = leader.rules, leader.school
    return {key: rules.render(template, school=school.name) for key, template in DRIVER_TEXTS.items()}


async def _run_telegram(service: Any, stopping: Stopping) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    forget = stopping.then(lambda: loop.call_soon_threadsafe(stop.set))  # the signal comes in this thread
    try:
        await service.run(stop)
    finally:
        forget()  # the loop closes next: a later signal only sets `stopping`


def _safe_url(url: str) -> str:
    """The URL without its password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
