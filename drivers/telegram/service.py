"""The Telegram side of `absensi run`: log in, receive updates, deliver the outbox, keep menus fresh.

One coroutine, `TelegramService.run(stop)`, owns the kurigram client for the life of the service.
Network trouble at start or later is retried with exponential backoff (kurigram also reconnects its
own connection); credentials Telegram rejects stop the service with a message that says which
variable to fix, because retrying a wrong token only earns a ban.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger
from pyrogram import Client, errors

from absensi.engine.ports import DeliveryPolicy, Inbox, Outbox

from .credentials import (
    API_HASH_VAR,
    API_ID_VAR,
    TOKEN_VAR,
    Credentials,
    TelegramCredentialsError,
    credentials_from_env,
    parse_credentials,
)
from .deliver import Deliverer
from .inbound import InboundHandlers
from .menus import MenuMap, MenuSync
from .session import PrivateSQLiteStorage, forget_session, session_name

ClientFactory = Callable[[Credentials, Path], Any]
_SESSION_GONE = (errors.AuthKeyUnregistered, errors.AuthKeyInvalid, errors.SessionRevoked, errors.SessionExpired)
_BAD_TOKEN = (errors.AccessTokenInvalid, errors.AccessTokenExpired)
_BAD_API = (errors.ApiIdInvalid, errors.ApiIdPublishedFlood)


class SessionLost(RuntimeError):
    """Telegram dropped the bot's session while running; the service logs in again."""


def make_client(credentials: Credentials, session_dir: Path) -> Client:
    """A kurigram client whose session file is owner-only and which never sleeps on FloodWait itself
    (`sleep_threshold=0`): the deliverer handles every wait, so one slow chat blocks nobody else."""
    return Client(
        session_name(credentials.bot_id),
        api_id=credentials.api_id,
        api_hash=credentials.api_hash,
        bot_token=credentials.bot_token,
        workdir=session_dir,
        storage_engine=PrivateSQLiteStorage(session_dir, credentials.bot_id),
        sleep_threshold=0,
    )


