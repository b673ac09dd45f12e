"""A small client of the ZK attendance protocol (ZKTeco and the many machines sold under other names), over
TCP: just what a pull of the attendance log needs. Written for this project from the protocol's published
descriptions; no code of pyzk (copyleft) is used.

The protocol, as far as this client uses it:

- A TCP frame is the magic `50 50 82 7d`, the payload's length (4 bytes, little endian), then the payload;
  over UDP (older machines) each datagram is a bare payload, a big answer several datagrams. The payload
  starts with an 8-byte header of four little-endian 16-bit fields — command (or reply code),
  checksum, session id, reply id — followed by the command's data.
- The checksum is taken over the payload with the checksum field zero: the 16-bit little-endian words are
  summed (an odd last byte counts as the low half of a word), the carries are folded back into 16 bits, and
  the result is inverted (ones' complement).
- CONNECT (1000) opens a session: the reply's header carries the session id every later command repeats.
  A machine with a communication key answers ACK_UNAUTH (2005); AUTH (1102) then sends the key, scrambled
  with the session id (`comm_key`). The reply id starts at 0 and goes up by one with every command; the
  machine echoes it. EXIT (1001) closes the session.
- GET_FREE_SIZES (50) answers a table of 32-bit counters: the attendance records held are at byte 32, how
  many the machine can hold at byte 64.
- GET_TIME (201) answers the machine's clock, encoded as below.
- The attendance log is read with the buffered read: PREPARE_BUFFER (1503) with the data's own command
  ATTLOG_RRQ (13) either answers DATA (1501) with everything at once, or ACK_OK with the size ready in the
  machine's buffer; READ_BUFFER (1504, start and size) then fetches it in chunks, each answered DATA at
  once, or PREPARE_DATA (1500, the chunk's size), the chunk in one or more DATA frames, then ACK_OK.
  FREE_DATA (1502) releases the buffer.
- The log's data starts with its size in bytes (4 bytes), then fixed-size records whose size depends on
  the firmware: the size divided by the record count. 40 bytes: user serial (2), user id as text (24,
  NUL-padded), status (1), time (4), punch (1), reserved (8). 16 bytes: user id as a number (4), time (4),
  status (1), punch (1), reserved (2), work code (4). 8 bytes (old black-and-white firmware): user serial
  (2), status (1), time (4), punch (1) — the user id is then the one the user table gives that serial
  (USERTEMP_RRQ (9) through the same buffered read: records of 28 bytes with a numeric id at byte 24, or of
  72 bytes with a text id at byte 48).
- A time is one 32-bit number: ((((year - 2000) * 12 + month - 1) * 31 + day - 1) * 24 + hour) * 60 + minute,
  then * 60 + second — every month counted as 31 days.
- DISABLEDEVICE (1003) / ENABLEDEVICE (1002) lock and free the keypad and reader; the pull does not use them
  by default (a gate machine must keep taking punches; the buffer is a snapshot anyway).

Not done: real-time events, writing anything to a machine.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PORT = 4370
MAGIC = b"\x50\x50\x82\x7d"

CMD_CONNECT = 1000
CMD_EXIT = 1001
CMD_ENABLEDEVICE = 1002
CMD_DISABLEDEVICE = 1003
CMD_AUTH = 1102
CMD_PREPARE_DATA = 1500
CMD_DATA = 1501
CMD_FREE_DATA = 1502
CMD_PREPARE_BUFFER = 1503
CMD_READ_BUFFER = 1504
CMD_USERTEMP_RRQ = 9
CMD_ATTLOG_RRQ = 13
CMD_GET_FREE_SIZES = 50
CMD_GET_TIME = 201
ACK_OK = 2000
ACK_ERROR = 2001
ACK_DATA = 2002
ACK_UNAUTH = 2005

FCT_USER = 5  # what the user table's buffered read asks for
MAX_CHUNK = 0xFFC0  # the largest READ_BUFFER chunk machines accept over TCP
MAX_CHUNK_UDP = 16 * 1024  # … and over UDP
MAX_FRAME = 16 * 1024 * 1024  # a frame announcing more than this is not a ZK reply

REPLY_NAMES = {ACK_OK: "ACK_OK", ACK_ERROR: "ACK_ERROR", ACK_DATA: "ACK_DATA", ACK_UNAUTH: "ACK_UNAUTH",
               CMD_PREPARE_DATA: "PREPARE_DATA", CMD_DATA: "DATA", 0xFFFF: "ACK_UNKNOWN"}


class ZkError(Exception):
    """The machine cannot be reached, refused a command, or answered something that is not the protocol."""


@dataclass(frozen=True)
class Record:
    """One attendance record as the machine keeps it: its user id (text, as the machine shows it) and its
    own clock's time (naive)."""

    user_id: str
    at: datetime
    status: int = 0  # the firmware's check-in/out state
    punch: int = 0  # how the user was verified (finger, card, PIN), as the firmware numbers it


