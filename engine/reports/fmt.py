"""Indonesian formatting shared by every renderer: dates, percentages, labels, masked phone numbers.

Kept apart from the renderers so that the Telegram text, the spreadsheet and the letters print a
date or a number the same way.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
WEEKDAY_LETTERS = ("S", "S", "R", "K", "J", "S", "M")

SOURCE_LABELS = {
    "ketua_kelas": "Ketua Kelas",
    "sekretaris": "Sekretaris",
    "ortu": "Orang Tua",
    "parent": "Orang Tua",
    "wali_kelas": "Wali Kelas",
    "guru_piket": "Guru Piket",
    "guru_bk": "Guru BK",
    "ketua_jurusan": "Ketua Jurusan",
    "admin": "Admin",
    "system": "Sistem",
}


def long_date(day: date) -> str:
    """'30 November 2026', as written on a signature line."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def weekday_date(day: date) -> str:
    """'Senin, 30 November 2026'."""
    return f"{WEEKDAYS[day.weekday()]}, {long_date(day)}"


def month_label(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


def short_date(day: date) -> str:
    """'30/11/2026': compact for table cells and chat lines."""
    return day.strftime("%d/%m/%Y")


def clock(moment: datetime | None) -> str:
    return moment.strftime("%H:%M") if moment else ""


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%d/%m %H:%M") if moment else ""


def pct(value: float | None, digits: int = 2) -> str:
    """'92,50 %' with the Indonesian decimal comma; 2 decimals, as the sheets hold the figure (counting.shares)."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}".replace(".", ",") + " %"


def source_label(source: str) -> str:
    if not source:
        return ""
    return SOURCE_LABELS.get(source, source.replace("_", " ").title())


_PHONE = re.compile(r"^\+?[\d\s().-]{8,}$")


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE.match(text.strip())) and sum(ch.isdigit() for ch in text) >= 8


def mask_phone(number: str) -> str:
    """'+6281234567890' → '0812****890': officers may see that a parent wrote, not the number (UU PDP).

    Anything that is not a phone number is returned unchanged, so the helper can be applied to a
    reporter field that holds either a name or a number.
    """
    if not looks_like_phone(number):
        return number
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    if len(digits) < 8:
        return number
    return f"{digits[:4]}****{digits[-3:]}"


@lru_cache(maxsize=4096)  # a day's reports have few reporters, and /hariini labels them all on every ask
def reporter_label(source: str, reporter: str) -> str:
    """'Ketua Kelas (Andi)', 'Orang Tua (0812****890)': who reported, masked where it is a number."""
    who = mask_phone(reporter) if reporter else ""
    role = source_label(source)
    if role and who:
        return f"{role} ({who})"
    return role or who


def yes_no(flag: bool) -> str:
    return "Ya" if flag else "Tidak"
