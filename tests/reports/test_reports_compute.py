"""The computed tables: hand-counted numbers from the tiny school in conftest."""

from __future__ import annotations

from datetime import date

import pytest

from absensi.engine import reports
from absensi.engine.reports import compute
from absensi.engine.reports.model import Entry, Thresholds

from .conftest import PARENT, make_snapshot


def by_nis(table):
    return {r["NIS"]: r for r in table.records()}


def test_only_school_days_count_and_missing_entry_means_present(snap):
    rows = by_nis(compute.rekap_kelas(snap, "X TKJ 1"))
    andi = rows["1001"]  # S on 2 and 3 Nov; A on a Saturday and on the holiday are ignored
    assert (andi["S"], andi["A"], andi["Hadir"], andi["Hari Efektif"], andi["% Kehadiran"]) == (
        2,
        0,
        18,
        20,
        90.0,
    )
    assert andi["7"] is None and andi["10"] is None and andi["2"] == "S"


def test_rekap_kelas_grid_columns_follow_the_calendar(snap):
    table = compute.rekap_kelas(snap, "X TKJ 1")
    days = [c for c in table.columns if c.kind == "day"]
    assert [c.header for c in days] == [str(d) for d in range(1, 31)]
    shaded = {int(c.header) for c in days if c.shade}
    assert shaded == {1, 7, 8, 10, 14, 15, 21, 22, 28, 29}  # weekends and the holiday
    assert table.headers[-8:] == ("S", "I", "A", "D", "P", "Hadir", "Hari Efektif", "% Kehadiran")


def test_hadir_excludes_what_the_rules_count_as_absent_and_pct_is_days_present_over_school_days(snap):
    rows = by_nis(compute.rekap_kelas(snap, "X TKJ 1"))
    budi = rows["1002"]  # A 4,5,6 and D 9: D (dispensasi) is not counted as absent by default, so it is a day present
    assert (budi["A"], budi["D"], budi["Hadir"], budi["% Kehadiran"]) == (3, 1, 17, 85.0)
    citra = rows["1003"]  # P 12 and I 13: P counts as absent (Tanpa Keterangan)
    assert (citra["P"], citra["I"], citra["Hadir"], citra["Hari Efektif"]) == (1, 1, 18, 20)


def test_d_lowers_hadir_only_when_the_rules_count_it_as_absent():
    snap = make_snapshot(counting={"S": "sakit", "I": "izin", "A": "tanpa_keterangan", "D": "izin", "P": None})
    rows = by_nis(compute.rekap_kelas(snap, "X TKJ 1"))
    assert (rows["1002"]["Hadir"], rows["1002"]["% Kehadiran"]) == (16, 80.0)  # D counted, now as Izin
    assert rows["1003"]["Hadir"] == 19  # P not counted: a day present
    assert "D (Dispensasi) → Izin" in compute.rekap_kelas(snap, "X TKJ 1").footer[1]


def test_hari_efektif_never_counts_a_day_after_today():
    snap = make_snapshot(today=date(2026, 11, 12))  # Citra's P on 12 Nov counts; her I on 13 Nov is not yet
    rows = by_nis(compute.rekap_kelas(snap, "X TKJ 1"))
    assert {r["Hari Efektif"] for r in rows.values()} == {8}  # 2–6, 9, 11, 12 Nov (10 Nov is a holiday)
    assert (rows["1003"]["P"], rows["1003"]["I"], rows["1003"]["Hadir"]) == (1, 0, 7)
    assert by_nis(compute.semester(snap, "X TKJ 1"))["1003"]["Hari Efektif"] == 8
    assert "Hadir 7 dari 8 hari efektif" in compute.riwayat(snap, "1003").footer[0]


def test_class_absence_and_attendance_pct_describe_one_whole(snap):
    table = compute.rekap_kelas(snap, "X TKJ 1")
    # SPEC §7: class absence % = Σ(S+I+A) = 2 + 1 + 3 = 6 of 3 × 20 = 60 → 10,00 %; P (1) counts as Tanpa
    # Keterangan too, so it is its own part (1,67 %); D is present; 53 ÷ 60 → 88,33 %; the three make 100 %
    assert table.extra["class_absence_pct"] == 11.67 and table.extra["class_sia_pct"] == 10.0
    assert table.footer[0].startswith(
        "Persentase ketidakhadiran kelas = Σ(S+I+A) ÷ (Jumlah Siswa × Hari Efektif) × 100 = 6 ÷ (3 × 20) × 100 = 10,00 %;"
    )
    assert "P (Dipulangkan) juga dihitung tidak hadir: Σ(P) ÷ (Jumlah Siswa × Hari Efektif) × 100 = 1 ÷ (3 × 20) × 100 = 1,67 %;" in table.footer[0]
    assert "53 ÷ (3 × 20) × 100 = 88,33 %; jumlah 100,00 %" in table.footer[0]
    total = next(table.records("total"))
    assert (total["S"], total["I"], total["A"], total["D"], total["P"], total["Hadir"]) == (2, 1, 3, 1, 1, 53)
    assert total["% Kehadiran"] == 88.33 and total["% Kehadiran"] + table.extra["class_absence_pct"] == 100
    assert total["4"] == 1 and total["7"] is None  # per-day count; nothing on a non-school day


