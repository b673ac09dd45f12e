"""Printable parent letters: how to register a phone number and report sickness or permission by SMS.

Two letters per A4 page with a cut line between them (a school prints hundreds). Each letter names
the student and class, shows the parent code large in a monospace font (so 0/O and 1/I are told
apart), the gateway number, the SMS keycodes, and what the school does with the number: sending
`REG` is the recorded consent of UU PDP No. 27/2022, the number is used only for absence notices,
and `STOP` withdraws it.

DejaVu fonts are used when installed, so any name prints; otherwise fpdf2's core fonts, with text
reduced to latin-1 (accents folded, other characters replaced) rather than failing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .fmt import long_date

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 14.0
SLOT_H = PAGE_H / 2
TEXT_W = PAGE_W - 2 * MARGIN
# Letters that Unicode does not decompose into a base letter plus accent.
NO_DECOMPOSITION = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe"}
)


@dataclass(frozen=True, slots=True)
class LetterStudent:
    name: str
    class_name: str
    nis: str
    parent_code: str


@dataclass(frozen=True, slots=True)
class _Fonts:
    sans: str
    mono: str
    unicode: bool


def render_letters(
    school_name: str,
    sms_number: str,
    students: Iterable[LetterStudent | tuple[str, str, str, str]],
    *,
    place: str = "",
    on: date | None = None,
    per_page: int = 2,
    font_dirs: Sequence[Path] = FONT_DIRS,
) -> bytes:
    """The letters as PDF bytes; `students` are (name, class, nis, parent_code) in print order."""
    if per_page not in (1, 2):
        raise ValueError("per_page must be 1 or 2")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Surat Orang Tua - {school_name}")
    fonts = _load_fonts(pdf, font_dirs)
    for i, raw in enumerate(students):
        student = raw if isinstance(raw, LetterStudent) else LetterStudent(*raw)
        slot = i % per_page
        if slot == 0:
            pdf.add_page()
        top = slot * SLOT_H
        if per_page == 2 and slot == 1:
            _cut_line(pdf)
        _letter(pdf, fonts, top, school_name, sms_number, student, _dated(place, on))
    return bytes(pdf.output())


def _load_fonts(pdf: FPDF, dirs: Sequence[Path]) -> _Fonts:
    for folder in dirs:
        files = {style: folder / name for style, name in
                 (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf"), ("M", "DejaVuSansMono-Bold.ttf"))}  # fmt: skip
        if all(f.is_file() for f in files.values()):
            pdf.add_font("DejaVu", "", str(files[""]))
            pdf.add_font("DejaVu", "B", str(files["B"]))
            pdf.add_font("DejaVuMono", "B", str(files["M"]))
            return _Fonts("DejaVu", "DejaVuMono", True)
    return _Fonts("Helvetica", "Courier", False)


def _dated(place: str, on: date | None) -> str:
    if on is None:
        return place
    return f"{place}, {long_date(on)}" if place else long_date(on)


def _cut_line(pdf: FPDF) -> None:
    pdf.set_draw_color(150, 150, 150)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.line(6, SLOT_H, PAGE_W - 6, SLOT_H)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)


def _safe(fonts: _Fonts, text: str) -> str:
    """Core fonts are latin-1 only: fold accents ('é' stays, 'ł' → 'l'), replace what cannot be shown."""
    if fonts.unicode:
        return text
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        folded = unicodedata.normalize("NFKD", text.translate(NO_DECOMPOSITION))
        kept = "".join(ch for ch in folded if not unicodedata.combining(ch))
        return kept.encode("latin-1", "replace").decode("latin-1")


def _letter(
    pdf: FPDF, fonts: _Fonts, top: float, school: str, number: str, st: LetterStudent, dated: str
) -> None:
    def write(text: str, size: float = 10, style: str = "", h: float = 5, align: str = "L") -> None:
        pdf.set_font(fonts.sans, style, size)
        pdf.multi_cell(TEXT_W, h, _safe(fonts, text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_left_margin(MARGIN)
    pdf.set_xy(MARGIN, top + 10)
    write(school.upper(), 14, "B", 7, "C")
    write("Layanan SMS Kehadiran Siswa untuk Orang Tua/Wali", 11, "B", 6, "C")
    pdf.ln(3)
    write("Yth. Bapak/Ibu Orang Tua/Wali dari:")
    _student_block(pdf, fonts, st)
    _code_box(pdf, fonts, st.parent_code)
    write(
        "Daftarkan nomor HP Bapak/Ibu dengan mengirim SMS ke nomor sekolah di bawah. Setelah terdaftar, "
        "Bapak/Ibu akan diberi tahu bila anak tidak hadir tanpa keterangan, dan dapat memberi tahu sekolah "
        "bila anak sakit atau izin.", 10, "", 4.6,
    )  # fmt: skip
    pdf.set_font(fonts.sans, "", 10)
    pdf.cell(45, 8, "Nomor SMS sekolah:", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_font(fonts.mono, "B", 15)
    pdf.cell(0, 8, display_number(number), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _commands(pdf, fonts, st.parent_code)
    pdf.ln(1.5)
    write(_consent(st.name), 8.5, "", 3.9)
    pdf.ln(1)
    write(dated, 9, "", 4.5, "R")


def display_number(number: str) -> str:
    """'+6281200000000' → '0812-0000-0000': the form a parent types on a phone keypad."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("+62") or digits.startswith("62"):
        digits = "0" + digits[2:]
    if len(digits) < 10:
        return number
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def _student_block(pdf: FPDF, fonts: _Fonts, st: LetterStudent) -> None:
    for label, value in (("Nama siswa", st.name), ("Kelas", st.class_name), ("NIS", st.nis)):
        pdf.set_font(fonts.sans, "", 10)
        pdf.cell(30, 5.5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(fonts.sans, "B", 11)
        pdf.cell(0, 5.5, _safe(fonts, f": {value}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _code_box(pdf: FPDF, fonts: _Fonts, code: str) -> None:
    pdf.ln(2)
    pdf.set_font(fonts.sans, "", 10)
    pdf.cell(45, 14, "Kode orang tua:", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_font(fonts.mono, "B", 24)
    pdf.set_line_width(0.6)
    pdf.cell(
        pdf.get_string_width(code) + 14, 14, code, border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_line_width(0.2)
    pdf.ln(2.5)


def _commands(pdf: FPDF, fonts: _Fonts, code: str) -> None:
    rows = (
        (f"REG {code}", "mendaftarkan nomor ini untuk anak di atas (sekali saja)"),
        ("SAKIT <keterangan>", "memberi tahu anak sakit hari ini, contoh: SAKIT demam"),
        ("IZIN <keterangan>", "memberi tahu anak izin hari ini, contoh: IZIN acara keluarga"),
        ("STOP", "berhenti: nomor ini tidak lagi menerima pemberitahuan"),
    )
    for command, meaning in rows:
        pdf.set_x(MARGIN + 4)
        pdf.set_font(fonts.mono, "B", 10.5)
        pdf.cell(50, 5.2, command, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(fonts.sans, "", 9.5)
        pdf.cell(0, 5.2, _safe(fonts, meaning), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(MARGIN + 4)
    pdf.set_font(fonts.sans, "", 8.5)
    note = "Bila nomor ini terdaftar untuk beberapa anak, tulis nama atau NIS anak: SAKIT <nama anak> <keterangan>."
    pdf.multi_cell(TEXT_W - 4, 4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _consent(name: str) -> str:
    return (
        "Perlindungan data pribadi (UU No. 27 Tahun 2022): dengan mengirim REG, Bapak/Ibu menyetujui sekolah "
        f"menyimpan nomor HP tersebut bersama data {name}, beserta waktu pendaftaran. Nomor hanya dipakai untuk "
        "pemberitahuan kehadiran siswa dan pesan sakit/izin dari Bapak/Ibu, tidak untuk keperluan lain dan tidak "
        "diberikan kepada pihak lain. Persetujuan dapat ditarik kapan saja dengan mengirim STOP. "
        "Biaya SMS sesuai tarif operator. Mohon simpan surat ini dan jaga kerahasiaan kodenya."
    )
