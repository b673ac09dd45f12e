"""SMS usage and cost of a month (SPEC §9): `/sms [YYYY-MM]` as text and `.xlsx`, `absensi report sms`.

The figures are `store.usage` (outbox rows plus what the purge kept); this module only lays them out: per day
and kind, per kind, and the total, with the cost at the rules' price per part (`settings.guards.sms_part_price`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..reports.fmt import month_label
from ..reports.table import Column, Row, Table
from ..reports.xlsx import render_xlsx
from ..school.calendar import month_bounds
from ..store.usage import Cell, Usage, total
from . import words

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
NUMBERS = (Column("SMS", "int"), Column("Terkirim", "int"), Column("Bagian", "int"), Column("Gagal", "int"),
           Column("Menunggu", "int"), Column("Biaya (Rp)", "int"))


def parse_month(text: str, today: date) -> tuple[int, int] | None:
    """`2026-11` → (2026, 11); empty → this month; anything else → None."""
    if not text.strip():
        return today.year, today.month
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return None
    return int(found.group(1)), int(found.group(2))


@dataclass(frozen=True)
class Month:
    """One month's SMS figures, ready to show."""

    year: int
    month: int
    cells: Usage
    price: int  # rupiah per part

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)

    @property
    def bounds(self) -> tuple[date, date]:
        return month_bounds(self.year, self.month)

    def kinds(self) -> list[str]:
        present = {kind for _, kind in self.cells}
        return [k for k in words.SMS_KINDS if k in present] + sorted(present - set(words.SMS_KINDS))

    def by_kind(self) -> dict[str, Cell]:
        return {kind: total(c for (_, k), c in self.cells.items() if k == kind) for kind in self.kinds()}

    def by_day(self) -> dict[date, Cell]:
        days = sorted({day for day, _ in self.cells})
        return {day: total(c for (d, _), c in self.cells.items() if d == day) for day in days}

    @property
    def total(self) -> Cell:
        return total(self.cells.values())

    def cost(self, cell: Cell) -> int:
        return cell.parts * self.price


def _numbers(month: Month, cell: Cell) -> tuple[int, ...]:
    return cell.messages, cell.sent, cell.parts, cell.failed, cell.waiting, month.cost(cell)


def tables(month: Month, school_name: str) -> list[Table]:
    """Two sheets: per day and kind (a subtotal per day), and per kind (with the month's total)."""
    footer = (f"Biaya = bagian terkirim × {words.money(month.price)} per bagian (settings.yaml: "
              "guards.sms_part_price). SMS panjang dihitung per bagian: 153 karakter, atau 67 bila ada emoji/UCS-2.",
              "Terkirim: diserahkan ke jaringan operator. Gagal: tidak terkirim setelah semua percobaan, atau laporan "
              "terkirim dari operator menyatakan gagal. Menunggu: masih di antrean.")
    subtitle = (f"Bulan {month.label}", f"Harga per bagian: {words.money(month.price)}")
    rows: list[Row] = []
    for day, day_total in month.by_day().items():
        for kind in month.kinds():
            cell = month.cells.get((day, kind))
            if cell is not None:
                rows.append(Row((day, words.kind_label(kind), *_numbers(month, cell))))
        rows.append(Row((day, "Jumlah hari ini", *_numbers(month, day_total)), kind="subtotal"))
    rows.append(Row((None, "Jumlah bulan ini", *_numbers(month, month.total)), kind="total"))
    per_day = Table("sms", "Pemakaian SMS per Hari", school_name, subtitle,
                    (Column("Tanggal", "date"), Column("Jenis", "text", width=34), *NUMBERS), tuple(rows), footer,
                    sheet_name="Per Hari")
    kind_rows = [Row((words.kind_label(k), *_numbers(month, c))) for k, c in month.by_kind().items()]
    kind_rows.append(Row(("Jumlah", *_numbers(month, month.total)), kind="total"))
    per_kind = Table("sms", "Pemakaian SMS per Jenis", school_name, subtitle,
                     (Column("Jenis", "text", width=34), *NUMBERS), tuple(kind_rows), footer, sheet_name="Per Jenis")
    return [per_kind, per_day]


def xlsx(month: Month, school_name: str) -> bytes:
    return render_xlsx(tables(month, school_name))


def text_values(month: Month) -> dict[str, object]:
    """The fields of the `tg_sms_usage` template."""
    kinds = [f"- {words.kind_label(k)}: {c.sent} SMS, {c.parts} bagian" + (f", gagal {c.failed}" if c.failed else "")
             + (f", menunggu {c.waiting}" if c.waiting else "") for k, c in month.by_kind().items()]
    days = [f"{d:%d/%m}: {c.sent} SMS, {c.parts} bagian, {words.money(month.cost(c))}"
            + (f", gagal {c.failed}" if c.failed else "") for d, c in month.by_day().items()]
    whole = month.total
    return {"month": month.label, "kinds": "\n".join(kinds) or "- belum ada SMS", "count": whole.sent,
            "parts": whole.parts, "failed": whole.failed, "cost": words.money(month.cost(whole)),
            "price": words.money(month.price), "days": "\n".join(days[-31:]) or "-"}


def file_name(month: Month) -> str:
    return f"sms-{month.year}-{month.month:02d}.xlsx"