def test_semester_maps_d_and_p_onto_the_three_erapor_columns(snap):
    rows = by_nis(compute.semester(snap, "X TKJ 1"))
    citra = rows["1003"]  # P on 12 Nov counts as Tanpa Keterangan; the Dipulangkan column only repeats it
    assert (citra["Sakit"], citra["Izin"], citra["Tanpa Keterangan"], citra["Dipulangkan"]) == (0, 1, 1, 1)
    budi = rows["1002"]  # D is not counted by default
    assert (budi["Tanpa Keterangan"], budi["Dispensasi"], budi["Hari Efektif"]) == (3, 1, 20)
    assert compute.semester(snap, "X TKJ 1").headers == (
        "No", "NIS", "NISN", "Nama", "Sakit", "Izin", "Tanpa Keterangan", "Dispensasi", "Dipulangkan",
        "Hari Efektif", "% Kehadiran",
    )  # fmt: skip


def test_semester_follows_a_changed_counting_rule():
    snap = make_snapshot(
        counting={"S": "sakit", "I": "izin", "A": "tanpa_keterangan", "D": "izin", "P": None}
    )
    rows = by_nis(compute.semester(snap, "X TKJ 1"))
    assert (rows["1002"]["Izin"], rows["1003"]["Tanpa Keterangan"]) == (1, 0)
    assert "D (Dispensasi) → Izin" in compute.semester(snap, "X TKJ 1").footer[0]


def test_rekap_sekolah_subtotals_per_department_grade_and_school(snap):
    table = compute.rekap_sekolah(snap)
    rows = {r["Kelas"]: r for r in table.records(None)}
    assert rows["X TKJ 1"]["Wali Kelas"] == "Bu Sari"
    assert rows["XI RPL 1"]["% Kehadiran"] == 90.0  # 36 ÷ 40: Dewi's three D are days present
    assert rows["Jurusan TKJ"]["Jumlah Siswa"] == 3 and rows["Kelas XI"]["S"] == 3
    total = rows["Total Sekolah"]
    assert (total["Jumlah Siswa"], total["Hari Efektif"], total["S"], total["D"], total["% Kehadiran"]) == (
        5, 20, 5, 4, 89.0,
    )  # fmt: skip
    assert table.extra["school_absence_pct"] == 11.0
    assert [r.kind for r in table.rows][-1] == "total"


def test_harian_lists_the_day_by_class_and_masks_parent_numbers(snap):
    table = compute.harian(snap, date(2026, 11, 13))
    [row] = table.records()
    assert row["Kelas"] == "X TKJ 1" and row["No"] == 3 and row["Status"] == "I"
    assert row["Pelapor"] == "Orang Tua (0812****890)"
    assert PARENT not in str(row) and row["Waktu Lapor"] == "07:10"
    assert compute.harian(snap, date(2026, 11, 4)).records().__next__()["Ortu Dihubungi"] == "Ya"
    assert not list(compute.harian(snap, date(2026, 11, 7)).records())  # Saturday


def test_status_shows_who_reported_first_and_who_has_not(snap):
    rows = {r["Kelas"]: r for r in compute.status(snap, date(2026, 11, 19)).records()}
    assert rows["X TKJ 1"]["Sudah Lapor"] == "Ya" and rows["X TKJ 1"]["Waktu"] == "07:05"  # NIHIL counts
    assert rows["XI RPL 1"]["Sudah Lapor"] == "Belum"  # a parent's SAKIT is not the class's report
    assert rows["XI RPL 1"]["S"] == 1


def test_status_counts_an_officer_entry_as_a_report(snap):
    rows = {r["Kelas"]: r for r in compute.status(snap, date(2026, 11, 20)).records()}
    assert rows["XI RPL 1"]["Sudah Lapor"] == "Ya" and rows["XI RPL 1"]["Pelapor"] == "Ketua Kelas (Andi)"


def test_riwayat_shows_corrections_and_withdrawals(snap):
    citra = list(compute.riwayat(snap, "1003").records())
    corrected = next(r for r in citra if r["Tanggal"] == date(2026, 11, 13))
    assert corrected["Status"] == "I (Izin)"
    assert corrected["Koreksi"] == "A → I oleh 0812****890 (Orang Tua), 13/11 08:20"
    eko = {r["Tanggal"]: r for r in compute.riwayat(snap, "1005").records()}
    assert eko[date(2026, 11, 25)]["Status"] == "Dibatalkan"
    assert eko[date(2026, 11, 25)]["Koreksi"] == "A → – oleh Rudi (Sekretaris), 25/11 07:40"
    assert eko[date(2026, 11, 19)]["Koreksi"] == ""  # first recording is not a correction


