"""The driver's pieces without a database: signatures, URLs, message ids, received payloads, the listener."""

from __future__ import annotations

import inspect
import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from absensi.drivers.android import DEFAULT_LISTEN, Gateways, GatewaySettings, inbound
from absensi.drivers.android.api import GatewayUrl
from absensi.drivers.android.listener import WebhookListener, parse_listen
from absensi.drivers.android.outcomes import message_id, permanent
from absensi.drivers.android.signing import refusal, signature
from absensi.engine.messages import Channel
from absensi.engine.ports import OutboxItem

from .fake_gateway import sign

NOW = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


def test_signatures_are_the_apps_and_every_bad_one_is_refused() -> None:
    body, stamp = b'{"event":"sms:received"}', "1764547500"
    assert signature("k", body, stamp) == sign("k", body, stamp)  # the fake signs as the app's plugin does
    good = signature("k", body, stamp)
    assert refusal("k", body, good, stamp, 1764547500.0, 300) is None
    assert refusal("k", body, good.upper(), stamp, 1764547500.0, 300) is None
    assert refusal("k", body, None, stamp, 1764547500.0, 300) == "unsigned"
    assert refusal("k", body, good, None, 1764547500.0, 300) == "unsigned"
    assert refusal("k", body, good, "17645x", 1764547500.0, 300) == "bad timestamp"
    assert refusal("k", body, good, "١٧٦٤٥٤٧٥٠٠", 1764547500.0, 300) == "bad timestamp"
    assert refusal("k", body, good, stamp, 1764547500.0 + 301, 300) == "stale timestamp"
    assert refusal("j", body, good, stamp, 1764547500.0, 300) == "wrong signature"
    assert refusal("k", body + b" ", good, stamp, 1764547500.0, 300) == "wrong signature"


def test_gateway_urls_keep_the_password_out_of_names_and_errors() -> None:
    url = GatewayUrl.parse("http://sms:p%40ss%3Aw@192.168.1.20:8080/")
    assert (url.base, url.user, url.password, url.name) == ("http://192.168.1.20:8080", "sms", "p@ss:w",
                                                            "192.168.1.20:8080")
    assert GatewayUrl.parse("https://a:b@phone.local").base == "https://phone.local:443"
    for bad, says in (("192.168.1.20:8080", "looks like"), ("http://192.168.1.20:8080", "no user and password"),
                      ("ftp://a:b@host", "looks like"), ("http://a:rahasia@host:99999", "bad port")):
        with pytest.raises(ValueError, match=says) as caught:
            GatewayUrl.parse(bad)
        assert "rahasia" not in str(caught.value)


def test_message_ids_are_stable_per_attempt_and_fit_the_api() -> None:
    item = OutboxItem(4294967295, Channel.SMS, "+6281234500001", "teks", attempts=7)
    assert message_id(item) == message_id(OutboxItem(4294967295, Channel.SMS, "+6281234500001", "teks", 7))
    assert len(message_id(item)) <= 36
    assert message_id(item) != message_id(OutboxItem(4294967295, Channel.SMS, "+6281234500001", "teks", 8))
    assert message_id(item) != message_id(OutboxItem(4294967295, Channel.SMS, "+6281234500001", "lain", 7))
    assert permanent("Send result: RESULT_ERROR_FDN_CHECK_FAILURE (Failed because FDN is enabled)")
    assert not permanent("Send result: RESULT_ERROR_RADIO_OFF (Failed because radio was explicitly turned off)")


def test_a_received_payload_becomes_an_inbound_sms_with_a_stable_id() -> None:
    payload = {"messageId": "9f3e21aa", "message": "SAKIT", "phoneNumber": "081234500001",
               "receivedAt": "2026-12-01T07:05:00.000+07:00"}
    msg = inbound(payload, "dev1", NOW)
    assert (msg.channel, msg.sender, msg.text) == (Channel.SMS, "+6281234500001", "SAKIT")
    assert msg.received_at == datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    assert msg.source_id == inbound(dict(payload), "dev1", NOW).source_id
    assert msg.source_id != inbound({**payload, "message": "IZIN"}, "dev1", NOW).source_id
    assert msg.source_id != inbound(payload, "dev2", NOW).source_id
    assert inbound({**payload, "phoneNumber": "TELKOMSEL"}, "d", NOW).sender == "TELKOMSEL"
    assert inbound({**payload, "receivedAt": "2026-12-01T07:05:00"}, "d", NOW).received_at == NOW
    with pytest.raises(KeyError):
        inbound({"messageId": "1", "phoneNumber": "+6281234500001"}, "d", NOW)


