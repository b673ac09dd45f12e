"""Contacts, not channels: which conversation a channel carries and where contacts are reached is the rules'
choice (settings.yaml `conversations`, `reach`); the engine replies on the channel a message came from."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.rules import CompiledRules, compile_rules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.model import School
from absensi.engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday


def with_settings(rules: CompiledRules, **changes: object) -> CompiledRules:
    """The shipped rules with some settings changed (as a school's edit of settings.yaml would)."""
    settings = rules.rules.settings.model_copy(update=changes)
    return replace(rules, rules=rules.rules.model_copy(update={"settings": settings}))


def test_the_shipped_rules_carry_parents_on_sms_and_staff_on_telegram(rules: CompiledRules) -> None:
    assert rules.conversation(Channel.SMS) == "parents" and rules.conversation(Channel.TELEGRAM) == "staff"
    assert rules.reach("parents") is Channel.SMS and rules.reach("staff") is Channel.TELEGRAM


def test_a_reply_goes_back_on_the_channel_the_message_came_from(store: Store, rules: CompiledRules,
                                                                 mini: School) -> None:
    """A school that lets parents use the bot too: the same keycodes over Telegram, answered on Telegram,
    while a parent's SMS is still answered by SMS. No engine code names the channel of a parent."""
    both = with_settings(rules, conversations={"sms": "parents", "telegram": "parents"})
    engine = Engine(both, mini, store, T0)
    by_chat = engine.receive(InboundMessage(Channel.TELEGRAM, "+6281234500001", T0, "t1", "REG AB12CD"), T0)
    by_sms = engine.receive(InboundMessage(Channel.SMS, "081234500002", T0, "s1", "REG AB12CD"), T0)
    assert [(m.channel, m.to, m.kind) for m in by_chat] == [(Channel.TELEGRAM, "+6281234500001", "registration")]
    assert [(m.channel, m.to, m.kind) for m in by_sms] == [(Channel.SMS, "+6281234500002", "registration")]


def test_a_conversation_the_engine_starts_goes_where_the_rules_reach_that_contact(
        store: Store, rules: CompiledRules, mini: School) -> None:
    """An alfa notice is started by the engine, not a reply: it goes on `reach.parents`, whatever channel the
    officer's report came on."""
    engine = Engine(rules, mini, store, T0)
    engine.receive(InboundMessage(Channel.SMS, "081234500001", T0, "s1", "REG AB12CD"), T0)
    officer = next(s for s in mini.staff if s.role == "ketua_kelas" and s.telegram_id is not None)
    out = engine.receive(InboundMessage(Channel.TELEGRAM, str(officer.telegram_id), T0, "t1", "A 5"), T0)  # absen 5: Budi
    alfa = [m for m in out if m.kind == "alfa"]
    assert [(m.channel, m.to) for m in alfa] == [(Channel.SMS, "+6281234500001")]
    assert all(m.channel is Channel.TELEGRAM for m in out if m.kind != "alfa")


def write_rules(tmp_path: Path, settings_tail: str) -> Path:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    path = rules_dir / "settings.yaml"
    key = settings_tail.split(":")[0]
    kept = [line for line in path.read_text().splitlines(keepends=True) if not line.startswith(key + ":")]
    path.write_text("".join(kept) + settings_tail)
    return rules_dir


@pytest.mark.parametrize(("tail", "message", "line_text"), [
    ("  conversations: {sms: parents, telegram: staff, fax: parents}\n", "unknown channel 'fax'", "fax"),
    ("  conversations: {sms: parents}\n", "channel 'telegram' carries no conversation", "conversations"),
    ("  reach: {parents: telegram, staff: telegram}\n",
     "parents are reached on 'telegram', which carries staff conversation", "reach"),
    ("  reach: {parents: sms}\n", "no channel to reach staff on", "reach"),
])
def test_absensi_check_names_a_wrong_channel_at_its_line(tmp_path: Path, tail: str, message: str,
                                                         line_text: str) -> None:
    problems = Problems()
    assert compile_rules(write_rules(tmp_path, tail), problems) is None
    rendered = problems.render()
    assert message in rendered, rendered
    settings = (tmp_path / "rules" / "settings.yaml").read_text().splitlines()
    line = len(settings)  # the appended line is the last one
    assert f"settings.yaml:{line}:" in rendered and line_text in settings[line - 1]
