"""Logs at the default level hold no full phone number and no message text (SPEC §8).

Two layers are tested. The log calls themselves (a raw sink, no redaction) must not pass a number, a text
or a PDU; and the real log setup (`engine.logs.setup`, what every command uses) must mask what slips
through anyway — a number inside an exception's message, a PostgreSQL `DETAIL`, a library's record.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loguru import logger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from absensi.drivers.gsm import ModemPool
from absensi.engine.app import logs
from absensi.engine.app.scenario import run_scenario
from absensi.engine.app.service import engine_loop
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.phones import normalize
from absensi.engine.store import Store
from absensi.engine.store.models import OutboxRow, ParentLink

ROOT = Path(__file__).resolve().parent.parent
PARENT = "+6285712345678"
TEXT = "anak saya demam tinggi sejak semalam"


@dataclass
class Captured:
    """What the real setup wrote (`redacted`) and what the log calls passed to loguru (`raw`)."""

    stream: io.StringIO = field(default_factory=io.StringIO)
    raw_lines: list[str] = field(default_factory=list)

    @property
    def redacted(self) -> str:
        return self.stream.getvalue()

    @property
    def raw(self) -> str:
        return "".join(self.raw_lines)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The real log setup at the service's level (INFO), plus a raw sink for the call sites."""
    out = Captured()
    hook = threading.excepthook
    logs.setup("INFO", stream=out.stream)
    logger.add(out.raw_lines.append, level="INFO", format="{message}\n{exception}", diagnose=False)
    yield out
    logger.remove()
    logger.add(sys.stderr)
    threading.excepthook = hook
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h).__name__ == "_ToLoguru"]:
        root.removeHandler(handler)


def digits_of(number: str) -> str:
    """The national significant number (`85712345678`): in every way of writing the number."""
    e164 = normalize(number) or number
    return e164.removeprefix("+62")


def leaks(log: str, numbers: set[str], texts: set[str]) -> list[str]:
    found = [n for n in numbers if digits_of(n) in log]
    return found + [t for t in texts if t and t in log]


# ------------------------------------------------------------------------------- realistic flows


def test_a_school_day_through_the_modem_logs_no_number_and_no_text(captured: Captured, tmp_path: Path, db_url: str,
                                                                  request: pytest.FixtureRequest) -> None:
    """REG, an alfa, SAKIT with a note, INFO from a stranger, an operator promotion and a broken PDU,
    through a real engine loop and an emulated modem: the log says what happened, with numbers masked."""
    from gsm.conftest import FAST, wait_for
    from gsm.emulator import ModemEmulator

    t0 = time.monotonic()

    def now() -> datetime:
        return datetime(2026, 11, 30, 0, 0, tzinfo=UTC) + timedelta(seconds=time.monotonic() - t0)

    rules = load_rules(ROOT / "rules")
    school = load_school(ROOT / "sample_school", rules.rules)
    officer = next(s for s in school.staff if s.role == "ketua_kelas" and s.telegram_id)
    child = school.by_class[officer.scope][0]
    store = Store(db_url)
    request.addfinalizer(store.close)  # also when the test fails: no connection left open for a later test
    engine = Engine(rules, school, store, now())
    modem = ModemEmulator(tmp_path, "huawei-e173").start()
    pool = ModemPool([modem.port], store, store, clock=now, settings=FAST)
    stop = threading.Event()
    loop = threading.Thread(target=engine_loop, args=(engine, stop, now, 0.05), daemon=True)
    loop.start()
    pool.start()
    stranger, inbound = "+6281398765432", [f"REG {child.parent_code}", f"SAKIT {TEXT}", "INFO pohon tumbang di depan"]
    try:
        modem.deliver_text(PARENT, inbound[0], now())
        wait_for(lambda: any(s.submit.recipient == PARENT for s in modem.sent), 15, "the REG confirmation")
        store.submit(InboundMessage(Channel.TELEGRAM, str(officer.telegram_id), now(), "tg:1", f"A {child.absen_no}"))
        wait_for(lambda: len(modem.sent) >= 2, 15, "the alfa SMS")
        modem.deliver_text(PARENT, inbound[1], now())
        modem.deliver_text(stranger, inbound[2], now())
        modem.deliver_text("TELKOMSEL", "Bonus kuota 10GB untuk Anda, balas YA", now())
        modem.deliver("07916226010000F0040D91265817325476F800")  # the parent's number, then cut short
        wait_for(lambda: len(modem.sent) >= 4, 15, "the SAKIT and INFO replies")
        time.sleep(0.5)  # delivery reports
    finally:
        pool.stop()
        stop.set()
        loop.join(timeout=5)
        modem.close()
    with store.unit() as session:
        forwarded = set(session.scalars(select(OutboxRow.text).where(OutboxRow.channel == "telegram")))
    store.close()
    numbers = {PARENT, stranger} | {s.phone for s in school.staff if s.phone}
    texts = {*inbound, TEXT, "pohon tumbang", "Bonus kuota"} | {s.submit.text for s in modem.sent} | forwarded
    assert "0857****678" in captured.redacted, "the flow should have logged the parent's SMS (masked)"
    assert "unreadable PDU" in captured.redacted
    assert leaks(captured.redacted, numbers, texts) == []
    assert leaks(captured.raw, numbers, texts) == [], "a log call passes a number or a text"
    assert not re.search(r"[0-9A-Fa-f]{24}", captured.raw), "a log call passes a PDU"


