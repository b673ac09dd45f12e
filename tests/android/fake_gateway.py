"""A fake phone running SMS Gateway for Android in local-server mode, on loopback.

It follows the app's documented API (its swagger.json and README): basic auth on every route but /health;
`POST /message(s)` queues one message under the caller's `id` (202, the message's state) and answers 409
to an id it has; `GET /message(s)/{id}` gives the state (Pending → Processed → Sent → Delivered, or Failed
with the recipient's error) or 404; `POST /webhooks` registers (replacing one with the same id);
`PATCH /settings` takes `webhooks.signing_key`. The phone's own life is played by the test:
`advance` moves a message on and POSTs the webhook signed as the app signs it (hex HMAC-SHA256 of the body
followed by `X-Timestamp`), `receive` POSTs an `sms:received`; either may deliver the same webhook several
times, as the app does when an answer is lost. Knobs make the next send hang, drop or fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WIB = timezone(timedelta(hours=7))
_MESSAGE = re.compile(r"^/messages?(?:/([^/?]+))?$")
_NUMBER = re.compile(r"^\+?[0-9]{5,15}$")


def iso(stamp: datetime | None = None) -> str:
    """How the app writes dates: ISO 8601 with milliseconds and the phone's offset."""
    stamp = (stamp or datetime.now(UTC)).astimezone(WIB)
    return stamp.isoformat(timespec="milliseconds")