class TelegramService:
    """Runs the bot until `stop` is set. Call `await service.run(stop)` inside the service's event loop."""

    def __init__(
        self,
        inbox: Inbox,
        outbox: Outbox,
        *,
        session_dir: Path,
        clock: Callable[[], datetime],
        menus: Callable[[], MenuMap] | None = None,
        texts: Callable[[], Mapping[str, str]] = dict,
        credentials: Credentials | None = None,
        token: str | None = None,
        api_id: int | str | None = None,
        api_hash: str | None = None,
        client_factory: ClientFactory = make_client,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        policy: DeliveryPolicy | None = None,
        menu_interval: float = 600.0,
    ) -> None:
        self.credentials = credentials or _resolve_credentials(token, api_id, api_hash)
        self.inbox, self.outbox = inbox, outbox
        self.session_dir = Path(session_dir)
        self.clock, self.menus, self.sleep = clock, menus, sleep
        self.client_factory, self.policy = client_factory, policy or DeliveryPolicy()
        self.menu_interval = menu_interval
        self.texts = texts  # what the driver says itself (engine.ports.DRIVER_TEXTS), current after a reload
        self.handlers = InboundHandlers(inbox, clock, texts)
        self.client: Any = None
        self._deliverer: Deliverer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected_since: datetime | None = None  # for health(): None while not connected …
        self._down_since: datetime | None = clock()  # … and since when
        self._error: str | None = None
        # Woken by the outbox (the store calls back when rows are committed, here or — NOTIFY — in another
        # process) rather than asking it every second; the store says how long a look may wait at most.
        listen = getattr(outbox, "on_outbox", None)
        self.fallback: float | None = float(listen(self.wake)) if callable(listen) else None

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop`; reconnect with backoff after failures; raise only for bad credentials."""
        self._loop = asyncio.get_running_loop()
        self.session_dir.mkdir(parents=True, exist_ok=True)
        failures = 0
        while not stop.is_set():
            try:
                await self._serve(stop)
                failures = 0
            except TelegramCredentialsError as exc:
                self._lost(exc)
                raise
            except Exception as exc:
                self._lost(exc)
                failures += 1
                delay = self.policy.reconnect.delay(failures)
                logger.warning("telegram: connection lost or Telegram unreachable ({}: {}); check the internet "
                               "connection; reconnecting in {:.0f} s", type(exc).__name__, exc, delay)
                await _sleep_or_stop(self.sleep(delay), stop)

    def health(self) -> dict[str, Any]:
        """The connection as `absensi status` and the alerts see it (JSON types; any thread): connected or
        since when not (a send failing for the network counts), the last error, a flood wait in force."""
        deliverer = self._deliverer
        down = self._down_since
        if down is None and deliverer is not None and deliverer.network_down_since is not None:
            down = deliverer.network_down_since
        flood = deliverer.flood_wait_until if deliverer is not None else None
        return {"configured": True, "connected": down is None, "bot_id": self.credentials.bot_id,
                "since": self._connected_since.isoformat() if self._connected_since and down is None else None,
                "down_since": down.isoformat() if down else None, "error": self._error,
                "flood_wait_until": flood.isoformat() if flood else None}

    def _lost(self, exc: BaseException) -> None:
        self._connected_since = None
        self._down_since = self._down_since or self.clock()
        self._error = f"{type(exc).__name__}: {exc}"[:200]

    def wake(self) -> None:
        """Thread-safe: new items are in the outbox; look at it now rather than at the next fallback look."""
        loop = self._loop
        if loop is not None and self._deliverer is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the service has stopped
                loop.call_soon_threadsafe(self._wake_deliverer)

    def _wake_deliverer(self) -> None:
        if self._deliverer is not None:  # between two connections the next deliverer looks at once anyway
            self._deliverer.wake()

    async def _serve(self, stop: asyncio.Event) -> None:
        self.client = await self._start_client()
        me = self.client.me
        logger.info("telegram: connected as @{} ({})", getattr(me, "username", "?"), getattr(me, "id", "?"))
        self._connected_since, self._down_since, self._error = self.clock(), None, None
        self._deliverer = Deliverer(self.outbox, self.client, clock=self.clock, sleep=self.sleep,
                                    policy=self.policy, texts=self.texts, fallback=self.fallback)
        try:
            await _all_or_first_error(self._deliverer.run(stop), self._refresh_menus(stop))
        except TelegramCredentialsError as exc:
            # The session died while running (revoked, or logged out elsewhere). Start afresh: the login
            # with the token decides whether this is recoverable or a credentials problem to report.
            forget_session(self.session_dir, self.credentials.bot_id)
            raise SessionLost(str(exc)) from exc
        finally:
            self._deliverer = None
            with contextlib.suppress(Exception):
                await self.client.stop()

    async def _start_client(self) -> Any:
        """Start a client; a session Telegram forgot (token revoked) is deleted and login is tried once more."""
        try:
            return await self._login()
        except _SESSION_GONE as exc:
            if not forget_session(self.session_dir, self.credentials.bot_id):
                raise _rejected(exc) from exc
            logger.warning("telegram: stored session no longer valid ({}); logging in again", exc)
            try:
                return await self._login()
            except _SESSION_GONE as again:
                raise _rejected(again) from again

    async def _login(self) -> Any:
        client = self.client_factory(self.credentials, self.session_dir)
        self.handlers.register(client)
        try:
            await client.start()
        except _BAD_TOKEN as exc:
            raise TelegramCredentialsError(
                f"Telegram rejected {TOKEN_VAR} ({exc.ID}): copy the current token from BotFather (/token)."
            ) from exc
        except _BAD_API as exc:
            raise TelegramCredentialsError(
                f"Telegram rejected {API_ID_VAR}/{API_HASH_VAR} ({exc.ID}): copy both from my.telegram.org → API development tools."
            ) from exc
        return client

    async def _refresh_menus(self, stop: asyncio.Event) -> None:
        if self.menus is None:
            return
        sync = MenuSync(self.client, self.sleep)
        while not stop.is_set():
            try:
                await sync.apply(self.menus())
            except Exception as exc:
                logger.warning("telegram: menus not refreshed: {}", exc)
            await _sleep_or_stop(self.sleep(self.menu_interval), stop)


def _resolve_credentials(token: str | None, api_id: int | str | None, api_hash: str | None) -> Credentials:
    if token and api_id and api_hash:
        return parse_credentials(token, api_id, api_hash)
    credentials, reason = credentials_from_env()
    if credentials is None:
        raise TelegramCredentialsError(reason)
    return credentials


def _rejected(exc: BaseException) -> TelegramCredentialsError:
    return TelegramCredentialsError(
        f"Telegram does not accept the bot's login ({type(exc).__name__}); check {TOKEN_VAR} with BotFather."
    )


async def _all_or_first_error(*jobs: Awaitable[None]) -> None:
    """Run the jobs together; if one fails, cancel the others and raise its error as it is."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _sleep_or_stop(sleeping: Awaitable[None], stop: asyncio.Event) -> None:
    tasks = [asyncio.ensure_future(sleeping), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when cancelled: leave no waiter behind
        for task in tasks:
            task.cancel()