def test_the_listener_binds_to_loopback_by_default_and_mistakes_are_clear(monkeypatch) -> None:
    assert inspect.signature(Gateways).parameters["listen"].default == DEFAULT_LISTEN
    assert parse_listen(DEFAULT_LISTEN) == ("127.0.0.1", 8555)
    assert parse_listen("8555") == ("127.0.0.1", 8555)
    assert parse_listen("[::1]:8555") == ("::1", 8555)
    assert parse_listen(":0") == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen("127.0.0.1:http")
    store = object()  # never reached
    gws = Gateways(["http://sms:x@127.0.0.1:9"], store, store, listen=":0",  # type: ignore[arg-type]
                   settings=GatewaySettings(signing_key="k"))
    try:
        assert gws.listener.address[0] == "127.0.0.1"
        assert gws.webhook_url == f"http://127.0.0.1:{gws.listener.address[1]}/absensi/webhook"
    finally:
        gws.stop()
    monkeypatch.delenv("ABSENSI_GATEWAY_KEY", raising=False)
    with pytest.raises(ValueError, match="ABSENSI_GATEWAY_KEY"):
        Gateways(["http://sms:x@127.0.0.1:9"], store, store, listen="127.0.0.1:0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        Gateways([], store, store, listen="127.0.0.1:0", settings=GatewaySettings(signing_key="k"))  # type: ignore[arg-type]


def _post(url: str, body: bytes, headers: dict[str, str], context: ssl.SSLContext | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_the_listener_answers_only_signed_posts_to_its_path() -> None:
    seen: list[object] = []
    listener = WebhookListener("127.0.0.1:0", "k", lambda env, body: seen.append(env), GatewaySettings(max_body=100))
    listener.start()
    try:
        body = json.dumps({"event": "system:ping", "payload": {}}).encode()
        stamp = str(int(time.time()))
        signed = {"X-Timestamp": stamp, "X-Signature": signature("k", body, stamp)}
        assert _post(listener.url, body, signed) == 200
        assert _post(listener.url.replace("/absensi/webhook", "/other"), body, signed) == 404
        assert _post(listener.url, b"x" * 101, signed) == 413
        assert _post(listener.url, body, {}) == 401
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(listener.url, timeout=10)
        caught.value.close()
        assert caught.value.code == 405
        not_json = b"not json"
        assert _post(listener.url, not_json, {"X-Timestamp": stamp,
                                              "X-Signature": signature("k", not_json, stamp)}) == 200
        assert seen == [{"event": "system:ping", "payload": {}}, None]
    finally:
        listener.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
def test_the_listener_serves_https_with_the_operators_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    seen: list[object] = []
    listener = WebhookListener("127.0.0.1:0", "k", lambda env, body: seen.append(env),
                               GatewaySettings(tls_cert=str(cert), tls_key=str(key)))
    listener.start()
    try:
        assert listener.url.startswith("https://127.0.0.1:")
        body, stamp = b'{"event": "system:ping", "payload": {}}', str(int(time.time()))
        context = ssl.create_default_context(cafile=str(cert))
        headers = {"X-Timestamp": stamp, "X-Signature": signature("k", body, stamp)}
        assert _post(listener.url, body, headers, context) == 200
        with socket.create_connection(listener.address, timeout=5) as plain:  # plain HTTP gets no answer
            plain.sendall(b"POST /absensi/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            try:
                answer = plain.recv(100)
            except ConnectionResetError:
                answer = b""
            assert not answer.startswith(b"HTTP")
        assert _post(listener.url, body, headers, context) == 200  # and the listener still serves
        assert len(seen) == 2
    finally:
        listener.stop()
