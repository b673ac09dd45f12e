"""Punches in the reports (SPEC §10): harian and riwayat show Jam Datang / Jam Pulang of each recorded day (blank
without a punch; a second press at the gate is no going home), perhatian counts the days a student was reported
absent in class yet clocked in, and lists a student from `attention_days` such days. Both backends."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from absensi.engine import reports
from absensi.engine.core import Engine
from absensi.engine.finger.files import RawPunch
from absensi.engine.finger.punches import store_punches
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.reports import compute
from absensi.engine.reports.snapshot import make_snapshot, school_scope
from absensi.engine.rules import CompiledRules
from absensi.engine.school.model import School
from absensi.engine.store import Store

WIB = ZoneInfo("Asia/Jakarta")
MON, TUE = date(2026, 11, 30), date(2026, 12, 1)
KETUA = "700001"  # X TKJ 1: 1 Adi Nugroho (1003), 2 Agus Setiawan (1004), 5 Budi Santoso (1001), 6 Siti Rahma (1002)
IDS = itertools.count(1)


def moment(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


def report(engine: Engine, day: date, text: str) -> None:
    at = moment(day, 7, 30)
    engine.tick(at)
    engine.receive(InboundMessage(Channel.TELEGRAM, KETUA, at, f"r{next(IDS)}", text), at)


def seeded(rules: CompiledRules, mini: School, store: Store) -> None:
    punches = [("1001", MON, 6, 52), ("1001", MON, 14, 10), ("1002", MON, 6, 50), ("1002", MON, 6, 51),
               ("1004", MON, 6, 40), ("1001", TUE, 7, 5), ("2001", MON, 6, 30)]
    with store.unit() as session:
        store_punches(session, mini, [RawPunch("t", i, nis, moment(day, hh, mm).replace(tzinfo=None), "mesin 1", "usb")
                                      for i, (nis, day, hh, mm) in enumerate(punches, 1)], moment(TUE, 15, 0))
    engine = Engine(rules, mini, store, moment(MON, 7, 0))
    report(engine, MON, "A 5")  # Budi: at the gate, not in class
    report(engine, MON, "S 6")  # Siti: pressed twice at 06:50, 06:51
    report(engine, MON, "I 1")  # Adi: no punch
    report(engine, MON, "D 2")  # Agus: dispensasi (the school's decision), clocked in
    report(engine, TUE, "A 5")  # Budi again


def snapshot(rules: CompiledRules, mini: School, store: Store, start: date, end: date, **options: object
             ) -> reports.Snapshot:
    with store.unit() as session:
        return make_snapshot(session, mini, rules, school_scope(mini), start, end, "periode", TUE,
                             with_gate=True, **options)  # type: ignore[arg-type]


def test_harian_riwayat_and_perhatian_show_the_gate(rules: CompiledRules, mini: School, store: Store) -> None:
    seeded(rules, mini, store)
    harian = {r["NIS"]: r for r in compute.harian(snapshot(rules, mini, store, MON, MON), MON).records()}
    assert {nis: (r["Status"], r["Jam Datang"], r["Jam Pulang"]) for nis, r in harian.items()} == {
        "1001": ("A", "06:52", "14:10"), "1002": ("S", "06:50", ""), "1003": ("I", "", ""),
        "1004": ("D", "06:40", "")}
    text = reports.export_text("harian", snapshot(rules, mini, store, MON, MON), day=MON)
    assert "5. Budi Santoso — A Alfa (finger masuk 06:52)" in text and "Adi Nugroho — I Izin\n" in text

    riwayat = list(compute.riwayat(snapshot(rules, mini, store, date(2026, 11, 1), TUE, with_changes=True,
                                            nis="1001"), "1001").records())
    assert [(r["Tanggal"], r["Jam Datang"], r["Jam Pulang"]) for r in riwayat] == [
        (MON, "06:52", "14:10"), (TUE, "07:05", "")]

    snap = snapshot(rules, mini, store, date(2026, 11, 1), TUE)
    perhatian = {r["NIS"]: r for r in compute.perhatian(snap).records()}
    assert list(perhatian) == ["1001"]  # Siti (one day, S) and Agus (D: the school's own decision) are not
    budi = perhatian["1001"]
    assert budi[compute.GATE_NOT_CLASS] == 2
    assert budi["Alasan"] == "hadir di gerbang tetapi tidak di kelas 2 hari (30/11, 01/12)"
    assert compute.gate_not_class(snap, "1002") == [MON] and compute.gate_not_class(snap, "1004") == []


def test_without_the_gate_or_before_the_threshold_nothing_is_shown(rules: CompiledRules, mini: School,
                                                                  store: Store) -> None:
    seeded(rules, mini, store)
    with store.unit() as session:  # a snapshot made without punches (rekap, semester): blank, and not counted
        plain = make_snapshot(session, mini, rules, school_scope(mini), MON, MON, "periode", TUE)
    assert {r["Jam Datang"] for r in compute.harian(plain, MON).records()} == {""}
    one_day = snapshot(rules, mini, store, date(2026, 11, 1), MON)
    assert "1001" not in {r["NIS"] for r in compute.perhatian(one_day).records()}  # 1 day < attention_days (2)
