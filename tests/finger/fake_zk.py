"""A fake ZK-protocol fingerprint machine on loopback (TCP, or UDP with `udp=True`), answering the commands a
pull uses.

It holds a list of attendance records and serves them as a machine does: CONNECT (with or without a
communication key), AUTH, GET_FREE_SIZES, GET_TIME (its own clock, which may be off), the buffered read
(PREPARE_BUFFER; the whole log at once when small, else READ_BUFFER chunks sent as PREPARE_DATA, the chunk
in several DATA frames, ACK_OK), FREE_DATA, DISABLEDEVICE/ENABLEDEVICE, EXIT, and the user table for
8-byte records. `fault` makes it misbehave: `close` drops the connection in the middle of the log's
transfer (over UDP: falls silent after half a datagram), `garbage` answers the log's read with bytes that are not the protocol, `error` answers it
ACK_ERROR, `silent` never answers it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from absensi.drivers.finger import zk


@dataclass
class FakeZk:
    records: list[tuple[str, datetime]] = field(default_factory=list)
    width: int = 40  # 8, 16 or 40-byte records
    key: int = 0  # the machine's communication key (0: none)
    clock_offset: timedelta = timedelta(0)  # how far the machine's clock is from the real one
    tz: tzinfo | None = None  # the zone the machine's clock is set in (None: this computer's)
    direct_up_to: int = 512  # a log this small is answered at once (DATA), a bigger one through the buffer
    frame_size: int = 700  # DATA frames a chunk is cut into after PREPARE_DATA
    fault: str | None = None
    capacity: int = 100_000  # attendance records the machine can hold
    punch_during_pull: tuple[str, datetime] | None = None  # a punch made between GET_FREE_SIZES and the read
    corrupt: tuple[int, ...] = ()  # records (0-based) whose time is no date (day 30 of February)
    commands: list[int] = field(default_factory=list)  # every command received, in order
    connections: int = 0
    session_id: int = 0x3A1F
    udp: bool = False
    bind: int = 0  # the port to listen on (0: a free one); the port of a machine closed earlier: it is back

    def __post_init__(self) -> None:
        if self.udp:
            self._server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._server.bind(("127.0.0.1", self.bind))
            self._server.settimeout(0.1)  # the serving loop looks at `_closed` this often
        else:
            self._server = socket.create_server(("127.0.0.1", self.bind))
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = False
        self._thread = threading.Thread(target=self._serve_udp if self.udp else self._accept, name="fake-zk",
                                        daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{'udp://' if self.udp else ''}127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
        if self.udp:
            self._thread.join(5)
        self._server.close()
        for conn in list(self._open):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def __enter__(self) -> FakeZk:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ data

    def serials(self) -> dict[str, int]:
        """user id → the machine's internal serial (for 8-byte records)."""
        found: dict[str, int] = {}
        for user_id, _ in self.records:
            found.setdefault(user_id, len(found) + 1)
        return found

    def log_data(self) -> bytes:
        serials = self.serials()
        body = bytearray()
        for number, (user_id, at) in enumerate(self.records):
            moment = zk.encode_time(at) if number not in self.corrupt else ((26 * 12 + 1) * 31 + 29) * 86400
            if self.width == 40:
                body += struct.pack("<H24sBIB8s", serials[user_id], user_id.encode(), 1, moment, 0, b"")
            elif self.width == 16:
                body += struct.pack("<IIBB2sI", int(user_id), moment, 0, 1, b"", 0)
            else:
                body += struct.pack("<HBIB", serials[user_id], 0, moment, 1)
        return struct.pack("<I", len(body)) + bytes(body)

    def user_data(self) -> bytes:
        body = bytearray()
        for user_id, serial in self.serials().items():  # 28-byte records, the id as a number at byte 24
            body += struct.pack("<HB5s8sIxBhI", serial, 0, b"", b"", 0, 1, 0, int(user_id))
        return struct.pack("<I", len(body)) + bytes(body)

    # -------------------------------------------------------------------------------------- serving

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), name="fake-zk-conn", daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        state = {"authorised": self.key == 0, "buffer": b""}
        try:
            with conn:
                while True:
                    packet = self._read(conn)
                    if packet is None:
                        return
                    with self._lock:
                        self.commands.append(packet.command)
                    if not self._answer(conn, packet, state):
                        return
        except OSError:
            return
        finally:
            if conn in self._open:
                self._open.remove(conn)

    def _serve_udp(self) -> None:
        """One socket for every client; a client's state is kept by its address."""
        states: dict[object, dict[str, object]] = {}
        gone: set[object] = set()  # clients the machine stopped answering (`fault == "close"`)
        while not self._closed:
            try:
                body, peer = self._server.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if peer in gone or len(body) < 8 or not _checksum_ok(body):
                continue
            packet = zk.Packet.parse(body)
            if packet.command == zk.CMD_CONNECT:
                self.connections += 1
                states[peer] = {"authorised": self.key == 0, "buffer": b""}
            state = states.setdefault(peer, {"authorised": self.key == 0, "buffer": b""})
            with self._lock:
                self.commands.append(packet.command)
            try:
                going = self._answer(_Datagrams(self._server, peer), packet, state)
            except OSError:
                going = False
            if not going:
                states.pop(peer, None)
                if packet.command != zk.CMD_EXIT:
                    gone.add(peer)

    def _read(self, conn: socket.socket) -> zk.Packet | None:
        head = _exactly(conn, 8)
        if head is None or head[:4] != zk.MAGIC:
            return None
        body = _exactly(conn, struct.unpack_from("<I", head, 4)[0])
        if body is None:
            return None
        if not _checksum_ok(body):
            raise OSError("bad checksum from the client")
        return zk.Packet.parse(body)

    def _send(self, conn: socket.socket | _Datagrams, command: int, packet: zk.Packet, data: bytes = b"") -> None:
        conn.sendall(zk.frame(command, self.session_id, packet.reply, data))

    def _answer(self, conn: socket.socket | _Datagrams, packet: zk.Packet, state: dict[str, object]) -> bool:
        command = packet.command
        if command == zk.CMD_CONNECT:
            self._send(conn, zk.ACK_OK if state["authorised"] else zk.ACK_UNAUTH, packet)
        elif command == zk.CMD_AUTH:
            state["authorised"] = packet.data == zk.comm_key(self.key, self.session_id)
            self._send(conn, zk.ACK_OK if state["authorised"] else zk.ACK_UNAUTH, packet)
        elif not state["authorised"]:
            self._send(conn, zk.ACK_UNAUTH, packet)
        elif command == zk.CMD_EXIT:
            self._send(conn, zk.ACK_OK, packet)
            return False
        elif command == zk.CMD_GET_FREE_SIZES:
            counters = [0] * 20
            counters[4], counters[8], counters[16] = len(self.serials()), len(self.records), self.capacity
            self._send(conn, zk.ACK_OK, packet, struct.pack("<20i", *counters) + b"\0" * 12)
        elif command == zk.CMD_GET_TIME:
            now = datetime.now(self.tz).replace(microsecond=0, tzinfo=None) + self.clock_offset
            self._send(conn, zk.ACK_OK, packet, struct.pack("<I", zk.encode_time(now)))
        elif command in (zk.CMD_DISABLEDEVICE, zk.CMD_ENABLEDEVICE, zk.CMD_FREE_DATA):
            state["buffer"] = b"" if command == zk.CMD_FREE_DATA else state["buffer"]
            self._send(conn, zk.ACK_OK, packet)
        elif command == zk.CMD_PREPARE_BUFFER:
            return self._prepare(conn, packet, state)
        elif command == zk.CMD_READ_BUFFER:
            return self._chunk(conn, packet, state)
        else:
            self._send(conn, 0xFFFF, packet)
        return True

    def _prepare(self, conn: socket.socket | _Datagrams, packet: zk.Packet, state: dict[str, object]) -> bool:
        _, what, fct, _ = struct.unpack("<BHII", packet.data)
        if what == zk.CMD_ATTLOG_RRQ and self.punch_during_pull is not None:
            self.records.append(self.punch_during_pull)
            self.punch_during_pull = None
        data = self.user_data() if what == zk.CMD_USERTEMP_RRQ and fct == zk.FCT_USER else self.log_data()
        if what == zk.CMD_ATTLOG_RRQ and self.fault in ("garbage", "error", "silent"):
            if self.fault == "garbage":
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            elif self.fault == "error":
                self._send(conn, zk.ACK_ERROR, packet)
            return self.fault != "garbage"
        if len(data) <= self.direct_up_to:
            self._send(conn, zk.CMD_DATA, packet, data)
        else:
            state["buffer"] = data
            self._send(conn, zk.ACK_OK, packet, struct.pack("<BII", 0, len(data), len(data)) + b"\0\0\0\0")
        return True

    def _chunk(self, conn: socket.socket | _Datagrams, packet: zk.Packet, state: dict[str, object]) -> bool:
        start, size = struct.unpack("<ii", packet.data)
        buffer = state["buffer"]
        assert isinstance(buffer, bytes)
        part = buffer[start:start + size]
        self._send(conn, zk.CMD_PREPARE_DATA, packet, struct.pack("<II", len(part), 0x10))
        for i in range(0, len(part), self.frame_size):
            if self.fault == "close" and start + i >= len(buffer) // 2:
                conn.sendall(zk.frame(zk.CMD_DATA, self.session_id, packet.reply, part[i:i + 10])[:20])
                return False  # the machine goes away in the middle of the log
            self._send(conn, zk.CMD_DATA, packet, part[i:i + self.frame_size])
        self._send(conn, zk.ACK_OK, packet)
        return True


class _Datagrams:
    """What `_answer` sends to a UDP client: each TCP frame as one datagram, without its 8-byte prefix."""

    def __init__(self, sock: socket.socket, peer: object) -> None:
        self.sock, self.peer = sock, peer

    def sendall(self, data: bytes) -> None:
        self.sock.sendto(data[8:] if data.startswith(zk.MAGIC) else data, self.peer)


def _checksum_ok(body: bytes) -> bool:
    return struct.pack("<H", zk.checksum(body[:2] + b"\0\0" + body[4:])) == body[2:4]


def _exactly(conn: socket.socket, count: int) -> bytes | None:
    data = bytearray()
    while len(data) < count:
        got = conn.recv(count - len(data))
        if not got:
            return None
        data += got
    return bytes(data)
