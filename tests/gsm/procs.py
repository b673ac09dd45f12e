"""Real `absensi run` processes for the crash tests, and the bookkeeping that judges SPEC §8 afterwards.

- `Service`: `absensi run --school tests/schools/mini --modem <pty> --db <url>` as a child process, killed
  with SIGKILL (`kill`) or stopped with SIGTERM (`stop`); each run logs to its own file.
- `TimedModem`: the emulator with a realistic, varying time per `+CMGS` (the network's answer takes a
  while), and a record of when each part's hand-over began, so a kill can be aimed inside a send and each
  repeat traced to a kill that could have caused it.
- `Traffic`: what parents and the public send (REG, SAKIT/IZIN, junk, long INFO), every text unique so
  each can be found in the inbox; `FakeTelegram`: the Telegram driver played by the test on the shared
  database (marks Telegram items sent, answers forwarded INFO with long replies, which the engine bridges
  to the parent as multipart SMS: the one way an SMS reply is longer than one part, see `turn.sms`).
- `Ledger`: after the run, inbound (each SMS delivered exactly once in the inbox and handled) and
  outbound (copies of every part the emulators received, against the outbox rows and the kills).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from absensi.drivers.gsm import pdu
from absensi.drivers.gsm.outbound import build_parts
from absensi.drivers.gsm.settings import ModemSettings
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow, OutboxRow
from absensi.engine.store.store import outbox_item

from .emulator import ModemEmulator, deliver_pdus

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "schools" / "mini"
PEJABAT = -1001234567890  # the mini school's telegram group `pejabat`: where INFO is forwarded
KEPALA = 700009  # the head teacher's Telegram id in the mini school's staff.csv


def wait_for(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.05,
             explain: Callable[[], str] | None = None) -> None:
    """Poll `predicate`; on timeout fail with `explain()` (a hang must say where things stand)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    message = f"timed out after {timeout:.0f} s waiting for {what}"
    if explain is not None:
        try:
            message += "\n" + explain()
        except Exception as exc:  # the explanation must not hide the timeout
            message += f"\n(diagnosis failed: {type(exc).__name__}: {exc})"
    raise AssertionError(message)


def absensi(*args: str) -> list[str]:
    return [sys.executable, "-m", "absensi.engine.app.cli", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["PYTHONUNBUFFERED"] = "1"  # a killed process leaves its output in the log
    env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT (see `diagnose`) writes every thread's stack to the log
    return env


def status_json(db_url: str) -> dict:
    """`absensi status --db URL --json` as an operator runs it (exit 1 only flags problems)."""
    done = subprocess.run(absensi("status", "--school", str(MINI), "--db", db_url, "--json"),
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


class Service:
    """One `absensi run` on `ports`, restartable; each run writes `<logs>/<name>-<n>.log`."""

    def __init__(self, ports: list[str], db_url: str, logs: Path, name: str = "run", school: Path = MINI) -> None:
        self.ports, self.db_url, self.logs, self.name, self.school = ports, db_url, logs, name, school
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.log: Path | None = None

    def start(self) -> Service:
        assert not self.alive
        self.runs += 1
        self.log = self.logs / f"{self.name}-{self.runs}.log"
        command = absensi("run", "--school", str(self.school), "--db", self.db_url)
        for port in self.ports:
            command += ["--modem", port]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_env())
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_until(self, predicate: Callable[[], object], timeout: float, what: str, every: float = 0.05,
                   explain: Callable[[], str] | None = None) -> None:
        """`wait_for`, failing at once (with the log) if the process exits meanwhile."""
        wait_alive([self], predicate, timeout, what, every, explain)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def kill(self) -> float:
        """SIGKILL now; returns the moment (monotonic). Reaped at once: a zombie's pid still looks alive."""
        assert self.proc is not None and self.alive, self.output()[-3000:]
        os.kill(self.proc.pid, signal.SIGKILL)
        at = time.monotonic()
        self.proc.wait(timeout=30)
        return at

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=30)


