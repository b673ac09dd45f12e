"""The spreadsheets: contract headers, cell values, shading, totals, signatures and print setup."""

from __future__ import annotations

from datetime import date

from absensi.engine import reports
from absensi.engine.reports import compute
from absensi.engine.reports.xlsx import find_header_row, render_xlsx

from .conftest import PARENT, open_sheets, read_table


def test_rekap_kelas_sheet_values_and_layout(snap):
    ws = open_sheets(reports.export_xlsx("rekap-kelas", snap, class_name="X TKJ 1"))["X TKJ 1"]
    headers, rows, top = read_table(ws, "No")
    assert headers[:3] == ["No", "NIS", "Nama"] and headers[3:33] == [str(d) for d in range(1, 31)]
    assert headers[33:] == ["S", "I", "A", "D", "P", "Hadir", "Hari Efektif", "% Kehadiran"]
    cell = dict(zip(headers, rows[1], strict=True))  # Budi
    assert (cell["NIS"], cell["4"], cell["5"], cell["9"], cell["A"], cell["Hadir"]) == (
        "1002",
        "A",
        "A",
        "D",
        3,
        17,
    )
    assert cell["% Kehadiran"] == 85.0  # D is a day present by default
    total = dict(zip(headers, rows[-1], strict=True))
    assert (total["Nama"], total["Hadir"], total["Hari Efektif"]) == ("Jumlah", 53, 20)
    assert ws.cell(row=top + 1, column=headers.index("% Kehadiran") + 1).number_format == '0.00" %"'
    assert ws.cell(row=top + len(rows), column=3).font.bold  # totals row


def test_non_school_days_are_shaded_in_header_and_body(snap):
    ws = open_sheets(reports.export_xlsx("rekap-kelas", snap, class_name="X TKJ 1"))["X TKJ 1"]
    headers, _, top = read_table(ws, "No")
    col_sat, col_hol, col_mon = (headers.index(d) + 1 for d in ("7", "10", "2"))
    for row in (top, top + 1):
        assert ws.cell(row=row, column=col_sat).fill.fgColor.rgb.endswith("D9D9D9")
        assert ws.cell(row=row, column=col_hol).fill.fgColor.rgb.endswith("D9D9D9")
        assert ws.cell(row=row, column=col_mon).fill.fill_type is None or row == top
    assert ws.cell(row=top - 1, column=col_mon).value == "S"  # weekday letter above the day: Senin


