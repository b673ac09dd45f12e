"""The parent's alfa SMS held for the wali kelas (SPEC §10, rules/finger.yaml `alfa_sms`): the hold lives in the
store (a restart neither forgets nor repeats it), only the class's wali kelas decides, `send` holds nothing,
and the section's new keys are checked like the rest. The scenarios (tests/scenarios/finger_alfa_wait_*.yaml)
play the conversations; these tests hold what a scenario cannot: restarts, other people's presses."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from absensi.engine.core import Engine
from absensi.engine.finger.files import RawPunch
from absensi.engine.finger.punches import store_punches
from absensi.engine.messages import Channel, InboundMessage, OutboundMessage
from absensi.engine.rules import CompiledRules, compile_rules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import Absence, OutboxRow

ROOT = Path(__file__).resolve().parent.parent.parent
WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 11, 30, tzinfo=WIB)  # a Monday
KETUA, WALI, BK, OTHER_WALI = 700001, 700003, 700007, 700005  # X TKJ 1's ketua and wali kelas; X TKJ 2's wali
PARENT = "+6281234500001"  # registers for Budi Santoso (NIS 1001, absen 5 in X TKJ 1)
SOURCE_IDS = itertools.count(1)


def at(hh: int, mm: int, days: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm) + timedelta(days=days)


def tg(sender: int, moment: datetime, text: str = "", press: str | None = None) -> InboundMessage:
    return InboundMessage(Channel.TELEGRAM, str(sender), moment, f"t{next(SOURCE_IDS)}", text, press=press)


def punch(store: Store, school: School, user_id: str, moment: datetime, now: datetime) -> None:
    with store.unit() as session:
        store_punches(session, school, [RawPunch("test", 1, user_id, moment.replace(tzinfo=None), "mesin 1", "usb")],
                      now)


def alfa_sms(store: Store) -> int:
    with store.unit() as session:
        return session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.kind == "alfa", OutboxRow.recipient == PARENT)) or 0


def state_of(store: Store, nis: str = "1001") -> str | None:
    with store.unit() as session:
        return session.scalar(select(Absence.state).where(Absence.nis == nis))


def held_report(rules: CompiledRules, mini: School, store: Store) -> tuple[Engine, OutboundMessage]:
    """Budi's parent registered, Budi clocked in at 06:52, reported A at 07:05; the flag of 07:06."""
    engine = Engine(rules, mini, store, at(6, 30))
    engine.receive(InboundMessage(Channel.SMS, "081234500001", at(6, 30), "s1", "REG AB12CD"), at(6, 30))
    punch(store, mini, "1001", at(6, 52), at(7, 0))
    out = engine.receive(tg(KETUA, at(7, 5), "A 5"), at(7, 5))
    assert not [m for m in out if m.kind == "alfa"] and state_of(store) == "ditahan"
    flag = next(m for m in engine.tick(at(7, 6)) if m.to == str(WALI) and m.buttons)
    return engine, flag


def test_a_held_sms_survives_a_restart_and_goes_once_at_the_cutoff(rules: CompiledRules, mini: School,
                                                                    store: Store) -> None:
    _, flag = held_report(rules, mini, store)
    assert [b.label for row in flag.buttons for b in row] == ["Benar alfa — kirim SMS", "Salah lapor"]
    assert all(len(b.data.encode()) <= 64 for row in flag.buttons for b in row)
    restarted = Engine(rules, mini, store, at(9, 0))  # a new process: nothing in memory
    restarted.tick(at(9, 59))
    assert alfa_sms(store) == 0 and state_of(store) == "ditahan"
    restarted.tick(at(10, 0))
    assert alfa_sms(store) == 1 and state_of(store) == "alfa"
    again = Engine(rules, mini, store, at(10, 1))
    again.tick(at(10, 1))
    late = again.receive(InboundMessage(Channel.TELEGRAM, str(WALI), at(10, 2), "late-press", "",
                                        press=flag.buttons[0][0].data, reply_to="41"), at(10, 2))
    assert alfa_sms(store) == 1
    assert [m.to for m in late] == [str(WALI)] and "sudah dikirim" in late[0].text
    assert late[0].edit is None  # an answer about an old keyboard is a new message; the flag stays


def test_the_decision_replaces_the_flag_and_its_buttons(rules: CompiledRules, mini: School, store: Store) -> None:
    engine, flag = held_report(rules, mini, store)
    out = engine.receive(InboundMessage(Channel.TELEGRAM, str(WALI), at(7, 10), "press", "",
                                        press=flag.buttons[0][0].data, reply_to="41"), at(7, 10))
    answer = next(m for m in out if m.to == str(WALI))
    assert answer.edit == "41" and not answer.buttons and "dikirim ke orang tua" in answer.text
    assert [m.to for m in out if m.kind == "alfa"] == [PARENT]


def test_a_hold_the_service_slept_through_goes_the_next_school_day(rules: CompiledRules, mini: School,
                                                                   store: Store) -> None:
    held_report(rules, mini, store)
    Engine(rules, mini, store, at(7, 0, days=1)).tick(at(7, 0, days=1))  # down from 07:06 until Tuesday
    assert alfa_sms(store) == 1 and state_of(store) == "alfa"


def test_a_hold_older_than_the_look_back_is_left_alone(rules: CompiledRules, mini: School, store: Store) -> None:
    held_report(rules, mini, store)
    Engine(rules, mini, store, at(7, 0, days=15)).tick(at(7, 0, days=15))  # stopped for two weeks and a day
    assert alfa_sms(store) == 0 and state_of(store) == "ditahan"


