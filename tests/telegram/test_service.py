"""The service logs in, reconnects with backoff, refuses bad credentials clearly, and delivers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pyrogram import errors, types

from absensi.drivers.telegram import TelegramCredentialsError, TelegramService, make_client
from absensi.drivers.telegram.credentials import Credentials
from absensi.drivers.telegram.session import PrivateSQLiteStorage, session_path

from .fakes import FakeTelegram, RecordingInbox, RecordingOutbox, SimClock

TOKEN = "7712345678:AAH3kd9_Zx-0123456789abcdefghijklmno"
HASH = "0123456789abcdef0123456789abcdef"


class FakeBotClient(FakeTelegram):
    """What the service needs of a kurigram Client, recorded; `start` may fail as scripted."""

    def __init__(self, clock: SimClock, start_error: BaseException | None = None) -> None:
        super().__init__(clock)
        self.start_error = start_error
        self.me = types.User(id=999, is_bot=True, first_name="Absensi", username="AbsensiSekolahBot")
        self.handlers: list[Any] = []
        self.started = self.stopped = False

    def add_handler(self, handler: Any, group: int = 0) -> None:
        self.handlers.append(handler)

    async def start(self) -> FakeBotClient:
        if self.start_error is not None:
            raise self.start_error
        self.started = True
        return self

    async def stop(self) -> None:
        self.stopped = True


class Factory:
    def __init__(self, clock: SimClock, *start_errors: BaseException | None) -> None:
        self.clients = [FakeBotClient(clock, e) for e in start_errors]
        self.made: list[FakeBotClient] = []

    def __call__(self, credentials: Credentials, session_dir: Path) -> FakeBotClient:
        client = self.clients.pop(0) if self.clients else FakeBotClient(self.made[-1].clock)
        self.made.append(client)
        return client


def service(tmp_path: Path, factory: Factory, clock: SimClock, outbox: RecordingOutbox | None = None,
            **extra: Any) -> TelegramService:
    return TelegramService(RecordingInbox(), outbox or RecordingOutbox(), session_dir=tmp_path / "school",
                           clock=clock, token=TOKEN, api_id="123456", api_hash=HASH, client_factory=factory,
                           sleep=clock.sleep, **extra)


async def run_until(svc: TelegramService, done: Any) -> None:
    stop = asyncio.Event()

    async def watch() -> None:
        while not done():
            await asyncio.sleep(0)
        stop.set()

    await asyncio.wait_for(asyncio.gather(svc.run(stop), watch()), timeout=5)


def test_without_credentials_the_service_cannot_be_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_ID", "TELEGRAM_API_HASH"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TelegramCredentialsError, match=r"TELEGRAM_BOT_TOKEN.*not set"):
        TelegramService(RecordingInbox(), RecordingOutbox(), session_dir=tmp_path, clock=SimClock())


@pytest.mark.parametrize(
    ("error", "words"),
    [(errors.AccessTokenInvalid(), "TELEGRAM_BOT_TOKEN"), (errors.ApiIdInvalid(), "TELEGRAM_API_ID")],
)
async def test_rejected_credentials_stop_the_service_with_the_variable_to_fix(tmp_path: Path, error: Exception,
                                                                              words: str):
    clock = SimClock()
    factory = Factory(clock, error)
    with pytest.raises(TelegramCredentialsError, match=words):
        await service(tmp_path, factory, clock).run(asyncio.Event())
    assert len(factory.made) == 1  # a wrong token is not retried


async def test_network_failures_at_start_are_retried_with_growing_backoff(tmp_path: Path):
    clock = SimClock()
    outbox = RecordingOutbox()
    item = outbox.add("700001", "Laporan diterima")
    factory = Factory(clock, OSError("Network is unreachable"), TimeoutError(), None)
    svc = service(tmp_path, factory, clock, outbox)
    await run_until(svc, lambda: outbox.state(item) == "sent")
    assert clock.slept[:2] == [2.0, 4.0]
    assert len(factory.made) == 3 and factory.made[-1].stopped
    assert len(factory.made[-1].handlers) == 2  # message and button-press handlers


async def test_a_revoked_session_is_forgotten_and_the_bot_logs_in_afresh(tmp_path: Path):
    clock = SimClock()
    outbox = RecordingOutbox()
    item = outbox.add("700001", "halo")
    path = session_path(tmp_path / "school", "7712345678")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old session")
    factory = Factory(clock, errors.AuthKeyUnregistered(), None)
    await run_until(service(tmp_path, factory, clock, outbox), lambda: outbox.state(item) == "sent")
    assert not path.exists() and len(factory.made) == 2


async def test_menus_are_applied_once_connected(tmp_path: Path):
    clock = SimClock()
    factory = Factory(clock, None)
    menus = {700001: [("absen", "Lapor absensi kelas")]}
    svc = service(tmp_path, factory, clock, menus=lambda: menus)
    await run_until(svc, lambda: bool(factory.made) and bool(factory.made[0].sent("set_bot_commands")))
    (call,) = factory.made[0].sent("set_bot_commands")
    assert call.chat_id == 700001 and call.kwargs["commands"][0].command == "absen"


async def test_wake_from_another_thread_is_safe(tmp_path: Path):
    clock = SimClock()
    outbox = RecordingOutbox()
    factory = Factory(clock, None)
    svc = service(tmp_path, factory, clock, outbox)
    stop = asyncio.Event()
    task = asyncio.ensure_future(svc.run(stop))
    while not factory.made or not factory.made[0].started:
        await asyncio.sleep(0)
    item = outbox.add("700001", "baru", due=clock.now)
    await asyncio.to_thread(svc.wake)
    while outbox.state(item) != "sent":
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


def test_the_real_client_keeps_its_session_in_the_school_directory_and_never_sleeps_on_floodwait(tmp_path: Path):
    client = make_client(Credentials(TOKEN, 123456, HASH), tmp_path)
    assert isinstance(client.storage, PrivateSQLiteStorage)
    assert client.storage.path == session_path(tmp_path, "7712345678")
    assert client.sleep_threshold == 0 and client.bot_token == TOKEN


async def test_a_session_revoked_while_running_is_dropped_and_the_bot_logs_in_again(tmp_path: Path):
    clock = SimClock()
    outbox = RecordingOutbox()
    item = outbox.add("700001", "halo")
    factory = Factory(clock, None, None)
    revoked = factory.clients[0]

    async def refuse(chat_id: int, text: str, **kwargs: Any) -> types.Message:
        raise errors.SessionRevoked()

    revoked.send_message = refuse  # type: ignore[method-assign]
    path = session_path(tmp_path / "school", "7712345678")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"session")
    svc = service(tmp_path, factory, clock, outbox, menus=lambda: {700001: [("absen", "Lapor")]})
    await run_until(svc, lambda: outbox.state(item) == "sent")
    assert factory.made[0].stopped and len(factory.made) == 2
    assert not path.exists()
    assert "no longer accepts" in outbox.rows[item].reasons[0]
    await asyncio.sleep(0)  # let cancelled waiters finish
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []  # nothing left running