@pytest.mark.parametrize("name", ["sms_guards", "sms_info", "sms_stop", "tg_bridge", "tg_linking"])
def test_scenarios_log_no_number_and_no_text(captured: Captured, db_url: str, name: str) -> None:
    path = ROOT / "tests" / "scenarios" / f"{name}.yaml"
    result = run_scenario(path, db_url)
    assert result.ok
    source = path.read_text(encoding="utf-8")
    numbers = {n for n in re.findall(r"(?:\+62|62|0)8[\d -]{7,13}\d", source) if normalize(n)}
    texts = {m for m in re.findall(r'text: "([^"]{12,})"', source)}
    texts |= {msg.text[:60] for step in result.steps for msg in step.produced if len(msg.text) >= 12}
    assert numbers and texts
    assert leaks(captured.redacted, numbers, texts) == []
    assert leaks(captured.raw, numbers, texts) == [], "a log call passes a number or a text"


# ------------------------------------------------------------------------- the safety net


def test_a_database_error_traceback_holds_no_number_and_no_text(captured: Captured, store: Store) -> None:
    """An IntegrityError inside a transaction, logged with its traceback: PostgreSQL names the clashing
    values in DETAIL and SQLAlchemy may list the parameters; the log shows neither."""
    def link(source: str) -> ParentLink:
        return ParentLink(phone=PARENT, nis="1001", consent_at=datetime(2026, 11, 30, tzinfo=UTC), consent_source=source)

    with store.unit() as session:
        session.add(link("REG AB12CD"))
    with pytest.raises(IntegrityError):
        try:
            with store.unit() as session:
                session.add(link(TEXT))
        except IntegrityError:
            logger.exception("registration failed")
            raise
    assert "IntegrityError" in captured.redacted and "Traceback" in captured.redacted
    assert leaks(captured.redacted, {PARENT}, {TEXT}) == []


def test_numbers_in_exceptions_library_records_and_thread_errors_are_masked(captured: Captured) -> None:
    try:
        raise ValueError(f"no parent {PARENT} (also 0857-1234-5678, 0062 857 1234 5678)")
    except ValueError:
        logger.exception("handling failed")
    logging.getLogger("pyrogram.session").warning("peer %s flood wait", "6285712345678")
    worker = threading.Thread(target=lambda: int(f"0{PARENT}"), name="driver")
    worker.start()
    worker.join()
    log = captured.redacted
    assert "handling failed" in log and "pyrogram.session" in log and "thread driver" in log
    assert "0857****678" in log and "85712345678" not in log and "1234-5678" not in log and "1234 5678" not in log


@pytest.mark.parametrize(("written", "masked"), [
    ("+6285712345678", "0857****678"), ("6285712345678", "0857****678"), ("006285712345678", "0857****678"),
    ("085712345678", "0857****678"), ("+62 857-1234-5678", "0857****678"), ("0857 1234 5678", "0857****678"),
    ("sms:+6285712345678:2026-11-30T07:10:00+07:00:ab12", "sms:0857****678:2026-11-30T07:10:00+07:00:ab12"),
    ("+14155552671", "1415****671"), ("id 1234567890", "id 1234****890"),
])
def test_every_way_of_writing_a_number_is_masked(written: str, masked: str) -> None:
    assert logs.redact(written) == masked


def test_times_dates_and_small_counts_are_left_alone() -> None:
    line = "2026-11-30 07:10:00.123 | INFO | outbox #1234 sent in 2 part(s) at 08:00, 12345678 bytes"
    assert logs.redact(line) == line


def test_pdus_and_sql_values_are_hidden() -> None:
    assert "0791" not in logs.redact("unreadable PDU 07916226010000F0040C9126581732547600006220114135318000")
    assert logs.redact("[parameters: ('+6285712345678', 'sakit')]") == "[parameters hidden]"
    detail = 'duplicate key\nDETAIL:  Key (phone, nis)=(+6285712345678, 1001) already exists.'
    assert logs.redact(detail) == "duplicate key\nDETAIL: [values hidden]"


# ------------------------------------------------------------------------------- the command line


def test_absensi_inbox_prints_numbers_masked(store: Store) -> None:
    """The failed messages list shows whose message it was (masked) and why, never the full number, even
    when the error itself quotes it (as PostgreSQL's DETAIL does)."""
    from typer.testing import CliRunner

    from absensi.engine.app.cli import app
    from absensi.engine.store.models import InboxRow

    with store.unit() as session:
        session.add(InboxRow(source_id=f"sms:{PARENT}:x", channel="sms", sender=PARENT, text=TEXT,
                             received_at=datetime(2026, 11, 30, tzinfo=UTC), status="error",
                             error=f"IntegrityError: DETAIL:  Key (phone)=({PARENT}) already exists; from {PARENT}"))
    result = CliRunner().invoke(app, ["inbox", "--school", str(ROOT / "tests" / "schools" / "mini"), "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "0857****678" in result.output and "1 failed message" in result.output
    assert leaks(result.output, {PARENT}, {TEXT}) == []
