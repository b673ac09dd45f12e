"""Telegram texts, Indonesian formatting, masked numbers and the parent letters PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from datetime import date

import pytest

from absensi.engine import reports
from absensi.engine.reports import charts, compute
from absensi.engine.reports.fmt import long_date, mask_phone, pct, weekday_date
from absensi.engine.reports.letters import display_number, render_letters
from absensi.engine.reports.model import StudentRow
from absensi.engine.reports.text import LIMIT, fit

from .conftest import PARENT, STUDENTS, make_snapshot


def test_mask_phone_keeps_prefix_and_last_three_digits():
    assert mask_phone("+6281234567890") == "0812****890"
    assert mask_phone("081234567890") == "0812****890"
    assert mask_phone("+62 812-3456-7890") == "0812****890"
    assert mask_phone("Bu Sari") == "Bu Sari"


def test_indonesian_dates_and_numbers():
    assert long_date(date(2026, 11, 30)) == "30 November 2026"
    assert weekday_date(date(2026, 8, 17)) == "Senin, 17 Agustus 2026"
    assert pct(92.456) == "92,46 %" and pct(92.456, 1) == "92,5 %" and pct(None) == "-"
    assert display_number("+6281200000000") == "0812-0000-0000"


def test_hariini_text_groups_by_class(snap):
    text = reports.export_text("harian", snap, day=date(2026, 11, 13))
    assert text.splitlines()[:2] == ["Ketidakhadiran Jumat, 13 November 2026", "Seluruh Sekolah"]
    assert "X TKJ 1 (1)\n  3. Citra Lestari — I Izin, acara keluarga" in text
    assert PARENT not in text


def test_rekap_text_lists_counts_and_percentage_per_student(snap):
    text = reports.export_text("rekap-kelas", snap, class_name="X TKJ 1")
    assert "2. Budi Santoso: A Alfa 3, D Dispensasi 1 · Hadir 17/20 · 85,00 %" in text
    assert "1. Andi Pratama: S Sakit 2 · Hadir 18/20 · 90,00 %" in text
    # the footnote's split: Σ(S+I+A) 10,00 % (SPEC §7's class absence %), then P, which these rules also count
    assert "X TKJ 1 — 20 hari efektif, kehadiran 88,33 % + ketidakhadiran (S+I+A) 10,00 % + (P) 1,67 % = 100 %" in text
    assert "dihitung hadir: D Dispensasi." in text


def test_big_scopes_are_shortened_to_fit_one_message():
    many = [StudentRow(str(5000 + i), "", f"Siswa Nomor {i:03d} Dengan Nama Panjang", "X TKJ 1", i + 4)
            for i in range(200)]  # fmt: skip
    snap = make_snapshot(students=[*STUDENTS, *many])
    text = reports.export_text("rekap-kelas", snap)
    assert len(text) <= LIMIT
    assert "Budi Santoso" in text and "Siswa Nomor 150" not in text  # absent-only form
    assert "(siswa lain hadir penuh)" in text


def test_fit_cuts_at_a_line_and_says_what_is_left():
    text = fit([f"baris {i}" for i in range(2000)], limit=200)
    assert len(text) <= 200 and text.endswith("selengkapnya di file .xlsx.") and "baris lagi" in text


def test_other_texts(snap):
    status = reports.export_text("status", snap, day=date(2026, 11, 19))
    assert "Sudah lapor: 1/2 kelas" in status and "XI RPL 1: ✗ BELUM LAPOR" in status
    assert "nihil" not in status.split("XI RPL 1: ✗ BELUM LAPOR")[1].split("\n")[0]  # unreported is not "nobody"
    perhatian = reports.export_text("perhatian", snap)
    assert "Budi Santoso (X TKJ 1, NIS 1002)" in perhatian and "Dewi" not in perhatian
    riwayat = reports.export_text("riwayat", snap, nis="1003")
    assert "13/11/2026 I (Izin) — acara keluarga [koreksi: A → I oleh 0812****890" in riwayat
    semester = reports.export_text("semester", snap, class_name="X TKJ 1")
    assert "3. Citra Lestari: Sakit 0, Izin 1, Tanpa Ket. 1" in semester
    sekolah = reports.export_text("rekap-sekolah", snap)
    assert "Total Sekolah: 89,00 % (S Sakit 5, I Izin 2, A Alfa 3, D Dispensasi 4, P Dipulangkan 1)" in sekolah


LETTER_STUDENTS = [(s.name, s.class_name, s.nis, f"K{i}X{i}Q7") for i, s in enumerate(STUDENTS)]


def pdf_text_streams(pdf: bytes) -> str:
    """Inflate every content stream: with core fonts the text shows up literally."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(out)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.mark.parametrize(("n", "pages"), [(1, 1), (2, 1), (5, 3)])
def test_two_letters_per_page(n, pages):
    assert page_count(render_letters("SMK X", "+6281200000000", LETTER_STUDENTS[:n])) == pages


def test_one_letter_per_page_on_request():
    assert page_count(render_letters("SMK X", "+6281200000000", LETTER_STUDENTS, per_page=1)) == 5


def test_letters_carry_each_code_and_the_keycodes():
    pdf = render_letters("SMK PGRI 1 Tangerang", "+6281200000000", LETTER_STUDENTS, font_dirs=())
    text = pdf_text_streams(pdf)
    for _, _, _, code in LETTER_STUDENTS:
        assert f"({code})" in text and f"(REG {code})" in text
    for word in ("SAKIT <keterangan>", "IZIN <keterangan>", "STOP", "0812-0000-0000", "UU No. 27 Tahun 2022"):
        assert word in text


