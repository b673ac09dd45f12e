"""The AT dialogue: one command at a time, a timeout per command, typed errors.

`AtChannel.command("AT+CSQ")` writes the command, collects the reply lines that the `Link` sorted to it
and returns them once a final result code arrives. Errors come back as `CmeError`/`CmsError`/`CommandError`
(see `errors.py`), silence as `AtTimeout`, a vanished port as `LinkClosed`.
"""

from __future__ import annotations

import queue
import re
import threading
import time

from loguru import logger

from .errors import AtTimeout, LinkClosed, parse_error
from .link import CLOSED, PROMPT, Link

FINAL_OK = ("OK",)
FINAL_ERROR = ("ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT", "NO CARRIER", "TOO MANY PARAMETERS")
_PREFIX = re.compile(r"^AT([+^$%*#][A-Z0-9]+)", re.IGNORECASE)
CTRL_Z, ESC = b"\x1a", b"\x1b"


def reply_prefix(command: str) -> str | None:
    """`AT+CMGL=4` → `+CMGL`: the prefix the modem's information lines for this command start with."""
    match = _PREFIX.match(command)
    return match.group(1).upper() if match else None


def is_final(line: str) -> bool:
    return line in FINAL_OK or line.startswith(FINAL_ERROR)


class AtChannel:
    """Serialises commands over one `Link`; safe to call from several threads."""

    def __init__(self, link: Link, default_timeout: float = 5.0) -> None:
        self.link = link
        self.default_timeout = default_timeout
        self._lock = threading.Lock()

    def command(self, command: str, timeout: float | None = None, *, ok_without: str | None = None) -> list[str]:
        """Run `command`; return its information lines (without echo and final code).

        `ok_without`: a reply prefix that counts as complete even without `OK` (Wavecom answers `AT+CPIN?`
        with `+CPIN: READY` and nothing else).
        """
        with self._lock:
            self.link.begin(reply_prefix(command))
            try:
                self._write(command, command.encode("ascii") + b"\r")
                return self._collect(command, timeout or self.default_timeout, ok_without)
            finally:
                self.link.end()

    def send_pdu(self, length: int, pdu_hex: str, prompt_timeout: float, timeout: float) -> list[str]:
        """`AT+CMGS=<length>`, wait for `>`, write the PDU and Ctrl-Z, wait (long) for the reference."""
        command = f"AT+CMGS={length}"
        with self._lock:
            self.link.begin("+CMGS", want_prompt=True)
            try:
                self._write(command, command.encode("ascii") + b"\r")
                try:
                    self._wait_prompt(command, prompt_timeout)
                except AtTimeout:
                    self._write(command, ESC)  # leave PDU entry, or the next command would become the PDU
                    raise
                self._write(command, pdu_hex.encode("ascii") + CTRL_Z)
                return self._collect(command, timeout, None)
            finally:
                self.link.end()

    def _write(self, command: str, data: bytes) -> None:
        if self.link.closed:
            raise LinkClosed(f"{command}: port closed")
        try:
            self.link.write(data)
        except Exception as exc:  # pyserial raises SerialException/OSError/PortNotOpenError on a dead port
            raise LinkClosed(f"{command}: write failed: {exc}") from exc

    def _wait_prompt(self, command: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(command, deadline)
            if line == PROMPT or line is None:
                return
            if is_final(line):
                raise parse_error(command, line)
            logger.debug("{}: unexpected line before prompt: {!r}", self.link.name, line)

    def _collect(self, command: str, timeout: float, ok_without: str | None) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._next(command, deadline, quiet=bool(ok_without and lines))
            if line is None:  # Wavecom-style reply without OK, after a short grace
                return lines
            if line in (command, PROMPT):
                continue  # echo (before ATE0 took effect) or a stray prompt
            if line in FINAL_OK:
                return lines
            if line.startswith(FINAL_ERROR):
                raise parse_error(command, line)
            lines.append(line)
            if ok_without and line.startswith(ok_without):
                deadline = min(deadline, time.monotonic() + 0.3)

    def _next(self, command: str, deadline: float, quiet: bool = False) -> str | None:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise queue.Empty
            line = self.link.replies.get(timeout=remaining)
        except queue.Empty:
            if quiet:
                return None
            raise AtTimeout(f"{command}: no answer") from None
        if line == CLOSED:
            self.link.replies.put(CLOSED)  # keep waking later callers too
            raise LinkClosed(f"{command}: port closed")
        return line