def sign(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


class FakeGateway:
    def __init__(self, user: str = "sms", password: str = "kata sandi:1", device_id: str = "fakeDevice000000001") -> None:
        self.user, self.password, self.device_id = user, password, device_id
        self.lock = threading.Lock()
        self.messages: dict[str, dict[str, Any]] = {}  # id -> phone, text, state, states, error
        self.posts: list[tuple[str, int | None]] = []  # (message id, status answered; None: no answer)
        self.webhooks: dict[str, dict[str, str]] = {}
        self.settings: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.radio: list[str] = []  # ids in the order the phone put them on the network (Sent)
        self.hang_next_post = False  # store the message, then never answer (until `release`)
        self.drop_next_post = False  # store the message, then close the connection without an answer
        self.released = threading.Event()
        self.hanging = threading.Event()  # set while a send hangs
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------------------ the server

    def start(self) -> FakeGateway:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """The phone is gone (the app stopped, Wi-Fi off): its port refuses connections."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def release(self) -> None:
        self.released.set()

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"http://{quote(self.user)}:{quote(self.password, safe='')}@127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------------ the phone's life

    def ids_for(self, text: str) -> list[str]:
        with self.lock:
            return [mid for mid, m in self.messages.items() if m["text"] == text]

    def advance(self, message_id: str, state: str, error: str | None = None, *, webhook: bool = True,
                times: int = 1) -> list[int]:
        """The phone moves the message to `state` (Processed, Sent, Delivered, Failed) and, unless told not
        to, POSTs the matching webhook `times` times. Returns our listener's answers."""
        with self.lock:
            message = self.messages[message_id]
            message["state"], message["error"] = state, error
            message["states"][state] = iso()
            if state == "Sent":
                self.radio.append(message_id)
        event = {"Sent": "sms:sent", "Delivered": "sms:delivered", "Failed": "sms:failed"}.get(state)
        if not webhook or event is None:
            return []
        payload: dict[str, Any] = {"messageId": message_id, "phoneNumber": message["phone"], "sender": None,
                                   "recipient": message["phone"], "simNumber": 1}
        payload.update({"sms:sent": {"sentAt": iso(), "partsCount": 1}, "sms:delivered": {"deliveredAt": iso()},
                        "sms:failed": {"failedAt": iso(), "reason": error or "Unknown"}}[event])
        return self.post_webhook(event, payload, times=times)

    def receive(self, sender: str, text: str, *, times: int = 1, received_at: datetime | None = None) -> list[int]:
        """An SMS arrives on the phone; the app POSTs `sms:received` (its messageId is a hash of the SMS)."""
        stamp = iso(received_at)
        digest = hashlib.sha1(f"{sender}|{text}|{stamp}".encode()).hexdigest()[:8]
        payload = {"messageId": digest, "message": text, "phoneNumber": sender, "sender": sender,
                   "recipient": None, "simNumber": 1, "receivedAt": stamp}
        return self.post_webhook("sms:received", payload, times=times)

    def post_webhook(self, event: str, payload: dict[str, Any], *, times: int = 1, key: str | None = None,
                     signed: bool = True, timestamp: int | None = None, tamper: bool = False,
                     url: str | None = None) -> list[int]:
        """POST one webhook event `times` times (the same event id and body: the app's retries)."""
        target = url or self._webhook_url(event)
        envelope = {"id": secrets.token_hex(10), "webhookId": f"absensi-{event.replace(':', '-')}",
                    "event": event, "deviceId": self.device_id, "payload": payload}
        body = json.dumps(envelope).encode()
        answers = []
        for _ in range(times):
            stamp = str(timestamp if timestamp is not None else int(time.time()))  # signed anew on each try
            headers = {"Content-Type": "application/json"}
            if signed:
                headers.update({"X-Timestamp": stamp,
                                "X-Signature": sign(key if key is not None else self.signing_key, body, stamp)})
            sent = body.replace(b'"message": "', b'"message": "!', 1) if tamper else body
            request = urllib.request.Request(target, data=sent, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers.append(response.status)
            except urllib.error.HTTPError as exc:
                exc.close()
                answers.append(exc.code)
        return answers

    @property
    def signing_key(self) -> str:
        return str(self.settings.get("webhooks", {}).get("signing_key", ""))

    def _webhook_url(self, event: str) -> str:
        with self.lock:
            urls = [w["url"] for w in self.webhooks.values() if w["event"] == event]
        if not urls:
            raise AssertionError(f"no webhook registered for {event}")
        return urls[0]

    # ------------------------------------------------------------------------------ the API

    def state_of(self, message_id: str) -> dict[str, Any]:
        m = self.messages[message_id]
        recipient = {"phoneNumber": m["phone"], "state": m["state"]}
        if m["error"]:
            recipient["error"] = m["error"]
        return {"id": message_id, "deviceId": self.device_id, "state": m["state"], "isHashed": False,
                "isEncrypted": False, "recipients": [recipient], "states": dict(m["states"]),
                "textMessage": {"text": m["text"]}}

    def queue(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = (body.get("textMessage") or {}).get("text") or body.get("message")
        numbers = body.get("phoneNumbers") or []
        mid = body.get("id") or secrets.token_urlsafe(15)
        if not text:
            return 400, {"message": "Text message is empty"}
        if len(numbers) != 1 or not _NUMBER.match(numbers[0]):
            return 400, {"message": "Invalid phone number"}
        if len(mid) > 36:
            return 400, {"message": "id is longer than 36 characters"}
        with self.lock:
            if mid in self.messages:
                self.posts.append((mid, 409))
                return 409, {"message": "Message with the same ID already exists"}
            self.messages[mid] = {"phone": numbers[0], "text": text, "state": "Pending", "error": None,
                                  "states": {"Pending": iso()}, "withDeliveryReport": body.get("withDeliveryReport")}
        return 202, self.state_of(mid)


def _handler(gw: FakeGateway) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{gw.user}:{gw.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, data: Any = None) -> None:
            body = json.dumps(data).encode() if data is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> dict[str, Any]:
            return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")

        def _authorised(self) -> bool:
            gw.requests.append((self.command, self.path))
            if self.path == "/health":
                return True
            if self.headers.get("Authorization") != expected:
                self._reply(401, {"message": "Unauthorized"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._authorised():
                return
            found = _MESSAGE.match(self.path)
            if self.path == "/health":
                self._reply(200, {"status": "pass", "checks": {}})
            elif self.path == "/webhooks":
                self._reply(200, [{"id": k, **v} for k, v in gw.webhooks.items()])
            elif found and found.group(1):
                with gw.lock:
                    known = found.group(1) in gw.messages
                    data = gw.state_of(found.group(1)) if known else None
                self._reply(200, data) if known else self._reply(404, {"message": "message not found"})
            else:
                self._reply(404, {"message": "not found"})

        def do_PATCH(self) -> None:
            if not self._authorised():
                return
            if self.path != "/settings":
                self._reply(404, {"message": "not found"})
                return
            for section, values in self._body().items():
                gw.settings.setdefault(section, {}).update(values)
            self._reply(200, gw.settings)

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if self.path == "/webhooks":
                hook = self._body()
                if not str(hook.get("url", "")).startswith(("https://", "http://127.0.0.1")):
                    self._reply(400, {"message": "url must start with https:// or http://127.0.0.1"})
                    return
                gw.webhooks[hook.get("id") or secrets.token_hex(8)] = {"url": hook["url"], "event": hook["event"]}
                self._reply(201, hook)
                return
            if not (_MESSAGE.match(self.path) and not _MESSAGE.match(self.path).group(1)):  # type: ignore[union-attr]
                self._reply(404, {"message": "not found"})
                return
            body = self._body()
            status, data = gw.queue(body)
            if status == 202 and (gw.hang_next_post or gw.drop_next_post):
                hang = gw.hang_next_post
                gw.hang_next_post = gw.drop_next_post = False
                with gw.lock:
                    gw.posts.append((body["id"], None))
                if hang:
                    gw.hanging.set()
                    gw.released.wait(30)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)  # no answer at all
                return
            if status != 409:
                with gw.lock:
                    gw.posts.append((str(body.get("id")), status))
            self._reply(status, data)

    return Handler
