"""Serial line framing: bytes in, lines out, command replies kept apart from unsolicited lines.

One reader thread per port turns bytes into lines and sorts each line into one of two places: the reply
queue of the command in flight, or the unsolicited handler. Modems interleave the two freely (a `+CMTI`
can land between `+CMGL` lines and its `OK`), so the sorting uses the line's prefix, not its timing.
The port object is injected (anything with pyserial's read/write/close), so tests may pass a pty-backed
`serial.Serial` or any URL `serial.serial_for_url` understands.
"""

from __future__ import annotations

import queue
import re
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
# Never a command's reply, even while its command is in flight: a USSD answer may come before or after the
# `OK` of `AT+CUSD=1,…`, and one landing between that `OK` and the end of the command would otherwise be
# dropped as a late reply. Its waiter reads them all from the unsolicited side.
_ALWAYS_UNSOLICITED = ("+CUSD:",)
# A quoted string left open at the end of a line goes on over the next lines: modems put the line breaks of
# a USSD answer into `<str>` as they are. At most this many lines are joined, and a final result code ends
# the string whatever the quotes say, so an unbalanced quote cannot swallow the dialogue.
_CONTINUED = ("+CUSD:",)
_MAX_CONTINUATION = 40
_ENDS_WITH_DCS = re.compile(r'",\s*\d+\s*$')
_FINAL_CODES = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT")
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
        self._open_string: list[str] | None = None  # lines of a +CUSD whose quoted string is still open
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
        if self._open_string is not None or (line.startswith(_CONTINUED) and not _closed(line)):
            joined = self._join_open_string(line)
            if joined is None:
                return
            line = joined
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

    def _join_open_string(self, line: str) -> str | None:
        """Collect the lines of a string that spans several; the whole line once it closes, else None.
        A final result code while a string is open ends it: the open part goes out as it is and the code
        is routed after it."""
        if self._open_string is None:
            self._open_string = [line]
            return None
        if line.startswith(_FINAL_CODES) or len(self._open_string) >= _MAX_CONTINUATION:
            cut, self._open_string = "\n".join(self._open_string), None
            self._route(cut + '"')
            return line
        self._open_string.append(line)
        whole = "\n".join(self._open_string)
        if not _closed(whole):
            return None
        self._open_string = None
        return whole

    def _is_reply(self, line: str) -> bool:
        if line.startswith(_ALWAYS_UNSOLICITED):
            return False
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


def _closed(text: str) -> bool:
    """No quoted string left open: the quotes pair up, or the line already ends like `…",15` (a quote
    inside the text then made the count odd)."""
    return text.count('"') % 2 == 0 or _ENDS_WITH_DCS.search(text) is not None