def test_riwayat_of_a_student_out_of_scope_is_refused(snap):
    with pytest.raises(ValueError, match="NIS"):
        compute.riwayat(snap, "9999")


def test_perhatian_flags_each_threshold_with_its_reason(snap):
    rows = by_nis(compute.perhatian(snap))
    assert set(rows) == {"1002", "1005"}
    budi = rows["1002"]["Alasan"]
    assert "alfa 3 hari pada November 2026" in budi
    assert "tidak hadir 3 hari sekolah berturut-turut (04/11/2026–06/11/2026)" in budi
    assert "kehadiran" not in budi  # 17 of 20 = 85 %: his D is a day present
    eko = rows["1005"]["Alasan"]  # 19, 20, 23, 24 Nov: the weekend does not break the run
    assert "tidak hadir 4 hari sekolah berturut-turut (19/11/2026–24/11/2026)" in eko
    assert "alfa" not in eko and "kehadiran 80,00 % (< 85 %)" in eko


def test_perhatian_leaves_dispensasi_and_exact_threshold_alone(snap):
    # Dewi: D on three consecutive days (present by default: 100 %); Budi: exactly 85 % attendance
    assert "1004" not in by_nis(compute.perhatian(snap))
    assert "kehadiran" not in by_nis(compute.perhatian(snap))["1002"]["Alasan"]


def test_perhatian_thresholds_come_from_the_rules():
    snap = make_snapshot(thresholds=Thresholds(alfa_per_month=1, consecutive_days=9, min_attendance_pct=50))
    rows = by_nis(compute.perhatian(snap))
    assert set(rows) == {"1002"}  # Citra's single P is Tanpa Keterangan in e-Rapor, but not an A
    assert rows["1002"]["Alasan"] == "alfa 3 hari pada November 2026"


def _alone(*marks: tuple[int, str]) -> dict[str, object]:
    """Andi alone in X TKJ 1 with these (day, reason) marks."""
    andi = [s for s in make_snapshot().students if s.nis == "1001"]
    entries = [Entry("1001", date(2026, 11, d), r, "", "ketua_kelas", "Andi") for d, r in marks]
    return by_nis(compute.perhatian(make_snapshot(students=andi, entries=entries)))


def test_perhatian_counts_only_a_for_the_alfa_threshold():
    # SPEC §7 "A ≥ 3 in a month": A, A and a P (Tanpa Keterangan in e-Rapor) on days apart are not three A
    # (and no run of 3, and 17 of 20 = 85 % is not < 85 %): nobody is flagged
    assert _alone((2, "A"), (4, "A"), (6, "P")) == {}
    flagged = _alone((2, "A"), (4, "A"), (6, "A"))
    assert flagged["1001"]["Alasan"] == "alfa 3 hari pada November 2026"
    assert (flagged["1001"]["A"], flagged["1001"]["Hadir"]) == (3, 17)
    footer = compute.perhatian(make_snapshot()).footer[0]
    assert footer.startswith("Batas: A (Alfa) ≥ 3 hari dalam sebulan, tidak hadir 3 hari sekolah berturut-turut")


def test_scope_is_what_the_snapshot_holds():
    only_tkj = make_snapshot(students=[s for s in make_snapshot().students if s.class_name == "X TKJ 1"],
                             classes=[c for c in make_snapshot().classes if c.name == "X TKJ 1"])  # fmt: skip
    names = [r["Kelas"] for r in compute.rekap_sekolah(only_tkj).records()]
    assert names == ["X TKJ 1"]
    assert {r["Kelas"] for r in compute.harian(only_tkj, date(2026, 11, 19)).records()} == set()


def test_build_dispatches_and_explains_missing_arguments(snap):
    assert [t.sheet_name for t in reports.build("rekap-kelas", snap)] == ["X TKJ 1", "XI RPL 1"]
    assert len(reports.build("semester", snap, class_name="XI RPL 1")) == 1
    with pytest.raises(ValueError, match="tanggal"):
        reports.build("harian", snap)
    with pytest.raises(ValueError, match="tidak dikenal"):
        reports.build("bulanan", snap)
    with pytest.raises(ValueError, match="kelas"):
        reports.build("rekap-kelas", snap, class_name="XII TKJ 9")


def test_entries_of_students_outside_the_scope_never_show(snap):
    stranger = Entry("7777", date(2026, 11, 13), "A", "", "ketua_kelas", "X", None)
    scoped = make_snapshot(entries=[*snap.entries, stranger])
    assert sum(r["A"] for r in compute.daily_trend(scoped).records()) == 3
    assert [r["NIS"] for r in compute.harian(scoped, date(2026, 11, 13)).records()] == ["1003"]
    assert next(compute.rekap_sekolah(scoped).records("total"))["A"] == 3
