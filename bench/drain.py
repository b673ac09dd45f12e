"""A SIM holding 30 messages when the service starts: how long until all 30 are in the inbox and handled.

    .venv/bin/python bench/drain.py [--backend sqlite|postgres] [--runs 3] [--messages 30]

The whole `absensi run --school sample_school --modem <pty> --db <fresh database>` is started, as a user
does, against an emulated modem (tests/gsm) on a real pty whose SIM already holds the messages: parents
of parents.csv sending SAKIT/IZIN, new parents sending REG, strangers, and two long INFO (two parts each,
concatenated). The bench reads the inbox table (plain SQL, a separate connection) every 20 ms.

Figures: launch → modem ready (the driver's log line), launch → all messages handled (process start
included), and modem ready → all in the inbox / all handled (the drain itself, with the real store);
the service's CPU (its process and children, /proc) until ready and during the drain.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    SAMPLE,
    Figure,
    Postgres,
    absensi_command,
    clean_env,
    emulator,
    header,
    load_school_and_rules,
    postgres,
    print_table,
    tree_cpu,
)
from service_idle import Output, database
from sqlalchemy import create_engine, text

LONG_INFO = ("INFO mohon maaf mengganggu, kami ingin menanyakan jadwal pengambilan rapor semester ini dan apakah "
             "orang tua perlu datang sendiri atau boleh diwakilkan oleh kakak atau saudara, karena kami bekerja di "
             "luar kota sampai akhir bulan. terima kasih banyak bapak ibu guru")


def sim_messages(school: Any, count: int, seed: int) -> list[tuple[str, str]]:
    """(sender, text) as parents and the public write them."""
    rng = random.Random(seed)
    registered = sorted({phone for phone, _ in school.preregistered})
    students = list(school.students.values())
    out: list[tuple[str, str]] = [(rng.choice(registered), LONG_INFO), (f"+62813{rng.randrange(10**7, 10**8)}", LONG_INFO)]
    while len(out) < count:
        kind = rng.random()
        if kind < 0.5:
            out.append((rng.choice(registered), rng.choice(("SAKIT demam", "IZIN acara keluarga", "Sakit, flu"))))
        elif kind < 0.75:
            out.append((f"+62857{rng.randrange(10**7, 10**8)}", f"REG {rng.choice(students).parent_code}"))
        else:
            out.append((f"+62813{rng.randrange(10**7, 10**8)}", rng.choice(("halo", "SAKIT flu", "tes"))))
    rng.shuffle(out)
    return out[:count]


def one_run(backend: str, server: Postgres | None, school: Any, count: int, seed: int) -> dict[str, float]:
    emu_module = emulator()
    messages = sim_messages(school, count, seed)
    with tempfile.TemporaryDirectory(prefix="absensi-bench-") as name:
        tmp = Path(name)
        modem = emu_module.ModemEmulator(tmp, "sim800", name="drain", capacity=count + 20)
        stamp = datetime.now(UTC) - timedelta(minutes=30)
        slots = 0
        for n, (sender, body) in enumerate(messages):
            for part in emu_module.deliver_pdus(sender, body, stamp + timedelta(seconds=n), ref=n % 256):
                modem.deliver(part)
                slots += 1
        modem.start()
        try:
            with database(backend, tmp, server) as url:
                reader = create_engine(url)
                command = [*absensi_command(), "run", "--school", str(SAMPLE), "--modem", modem.port, "--db", url]
                launched = time.monotonic()
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=clean_env(),
                                        cwd=tmp)
                out = Output(proc)
                ready_line = re.compile(re.escape(modem.port) + r".*IMEI")
                first_at = inbox_at = done_at = None
                cpu_ready = cpu_done = 0.0
                deadline = launched + 180
                while done_at is None:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        proc.kill()
                        raise SystemExit(f"not drained in time:\n{out.text()[-3000:]}")
                    if not cpu_ready and out.first(ready_line) is not None:
                        cpu_ready = tree_cpu(proc.pid)
                    with contextlib.suppress(Exception):  # the service may not have made its tables yet
                        with reader.connect() as conn:
                            rows = dict(conn.execute(text("SELECT status, count(*) FROM inbox GROUP BY status")).all())
                        now, total = time.monotonic(), sum(rows.values())
                        if first_at is None and total:
                            first_at = now
                        if inbox_at is None and total >= count:
                            inbox_at = now
                        if rows.get("done", 0) + rows.get("error", 0) >= count:
                            done_at = now
                            cpu_done = tree_cpu(proc.pid)
                            errors = rows.get("error", 0)
                    time.sleep(0.02)
                ready_at = out.first(ready_line) or first_at or done_at
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
                reader.dispose()
                if code != 0:
                    raise SystemExit(f"the service exited {code} on SIGTERM:\n{out.text()[-3000:]}")
        finally:
            modem.close()
    assert inbox_at is not None and first_at is not None
    return {"ready": ready_at - launched, "done": done_at - launched, "ready_inbox": inbox_at - ready_at,
            "ready_done": done_at - ready_at, "slots": float(slots), "errors": float(errors),
            "left": float(len(modem.storage)), "cpu_ready": cpu_ready, "cpu_done": cpu_done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=30)
    args = parser.parse_args()
    load = header(f"drain: a SIM holding {args.messages} messages at start, {args.backend}")
    _, school = load_school_and_rules()
    ready = Figure("launch → modem ready", "< 1.5", "s")
    whole = Figure(f"launch → all {args.messages} handled (process start included)", "", "s")
    inbox = Figure(f"modem ready → all {args.messages} in the inbox", "", "s")
    handled = Figure(f"modem ready → all {args.messages} handled", "", "s")
    cpu_ready = Figure("CPU of the service, launch → modem ready", "", "s")
    cpu_drain = Figure(f"CPU of the service, modem ready → all {args.messages} handled", "", "s")
    notes = []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres()) if args.backend == "postgres" else None
        if server:
            notes.append(f"PostgreSQL: {server.settings}")
        for n in range(args.runs):
            got = one_run(args.backend, server, school, args.messages, n)
            ready.add(got["ready"])
            whole.add(got["done"])
            inbox.add(got["ready_inbox"])
            handled.add(got["ready_done"])
            cpu_ready.add(got["cpu_ready"])
            cpu_drain.add(got["cpu_done"] - got["cpu_ready"])
            notes.append(f"run {n + 1}: {args.messages} messages in {got['slots']:.0f} SIM slots, "
                         f"{got['errors']:.0f} handled with an error, {got['left']:.0f} left on the SIM")
    print_table(f"drain, {args.messages} messages on the SIM ({args.backend})", [ready, whole, inbox, handled, cpu_ready, cpu_drain],
                [*notes, load.report()])


if __name__ == "__main__":
    main()
