"""Any pyserial URL works, e.g. a modem behind a serial-to-TCP bridge (`socket://host:port`)."""

from __future__ import annotations

import socket
import threading

from absensi.drivers.gsm.modem import Modem

from .conftest import FAST


def tiny_modem_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            buffer = b""
            while True:
                data = conn.recv(1024)
                if not data:
                    return
                buffer += data
                while b"\r" in buffer:
                    line, buffer = buffer.split(b"\r", 1)
                    if line == b"AT+CSQ":
                        conn.sendall(b"\r\n^RSSI:9\r\n+CSQ: 21,0\r\n\r\nOK\r\n")
                    else:
                        conn.sendall(b"\r\nOK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_socket_url_is_opened_like_a_serial_port() -> None:
    server, thread = tiny_modem_server()
    events = []
    modem = Modem(f"socket://127.0.0.1:{server.getsockname()[1]}", FAST, events.append)
    try:
        modem.open()
        modem.wake()
        modem.read_signal()
    finally:
        modem.close()
        server.close()
    thread.join(2)
    assert modem.info.signal == "21/31 (-71 dBm)"
    assert [e.line for e in events] == ["^RSSI:9"]
