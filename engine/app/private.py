"""Files with children's personal data are readable by their owner only, from the first byte (SPEC §8).

The command line sets `PRIVATE_UMASK` for the whole process, which covers files written by libraries
(SQLite's journals, the Telegram session); these helpers make the same promise when the engine is used as
a library, whatever the caller's umask. A file is opened with mode 0600 (or tightened while still empty),
never written first and restricted after: a `chmod` afterwards leaves a moment in which others can read it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (replacing its content) in a file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        _tighten(handle.fileno())
        handle.write(data)


def make_private(path: Path) -> None:
    """Create `path` empty if it is missing; either way restrict it to its owner before anything is
    written to it (for writers that open the file themselves, such as SQLite or the csv module)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        _tighten(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> None:
    """A directory for private files (`absensi demo --out`): only its owner may list it."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def _tighten(fd: int) -> None:
    """An existing file keeps its mode on open: restrict it (it is empty, or about to be rewritten)."""
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, FILE_MODE)
