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
from http import HTTPStatus
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
    """Its own HTTP server on `listen`; or, with `shared` (the service's web console's base URL), no server of
    its own: the console's listener hands it the webhook path's requests (`wsgi`)."""

    def __init__(self, listen: str, key: str, handle: Handler, settings: GatewaySettings,
                 wall: Callable[[], float] = time.time, shared: str | None = None) -> None:
        self.key, self.handle, self.settings, self.wall = key, handle, settings, wall
        self.shared = shared.rstrip("/") if shared is not None else None
        self.tls = False
        if self.shared is not None:
            return
        host, port = parse_listen(listen)
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
        if self.shared is not None:
            return f"{self.shared}{WEBHOOK_PATH}"
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{port}{WEBHOOK_PATH}"

    def start(self) -> None:
        if self.shared is None:
            self._thread.start()
        logger.info("android: webhooks listened for on {}{}", self.url,
                    " (the web console's listener)" if self.shared is not None else "")

    def stop(self) -> None:
        if self.shared is not None:
            return
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, length: str, read: Callable[[int], bytes], signature: str | None,
               timestamp: str | None, client: str) -> tuple[int, str]:
        """One POST: the status and message to answer it with. Nothing is read from the JSON of a request
        that is not signed and fresh; the handler's work (an inbox commit) is done before a 200."""
        if urlsplit(path).path.rstrip("/") != WEBHOOK_PATH:
            return 404, "not found"
        if not length.isdigit():
            return 411, "length required"
        if int(length) > self.settings.max_body:
            return 413, "too large"
        body = read(int(length))
        why = refusal(self.key, body, signature, timestamp, self.wall(), self.settings.signature_tolerance)
        if why is not None:
            logger.warning("android: webhook from {} refused: {}", client, why)
            return 401, why
        try:
            self.handle(_envelope(body), body)
        except Exception:
            logger.exception("android: a webhook could not be recorded; the phone will send it again")
            return 500, "not recorded"
        return 200, "ok"

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The same, as a WSGI application: how the web console's listener serves the webhook path."""
        if environ.get("REQUEST_METHOD") != "POST":
            status, message = 405, "POST only"
        else:
            stream = environ["wsgi.input"]
            status, message = self.answer(environ.get("PATH_INFO", ""), str(environ.get("CONTENT_LENGTH") or ""),
                                          stream.read, environ.get("HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")),
                                          environ.get("HTTP_" + TIMESTAMP_HEADER.upper().replace("-", "_")),
                                          str(environ.get("REMOTE_ADDR", "?")))
        data = json.dumps({"message": message}).encode()
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


class _Request(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a client that opens a connection and sends nothing is dropped

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_POST(self) -> None:
        status, message = self.server.listener.answer(
            self.path, self.headers.get("Content-Length", ""), self.rfile.read, self.headers.get(SIGNATURE_HEADER),
            self.headers.get(TIMESTAMP_HEADER), self.client_address[0])
        self._answer(status, message)

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