# --------------------------------------------------------------------------------------- the wire format


def checksum(payload: bytes) -> int:
    """The header's checksum over `payload` (its checksum field zero): ones' complement of the 16-bit sum."""
    padded = payload + b"\x00" if len(payload) % 2 else payload
    total = sum(int(word) for (word,) in struct.iter_unpack("<H", padded))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total ^ 0xFFFF


def payload(command: int, session: int, reply: int, data: bytes = b"") -> bytes:
    """Header and data of one packet, checksum filled in."""
    bare = struct.pack("<4H", command, 0, session, reply) + data
    return bare[:2] + struct.pack("<H", checksum(bare)) + bare[4:]


def frame(command: int, session: int, reply: int, data: bytes = b"") -> bytes:
    """One TCP frame: magic, length, payload."""
    body = payload(command, session, reply, data)
    return MAGIC + struct.pack("<I", len(body)) + body


@dataclass(frozen=True)
class Packet:
    command: int
    session: int
    reply: int
    data: bytes

    @classmethod
    def parse(cls, body: bytes) -> Packet:
        if len(body) < 8:
            raise ZkError(f"a reply of {len(body)} byte(s) is shorter than the 8-byte header")
        command, _, session, reply = struct.unpack_from("<4H", body)
        return cls(command, session, reply, body[8:])

    @property
    def name(self) -> str:
        return REPLY_NAMES.get(self.command, str(self.command))


def encode_time(moment: datetime) -> int:
    days = ((moment.year % 100) * 12 + moment.month - 1) * 31 + moment.day - 1
    return ((days * 24 + moment.hour) * 60 + moment.minute) * 60 + moment.second


def decode_time(value: int) -> datetime:
    """The machine's time number → a naive datetime; ZkError when it is no date (a corrupt record)."""
    rest, second = divmod(value, 60)
    rest, minute = divmod(rest, 60)
    rest, hour = divmod(rest, 24)
    rest, day = divmod(rest, 31)
    years, month = divmod(rest, 12)
    try:
        return datetime(2000 + years, month + 1, day + 1, hour, minute, second)
    except ValueError:
        raise ZkError(f"its time ({value}) is no date: day {day + 1} of month {month + 1} of "
                      f"{2000 + years}") from None


def comm_key(key: int, session: int, ticks: int = 50) -> bytes:
    """The scrambled communication key AUTH carries: the key's 32 bits in reverse order plus the session id,
    its bytes xor-ed with `ZKSO`, the two 16-bit halves swapped, then each byte xor-ed with `ticks`, whose
    value also replaces the third byte."""
    mirrored = int(f"{key & 0xFFFFFFFF:032b}"[::-1], 2)
    scrambled = bytes(b ^ m for b, m in zip(struct.pack("<I", (mirrored + session) & 0xFFFFFFFF), b"ZKSO",
                                            strict=True))
    swapped = scrambled[2:] + scrambled[:2]
    low = ticks & 0xFF
    return bytes((swapped[0] ^ low, swapped[1] ^ low, low, swapped[3] ^ low))


def parse_log(data: bytes, count: int, users: dict[int, str] | None = None,
              unreadable: list[str] | None = None) -> list[Record]:
    """The attendance log's data (its 4-byte size first) → records. `count`: the records the machine says it
    holds (GET_FREE_SIZES); `users`: serial → user id, needed for 8-byte records. A record without a user id
    or whose time is no date (a corrupt record) is left out and said in `unreadable` — one bad record must
    not stop every pull."""
    if len(data) < 4:
        raise ZkError(f"the attendance log is {len(data)} byte(s): not even its size")
    (size,) = struct.unpack_from("<I", data)
    body = data[4:4 + size]
    if size == 0 or count == 0:
        return []
    if len(body) < size:
        raise ZkError(f"the attendance log says {size} bytes but holds {len(body)}")
    width = record_width(size, count)
    records: list[Record] = []
    for number, i in enumerate(range(0, size - width + 1, width), start=1):
        try:
            records.append(_record(body[i:i + width], users))
        except ZkError as exc:
            if unreadable is not None:
                unreadable.append(f"record {number}: {exc}")
    return records