def test_title_block_footer_and_signatures(snap):
    ws = open_sheets(reports.export_xlsx("rekap-kelas", snap, class_name="X TKJ 1"))["X TKJ 1"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert texts[:5] == ["SMK PGRI 1 TANGERANG", "REKAP BULANAN KEHADIRAN SISWA", "Kelas: X TKJ 1",
                         "Wali Kelas: Bu Sari", "Bulan: November 2026"]  # fmt: skip
    assert any("Σ(S+I+A)" in t and "6 ÷ (3 × 20) × 100 = 10,00 %" in t and "Σ(P)" in t and "= 1,67 %" in t
               and "= 88,33 %; jumlah 100,00 %" in t for t in texts)  # SPEC §7's Σ(S+I+A), then P, then Hadir
    assert any("D (Dispensasi) → dihitung hadir" in t for t in texts)
    assert any("metode sisa terbesar" in t for t in texts)
    assert "Tangerang, 30 November 2026" in texts
    assert {"Mengetahui,", "Kepala Sekolah,", "Wali Kelas,", "Drs. Suharto", "Bu Sari"} <= set(texts)


def test_print_setup_is_a4_landscape_one_page_wide(snap):
    ws = open_sheets(reports.export_xlsx("rekap-kelas", snap, class_name="X TKJ 1"))["X TKJ 1"]
    _, _, top = read_table(ws, "No")
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.freeze_panes == f"D{top + 1}"  # No, NIS, Nama stay visible
    assert ws.print_title_rows == f"${top}:${top}"


def test_whole_school_grid_has_one_sheet_per_class(snap):
    assert list(open_sheets(reports.export_xlsx("rekap-kelas", snap))) == ["X TKJ 1", "XI RPL 1"]


def test_rekap_sekolah_sheet_with_subtotals_and_charts(snap):
    sheets = open_sheets(reports.export_xlsx("rekap-sekolah", snap))
    assert list(sheets) == ["Rekap", "Tren Harian", "Grafik"]
    headers, rows, _ = read_table(sheets["Rekap"], "Kelas")
    assert headers == [
        "Kelas",
        "Wali Kelas",
        "Jumlah Siswa",
        "Hari Efektif",
        "S",
        "I",
        "A",
        "D",
        "P",
        "% Kehadiran",
    ]
    labels = [r[0] for r in rows]
    # departments in name order (each followed by its subtotal), then grades, then the school
    assert labels == [
        "XI RPL 1",
        "Jurusan RPL",
        "X TKJ 1",
        "Jurusan TKJ",
        "Kelas X",
        "Kelas XI",
        "Total Sekolah",
    ]
    assert rows[-1][2:] == [5, 20, 5, 2, 3, 4, 1, 89.0]
    assert len(sheets["Grafik"]._images) == 2
    trend_headers, trend_rows, _ = read_table(sheets["Tren Harian"], "Tanggal")
    assert len(trend_rows) == 20 and trend_headers[-2:] == ["Tidak Hadir", "% Ketidakhadiran"]
    # 17 entries − Saturday − holiday − four D (present by default)
    assert sum(r[trend_headers.index("Tidak Hadir")] for r in trend_rows) == 11


def test_semester_sheet_is_ready_for_erapor(snap):
    ws = open_sheets(reports.export_xlsx("semester", snap, class_name="X TKJ 1"))["X TKJ 1"]
    headers, rows, _ = read_table(ws, "No")
    assert headers[4:7] == ["Sakit", "Izin", "Tanpa Keterangan"]
    assert rows[2] == [3, "1003", "0012345603", "Citra Lestari", 0, 1, 1, 0, 1, 20, 90.0]
    notes = [c.value for c in ws[find_header_row(ws, "No") - 1]]
    assert notes[7:9] == ["info: dihitung hadir", "info: sudah di Tanpa Keterangan"]  # D, P: not added again
    assert "Semester: 2026/2027 Ganjil" not in [c.value for c in ws["A"]]  # the snapshot's label is a month


def test_harian_status_riwayat_perhatian_sheets(snap):
    day = date(2026, 11, 13)
    harian = open_sheets(reports.export_xlsx("harian", snap, day=day))
    headers, rows, _ = read_table(next(iter(harian.values())), "Tanggal")
    assert headers == ["Tanggal", "Kelas", "No", "NIS", "Nama", "Status", "Keterangan", "Pelapor", "Waktu Lapor",
                       "Ortu Dihubungi", "Jam Datang", "Jam Pulang"]  # fmt: skip
    assert rows[0][0].date() == day and rows[0][7] == "Orang Tua (0812****890)"
    assert rows[0][10:] in ([None, None], ["", ""])  # no punch that day: blank
    status = open_sheets(reports.export_xlsx("status", snap, day=date(2026, 11, 19)))["Status"]
    headers, rows, _ = read_table(status, "Kelas")
    assert headers == [
        "Kelas",
        "Wali Kelas",
        "Jumlah Siswa",
        "Sudah Lapor",
        "Pelapor",
        "Waktu",
        "S",
        "I",
        "A",
        "D",
        "P",
    ]
    assert rows[-1][:4] == ["Jumlah", None, 5, "1/2"]
    riwayat = open_sheets(reports.export_xlsx("riwayat", snap, nis="1003"))["1003"]
    headers, rows, _ = read_table(riwayat, "Tanggal")
    assert headers == ["Tanggal", "Status", "Keterangan", "Sumber", "Dicatat Oleh", "Waktu", "Koreksi", "Jam Datang",
                       "Jam Pulang"]  # fmt: skip
    assert rows[-1][6] == "A → I oleh 0812****890 (Orang Tua), 13/11 08:20"
    perhatian = open_sheets(reports.export_xlsx("perhatian", snap))["Perhatian"]
    headers, rows, _ = read_table(perhatian, "No")
    assert [r[headers.index("NIS")] for r in rows] == ["1002", "1005"]


def test_no_parent_number_reaches_an_officer_sheet(snap):
    for name, kw in [("harian", {"day": date(2026, 11, 13)}), ("riwayat", {"nis": "1003"}),
                     ("status", {"day": date(2026, 11, 19)})]:  # fmt: skip
        for ws in open_sheets(reports.export_xlsx(name, snap, **kw)).values():
            values = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
            assert PARENT not in values and "81234567890" not in values


def test_empty_input_still_gives_a_workbook(snap):
    assert list(open_sheets(render_xlsx([]))) == ["Kosong"]
    table = compute.harian(snap, date(2026, 11, 7))
    ws = open_sheets(render_xlsx(table))[table.sheet_name]
    assert "Bukan hari sekolah." in [c.value for row in ws.iter_rows() for c in row]
