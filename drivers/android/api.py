"""The phone's local-server HTTP API: send a message, read its state, register webhooks.

The PyPI client `android-sms-gateway` shapes the requests and reads the answers (field names follow the app);
this module gives it a transport over `http.client` that tells two failures apart, because they mean
opposite things for the outbox:

- `Unreachable`: the connection was never made, so the phone has nothing — the item may go anywhere else;
- `NoAnswer`: the request went out but no answer came back — the phone may have queued the message, so the
  driver must ask the phone (by the message's id) before sending it again.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .settings import GatewaySettings


class MissingClient(ImportError, ValueError):
    """The optional client is not installed (a ValueError too: the service reports it as a setup mistake)."""


try:
    from android_sms_gateway import APIClient, domain
except ImportError as exc:  # an optional extra
    raise MissingClient("the Android gateway driver needs the android-sms-gateway package: "
                        "pip install 'absensi[android]'") from exc

EVENTS = ("sms:received", "sms:sent", "sms:delivered", "sms:failed")


class Unreachable(Exception):
    """The phone did not take the connection: the request never reached it."""


class NoAnswer(Exception):
    """The request was sent, but no complete answer came: the phone may have acted on it."""


class Refused(Exception):
    """The phone answered with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if message else f"HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class GatewayUrl:
    """`http://user:password@192.168.1.20:8080`, split into what the API client needs."""

    base: str  # scheme://host:port[/path], without the credentials
    user: str
    password: str
    name: str  # host:port — for logs, the claimant name and states(); never the password

    @classmethod
    def parse(cls, url: str) -> GatewayUrl:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a gateway URL looks like http://user:password@192.168.1.20:8080, not {_hide(url)!r}")
        if not parts.username or not parts.password:
            raise ValueError(f"the gateway URL {_hide(url)!r} has no user and password (the app shows them under "
                             "Local Server): http://user:password@host:8080")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValueError(f"the gateway URL {_hide(url)!r} has a bad port") from exc
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        base = f"{parts.scheme}://{host}:{port}{parts.path.rstrip('/')}"
        return cls(base, unquote(parts.username), unquote(parts.password), f"{host}:{port}")


def _hide(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


@dataclass(frozen=True, slots=True)
class PhoneState:
    """A message's state on the phone: Pending, Processed, Sent, Delivered, Failed, Cancelled…"""

    state: str
    error: str | None = None
    sent_before: bool = False  # it reached the network before it failed (a delivery failure)


class Transport:
    """The API client's HTTP interface (get/post/put/patch/delete → JSON dict) over `http.client`."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> Any:
        return self._call("GET", url, None, headers)

    def post(self, url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
        return self._call("POST", url, payload, headers)

    def put(self, url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
        return self._call("PUT", url, payload, headers)

    def patch(self, url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
        return self._call("PATCH", url, payload, headers)

    def delete(self, url: str, *, headers: dict[str, str] | None = None) -> None:
        self._call("DELETE", url, None, headers)

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def _call(self, method: str, url: str, payload: dict[str, Any] | None, headers: dict[str, str] | None) -> Any:
        parts = urlsplit(url)
        conn = self._connection(parts.scheme, parts.hostname or "", parts.port)
        try:
            try:
                conn.connect()
            except OSError as exc:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
            if conn.sock is not None:
                conn.sock.settimeout(self.settings.request_timeout)
            body = json.dumps(payload).encode("utf-8") if payload is not None else None
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            try:
                conn.request(method, path or "/", body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise NoAnswer(f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if response.status >= 400:
            raise Refused(response.status, _message(data))
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise NoAnswer(f"the phone answered HTTP {response.status} with something that is not JSON") from exc

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        timeout = self.settings.connect_timeout
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
        return http.client.HTTPConnection(host, port, timeout=timeout)


def _message(data: bytes) -> str:
    try:
        decoded = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", "replace").strip()
    return str(decoded.get("message", "")) if isinstance(decoded, dict) else ""


class PhoneApi:
    """What the driver asks one phone."""

    def __init__(self, url: GatewayUrl, settings: GatewaySettings) -> None:
        self.url = url
        self.client = APIClient(url.user, url.password, base_url=url.base, http=Transport(settings))

    def probe(self) -> None:
        """Reachable and our credentials accepted (an authenticated read)."""
        self._read(self.client.get_webhooks)

    def send(self, message_id: str, to: str, text: str) -> PhoneState:
        """Queue one SMS on the phone under `message_id` (the phone refuses a second one: HTTP 409)."""
        message = domain.Message(id=message_id, phone_numbers=[to], text_message=domain.TextMessage(text),
                                 with_delivery_report=True)
        return _state(self._read(lambda: self.client.send(message)))

    def state(self, message_id: str) -> PhoneState | None:
        """The message's state on the phone, or None when the phone has no message with that id."""
        try:
            return _state(self._read(lambda: self.client.get_state(message_id)))
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    def register(self, webhook_url: str, signing_key: str) -> list[str]:
        """Point the phone's webhooks at us and give it our signing key; returns what could not be done."""
        problems = []
        # internet_required off: the phone posts to us on the school's network, which may have no internet
        settings = domain.SettingsWebhooks(signing_key=signing_key, internet_required=False)
        try:
            self.client.patch_settings(domain.DeviceSettings(webhooks=settings))
        except Refused as exc:
            problems.append(f"the phone did not take the signing key ({exc}): enter it in the app's webhook "
                            "settings and turn off 'Require Internet connection'")
        for event in EVENTS:
            webhook = domain.Webhook(id=f"absensi-{event.replace(':', '-')}", url=webhook_url,
                                     event=domain.WebhookEvent(event))
            try:
                self.client.create_webhook(webhook)
            except Refused as exc:
                problems.append(f"the phone refused the {event} webhook: {exc}")
        return problems

    @staticmethod
    def _read(call: Any) -> Any:
        """Run a client call; an answer the client cannot read counts as no answer."""
        try:
            return call()
        except (KeyError, TypeError, ValueError) as exc:
            raise NoAnswer(f"unreadable answer from the phone: {type(exc).__name__}: {exc}") from exc


def _state(message: Any) -> PhoneState:
    error = next((r.error for r in message.recipients if r.error), None)
    states = message.states or {}
    return PhoneState(message.state.value, error, sent_before="Sent" in states)
