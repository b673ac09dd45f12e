"""Shared bench plumbing: emulated modems hosted in a child process, so the figures measure the driver.

The emulator lives in tests/gsm (it is test equipment); the benches import it from there.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _host(conn: Any, profiles: list[str], knobs: dict[str, Any], capacity: int | None) -> None:
    from gsm.emulator import ModemEmulator  # tests/ is on sys.path only once this module runs

    workdir = tempfile.mkdtemp(prefix="gsm-bench-")
    emus = [ModemEmulator(Path(workdir), p, name=f"b{i}", capacity=capacity) for i, p in enumerate(profiles)]
    for emu in emus:
        for key, value in knobs.items():
            setattr(emu, key, value)
        emu.start()
    conn.send([e.port for e in emus])
    while True:
        request = conn.recv()
        op = request[0]
        if op == "stop":
            for emu in emus:
                emu.close()
            conn.send("ok")
            return
        if op == "preload":
            _, index, pdus = request
            for n, body in enumerate(pdus):
                emus[index].storage[emus[index].profile.first_index + n] = (0, body)
            conn.send(len(emus[index].storage))
        elif op == "stats":
            conn.send([{"sent": len(e.sent), "sent_at": [s.at for s in e.sent], "storage": len(e.storage),
                        "commands": len(e.commands)} for e in emus])


class HostedModems:
    """Start `profiles` emulators in a child process; `.ports` are ready for pyserial."""

    def __init__(self, profiles: list[str], knobs: dict[str, Any] | None = None, capacity: int | None = None):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_host, args=(child, profiles, knobs or {}, capacity), daemon=True)
        self.proc.start()
        self.ports: list[str] = self.conn.recv()

    def ask(self, *request: Any) -> Any:
        self.conn.send(request)
        return self.conn.recv()

    def close(self) -> None:
        self.ask("stop")
        self.proc.join(5)


def fakes():
    from gsm.fakes import RecordingInbox, RecordingOutbox

    return RecordingInbox, RecordingOutbox
