"""The Telegram driver: pyrogram updates in, outbox items out, nothing decided here.

Wiring it into a service (asyncio):

    credentials, why = credentials_from_env()
    if credentials is None:
        logger.warning(why)                      # run without Telegram; items wait in the outbox
    else:
        telegram = TelegramService(store, store, session_dir=school_dir, clock=now_utc,
                                   menus=engine.telegram_menus, texts=engine.driver_texts,
                                   credentials=credentials)
        tasks.append(asyncio.create_task(telegram.run(stop)))   # returns when `stop` is set
        ...
        telegram.wake()                          # after the engine wrote outbox rows (thread-safe)

`run` raises `TelegramCredentialsError` only for credentials Telegram rejects; network trouble is
retried inside. The ports (`Inbox.submit`, the `Outbox` methods) are called on the event loop's
thread, so they should be quick local commits. A synchronous service can run the driver in its own
thread: `threading.Thread(target=asyncio.run, args=(telegram.run(stop),))`, with `stop` set through
`loop.call_soon_threadsafe(stop.set)`; the store must then accept calls from that thread.
"""

from importlib import import_module

from .credentials import (
    Credentials,
    TelegramCredentialsError,
    credentials_from_env,
    parse_credentials,
)

# pyrogram comes with the parts that use it, imported at their first use: a service reads the credentials
# first and, without them, runs without Telegram and without loading pyrogram (issue 11).
_LAZY = {"Deliverer": ".deliver", "Limits": ".pacing", "Pacer": ".pacing", "TelegramService": ".service",
         "make_client": ".service"}

__all__ = [
    "Credentials",
    "Deliverer",
    "Limits",
    "Pacer",
    "TelegramCredentialsError",
    "TelegramService",
    "credentials_from_env",
    "make_client",
    "parse_credentials",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
