"""One log setup for every command: private by default (SPEC §8).

The log calls themselves never pass a message's text, a PDU or an unmasked number at INFO and above;
this module is the safety net behind them. Every line is redacted after loguru has formatted it —
exception tracebacks included — so a number inside an exception message (a PostgreSQL `DETAIL`, a
source id, a library's error) is masked too. Tracebacks never show variable values (`diagnose=False`),
and the standard `logging` records of libraries (pyrogram, SQLAlchemy) go through the same sink.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from types import TracebackType
from typing import TextIO

from loguru import logger

# A phone number as people, modems and libraries write it: +62 812-3456-7890, 0062812…, 62812…, 0812…
# (also with spaces, dots or dashes), or any run of 9 or more digits (a number without its country code,
# a foreign number). False positives (a long id, an IMEI) are masked too: a log is no worse for it.
_PHONE = re.compile(
    r"(?<!\d)(?:"
    r"\+\d(?:[ .-]?\d){7,14}"  # international, any country
    r"|(?:0062|62|0)[ .-]?8(?:[ .-]?\d){7,12}"  # Indonesian mobile, national or without the plus
    r"|\d{9,}"  # any long run of digits
    r")(?!\d)"
)
# A PDU encodes the sender and the text; as hex it hides both from the phone pattern, so long hex goes.
_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{24,}(?![0-9A-Fa-f])")
# SQLAlchemy's "[parameters: (…)]" and PostgreSQL's "DETAIL: Key (phone)=(…)" / "Failing row contains (…)".
_SQL_VALUES = re.compile(r"\[parameters: [^\n]*|(?<=DETAIL:)[^\n]*")

def redact(text: str) -> str:
    """`text` with every phone number masked (`0812****890`), PDUs and SQL values hidden."""
    text = _SQL_VALUES.sub(_hidden_values, text)
    text = _HEX.sub(lambda m: f"[{len(m.group())} hex characters hidden]", text)
    return _PHONE.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    from ..school.phones import mask  # phonenumbers is loaded when a log line first holds a number

    return mask(_as_national(found.group()))


def _hidden_values(found: re.Match[str]) -> str:
    return "[parameters hidden]" if found.group().startswith("[parameters") else " [values hidden]"


def _as_national(found: str) -> str:
    """An Indonesian mobile written internationally as `08…` (so it masks as `0812****890`); else digits."""
    digits = "".join(ch for ch in found if ch.isdigit())
    for prefix in ("0062", "62"):
        if digits.startswith(prefix + "8"):
            return "0" + digits[len(prefix):]
    return digits


class RedactingStream:
    """A text stream that redacts each write; without a target it writes to the *current* sys.stderr
    (so a test runner or CliRunner that swaps stderr still captures the log)."""

    def __init__(self, target: TextIO | None = None) -> None:
        self._target = target

    @property
    def target(self) -> TextIO:
        return self._target if self._target is not None else sys.stderr

    def write(self, text: str) -> int:
        return self.target.write(redact(text))

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())


def setup(level: str = "WARNING", stream: TextIO | None = None) -> None:
    """Replace every log sink by one redacting sink at `level`, for loguru, `logging` and uncaught errors.

    `level` is the default level of the command (WARNING; INFO for `absensi run`); DEBUG may show more
    than a default log should and is for a developer's own machine only.
    """
    logger.remove()
    logger.add(RedactingStream(stream), level=level, diagnose=False, backtrace=False)
    _route_standard_logging()
    threading.excepthook = _log_thread_error


def log_uncaught(exc: BaseException) -> None:
    """An error no command handled: logged through the redacting sink instead of printed raw."""
    logger.opt(exception=exc).error("unexpected error: {}", type(exc).__name__)


class _ToLoguru(logging.Handler):
    """Libraries' `logging` records (pyrogram, SQLAlchemy) into loguru, so they are redacted as well."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int = record.levelno
        with contextlib.suppress(ValueError):  # a level loguru does not know by name keeps its number
            level = logger.level(record.levelname).name
        logger.opt(exception=record.exc_info).log(level, "{}: {}", record.name, record.getMessage())


def _route_standard_logging() -> None:
    """Warnings and errors of `logging` go to loguru (never to logging's own unredacted stderr handler)."""
    root = logging.getLogger()
    if not any(isinstance(h, _ToLoguru) for h in root.handlers):
        root.addHandler(_ToLoguru(level=logging.WARNING))


def _log_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | None = None
    if args.exc_value is not None:
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logger.opt(exception=exc_info).error("thread {} stopped on an error", name)
