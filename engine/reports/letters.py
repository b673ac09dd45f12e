"""Printable parent letters: how to register a phone number and report sickness or permission by SMS.

Two letters per A4 page with a cut line between them (a school prints hundreds). Each letter names
the student and class, shows the parent code large in a monospace font (so 0/O and 1/I are told
apart), the gateway number, the SMS keycodes, and what the school does with the number: sending
`REG` is the recorded consent of UU PDP No. 27/2022, the number is used only for absence notices,
and `STOP` withdraws it.

DejaVu fonts are used when installed, so any name prints; otherwise fpdf2's core fonts, with text
reduced to latin-1 (accents folded, other characters replaced) rather than failing.

Speed: fpdf2's `cell` and `multi_cell` are general (alignment, borders, markup, page breaks, line
breaking that measures a line again for every character it adds) and cost most of the time when a school
prints hundreds of letters. A letter is drawn instead with `FPDF.text` at the positions `cell` would give
each line (the same baseline arithmetic), `_Pen` keeping the vertical position. `_Paragraphs` breaks a
paragraph into lines once per font, size, width and text, exactly where `multi_cell` would (the same greedy
rule, the same arithmetic), and measures a centred or right-aligned line once; a text it cannot break the
same way (a word wider than the line, special spaces or hyphens, line breaks) goes to `multi_cell` as
before. fpdf is imported when letters are made, never with this module, and without numpy (`_import_fpdf`).
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .fmt import long_date

if TYPE_CHECKING:
    from fpdf import FPDF

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


# Characters after which (or instead of which) fpdf2 breaks or measures a line its own way: text holding
# one of them is left to `multi_cell`.
_SPECIAL = frozenset("\n\r\f\u00ad\u00a0\u200b\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                     "\u200a\u2028\u2029\u205f\u3000\t")
_TOLERANCE = 1e-9  # fpdf2's FloatTolerance


@dataclass
class _Paragraphs:
    """Paragraphs broken into lines as `multi_cell` breaks them, each once; widths of lines, each once."""

    pdf: FPDF
    _lines: dict[tuple[object, ...], list[str] | None] = field(default_factory=dict)
    _units: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # font → char → width
    _widths: dict[tuple[object, ...], float] = field(default_factory=dict)

    def lines(self, w: float, text: str) -> list[str] | None:
        """The lines of `text` in a `multi_cell` of width `w` in the current font (None: left to multi_cell)."""
        pdf = self.pdf
        key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, w, text)
        if key not in self._lines:
            self._lines[key] = self._break(w, text)
        return self._lines[key]

    def width(self, text: str) -> float:
        """The text's width in the current font, as `cell` measures it to align it."""
        pdf = self.pdf
        key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, text)
        if key not in self._widths:
            self._widths[key] = pdf.get_string_width(text)
        return self._widths[key]

    def _break(self, w: float, text: str) -> list[str] | None:
        """The lines `multi_cell(w, …)` makes of `text` in the current font: each char is added while the line
        so far plus the char fits in w less the cell margins; the first that does not fit breaks the line at
        the last space (dropped). None when the text needs one of multi_cell's other rules."""
        pdf = self.pdf
        if not text or _SPECIAL.intersection(text) or "  " in text or text != text.strip(" "):
            return None
        limit = w - float(pdf.c_margin) - float(pdf.c_margin)
        scale, k = pdf.font_size_pt, pdf.k

        def fits(units: int, last: int) -> bool:  # fpdf2: line width + char width > max width (tolerance)
            return not (units - last) * scale * 0.001 / k + last * scale * 0.001 / k - limit > _TOLERANCE

        known = self._units.setdefault((pdf.font_family, pdf.font_style), {})
        lines: list[str] = []
        line, line_units = "", 0
        space = self._measure(known, " ")
        for word in text.split(" "):
            units = [known[ch] if ch in known else self._measure(known, ch) for ch in word]
            if line:
                candidate = line_units + space + sum(units)
                if fits(candidate, units[-1]):
                    line, line_units = f"{line} {word}", candidate
                    continue
                lines.append(line)
            running = 0
            for u in units:  # a word alone on its line: every char must fit, or multi_cell breaks inside it
                if not fits(running + u, u):
                    return None
                running += u
            line, line_units = word, running
        lines.append(line)
        return lines

    def _measure(self, known: dict[str, int], ch: str) -> int:
        """The char's width in the current font's units (1/1000 of the size), as fpdf2 sums them."""
        pdf = self.pdf
        known[ch] = round(pdf.get_string_width(ch) * pdf.k / (pdf.font_size_pt * 0.001))
        return known[ch]


