"""The webhook listener: the phone POSTs its events here; only signed, fresh requests are let in.

A stdlib `ThreadingHTTPServer` in a thread, bound to the address the operator gives (127.0.0.1 unless told
otherwise). Every request is checked before anything is read from its JSON: a missing, wrong or stale
signature is answered 401 and nothing is stored. The handler's work (an inbox commit) is done before the
answer, so a 200 means the event is recorded; on any error the answer is 500 and the phone sends it again.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from .settings import WEBHOOK_PATH, GatewaySettings
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, refusal

# (the parsed JSON envelope, or None when the body is not a JSON object; the raw body)
Handler = Callable[[dict[str, Any] | None, bytes], None]


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT`, `[::1]:PORT` or a bare `PORT` (on 127.0.0.1)."""
    text = listen.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--gateway-listen wants HOST:PORT (e.g. 127.0.0.1:8555), not {listen!r}")
    return host, int(port)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    listener: WebhookListener

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A broken connection (a failed TLS handshake, a client gone) is logged, not printed to stderr."""
        logger.debug("android webhooks: connection from {} failed", client_address[0])


class WebhookListener:
    def __init__(self, listen: str, key: str, handle: Handler, settings: GatewaySettings,
                 wall: Callable[[], float] = time.time) -> None:
        host, port = parse_listen(listen)
        self.key, self.handle, self.settings, self.wall = key, handle, settings, wall
        server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6}) if ":" in host else _Server
        self.server = server_class((host, port), _Request)  # binds now: a taken port is an error at start-up
        self.server.listener = self
        self.tls = bool(settings.tls_cert)
        if settings.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(settings.tls_cert, settings.tls_key)
            # The handshake happens in the connection's own thread (see _Request.setup), under its timeout.
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        if host in ("0.0.0.0", "::"):
            logger.warning("android: the webhook listener takes connections on every network interface ({}); "
                           "only signed webhooks are accepted", listen)
        self._thread = threading.Thread(target=self.server.serve_forever, name="android-webhooks", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """The URL the phone should post to when the operator gives none."""
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{port}{WEBHOOK_PATH}"

    def start(self) -> None:
        self._thread.start()
        logger.info("android: webhooks listened for on {}", self.url)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


class _Request(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a client that opens a connection and sends nothing is dropped

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_POST(self) -> None:
        listener = self.server.listener
        if urlsplit(self.path).path.rstrip("/") != WEBHOOK_PATH:
            self._answer(404, "not found")
            return
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._answer(411, "length required")
            return
        if int(length) > listener.settings.max_body:
            self._answer(413, "too large")
            return
        body = self.rfile.read(int(length))
        why = refusal(listener.key, body, self.headers.get(SIGNATURE_HEADER), self.headers.get(TIMESTAMP_HEADER),
                      listener.wall(), listener.settings.signature_tolerance)
        if why is not None:
            logger.warning("android: webhook from {} refused: {}", self.client_address[0], why)
            self._answer(401, why)
            return
        try:
            listener.handle(_envelope(body), body)
        except Exception:
            logger.exception("android: a webhook could not be recorded; the phone will send it again")
            self._answer(500, "not recorded")
            return
        self._answer(200, "ok")

    def do_GET(self) -> None:
        self._answer(405, "POST only")

    do_PUT = do_PATCH = do_DELETE = do_GET

    def _answer(self, status: int, message: str) -> None:
        data = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("android webhooks: {} {}", self.client_address[0], format % args)


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        decoded = json.loads(body)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None