def record_width(size: int, count: int) -> int:
    """The size of one record in a log of `size` bytes said to hold `count` records. Punches made between
    GET_FREE_SIZES and the read make the log longer than `count` records: then the widest record size that
    divides it into at least `count` records."""
    width = size // count if count else 0
    if width in (8, 16, 40) and width * count == size:
        return width
    width = next((w for w in (40, 16, 8) if size % w == 0 and size // w >= count), 0)
    if width == 0:
        raise ZkError(f"{size} bytes of attendance log do not divide into {count} records of 8, 16 or 40 bytes")
    return width


def _record(raw: bytes, users: dict[int, str] | None) -> Record:
    if len(raw) == 40:
        _, text, status, moment, punch = struct.unpack_from("<H24sBIB", raw)
        user_id = text.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    elif len(raw) == 16:
        number, moment, status, punch = struct.unpack_from("<IIBB", raw)
        user_id = str(number)
    else:
        serial, status, moment, punch = struct.unpack_from("<HBIB", raw)
        user_id = (users or {}).get(serial, str(serial))
    if not user_id:
        raise ZkError("it has no user id")
    return Record(user_id, decode_time(moment), status, punch)


def parse_users(data: bytes) -> dict[int, str]:
    """The user table's data (its 4-byte size first) → serial → user id (28- or 72-byte records)."""
    if len(data) < 4:
        return {}
    (size,) = struct.unpack_from("<I", data)
    body = data[4:4 + size]
    width = 72 if size % 72 == 0 and size % 28 != 0 else 28 if size % 28 == 0 else 72
    users: dict[int, str] = {}
    for i in range(0, len(body) - width + 1, width):
        (serial,) = struct.unpack_from("<H", body, i)
        if width == 28:
            (number,) = struct.unpack_from("<I", body, i + 24)
            users[serial] = str(number)
        else:
            users[serial] = body[i + 48:i + 72].split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return users


# ------------------------------------------------------------------------------------------ the client


@dataclass(frozen=True)
class Address:
    host: str
    port: int = DEFAULT_PORT
    key: int = 0  # the machine's communication key (Comm Key), 0: none
    udp: bool = False


def parse_address(address: str) -> Address:
    """`[udp://][KEY@]HOST[:PORT]` → where and how to reach a machine (TCP unless `udp://`)."""
    scheme, sep, rest = address.partition("://")
    if sep and scheme.lower() not in ("tcp", "udp"):
        raise ValueError(f"'{address}': a machine is reached over tcp:// (the default) or udp://")
    host, port, key = split_address(rest if sep else address)
    return Address(host, port, key, bool(sep) and scheme.lower() == "udp")


def split_address(address: str) -> tuple[str, int, int]:
    """`[KEY@]HOST[:PORT]` → host, port (default 4370), communication key (default 0)."""
    key, _, rest = address.rpartition("@")
    host, colon, port = rest.rpartition(":") if rest.count(":") == 1 else ("", "", "")
    host = host if colon else rest
    if not host:
        raise ValueError(f"'{address}' has no host: give HOST[:PORT], e.g. 192.168.1.201:4370")
    try:
        number = int(port) if colon else DEFAULT_PORT
        secret = int(key) if key else 0
    except ValueError:
        raise ValueError(f"'{address}': the port and the communication key are numbers") from None
    if not 0 < number < 65536:
        raise ValueError(f"'{address}': port {number} is out of range")
    return host, number, secret


class ZkClient:
    """One session with one machine: `with ZkClient(host) as zk: zk.attendance()`."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, key: int = 0, timeout: float = 10.0,
                 chunk: int = MAX_CHUNK, udp: bool = False) -> None:
        self.host, self.port, self.key, self.timeout, self.udp = host, port, key, timeout, udp
        self.chunk = max(1, min(chunk, MAX_CHUNK_UDP if udp else MAX_CHUNK))
        self.session = 0
        self.reply = 0
        self._waiting = 0  # the reply id of the command whose answer is awaited
        self.unreadable: list[str] = []  # the last attendance read's records left out (corrupt)
        self._sock: socket.socket | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> ZkClient:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- session

    def connect(self) -> None:
        try:
            if self.udp:
                family, kind, proto, _, where = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
                self._sock = socket.socket(family, kind, proto)
                self._sock.settimeout(self.timeout)
                self._sock.connect(where)  # datagrams from anyone else are not received
            else:
                self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ZkError(f"{self.where}: cannot connect: {exc.strerror or exc}") from None
        self.session, self.reply = 0, 0
        try:
            answer = self.command(CMD_CONNECT, expect=(ACK_OK, ACK_UNAUTH))
        except ZkError:
            self.close()
            raise
        self.session = answer.session
        if answer.command == ACK_UNAUTH:
            if not self.key:
                self.close()
                raise ZkError(f"{self.where}: the machine has a communication key (Comm Key); give it as "
                              "KEY@HOST[:PORT]")
            authorised = self.command(CMD_AUTH, comm_key(self.key, self.session), expect=(ACK_OK, ACK_UNAUTH))
            if authorised.command != ACK_OK:
                self.close()
                raise ZkError(f"{self.where}: the machine refused the communication key")

    def close(self) -> None:
        """EXIT when the session is open (a failure to say goodbye is not an error), then the socket."""
        if self._sock is None:
            return
        try:
            if self.session:
                self._sock.settimeout(min(self.timeout, 2.0))
                self.command(CMD_EXIT, expect=None)
        except (ZkError, OSError):
            pass
        finally:
            self._sock.close()
            self._sock = None
            self.session = 0

    # -------------------------------------------------------------------------------------- commands

    def record_count(self) -> int:
        """The attendance records the machine holds (GET_FREE_SIZES)."""
        return self.sizes()[0]

    def sizes(self) -> tuple[int, int]:
        """(attendance records held, how many it can hold: 0 when the machine does not say), GET_FREE_SIZES."""
        answer = self.command(CMD_GET_FREE_SIZES)
        if len(answer.data) < 36:
            raise ZkError(f"{self.where}: GET_FREE_SIZES answered {len(answer.data)} byte(s), expected 80 or more")
        count = int(struct.unpack_from("<i", answer.data, 32)[0])
        capacity = int(struct.unpack_from("<i", answer.data, 64)[0]) if len(answer.data) >= 68 else 0
        return max(0, count), max(0, capacity)

    def clock(self) -> datetime:
        """The machine's own clock (GET_TIME)."""
        answer = self.command(CMD_GET_TIME)
        if len(answer.data) < 4:
            raise ZkError(f"{self.where}: GET_TIME answered {len(answer.data)} byte(s)")
        return decode_time(struct.unpack_from("<I", answer.data)[0])

    def disable(self) -> None:
        self.command(CMD_DISABLEDEVICE)

    def enable(self) -> None:
        self.command(CMD_ENABLEDEVICE)

    def attendance(self, count: int | None = None) -> list[Record]:
        """Every attendance record the machine holds (it keeps them: nothing is cleared)."""
        count = self.record_count() if count is None else count
        if count == 0:
            return []
        try:
            data = self.read_buffered(CMD_ATTLOG_RRQ)
            users: dict[int, str] | None = None
            size = struct.unpack_from("<I", data)[0] if len(data) >= 4 else 0
            if size and record_width(size, count) == 8:  # old firmware: ids come from the user table
                users = parse_users(self.read_buffered(CMD_USERTEMP_RRQ, FCT_USER))
            self.unreadable = []
            return parse_log(data, count, users, self.unreadable)
        except ZkError as exc:
            where = "" if str(exc).startswith(self.where) else f"{self.where}: "
            raise ZkError(f"{where}{exc} — while reading the attendance log of {count} record(s); "
                          "none of it is used") from None

    def read_buffered(self, what: int, fct: int = 0) -> bytes:
        """The whole of one kind of data through the machine's buffer (PREPARE_BUFFER, READ_BUFFER…)."""
        answer = self.command(CMD_PREPARE_BUFFER, struct.pack("<BHII", 1, what, fct, 0), expect=(ACK_OK, CMD_DATA))
        if answer.command == CMD_DATA:
            return answer.data
        if len(answer.data) < 5:
            raise ZkError(f"{self.where}: PREPARE_BUFFER answered {len(answer.data)} byte(s), expected the size")
        (size,) = struct.unpack_from("<I", answer.data, 1)
        if size > MAX_FRAME * 16:
            raise ZkError(f"{self.where}: the machine announces {size} bytes: not an attendance log")
        parts: list[bytes] = []
        start = 0
        while start < size:
            part = self._read_chunk(start, min(self.chunk, size - start))
            parts.append(part)
            start += len(part)
        self.command(CMD_FREE_DATA, expect=None)  # after a failure the session closes, which frees it too
        return b"".join(parts)

    def _read_chunk(self, start: int, size: int) -> bytes:
        answer = self.command(CMD_READ_BUFFER, struct.pack("<ii", start, size), expect=(CMD_DATA, CMD_PREPARE_DATA))
        if answer.command == CMD_DATA:
            return self._sized(answer.data, start, size)
        if len(answer.data) < 4:
            raise ZkError(f"{self.where}: PREPARE_DATA without its size")
        (announced,) = struct.unpack_from("<I", answer.data)
        received = bytearray()
        while len(received) < announced:
            packet = self._receive()
            if packet.command != CMD_DATA:
                raise ZkError(f"{self.where}: {packet.name} after {len(received)} of {announced} bytes, "
                              "expected DATA")
            received += packet.data
        done = self._receive()
        if done.command != ACK_OK:
            raise ZkError(f"{self.where}: {done.name} at the end of a chunk, expected ACK_OK")
        return self._sized(bytes(received), start, size)

    def _sized(self, data: bytes, start: int, size: int) -> bytes:
        if not data or len(data) > size:
            raise ZkError(f"{self.where}: {len(data)} byte(s) at {start} for a chunk of {size}")
        return data

    def command(self, command: int, data: bytes = b"", expect: tuple[int, ...] | None = (ACK_OK,)) -> Packet:
        """Send one command and return its answer; ZkError unless the answer is one of `expect` (None: any,
        or no answer at all)."""
        if self._sock is None:
            raise ZkError(f"{self.where}: not connected")
        try:
            if self.udp:
                self._sock.send(payload(command, self.session, self.reply, data))
            else:
                self._sock.sendall(frame(command, self.session, self.reply, data))
        except OSError as exc:
            raise ZkError(f"{self.where}: the connection broke: {exc.strerror or exc}") from None
        sent = self._waiting = self.reply
        self.reply = (self.reply + 1) & 0xFFFF
        if expect is None:
            try:
                return self._receive()
            except ZkError:
                return Packet(0, self.session, sent, b"")
        answer = self._receive()
        if answer.command not in expect:
            wanted = " or ".join(REPLY_NAMES.get(c, str(c)) for c in expect)
            raise ZkError(f"{self.where}: command {command} answered {answer.name}, expected {wanted}")
        return answer

    # ------------------------------------------------------------------------------------------ frames

    def _receive(self) -> Packet:
        if self.udp:
            return self._datagram()
        head = self._exactly(8, "a reply")
        if head[:4] != MAGIC:
            raise ZkError(f"{self.where}: not a ZK reply (it starts {head[:4].hex(' ')}, expected 50 50 82 7d): "
                          "is this port a fingerprint machine?")
        (length,) = struct.unpack_from("<I", head, 4)
        if not 8 <= length <= MAX_FRAME:
            raise ZkError(f"{self.where}: a reply announcing {length} bytes is not the protocol")
        return Packet.parse(self._exactly(length, "the reply's body"))

    def _datagram(self) -> Packet:
        """The next datagram answering the awaited command (a late answer to an earlier one is skipped)."""
        assert self._sock is not None
        while True:
            try:
                got = self._sock.recv(65535)
            except TimeoutError:
                raise ZkError(f"{self.where}: no answer within {self.timeout:g} s (UDP)") from None
            except ConnectionRefusedError:
                raise ZkError(f"{self.where}: nothing answers on this UDP port") from None
            except OSError as exc:
                raise ZkError(f"{self.where}: {exc.strerror or exc}") from None
            packet = Packet.parse(got)
            if packet.command not in REPLY_NAMES:
                raise ZkError(f"{self.where}: not a ZK reply (a datagram starting {got[:4].hex(' ')}): is this port "
                              "a fingerprint machine?")
            if packet.reply == self._waiting:
                return packet

    def _exactly(self, count: int, what: str) -> bytes:
        assert self._sock is not None
        chunks = bytearray()
        while len(chunks) < count:
            try:
                got = self._sock.recv(count - len(chunks))
            except TimeoutError:
                raise ZkError(f"{self.where}: no answer within {self.timeout:g} s ({what}, {len(chunks)} of "
                              f"{count} bytes)") from None
            except OSError as exc:
                raise ZkError(f"{self.where}: the connection broke: {exc.strerror or exc}") from None
            if not got:
                raise ZkError(f"{self.where}: the machine closed the connection ({what}: {len(chunks)} of "
                              f"{count} bytes)")
            chunks += got
        return bytes(chunks)