@dataclass
class _Pen:
    """Draws text lines where `cell(w, h, text, align=…)` at (x, y) would, with one `FPDF.text` each; `y` is
    the top of the next line (what `cell` leaves in `pdf.y` with `new_y=YPos.NEXT`)."""

    pdf: FPDF
    paragraphs: _Paragraphs
    y: float = 0.0

    def cell(self, x: float, w: float, h: float, text: str, align: str = "L", *, advance: bool = True) -> None:
        pdf = self.pdf
        if text:
            margin = float(pdf.c_margin)
            if align == "L":
                dx = margin
            else:
                width = self.paragraphs.width(text)
                dx = w - margin - width if align == "R" else (w - width) / 2
            pdf.text(x + dx, self.y + 0.5 * h + 0.3 * pdf.font_size, text)
        if advance:
            self.y += h

    def paragraph(self, x: float, w: float, h: float, text: str, align: str = "L") -> None:
        """`multi_cell(w, h, text, align=align)` at (x, y), its lines drawn by `cell` above."""
        lines = self.paragraphs.lines(w, text)
        if align == "J" and lines is not None:  # justified: the last line is left-aligned, the others spaced out
            lines, align = (lines, "L") if len(lines) == 1 else (None, align)
        if lines is None:
            from fpdf.enums import XPos, YPos

            self.pdf.set_xy(x, self.y)
            self.pdf.multi_cell(w, h, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.y = self.pdf.y
            return
        for line in lines:
            self.cell(x, w, h, line, align)


def render_letters(
    school_name: str,
    sms_number: str,
    students: Iterable[LetterStudent | tuple[str, str, str, str]],
    *,
    place: str = "",
    on: date | None = None,
    per_page: int = 2,
    font_dirs: Sequence[Path] = FONT_DIRS,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The letters as PDF bytes; `students` are (name, class, nis, parent_code) in print order.
    `progress(n)` is called after each letter with the number made so far."""
    _import_fpdf()
    from fpdf import FPDF

    if per_page not in (1, 2):
        raise ValueError("per_page must be 1 or 2")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Surat Orang Tua - {school_name}")
    fonts = _load_fonts(pdf, font_dirs)
    pen = _Pen(pdf, _Paragraphs(pdf))
    dated, number = _safe(fonts, _dated(place, on)), display_number(sms_number)
    pdf.set_left_margin(MARGIN)
    for i, raw in enumerate(students):
        student = raw if isinstance(raw, LetterStudent) else LetterStudent(*raw)
        slot = i % per_page
        if slot == 0:
            pdf.add_page()
        top = slot * SLOT_H
        if per_page == 2 and slot == 1:
            _cut_line(pdf)
        _letter(pen, fonts, top, school_name, number, student, dated)
        if progress is not None:
            progress(i + 1)
    return bytes(pdf.output())


def _import_fpdf() -> None:
    """fpdf imports numpy when it is installed (≈ 0.2 s of a command's start) only to read images faster, and
    letters have none: when neither is loaded yet, fpdf is imported as if numpy were absent. numpy stays
    importable afterwards; only fpdf's image reading keeps its pure-Python path in this process."""
    if "fpdf" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        import fpdf  # noqa: F401
    finally:
        del sys.modules["numpy"]


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


def _letter(pen: _Pen, fonts: _Fonts, top: float, school: str, number: str, st: LetterStudent, dated: str) -> None:
    pdf = pen.pdf

    def write(text: str, size: float = 10, style: str = "", h: float = 5, align: str = "L") -> None:
        pdf.set_font(fonts.sans, style, size)
        pen.paragraph(MARGIN, TEXT_W, h, _safe(fonts, text), align)

    pen.y = top + 10
    write(school.upper(), 14, "B", 7, "C")
    write("Layanan SMS Kehadiran Siswa untuk Orang Tua/Wali", 11, "B", 6, "C")
    pen.y += 3
    write("Yth. Bapak/Ibu Orang Tua/Wali dari:")
    _student_block(pen, fonts, st)
    _code_box(pen, fonts, st.parent_code)
    write(
        "Daftarkan nomor HP Bapak/Ibu dengan mengirim SMS ke nomor sekolah di bawah. Setelah terdaftar, "
        "Bapak/Ibu akan diberi tahu bila anak tidak hadir tanpa keterangan, dan dapat memberi tahu sekolah "
        "bila anak sakit atau izin.", 10, "", 4.6,
    )  # fmt: skip
    pdf.set_font(fonts.sans, "", 10)
    pen.cell(MARGIN, 45, 8, "Nomor SMS sekolah:", advance=False)
    pdf.set_font(fonts.mono, "B", 15)
    pen.cell(MARGIN + 45, 0, 8, number)
    _commands(pen, fonts, st.parent_code)
    pen.y += 1.5
    write(_consent(st.name), 8.5, "", 3.9)
    pen.y += 1
    pdf.set_font(fonts.sans, "", 9)
    pen.paragraph(MARGIN, TEXT_W, 4.5, dated, "R")


def display_number(number: str) -> str:
    """'+6281200000000' → '0812-0000-0000': the form a parent types on a phone keypad."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("+62") or digits.startswith("62"):
        digits = "0" + digits[2:]
    if len(digits) < 10:
        return number
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def _student_block(pen: _Pen, fonts: _Fonts, st: LetterStudent) -> None:
    pdf = pen.pdf
    for label, value in (("Nama siswa", st.name), ("Kelas", st.class_name), ("NIS", st.nis)):
        pdf.set_font(fonts.sans, "", 10)
        pen.cell(MARGIN, 30, 5.5, label, advance=False)
        pdf.set_font(fonts.sans, "B", 11)
        pen.cell(MARGIN + 30, 0, 5.5, _safe(fonts, f": {value}"))


def _code_box(pen: _Pen, fonts: _Fonts, code: str) -> None:
    """The parent code large in a box 7 mm wider than the code on each side."""
    pdf = pen.pdf
    pen.y += 2
    pdf.set_font(fonts.sans, "", 10)
    pen.cell(MARGIN, 45, 14, "Kode orang tua:", advance=False)
    pdf.set_font(fonts.mono, "B", 24)
    pdf.set_line_width(0.6)
    pdf.rect(MARGIN + 45, pen.y, pdf.get_string_width(code) + 14, 14)
    pdf.set_line_width(0.2)
    pen.cell(MARGIN + 45 + 7 - float(pdf.c_margin), 0, 14, code)
    pen.y += 2.5


COMMANDS = (
    ("SAKIT <keterangan>", "memberi tahu anak sakit hari ini, contoh: SAKIT demam"),
    ("IZIN <keterangan>", "memberi tahu anak izin hari ini, contoh: IZIN acara keluarga"),
    ("STOP", "berhenti: nomor ini tidak lagi menerima pemberitahuan"),
)
SEVERAL = "Bila nomor ini terdaftar untuk beberapa anak, tulis nama atau NIS anak: SAKIT <nama anak> <keterangan>."


def _commands(pen: _Pen, fonts: _Fonts, code: str) -> None:
    pdf = pen.pdf
    for command, meaning in ((f"REG {code}", "mendaftarkan nomor ini untuk anak di atas (sekali saja)"), *COMMANDS):
        pdf.set_font(fonts.mono, "B", 10.5)
        pen.cell(MARGIN + 4, 50, 5.2, command, advance=False)
        pdf.set_font(fonts.sans, "", 9.5)
        pen.cell(MARGIN + 54, 0, 5.2, _safe(fonts, meaning))
    pdf.set_font(fonts.sans, "", 8.5)
    pen.paragraph(MARGIN + 4, TEXT_W - 4, 4, SEVERAL, "J")


def _consent(name: str) -> str:
    return (
        "Perlindungan data pribadi (UU No. 27 Tahun 2022): dengan mengirim REG, Bapak/Ibu menyetujui sekolah "
        f"menyimpan nomor HP tersebut bersama data {name}, beserta waktu pendaftaran. Nomor hanya dipakai untuk "
        "pemberitahuan kehadiran siswa dan pesan sakit/izin dari Bapak/Ibu, tidak untuk keperluan lain dan tidak "
        "diberikan kepada pihak lain. Persetujuan dapat ditarik kapan saja dengan mengirim STOP. "
        "Biaya SMS sesuai tarif operator. Mohon simpan surat ini dan jaga kerahasiaan kodenya."
    )
