"""Serving the console from a thread of the service, and what tests and the browser test need: a console on
a free loopback port (`start`) and a login link made exactly as `/web` makes one (`login_link`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger
from sqlmodel import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..operations.facts import publish
from ..rules import CompiledRules
from ..school.model import School
from ..store import Store, weblogin
from ..store.claims import process_tag
from .app import WebApp
from .auth import load_secret

PUBLISH_SECONDS = 60.0  # the console's public URL is refreshed in the store this often (for /web)


class _QuietHandler(WSGIRequestHandler):
    """No access log: a login link's path holds its token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: object) -> None:
        logger.debug("web: a request could not be read")  # its arguments may quote the request line


@dataclass
class Running:
    url: str  # where it listens: http://host:port
    public_url: str  # what links say (behind a proxy: https://…)
    app: WebApp
    _server: BaseWSGIServer
    _threads: list[threading.Thread]
    _stop: threading.Event
    _holder: str

    def mount(self, path: str, app: Callable[..., Any]) -> str:
        """Serve `path` with the WSGI application `app` on this listener (a driver's webhooks,
        `engine.ports.DriverOptions.mount`); returns the public base URL."""
        self.app.mounts[path.rstrip("/")] = app
        return self.public_url

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        try:
            with self.app.store.unit() as session:
                withdraw_console(session, self._holder)
        except Exception:
            logger.exception("web: could not withdraw the console's address")


def parse_address(address: str) -> tuple[str, int]:
    """"HOST:PORT", ":PORT" (loopback) or "PORT" (loopback); "[::1]:8080" for IPv6."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "", address
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--web: '{address}' is not HOST:PORT")
    return host, int(port)


def start(store: Store, rules: Callable[[], CompiledRules], school: Callable[[], School], address: str = "127.0.0.1:0",
          public_url: str | None = None, secret_dir: Path | None = None,
          clock: Callable[[], datetime] = lambda: datetime.now(UTC), secure: bool | None = None) -> Running:
    """Serve the console at `address` (port 0: a free one) in threads of this process; links made by `/web`
    name `public_url` (default: the address served). The cookie is Secure when `secure`, by default when
    `public_url` is https. The signing secret is kept in `secret_dir` (default: the school's directory)."""
    host, port = parse_address(address)
    directory = secret_dir or school().directory
    app = WebApp(store, rules, school, load_secret(directory), secure=False, clock=clock)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.server_port}"
    public = (public_url or url).rstrip("/")
    app.secure = public.startswith("https://") if secure is None else secure
    stop = threading.Event()
    holder = process_tag()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 1.0}, name="web", daemon=True)
    publishing = threading.Thread(target=_publish_loop, args=(store, holder, public, stop, clock), name="web-publish",
                                  daemon=True)
    _publish(store, holder, public, clock())  # before start returns: /web works at once
    serving.start()
    publishing.start()
    return Running(url, public, app, server, [serving, publishing], stop, holder)


def console_row(holder: str) -> str:
    return f"{weblogin.CONSOLE_KIND}:{holder}"


def _publish(store: Store, holder: str, public: str, now: datetime) -> None:
    with store.unit() as session:
        publish(session, holder, [(console_row(holder), weblogin.CONSOLE_KIND, {"url": public})], now)
        weblogin.forget_old(session, now)


def _publish_loop(store: Store, holder: str, public: str, stop: threading.Event, clock: Callable[[], datetime]) -> None:
    while not stop.wait(PUBLISH_SECONDS):
        try:
            _publish(store, holder, public, clock())
        except Exception:
            logger.exception("web: could not publish the console's address; retrying")


def withdraw_console(session: Session, holder: str) -> None:
    weblogin.withdraw_console(session, console_row(holder))


def login_link(store: Store, chat_id: int, base_url: str, now: datetime | None = None) -> str:
    """A one-time login link for the Telegram account `chat_id`, as `/web` makes it."""
    with store.unit() as session:
        token = weblogin.new_login(session, chat_id, now or datetime.now(UTC))
    return weblogin.link(base_url, token)