def wait_alive(services: list[Service], predicate: Callable[[], object], timeout: float, what: str,
               every: float = 0.05, explain: Callable[[], str] | None = None) -> None:
    """`wait_for` while `services` run: one that exits fails the wait at once, with its log."""
    wait_for(lambda: predicate() or not all(s.alive for s in services), timeout, what, every, explain)
    for s in services:
        assert s.alive, f"absensi run exited ({s.proc and s.proc.returncode}):\n{s.output()[-3000:]}"


class TimedModem(ModemEmulator):
    """The emulator taking `delays` seconds (uniform) to answer each `+CMGS`, as a network does."""

    def __init__(self, link_dir: Path, *, name: str, seed: int, delays: tuple[float, float] = (0.2, 0.5)) -> None:
        super().__init__(link_dir, "sim800", name=name)
        self.name, self.delays, self._rng = name, delays, random.Random(seed)
        self.handing_since: float | None = None  # set while a PDU is in the modem's hands
        self.started: list[float] = []  # for each entry of `sent`: when its hand-over began

    def submit(self, length: int, body: str) -> None:
        start, count = time.monotonic(), len(self.sent)
        self.send_delay = self._rng.uniform(*self.delays)
        self.handing_since = start
        try:
            super().submit(length, body)
        finally:
            if len(self.sent) > count:
                self.started.append(start)
            self.handing_since = None

    def inits(self) -> int:
        """How many times a driver has initialised this modem, counted at `+CNMI` (from then on it is told of
        each new SMS)."""
        return sum(1 for c in list(self.commands) if c.startswith("AT+CNMI"))

    def idle(self) -> bool:
        return not self.storage and not self.backlog and self.handing_since is None

    def state(self) -> str:
        """What this modem holds and was last asked, for a test that timed out waiting on it."""
        locked = self._lock.acquire(timeout=2)  # the serve thread may be stuck holding it: say so
        try:
            storage, backlog, commands = dict(self.storage), list(self.backlog), list(self.commands)
            timers, in_pdu, buffer = list(self._timers), self.in_pdu, self.buffer
        finally:
            if locked:
                self._lock.release()
        since = f"{time.monotonic() - self.handing_since:.1f} s ago" if self.handing_since is not None else "no"
        thread = self._thread
        lines = [f"modem {self.name} ({self.port}): storage {len(storage)}, backlog {len(backlog)}, "
                 f"handing since: {since}, lock {'free' if locked else 'HELD by another thread for > 2 s'}, "
                 f"serve thread {'alive' if thread and thread.is_alive() else 'DEAD'}, hung {self.hung}, "
                 f"in_pdu {in_pdu}, cmgf {self.cmgf}, cnmi {self.cnmi}, timers {len(timers)}, "
                 f"parts sent {len(self.sent)}, inits {self.inits()}, buffer {buffer[-80:]!r}"]
        lines += [f"  SIM [{i}] stat {stat}: {describe_pdu(body)}" for i, (stat, body) in sorted(storage.items())]
        lines += [f"  backlog: {describe_pdu(body)}" for body in backlog]
        lines.append(f"  last commands: {commands[-12:]}")
        frame = sys._current_frames().get(thread.ident) if thread and thread.ident else None
        if frame is not None:
            lines.append("  serve thread stack:\n" + "".join(traceback.format_stack(frame)[-6:]))
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------- traffic


def _students() -> list[tuple[str, str, str]]:
    with open(MINI / "students.csv", newline="") as f:
        return [(r["nis"], r["parent_code"], r["name"].split()[0]) for r in csv.DictReader(f)]


@dataclass(frozen=True)
class Sms:
    sender: str
    text: str


LONG_INFO = ("mohon maaf mengganggu, kami ingin menanyakan jadwal pengambilan rapor semester ini dan apakah "
             "orang tua perlu datang sendiri atau boleh diwakilkan oleh kakak atau saudara, karena kami bekerja "
             "di luar kota sampai akhir bulan. terima kasih banyak bapak ibu guru")
