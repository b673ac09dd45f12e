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
from typing import Any

from loguru import logger
from rich.console import Console

from .core import Engine
from .messages import Channel
from .rules import CompiledRules
from .school import School
from .staffchat import allowed_commands
from .store import Store
from .turn import Turn

POLL_SECONDS = 0.5
TICK_SECONDS = 30.0

HOW_TO = """Nothing to serve: neither a modem nor Telegram is configured.
  SMS:      absensi run --modem /dev/serial/by-id/usb-HUAWEI_…-if00-port0   (see docs/modem.md)
  Telegram: export TELEGRAM_BOT_TOKEN=… TELEGRAM_API_ID=… TELEGRAM_API_HASH=…  (see docs/telegram.md)
  To try everything without hardware or accounts: absensi demo"""


def clock() -> datetime:
    return datetime.now(UTC)


def command_menus(engine: Engine) -> dict[int, list[tuple[str, str]]]:
    """Per linked Telegram account, the commands its roles allow (for Telegram's command menu)."""
    with engine.store.unit() as session:
        turn = Turn(engine, session, clock())
        users = {s.telegram_id for s in engine.school.staff if s.telegram_id} | set(turn.linked_phones().values())
        rules = engine.rules.commands
        return {uid: [(c, rules[c].description) for c in allowed_commands(turn, turn.roles_of(uid))]
                for uid in users if uid is not None}


def engine_loop(engine: Engine, stop: threading.Event, now: Callable[[], datetime] = clock,
                poll: float = POLL_SECONDS, wake: Callable[[], None] | None = None) -> None:
    """Handle the inbox as it fills; run the scheduler every TICK_SECONDS. Survives its own errors.

    `wake` tells the Telegram driver that replies are waiting, so they go out now, not at its next poll.
    """
    last_tick = -TICK_SECONDS
    while not stop.is_set():
        try:
            produced = engine.process_pending(now())
            if time.monotonic() - last_tick >= TICK_SECONDS:
                produced += engine.tick(now())
                last_tick = time.monotonic()
            if wake is not None and any(m.channel == Channel.TELEGRAM for m in produced):
                wake()
        except Exception:
            logger.exception("engine loop error; continuing")
        stop.wait(poll)


def serve(rules: CompiledRules, school: School, url: str, modems: list[str], pin: str | None,
          console: Console, modem_rate: float | None = None) -> int:
    from absensi.drivers.telegram import TelegramCredentialsError, credentials_from_env

    credentials, reason = credentials_from_env()
    if not modems and credentials is None:
        console.print(HOW_TO)
        console.print(f"(Telegram: {reason})")
        return 2
    store = Store(url)
    engine = Engine(rules, school, store, clock())
    console.print(f"absensi: {school.name}, {len(school.students)} students, database {_safe_url(url)}")
    telegram = _telegram_service(engine, store, credentials, school) if credentials is not None else None
    stop = threading.Event()
    worker = threading.Thread(target=engine_loop, args=(engine, stop, clock, POLL_SECONDS,
                                                        telegram.wake if telegram else None),
                              name="engine", daemon=True)
    worker.start()
    pool = _start_modems(modems, store, pin, console, modem_rate)
    if credentials is None:
        console.print(f"Telegram: not running ({reason}); Telegram messages wait in the outbox.")
    try:
        if telegram is not None:
            asyncio.run(_run_telegram(telegram))
        else:
            _wait_for_signal()
    except KeyboardInterrupt:
        pass
    except TelegramCredentialsError as exc:
        console.print(f"[red]Telegram refused the credentials: {exc}[/red]")
        return 1
    finally:
        stop.set()
        if pool is not None:
            pool.stop()
        worker.join(timeout=5)
        store.close()
    return 0


def _start_modems(modems: list[str], store: Store, pin: str | None, console: Console, rate: float | None) -> Any:
    if not modems:
        console.print("SMS: no modem given (--modem PORT); SMS wait in the outbox.")
        return None
    from absensi.drivers.gsm import ModemPool

    pool = ModemPool(modems, store, store, pin=pin, clock=clock, send_rate_per_min=rate)
    pool.start()
    console.print(f"SMS: {len(modems)} modem(s): {', '.join(modems)}")
    return pool


def _telegram_service(engine: Engine, store: Store, credentials: Any, school: School) -> Any:
    from absensi.drivers.telegram import TelegramService

    return TelegramService(store, store, session_dir=school.directory, clock=clock,
                           menus=lambda: command_menus(engine), credentials=credentials)


async def _run_telegram(service: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.run(stop)


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


def _safe_url(url: str) -> str:
    """The URL without its password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
