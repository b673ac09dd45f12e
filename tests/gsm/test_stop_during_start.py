"""`absensi run` stopped by SIGTERM while it is still starting exits cleanly (issue 11).

Its stop handling is installed first thing in `serve`: a SIGTERM during start-up ends the start-up at its
next step, and what was started (the store, the modem's worker, the lease) is stopped — exit status 0, no
traceback, the last line the one printed after the cleanup. Without it the signal's default action killed
the process (status -15) with none of that. The start-up here lasts a few hundred milliseconds, so a run
whose signal came too late (its start-up already complete: "Telegram: not running" printed) is repeated;
every run must stop cleanly and at least one must have been cut short. Both backends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import wait_for
from .emulator import ModemEmulator

ROOT = Path(__file__).resolve().parents[2]
LATE = "Telegram: not running"  # printed at the end of the start-up
TRIES = 4


class Child:
    """`absensi run` on one modem, its output read line by line as it comes."""

    def __init__(self, modem: ModemEmulator, db_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "absensi.engine.app.cli", "run", "--school",
                   str(ROOT / "tests/schools/mini"), "--modem", modem.port, "--db", db_url]
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def reached(name: str, child: Child, modem: ModemEmulator) -> Callable[[], object]:
    """The moment to send SIGTERM at (or the child's early exit, which then fails the test)."""
    if name == "store opened":  # the first line, printed once the database is open
        return lambda: any(line.startswith("absensi:") for line in child.lines) or child.proc.poll() is not None
    # the modem's worker has opened the port: the engine is being built meanwhile
    return lambda: modem.commands or child.proc.poll() is not None


@pytest.mark.parametrize("when", ["store opened", "modem opened"])
def test_sigterm_during_start_up_stops_what_was_started(emulators, db_url: str, when: str) -> None:  # type: ignore[no-untyped-def]
    cut_short = 0
    for _ in range(TRIES):
        modem = emulators("sim800")
        child = Child(modem, db_url)
        try:
            wait_for(reached(when, child, modem), 60, when)
        finally:
            code = child.stop()
        output = child.output()
        assert code == 0, f"exit status {code}:\n{output}"
        assert "Traceback" not in output, output
        assert output.rstrip().splitlines()[-1] == "absensi: stopped", output
        if LATE not in output:
            cut_short += 1
            break
    assert cut_short, f"every SIGTERM of {TRIES} came after the start-up had ended"