BRIDGE_REPLIES = (
    # GSM 7-bit, 2 parts
    "Rapor dibagikan hari Sabtu pukul 08.00 di kelas masing-masing. Boleh diwakilkan oleh saudara yang sudah "
    "dewasa dengan membawa surat kuasa bermeterai dan fotokopi KTP orang tua. Bila berhalangan, hubungi wali "
    "kelas untuk jadwal lain.",
    # UCS-2 (the en dash), 3 parts with the role prefix: within the rules' limit for a bridged reply
    "Rapor dibagikan Sabtu pukul 08.00. Boleh diwakilkan saudara dewasa dengan surat kuasa. Bila berhalangan, "
    "hubungi wali kelas – jadwal lain bisa diatur.",
)


class Traffic:
    """SMS in the order a school sees them: registrations first, then reports, junk, questions.

    Every text carries a serial (`k17`) so each is found once in the inbox. Parents 1–12 have one child
    each, parent 99 five (a SAKIT without a name gets the choose-a-child reply); INFO texts are long
    (two parts in, concatenated), and the head teacher answers each forwarded INFO from Telegram.
    """

    def __init__(self, rng: random.Random, scale: int = 1) -> None:
        self.rng, self.serial, self.ref = rng, 0, rng.randrange(256)
        students = _students()
        parents = {f"+628123450{i:04d}": students[i - 1] for i in range(1, 13)}
        multi = "+6281234509999"
        regs = [f"{p} REG {code}" for p, (_, code, _) in parents.items()]
        regs += [f"{multi} REG {code}" for _, code, _ in students[12:17]]
        rest: list[str] = []
        for _ in range(scale):
            for p in parents:
                rest += [f"{p} SAKIT demam", f"{p} IZIN acara keluarga"]
            rest += [f"{multi} SAKIT demam’ tinggi", f"{multi} IZIN {students[13][2]} ke dokter",
                     f"{multi} SAKIT pusing", f"{multi} IZIN {students[15][2]} urusan keluarga"]
        rest += [f"+62857{10000000 + n} halo pak mau tanya" for n in range(14 * scale)]
        rest += [f"+62813{20000000 + n} SAKIT flu" for n in range(5 * scale)]
        rest += [f"{p} INFO {LONG_INFO}" for p in list(parents)[: 5 * scale]]
        rng.shuffle(regs)
        rng.shuffle(rest)
        self.queue = [Sms(*line.split(" ", 1)) for line in regs + rest]
        self.delivered: list[tuple[str, Sms]] = []  # (modem name, the SMS as its sender wrote it)

    def burst(self, modem: ModemEmulator, count: int) -> int:
        sent = 0
        for _ in range(count):
            if not self.queue:
                break
            self.deliver(modem, self.queue.pop(0))
            sent += 1
        return sent

    def deliver(self, modem: ModemEmulator, sms: Sms) -> None:
        self.serial += 1
        self.ref = (self.ref + 1) % 256  # a phone's own concatenation reference, new per message
        text = f"{sms.text} k{self.serial}"
        for part in deliver_pdus(sms.sender, text, datetime.now(UTC), ref=self.ref):
            modem.deliver(part)
        self.delivered.append((getattr(modem, "name", "?"), Sms(sms.sender, text)))


class FakeTelegram:
    """The Telegram driver's part, played on the shared database from a thread of the test process.

    Claims Telegram items and records them sent (message ids from 5000), and answers each forwarded INFO
    as the head teacher would, replying to it in the group: the engine bridges that answer to the parent
    as one long SMS (2 or 3 parts).
    """

    def __init__(self, db_url: str, rng: random.Random) -> None:
        self.store = Store(db_url)
        self.rng, self.next_id = rng, 5000
        self.replies: list[str] = []  # source ids of the answers put in the inbox
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-telegram", daemon=True)
        self.errors: list[str] = []

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.store.close()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.pump()
            except Exception as exc:  # a locked SQLite file for a moment: try again next round
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def pump(self) -> None:
        now = datetime.now(UTC)
        for item in self.store.claim(Channel.TELEGRAM, now, limit=50, worker="fake-telegram"):
            self.next_id += 1
            native = str(self.next_id)
            self.store.sent(item.id, now, native_id=native)
            if item.to == str(PEJABAT) and item.text.startswith("INFO dari"):
                self.next_id += 1
                source = f"tg:{PEJABAT}:{self.next_id}"
                reply = InboundMessage(Channel.TELEGRAM, str(KEPALA), now, source, self.rng.choice(BRIDGE_REPLIES),
                                       chat=str(PEJABAT), reply_to=native)
                self.store.submit(reply)
                self.replies.append(source)

    def idle(self) -> bool:
        with self.store.unit() as session:
            return session.scalar(select(OutboxRow.id).where(OutboxRow.channel == "telegram",
                                                             OutboxRow.status.in_(("pending", "sending")))) is None


