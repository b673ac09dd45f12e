"""Serial line framing: bytes in, lines out, command replies kept apart from unsolicited lines.

One reader thread per port turns bytes into lines and sorts each line into one of two places: the reply
queue of the command in flight, or the unsolicited handler. Modems interleave the two freely (a `+CMTI`
can land between `+CMGL` lines and its `OK`), so the sorting uses the line's prefix, not its timing.
The port object is injected (anything with pyserial's read/write/close), so tests may pass a pty-backed
`serial.Serial` or any URL `serial.serial_for_url` understands.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

# Lines that are never a reply to the command in flight unless that command asked for them by prefix.
UNSOLICITED_PREFIXES = (
    "+CMTI:", "+CMT:", "+CDS:", "+CDSI:", "+CBM:", "RING", "+CLIP:", "+CRING:", "^RSSI:", "^BOOT:", "^MODE:",
    "^SRVST:", "^SIMST:", "^HCSQ:", "^DSFLOWRPT:", "^SYSSTART", "^STIN:", "RDY", "+CPIN:", "+CREG:", "+CGREG:",
    "+CEREG:", "+CUSD:", "+CFUN:", "+QIND:", "+PBREADY", "Call Ready", "SMS Ready", "+CIEV:", "+WIND:",
    "NO CARRIER", "+STIN:", "+CSQN:",
)
# Unsolicited lines followed by a PDU line in PDU mode.
_WITH_PDU = ("+CMT:", "+CDS:")
CLOSED = "\x00closed"  # put on the reply queue when the port goes away, to wake a waiting command
PROMPT = ">"


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """One unsolicited result: the line, and for `+CMT`/`+CDS` the PDU line that followed it."""

    line: str
    pdu: str | None = None

    @property
    def name(self) -> str:
        return self.line.split(":", 1)[0].strip()


class Link:
    """Frames the byte stream of one port; see the module docstring."""

    def __init__(self, port: Any, on_unsolicited: Callable[[Unsolicited], None], name: str = "") -> None:
        self.port, self.name = port, name or getattr(port, "port", "") or "modem"
        self.replies: queue.Queue[str] = queue.Queue()
        self._on_unsolicited = on_unsolicited
        self._expect: str | None = None  # prefix of the command in flight, e.g. '+CMGL'
        self._busy = False
        self._want_prompt = False
        self._pending_header: str | None = None
        self._buffer = b""
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gsm-link-{self.name}", daemon=True)

    # ------------------------------------------------------------------------------------- lifecycle

    def start(self) -> Link:
        self._thread.start()
        return self

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Close the port; the reader thread ends and a waiting command gets `LinkClosed`."""
        self._closed.set()
        cancel = getattr(self.port, "cancel_read", None)
        try:
            if cancel is not None:
                cancel()
            self.port.close()
        except Exception as exc:  # closing a port that vanished may fail; it is gone either way
            logger.debug("{}: close: {}", self.name, exc)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)
        self.replies.put(CLOSED)

    # ------------------------------------------------------------------------------------- commands

    def begin(self, prefix: str | None, want_prompt: bool = False) -> None:
        """A command is about to be written: lines starting with `prefix` belong to it."""
        while not self.replies.empty():
            stale = self.replies.get_nowait()
            if stale != CLOSED:
                logger.debug("{}: dropping late reply {!r}", self.name, stale)
        self._expect, self._want_prompt, self._busy = prefix, want_prompt, True

    def end(self) -> None:
        self._expect, self._want_prompt, self._busy = None, False, False

    def expect_prompt(self, flag: bool) -> None:
        self._want_prompt = flag

    def write(self, data: bytes) -> None:
        self.port.write(data)
        flush = getattr(self.port, "flush", None)
        if flush is not None:
            flush()

    # ------------------------------------------------------------------------------------- reading

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                chunk = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
                if chunk:
                    self._feed(chunk)
        except Exception as exc:  # pyserial raises SerialException/OSError/TypeError when the device vanishes
            if not self._closed.is_set():
                logger.warning("{}: port lost: {}", self.name, exc)
        finally:
            self._closed.set()
            self.replies.put(CLOSED)

    def _feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while True:
            cut = min((i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                break
            raw, self._buffer = self._buffer[:cut], self._buffer[cut + 1 :]
            line = raw.decode("latin-1").strip()
            if line:
                self._route(line)
        if self._want_prompt and self._buffer.strip() == b">":
            self._buffer = b""
            self._want_prompt = False
            self.replies.put(PROMPT)

    def _route(self, line: str) -> None:
        if self._pending_header is not None:
            header, self._pending_header = self._pending_header, None
            self._emit(Unsolicited(header, line))
            return
        if line.startswith(_WITH_PDU) and not self._is_reply(line):
            self._pending_header = line
            return
        if self._is_reply(line):
            self.replies.put(line)
        else:
            self._emit(Unsolicited(line))

    def _is_reply(self, line: str) -> bool:
        if not self._busy:
            return False
        if self._expect and line.startswith(self._expect):
            return True
        return not line.startswith(UNSOLICITED_PREFIXES)

    def _emit(self, event: Unsolicited) -> None:
        try:
            self._on_unsolicited(event)
        except Exception:  # a broken handler must not kill the reader
            logger.exception("{}: unsolicited handler failed on {!r}", self.name, event.line)