def test_only_the_class_wali_kelas_decides(rules: CompiledRules, mini: School, store: Store) -> None:
    engine, flag = held_report(rules, mini, store)
    confirm, deny = (b.data for b in flag.buttons[0])
    for who in (BK, OTHER_WALI, KETUA):
        out = engine.receive(tg(who, at(7, 10), press=confirm), at(7, 10))
        assert [m.to for m in out] == [str(who)] and "hanya Wali Kelas" in out[0].text
    assert alfa_sms(store) == 0 and state_of(store) == "ditahan"
    out = engine.receive(tg(WALI, at(7, 11), press=deny), at(7, 11))
    assert sorted(m.to for m in out) == sorted([str(WALI), str(KETUA)]) and not [m for m in out if m.kind == "alfa"]
    assert state_of(store) == "dilaporkan"
    out = engine.receive(tg(WALI, at(7, 12), press=confirm), at(7, 12))  # an old keyboard, after the decision
    assert [m.to for m in out] == [str(WALI)] and "tidak ada SMS yang menunggu" in out[0].text
    engine.tick(at(10, 0))
    assert alfa_sms(store) == 0
    with store.unit() as session:  # "Salah lapor" changes no record: still A, by the ketua
        assert session.execute(select(Absence.status, Absence.reporter).where(Absence.nis == "1001")).one() == \
            ("A", "Bayu Pratama")


def test_a_press_with_a_foreign_or_broken_token_sends_nothing(rules: CompiledRules, mini: School,
                                                              store: Store) -> None:
    engine, _ = held_report(rules, mini, store)
    for data in ("f20261130y9999", "f20261399y1001"):
        out = engine.receive(tg(WALI, at(7, 10), press=data), at(7, 10))
        assert [m.to for m in out] == [str(WALI)] and not [m for m in out if m.kind == "alfa"]
    assert state_of(store) == "ditahan"


def send_rules(rules: CompiledRules) -> CompiledRules:
    finger = rules.rules.finger.model_copy(update={"alfa_sms": "send"})
    return replace(rules, rules=rules.rules.model_copy(update={"finger": finger}))


def test_send_holds_nothing_and_releases_what_was_held(rules: CompiledRules, mini: School, store: Store) -> None:
    held_report(rules, mini, store)  # held under `wait`
    engine = Engine(send_rules(rules), mini, store, at(7, 30))  # the rule changed to `send`, the service restarted
    engine.tick(at(7, 30))
    assert alfa_sms(store) == 1 and state_of(store) == "alfa"
    punch(store, mini, "1003", at(6, 40), at(7, 30))  # Adi Nugroho, absen 1, clocked in
    engine.receive(InboundMessage(Channel.SMS, "081234500003", at(7, 31), "s2", "REG KM23NP"), at(7, 31))
    out = engine.receive(tg(KETUA, at(7, 32), "A 1"), at(7, 32))
    assert [m.to for m in out if m.kind == "alfa"] == ["+6281234500003"] and state_of(store, "1003") == "alfa"


def test_the_cutoff_wakes_the_engine(rules: CompiledRules, mini: School, store: Store) -> None:
    finger = rules.rules.finger.model_copy(update={"alfa_sms_until": "09:45"})
    engine = Engine(replace(rules, rules=rules.rules.model_copy(update={"finger": finger})), mini, store, at(9, 0))
    assert engine.next_due(at(9, 30)) == at(9, 45)  # not the 10:00 reminder
    assert engine.next_due(at(7, 30)) == at(8, 0)  # the late list (finger.late_at)


def test_the_new_keys_are_checked_at_their_place(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "finger.yaml"
    text = path.read_text()
    for old, new, message in (("alfa_sms: wait", "alfa_sms: later", "alfa_sms"),
                              ('alfa_sms_until: "10:00"', 'alfa_sms_until: "10"', "is not a time of day"),
                              ("alfa_sms_confirm: [wali_kelas]", "alfa_sms_confirm: [wali]", "unknown role 'wali'")):
        assert old in text
        path.write_text(text.replace(old, new))
        problems = Problems()
        assert compile_rules(rules, problems) is None
        rendered = problems.render(with_source=False)
        line = 1 + text[:text.index(old)].count("\n")
        assert message in rendered and f"finger.yaml:{line}:" in rendered, rendered


def test_a_flow_that_holds_needs_every_way_out_and_wait_without_a_hold_is_said(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    flows = rules / "flows.yaml"
    text = flows.read_text()
    expired = "      - {trigger: hold_expired, source: ditahan, dest: alfa, after: [notify_parents]}\n"
    assert expired in text
    flows.write_text(text.replace(expired, ""))
    problems = Problems()
    assert compile_rules(rules, problems) is None
    assert "holds the alfa SMS in 'ditahan' but has no transition for 'hold_expired'" in problems.render()

    start = text.index("      # An unexcused absence of a student who clocked in")
    end = text.index("      # An unexcused absence: parents get one SMS")
    flows.write_text(text[:start] + text[end:])  # no transition leads to ditahan
    problems = Problems()
    assert compile_rules(rules, problems) is not None and not problems.errors
    line = 1 + (rules / "finger.yaml").read_text().split("alfa_sms: wait")[0].count("\n")
    assert f"finger.yaml:{line}:13: warning: alfa_sms is 'wait', but the absence flow never holds" in \
        problems.render(with_source=False)
    finger = rules / "finger.yaml"
    finger.write_text(finger.read_text().replace("alfa_sms: wait", "alfa_sms: send"))
    problems = Problems()
    assert compile_rules(rules, problems) is not None and not problems.warnings