def report_figures(section: str, backend: str, figures: dict) -> None:
    """Keep a test's figures in the JSON file `ABSENSI_KILL_REPORT` names (if set), as
    `{section: {backend: figures}}`, beside what other tests and backends wrote there."""
    path = os.environ.get("ABSENSI_KILL_REPORT")
    if not path:
        return
    report = Path(path)
    text = report.read_text() if report.exists() else ""
    data = json.loads(text) if text.strip() else {}
    data.setdefault(section, {})[backend] = figures
    report.write_text(json.dumps(data, indent=2) + "\n")


# ------------------------------------------------------------------------------------------- judging

PartKey = tuple[str, str, tuple[int, int, int] | None]  # recipient, text of the part, concat (ref, total, seq)


def part_key(submit: pdu.Submit) -> PartKey:
    c = submit.concat
    return submit.recipient, submit.text, (c.ref, c.total, c.seq) if c else None


@dataclass
class Copy:
    key: PartKey
    started: float  # when the modem began taking it (monotonic)
    modem: str


@dataclass
class Repeat:
    key: PartKey
    after: float  # the earlier copy's hand-over began
    before: float  # this copy's hand-over began
    kill: float | None = None  # the kill that explains it


@dataclass
class Ledger:
    """The figures of a run, computed from the database and what the emulators received."""

    inbound: int = 0
    inbox_rows: int = 0
    lost: list[str] = field(default_factory=list)  # SMS put on a SIM that are not in the inbox exactly once, done
    not_done: list[str] = field(default_factory=list)  # inbox rows not handled (any channel)
    outbox_sms: int = 0
    parts_expected: int = 0
    parts_received: int = 0
    missing: list[str] = field(default_factory=list)  # parts of sent rows no modem received
    repeats: list[Repeat] = field(default_factory=list)
    unexplained: list[Repeat] = field(default_factory=list)  # repeats no kill could have caused
    waiting: dict[str, int] = field(default_factory=dict)  # outbox rows not finished, per status
    failed: list[str] = field(default_factory=list)
    handled_twice: list[str] = field(default_factory=list)

    @property
    def extra_copies(self) -> int:
        return len(self.repeats)


