"""Property tests: no text into either parser raises, and the engine answers any SMS or Telegram text."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from absensi.engine.chat.grammar import parse_officer, split_keyword, split_refs
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules.templates import TemplateError, parse
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
WORDS = st.sampled_from(["REG", "reg:", "SAKIT", "Izin,", "INFO", "STOP", "A", "S", "NIHIL", "BATAL", "/rekap",
                         "/hariini", "AB12CD", "5", "3-7", ",", " ", "\n", "🙂", "\x00", "ALFA", "1001"])
TEXTS = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=12).map(" ".join))


@given(TEXTS)
def test_sms_keyword_split_never_raises(text: str) -> None:
    word, rest = split_keyword(text)
    assert word == word.upper() and len(rest) <= len(text)


@given(TEXTS)
def test_officer_grammar_never_raises(text: str) -> None:
    line = parse_officer(text, _rules())
    assert line.kind in ("report", "nihil", "withdraw", "unknown")
    refs, _ = split_refs(text)
    assert all(r.isdigit() for r in refs)


@given(st.text(max_size=80))
def test_templates_either_compile_to_plain_fields_or_are_refused(text: str) -> None:
    try:
        template = parse("t", text)
    except TemplateError:
        return
    assert all(f.replace("_", "").isalnum() for f in template.fields)
    assert isinstance(template.render({f: "x" for f in template.fields}), str)


_CACHE: dict[str, object] = {}


def _rules():  # type: ignore[no-untyped-def]
    if "rules" not in _CACHE:
        from absensi.engine.rules import load_rules

        _CACHE["rules"] = load_rules(Path(__file__).resolve().parent.parent / "rules")
    return _CACHE["rules"]


@pytest.fixture
def engine(mini, db_url: str) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """One engine and database for all of a test's examples (hypothesis calls the test many times)."""
    store = Store(db_url)
    yield Engine(_rules(), mini, store, T0)
    store.close()


_SOURCE_IDS = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sender=st.sampled_from(["081234500001", "TELKOMSEL", "", "+62 813-1111-0001", "12345", "700001"]),
       text=TEXTS, channel=st.sampled_from([Channel.SMS, Channel.TELEGRAM]))
def test_engine_answers_any_text_without_error(engine: Engine, sender: str, text: str, channel: Channel) -> None:
    if channel == Channel.TELEGRAM:
        sender = "700001" if not sender.isdigit() else sender
    engine.receive(InboundMessage(channel, sender, T0, f"h{next(_SOURCE_IDS)}", text), T0)
    with engine.store.unit() as session:
        errors = session.scalars(select(InboxRow).where(InboxRow.status == "error")).all()
        assert errors == [], [(e.text, e.error) for e in errors]
