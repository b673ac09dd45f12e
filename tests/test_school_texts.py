"""The texts a school user reads come from rules/templates.yaml: the words the engine puts inside other texts,
and the few the Telegram driver shows itself — the share-contact button's label (carried on the outgoing
message, so the outbox row holds it) and the answer on a button press the inbox could not store
(`ports.DRIVER_TEXTS`, handed to the driver at start)."""

from __future__ import annotations

import itertools
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from pyrogram import types
from sqlmodel import select

from absensi.drivers.telegram import parse_credentials
from absensi.drivers.telegram.render import reply_markup
from absensi.engine.app.service import Leader, _telegram_service, driver_texts
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import DRIVER_TEXTS
from absensi.engine.rules import CompiledRules, load_rules
from absensi.engine.school.files import load_school
from absensi.engine.school.model import School
from absensi.engine.store import Store
from absensi.engine.store.models import OutboxRow

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday
STRANGER = "555555"
OFFICER, WALI = "700001", "700003"  # X TKJ 1's ketua kelas and wali kelas in tests/schools/mini


def rules_with(tmp_path: Path, **templates: str) -> Path:
    """A copy of the shipped rules with some templates reworded, as a school would edit templates.yaml."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    path = rules_dir / "templates.yaml"
    lines = path.read_text().splitlines(keepends=True)
    for name, text in templates.items():
        (at,) = [i for i, line in enumerate(lines) if line.startswith(f"  {name}: ")]
        lines[at] = f"  {name}: \"{text}\"\n"
    path.write_text("".join(lines))
    return rules_dir


def keyboard_label(item_markup: object) -> str:
    assert isinstance(item_markup, types.ReplyKeyboardMarkup)
    ((button,),) = item_markup.keyboard
    assert button.request_contact is True
    return str(button.text)


def test_the_contact_button_is_labelled_by_the_template_and_the_row_keeps_the_label(
        store: Store, mini: School, tmp_path: Path) -> None:
    rules = load_rules(rules_with(tmp_path, tg_contact_button="Kirim nomor HP ke {school}"))
    engine = Engine(rules, mini, store, T0)
    (welcome,) = engine.receive(InboundMessage(Channel.TELEGRAM, STRANGER, T0, "t1", "/start"), T0)
    label = f"Kirim nomor HP ke {mini.name}"
    assert welcome.request_contact == label
    assert f'"{label}"' in welcome.text  # the welcome names the button as it is labelled
    (item,) = store.claim(Channel.TELEGRAM, T0, limit=10)
    assert item.request_contact == label
    assert keyboard_label(reply_markup(item, contact_label="ignored: the row has its own")) == label
    (plain,) = engine.receive(InboundMessage(Channel.TELEGRAM, STRANGER, T0, "t2", "halo"), T0)
    assert plain.request_contact == label  # an unlinked account is asked for its contact again …
    other = engine.receive(InboundMessage(Channel.SMS, "081234500001", T0, "s1", "REG AB12CD"), T0)
    assert other and all(m.request_contact is None for m in other)  # … an SMS never is


def test_an_outbox_row_written_before_labels_were_carried_gets_the_drivers_own_label(store: Store) -> None:
    with store.unit() as session:
        for n, payload in enumerate(({"request_contact": True}, {})):
            session.add(OutboxRow(key=f"old:{n}", channel="telegram", recipient=STRANGER, text="Selamat datang",
                                  payload=payload, kind="reply", status="pending", attempts=0, next_try_at=T0,
                                  created_at=T0, priority=0))
    old, plain = sorted(store.claim(Channel.TELEGRAM, T0, limit=10), key=lambda i: i.id)
    assert (old.request_contact, plain.request_contact) == ("", None)
    assert keyboard_label(reply_markup(old, contact_label="Bagikan nomor saya")) == "Bagikan nomor saya"
    assert reply_markup(plain, contact_label="Bagikan nomor saya") is None
    assert keyboard_label(reply_markup(old)) != ""  # without any text the driver still sends a usable button
    with store.unit() as session:
        assert {r.payload.get("request_contact") for r in session.exec(select(OutboxRow))} == {True, None}


def test_the_drivers_own_texts_are_rendered_from_the_rules_in_use_and_follow_a_reload(
        db_url: str, tmp_path: Path) -> None:
    school_dir = tmp_path / "school"
    shutil.copytree(ROOT / "tests/schools/mini_year", school_dir)
    rules_dir = rules_with(tmp_path)
    rules: CompiledRules = load_rules(rules_dir)
    leader = Leader(rules, load_school(school_dir, rules.rules), Store(db_url))
    try:
        assert leader.try_lead(T0)
        texts = driver_texts(leader)
        assert set(texts) == set(DRIVER_TEXTS)
        assert texts == {key: rules.render(name, school=leader.school.name) for key, name in DRIVER_TEXTS.items()}
        assert texts["press_not_stored"].startswith("Maaf") and texts["contact_button"] == "Bagikan nomor saya"

        time.sleep(0.01)  # a new mtime even on coarse clocks
        rules_with(tmp_path / "edited", tg_press_not_stored="Tombol belum tercatat di {school}; tekan lagi.")
        shutil.copy(tmp_path / "edited" / "rules" / "templates.yaml", rules_dir / "templates.yaml")
        leader.reload_if_changed(T0)
        assert driver_texts(leader)["press_not_stored"] == f"Tombol belum tercatat di {leader.school.name}; tekan lagi."
        # `absensi run` hands the Telegram driver exactly these texts (the client is never started here)
        service = _telegram_service(leader, leader.store, parse_credentials("123456:" + "A" * 35, 1, "0" * 32),
                                    leader.school, rules.delivery_policy())
        assert service.handlers.sorry() == f"Tombol belum tercatat di {leader.school.name}; tekan lagi."
    finally:
        leader.lease.release()
        leader.store.close()


def test_the_words_inside_other_texts_are_the_schools_templates(store: Store, mini: School, tmp_path: Path) -> None:
    """Reworded, each shows up where the engine used to write its own Indonesian."""
    rules = load_rules(rules_with(tmp_path, tg_present="ada di kelas", tg_no_parent_phone="nomor ortu kosong",
                                  tg_other_day="tanggal tak dikenal", tg_what_student="murid {ref}",
                                  tg_what_nis_example="NIS, misalnya /{command} 1001",
                                  tg_help_report_example="S 7 pusing"))
    engine = Engine(rules, mini, store, T0)

    ids = itertools.count(1)

    def said(sender: str, text: str) -> list[str]:
        """What the wali kelas is told after `sender` says `text`."""
        msg = InboundMessage(Channel.TELEGRAM, sender, T0, f"t{next(ids)}", text)
        return [m.text for m in engine.receive(msg, T0) if m.to == WALI]

    assert any("nomor ortu kosong" in t for t in said(OFFICER, "A 5"))  # no parent registered: the push says so
    assert any("A (Alfa) -> ada di kelas" in t for t in said(WALI, "/koreksi 5 2026-11-30 H"))
    assert any("murid 9999" in t for t in said(WALI, "/koreksi 9999 2026-11-30 S"))
    assert any("NIS, misalnya /riwayat 1001" in t for t in said(WALI, "/riwayat"))
    helped = engine.receive(InboundMessage(Channel.TELEGRAM, OFFICER, T0, "h1", "/bantuan"), T0)
    assert any("contoh: S 7 pusing." in m.text for m in helped)
    stale = InboundMessage(Channel.TELEGRAM, OFFICER, T0, "p1", press="abs:bogus")
    assert any("tanggal tak dikenal" in m.text for m in engine.receive(stale, T0))


def test_a_usage_text_names_the_command_as_the_rules_name_it(rules: CompiledRules) -> None:
    from absensi.engine.rules.commands import command_doing

    shipped = rules.rules
    assert [command_doing(shipped, a) for a in ("month_recap", "student_history", "sms_usage", "service_status")] \
        == ["rekap", "riwayat", "sms", "status"]  # /status is the admin's variant's name too
    commands = {("bulanan" if n == "rekap" else n): c for n, c in shipped.telegram.commands.items()}
    renamed = shipped.model_copy(update={"telegram": shipped.telegram.model_copy(update={"commands": commands})})
    assert command_doing(renamed, "month_recap") == "bulanan"
    assert command_doing(renamed.model_copy(update={"telegram": renamed.telegram.model_copy(
        update={"commands": {n: c for n, c in commands.items() if c.action != "web_login"}})}), "web_login") == ""


def test_the_status_lines_are_the_schools_templates(store: Store, mini: School, tmp_path: Path) -> None:
    """`/status` (and the web console's Status page) say what the templates say."""
    from absensi.engine.operations import alerts, views
    from absensi.engine.operations.facts import Published, gather
    from absensi.engine.turn import Live, Turn

    rules = load_rules(rules_with(tmp_path, ops_engine_here="Engine: jalan", ops_telegram_unknown="TG: ?",
                                  ops_queues="Antre {queues} | hari ini {sent}/{parts}/{cost}/{failed}",
                                  ops_summary_missing=" (kurang: {classes})", ops_summary_normal="Aman.",
                                  ops_pulsa_gateway="pulsa HP tak terbaca"))
    with store.unit() as session:
        turn = Turn(Live(rules, mini), session, T0)
        facts = gather(session, T0, mini.calendar.tz)
        assert views.engine_line(turn, facts) == "Engine: jalan"
        assert views.telegram_line(turn, None) == "TG: ?"
        assert views.queue_line(turn, facts) == "Antre SMS 0, Telegram 0 | hari ini 0/0/Rp 0/0"
        # the daily summary's words and a device's pulsa
        values = alerts.summary_values(turn, facts)
        assert values["missing"] == f" (kurang: {', '.join(sorted(mini.classes))})"
        assert values["problems"] == "Aman."
        gateway = Published("gateway:http://hp", "gateway", "test", T0, {})
        assert alerts.pulsa_line(turn, gateway).endswith(": pulsa HP tak terbaca")