def judge(store: Store, traffic: Traffic, modems: list[TimedModem], kills: list[float],
          telegram_sources: list[str] = ()) -> Ledger:
    ledger = Ledger()
    with store.unit() as session:
        inbox = list(session.scalars(select(InboxRow)))
        outbox = list(session.scalars(select(OutboxRow)))
    ledger.inbox_rows = len(inbox)
    ledger.inbound = len(traffic.delivered)
    by_text = defaultdict(list)
    for row in inbox:
        by_text[(row.sender, row.text)].append(row)
    for _, sms in traffic.delivered:
        rows = by_text.get((sms.sender, sms.text), [])
        if len(rows) != 1 or rows[0].status != "done":
            ledger.lost.append(f"{sms.sender} {sms.text[:40]!r}: {[(r.id, r.status, r.error) for r in rows]}")
    sources = {row.source_id: row for row in inbox}
    ledger.lost += [f"telegram {s}: not in the inbox" for s in telegram_sources if s not in sources]
    ledger.not_done = [f"#{r.id} {r.channel} {r.status} {r.error}" for r in inbox if r.status != "done"]
    # A message handled twice would leave two identical outbox rows for one inbox row.
    seen = Counter((r.inbox_id, r.channel, r.recipient, r.text) for r in outbox if r.inbox_id is not None)
    ledger.handled_twice = [f"inbox #{k[0]} -> {k[2]} {k[3][:40]!r} x{n}" for k, n in seen.items() if n > 1]

    sms_rows = [r for r in outbox if r.channel == "sms"]
    ledger.outbox_sms = len(sms_rows)
    ledger.waiting = dict(Counter(r.status for r in outbox if r.status in ("pending", "sending")))
    ledger.failed = [f"#{r.id} {r.error}" for r in sms_rows if r.status == "failed"]
    expected: Counter[PartKey] = Counter()
    settings = ModemSettings()
    for row in sms_rows:
        if row.status in ("sent", "delivered"):
            for part in build_parts(outbox_item(row), settings):
                submit = pdu.decode(part.hex)
                assert isinstance(submit, pdu.Submit)
                expected[part_key(submit)] += 1
    ledger.parts_expected = sum(expected.values())
    copies: dict[PartKey, list[Copy]] = defaultdict(list)
    for modem in modems:
        assert len(modem.started) == len(modem.sent)
        for sms, started in zip(modem.sent, modem.started, strict=True):
            copies[part_key(sms.submit)].append(Copy(part_key(sms.submit), started, modem.name))
    ledger.parts_received = sum(len(c) for c in copies.values())
    for key in set(expected) | set(copies):
        got = sorted(copies.get(key, []), key=lambda c: c.started)
        want = expected.get(key, 0)
        if len(got) < want:
            ledger.missing.append(f"{key[0]} {key[1][:40]!r} {key[2]}: {len(got)} of {want}")
        # A copy beyond the rows that asked for it: a kill must fall between the previous copy's hand-over
        # (less a second: the row is marked `handing` before the modem gets the PDU) and this one's.
        ledger.repeats += [Repeat(key, got[j - 1].started - 1.0, got[j].started) for j in range(max(want, 1), len(got))]
    free = sorted(kills)
    for repeat in sorted(ledger.repeats, key=lambda r: r.before):  # earliest deadline first: a maximum matching
        kill = next((k for k in free if repeat.after <= k < repeat.before), None)
        if kill is None:
            ledger.unexplained.append(repeat)
        else:
            repeat.kill = kill
            free.remove(kill)
    return ledger


def describe_pdu(body: str) -> str:
    try:
        sms = pdu.decode(body)
    except pdu.PduError as exc:
        return f"unreadable ({exc})"
    if isinstance(sms, pdu.Deliver):
        concat = f" part {sms.concat.seq}/{sms.concat.total} ref {sms.concat.ref}" if sms.concat else ""
        return f"from {sms.sender}{concat}: {sms.text[:50]!r}"
    return type(sms).__name__


def diagnose(modems: list[TimedModem], services: list[Service], store: Store, abort: bool = True) -> str:
    """Where the traffic stands, for a timed-out wait: each modem's SIM, backlog and hand-over, the
    unfinished inbox and outbox rows, and each service's log. With `abort`, each live service is sent
    SIGABRT first, so its log ends with every thread's stack (`PYTHONFAULTHANDLER`, see `_env`)."""
    parts = [m.state() for m in modems]
    try:
        with store.unit() as session:
            inbox = list(session.scalars(select(InboxRow).where(InboxRow.status != "done")))
            outbox = list(session.scalars(select(OutboxRow).where(OutboxRow.status.in_(("pending", "sending")))))
            parts.append(f"inbox rows not done: {[(r.id, r.channel, r.sender, r.status, r.error) for r in inbox]}")
            parts.append("outbox rows pending/sending: "
                         f"{[(r.id, r.channel, r.recipient, r.status, r.attempts, r.payload) for r in outbox]}")
    except Exception as exc:
        parts.append(f"database unreadable: {type(exc).__name__}: {exc}")
    for service in services:
        if abort and service.alive and service.proc is not None:
            service.proc.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.proc.wait(timeout=10)
        tail = "\n".join(service.output().splitlines()[-150:])
        parts.append(f"--- {service.name} run {service.runs} (pid {service.proc and service.proc.pid}, "
                     f"{'alive' if service.alive else 'exited'}), {service.log}:\n{tail}")
    return "\n".join(parts)


def describe(repeats: list[Repeat]) -> list[str]:
    return [f"{r.key[0]} {r.key[1][:50]!r} {r.key[2]}" for r in repeats]