def test_core_fonts_survive_names_outside_latin1():
    pdf = render_letters(
        "SMK X", "+6281200000000", [("Łukasz Nguyễn", "X TKJ 1", "1", "AB12CD")], font_dirs=()
    )
    assert "Lukasz Nguyen" in pdf_text_streams(pdf)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_letters_read_back_with_unicode_fonts():
    pdf = render_letters(
        "SMK PGRI 1 Tangerang", "+6281200000000", [("Łukasz Nguyễn", "X TKJ 1", "7", "ZZ99XY")]
    )
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Łukasz Nguyễn" in text and "ZZ99XY" in text and "REG ZZ99XY" in text


def test_charts_are_png_drawn_from_the_tables(snap):
    bars = charts.attendance_by_class(compute.rekap_sekolah(snap))
    trend = charts.absence_trend(compute.daily_trend(snap))
    for png in (bars, trend):
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def drawn_lines(pdf: bytes) -> list[tuple[str, str, str]]:
    """(x, y, text) of every text object in uncompressed content, in drawing order."""
    text = pdf.decode("latin-1")
    return re.findall(r"BT ([\d.-]+) ([\d.-]+) Td(?: /F\d+ [\d.]+ Tf)? \((.*?)\) Tj ET", text)


@pytest.mark.parametrize("align", ["L", "C", "R", "J"])
def test_pen_draws_lines_where_cell_and_multi_cell_do(align):
    """The letters draw with FPDF.text where multi_cell (paragraphs) and cell (single lines) would draw."""
    from fpdf import FPDF

    from absensi.engine.reports.letters import _Paragraphs, _Pen

    paragraph = ("Persetujuan dapat ditarik kapan saja dengan mengirim STOP. " * 4).strip()
    texts = [(paragraph, 4.6), ("Tangerang, 30 November 2026", 4.5), ("Nomor lebih panjang dari baris: " + "9" * 140, 5)]
    made = []
    for use_pen in (False, True):
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_compression(False)
        pdf.add_page()
        pdf.set_font("Helvetica", "", 9.5)
        pen, pdf.y = _Pen(pdf, _Paragraphs(pdf), 20.0), 20.0
        for x, w in ((14.0, 182.0), (18.0, 120.0)):
            for text, h in texts:
                if use_pen:
                    pen.paragraph(x, w, h, text, align)
                else:
                    pdf.set_xy(x, pdf.y)
                    pdf.multi_cell(w, h, text, align=align, new_x="LMARGIN", new_y="NEXT")
            if use_pen:
                pen.cell(x, w, 8, "Kode orang tua:", "C" if align == "J" else align)
            else:
                pdf.set_xy(x, pdf.y)
                pdf.cell(w, 8, "Kode orang tua:", align="C" if align == "J" else align, new_x="LMARGIN", new_y="NEXT")
        made.append(drawn_lines(bytes(pdf.output())))
    by_cells, by_pen = made
    assert len(by_cells) > 10 and by_pen == by_cells


def letter_words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("font_dirs", [None, ()], ids=["dejavu", "core-fonts"])
def test_a_letter_reads_back_whole(font_dirs):
    kwargs = {} if font_dirs is None else {"font_dirs": font_dirs}
    pdf = render_letters("SMK PGRI 1 Tangerang", "+6281200000000", [("Siti Aminah", "XI RPL 2", "260999", "Q7W3ZK")],
                         place="Tangerang", on=date(2026, 11, 30), **kwargs)  # fmt: skip
    raw = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    text = letter_words(raw)
    for said in (
        "SMK PGRI 1 TANGERANG", "Layanan SMS Kehadiran Siswa untuk Orang Tua/Wali",
        "Yth. Bapak/Ibu Orang Tua/Wali dari:", "Nama siswa", ": Siti Aminah", "Kelas", ": XI RPL 2", "NIS", ": 260999",
        "Kode orang tua:", "Q7W3ZK",
        "Daftarkan nomor HP Bapak/Ibu dengan mengirim SMS ke nomor sekolah di bawah. Setelah terdaftar, Bapak/Ibu "
        "akan diberi tahu bila anak tidak hadir tanpa keterangan, dan dapat memberi tahu sekolah bila anak sakit "
        "atau izin.",
        "Nomor SMS sekolah:", "0812-0000-0000",
        "REG Q7W3ZK", "mendaftarkan nomor ini untuk anak di atas (sekali saja)",
        "SAKIT <keterangan>", "memberi tahu anak sakit hari ini, contoh: SAKIT demam",
        "IZIN <keterangan>", "memberi tahu anak izin hari ini, contoh: IZIN acara keluarga",
        "STOP", "berhenti: nomor ini tidak lagi menerima pemberitahuan",
        "Bila nomor ini terdaftar untuk beberapa anak, tulis nama atau NIS anak: SAKIT <nama anak> <keterangan>.",
        "Perlindungan data pribadi (UU No. 27 Tahun 2022): dengan mengirim REG, Bapak/Ibu menyetujui sekolah "
        "menyimpan nomor HP tersebut bersama data Siti Aminah, beserta waktu pendaftaran.",
        "Persetujuan dapat ditarik kapan saja dengan mengirim STOP.",
        "Mohon simpan surat ini dan jaga kerahasiaan kodenya.", "Tangerang, 30 November 2026",
    ):  # fmt: skip
        assert said in text, said
    # one letter per page, in the order read: the title first, the date last
    assert text.index("SMK PGRI 1 TANGERANG") < text.index("Q7W3ZK") < text.index("Tangerang, 30 November 2026")
    assert text.endswith("Tangerang, 30 November 2026")
