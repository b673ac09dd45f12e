"""`/absen` with buttons (SPEC §4: pick students, pick reason, send), beyond what tests/scenarios/tg_buttons.yaml
plays: the reason buttons are whatever the rules name, a selection spread over pages survives a restart (the
draft is in the store), and a keyboard's tokens stay within Telegram's 64 bytes. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Button, Channel, InboundMessage, OutboundMessage
from absensi.engine.rules import CompiledRules, compile_rules
from absensi.engine.rules.diagnostics import Problems
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import Absence, Draft

ROOT = Path(__file__).resolve().parent.parent
WIB = ZoneInfo("Asia/Jakarta")
MORNING = datetime(2026, 11, 30, 7, 0, tzinfo=WIB)  # a Monday
KETUA = 700001  # the mini school's ketua kelas of X TKJ 1
IDS = itertools.count(1)

Keyboard = tuple[tuple[Button, ...], ...]


class Officer:
    """One officer's chat: sends, presses buttons by label on the last keyboard it got, remembers its id."""

    def __init__(self, engine: Engine, user: int) -> None:
        self.engine, self.user = engine, user
        self.keyboard: Keyboard = ()
        self.out: list[OutboundMessage] = []

    def send(self, text: str = "", press: str | None = None) -> list[OutboundMessage]:
        msg = InboundMessage(Channel.TELEGRAM, str(self.user), MORNING, f"b{next(IDS)}", text, press=press,
                             reply_to="1" if press else None)
        self.out = self.engine.receive(msg, MORNING)
        mine = [m for m in self.out if m.to == str(self.user) and m.buttons]
        if mine:
            self.keyboard = mine[-1].buttons
        return self.out

    def labels(self) -> list[str]:
        return [b.label for row in self.keyboard for b in row]

    def press(self, label: str) -> list[OutboundMessage]:
        found = [b for row in self.keyboard for b in row if b.label == label]
        assert len(found) == 1, f"no button {label!r} in {self.labels()}"
        return self.send(press=found[0].data)


def statuses(store: Store) -> dict[str, str | None]:
    """Each recorded student's reason code (None: present)."""
    with store.unit() as session:
        return {nis: status for nis, status in session.execute(select(Absence.nis, Absence.status))}


def test_the_reason_buttons_are_the_rules_reasons(tmp_path: Path, mini: School, store: Store) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    reasons = rules_dir / "reasons.yaml"
    text = reasons.read_text()
    for old, new in (("name: Dispensasi", "name: Dispen"), ("name: Dipulangkan karena terlambat", "name: Pulang")):
        assert old in text
        text = text.replace(old, new)
    reasons.write_text(text + "  T:\n    name: Tugas luar\n    words: [TUGAS, T]\n    erapor: null\n"
                              "    school_decision: true\n")
    problems = Problems()
    rules = compile_rules(rules_dir, problems)
    assert rules is not None, problems.render()

    officer = Officer(Engine(rules, mini, store, MORNING), KETUA)
    officer.send("/absen")
    reason_rows = [[b.label for b in row] for row in officer.keyboard if row[0].data[9] == "r"]
    assert reason_rows == [["Sakit", "Izin", "Alfa"], ["Dispen", "Pulang", "Tugas luar"]]
    officer.press("1. Adi Nugroho")
    officer.press("Tugas luar")
    assert "1. Adi Nugroho [T]" in officer.labels()
    officer.press("2. Agus Setiawan")
    officer.press("Pulang")
    out = officer.press("Kirim")
    assert "1. Adi Nugroho: T Tugas luar" in out[-1].text and "2. Agus Setiawan: P Pulang" in out[-1].text
    assert statuses(store) == {"1003": "T", "1004": "P"}


def test_a_selection_over_pages_survives_a_restart_and_one_reason_covers_it(rules: CompiledRules, store: Store) -> None:
    school = load_school(ROOT / "sample_school", rules.rules)
    members = school.by_class["X TKJ 1"]
    assert len(members) > 12, "the sample class should need two pages"
    ketua = next(s for s in school.staff if s.role == "ketua_kelas" and s.scope == "X TKJ 1")
    officer = Officer(Engine(rules, school, store, MORNING), ketua.telegram_id or 0)
    officer.send("/absen")
    first, later = members[0], members[12]
    officer.press(f"{first.absen_no}. {first.name}")
    officer.press("Berikutnya »")
    officer.press(f"{later.absen_no}. {later.name}")
    assert f"{later.absen_no}. {later.name} ✓" in officer.labels()

    with store.unit() as session:  # the selection is the store's, not only memory's
        draft = session.get(Draft, officer.user)
        assert draft is not None and draft.picks == {first.nis: None, later.nis: None} and draft.page == 1

    officer.engine = Engine(rules, school, store, MORNING)  # a new process: nothing in memory
    officer.press("Izin")
    assert f"{later.absen_no}. {later.name} [I]" in officer.labels()
    officer.press("« Sebelumnya")
    assert f"{first.absen_no}. {first.name} [I]" in officer.labels()
    assert all(len(b.data.encode()) <= 64 for row in officer.keyboard for b in row)

    out = officer.press("Kirim")
    listing = out[-1].text
    assert f"{first.absen_no}. {first.name}: I" in listing and f"{later.absen_no}. {later.name}: I" in listing
    assert statuses(store) == {first.nis: "I", later.nis: "I"}
    with store.unit() as session:
        assert session.get(Draft, officer.user) is None


def test_a_reason_the_rules_no_longer_have_changes_nothing(mini: School, rules: CompiledRules, store: Store) -> None:
    officer = Officer(Engine(rules, mini, store, MORNING), KETUA)
    officer.send("/absen")
    officer.press("5. Budi Santoso")
    before = officer.labels()
    officer.send(press="a20261130rZ")  # a keyboard from before a reload dropped reason Z
    assert officer.labels() == before and "5. Budi Santoso ✓" in before
    officer.send(press="a20261130r" + "Z" * 60)  # no such token is made: it is refused as stale
    assert "tidak berlaku" in officer.out[-1].text
    assert not statuses(store)
