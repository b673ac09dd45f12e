"""Indonesian operators: how to recognise the SIM's network, which USSD code asks the balance, how to read it.

`OPERATORS` is plain data shaped like the rules YAML it is meant to move into (one mapping per operator:
`name`, `mcc_mnc`, `cops` names, `balance_code`, `balance_pattern`), so lifting it is a copy. Codes and
wording change: the patterns are deliberately loose (the amount after "pulsa"/"saldo"/"balance", with or
without "Rp"), and `read_balance` is what a school's own pattern in the rules would go through too.

Sources for the codes (checked 2026-11): Telkomsel `*888#` (operator pages and many guides; it may answer
with a menu that shows the balance first); Indosat Ooredoo `*555#` and XL/Axis `*123#` are the codes most
guides give but were not confirmed on an operator page; Tri `*111#` is named for the card's information
(active period, balance) in guides; Smartfren's guides give `*999` / `*999#` and say the balance may come
back by SMS instead of USSD. Since 2022 Tri is part of Indosat (IOH) and since 2025 Smartfren of XL (XLSmart):
their codes may converge. MCC-MNC: 510-10 Telkomsel, 510-01 and 510-21 Indosat, 510-11 XL (510-08 Axis),
510-89 Tri, 510-28 and 510-09 Smartfren.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The amount: digits with '.'/',' separators ("12.500", "1.250.000,00", "12500"), in group `amount`.
# Generic: the first amount after "pulsa"/"saldo"/"balance" that follows "Rp", "IDR" or a colon, within a
# short reach and on the same line ("Sisa pulsa Anda Rp 12.500", "Pulsa: Rp2.500", "Saldo: 5000") — not a
# date ("Pulsa aktif s.d. 31-12-2026").
GENERIC_PATTERN = (r"(?:pulsa|saldo|balance)[^0-9\n]{0,40}?(?:Rp\.?|IDR|:)\s*"
                   r"(?P<amount>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)")

OPERATORS: dict[str, dict[str, object]] = {
    "telkomsel": {
        "name": "Telkomsel", "mcc_mnc": ["51010"],
        "cops": ["TELKOMSEL", "TSEL", "T-SEL", "SIMPATI", "KARTU AS"],
        "balance_code": "*888#",
        "balance_pattern": r"pulsa[^0-9\n]{0,30}?Rp\.?\s*(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)",
    },
    "indosat": {  # code from guides, not confirmed on an operator page
        "name": "Indosat Ooredoo", "mcc_mnc": ["51001", "51021"],
        "cops": ["INDOSAT", "IM3", "MENTARI", "OOREDOO", "ISAT"],
        "balance_code": "*555#",
        "balance_pattern": r"pulsa[^0-9\n]{0,30}?Rp\.?\s*(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)",
    },
    "xl": {  # code from guides, not confirmed on an operator page
        "name": "XL Axiata", "mcc_mnc": ["51011", "51008"],
        "cops": ["XL", "AXIS", "PROXL", "XLSMART"],
        "balance_code": "*123#",
        "balance_pattern": r"(?:pulsa|saldo)[^0-9\n]{0,30}?Rp\.?\s*(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)",
    },
    "tri": {  # *111# is given in guides for the card's information; the answer's wording is a guess
        "name": "Tri", "mcc_mnc": ["51089"],
        "cops": ["3", "TRI", "THREE", "3 ID", "H3I"],
        "balance_code": "*111#",
        "balance_pattern": GENERIC_PATTERN,
    },
    "smartfren": {  # uncertain: guides give *999 and say the balance may come back by SMS instead
        "name": "Smartfren", "mcc_mnc": ["51028", "51009"],
        "cops": ["SMARTFREN", "SMART", "FREN"],
        "balance_code": "*999#",
        "balance_pattern": GENERIC_PATTERN,
    },
}


@dataclass(frozen=True, slots=True)
class Operator:
    key: str
    name: str
    balance_code: str
    balance_pattern: str


def _operator(key: str) -> Operator:
    entry = OPERATORS[key]
    return Operator(key, str(entry["name"]), str(entry["balance_code"]), str(entry["balance_pattern"]))


def _names(key: str, field: str) -> list[str]:
    values = OPERATORS[key][field]
    return [str(v) for v in values] if isinstance(values, list) else []


def operator_for(cops_name: str | None = None, mcc_mnc: str | None = None) -> Operator | None:
    """The operator of a modem from its MCC-MNC (`AT+COPS` numeric, or the IMSI's first five digits) or,
    failing that, from the name `AT+COPS?` shows ("TELKOMSEL", "IND XL", "3 ID", "INDOSAT OOREDOO")."""
    if mcc_mnc:
        code = re.sub(r"\D", "", mcc_mnc)[:5]
        for key in OPERATORS:
            if code in _names(key, "mcc_mnc"):
                return _operator(key)
    if cops_name:
        words = re.findall(r"[A-Z0-9-]+", cops_name.upper())
        for key in OPERATORS:
            if any(name in words or (len(name) > 3 and name in cops_name.upper()) for name in _names(key, "cops")):
                return _operator(key)
    return None


def read_balance(text: str, pattern: str | None = None) -> int | None:
    """The balance in whole rupiah that `pattern` finds in an operator's answer, or None.

    The pattern's group `amount` (else its first group, else the whole match) holds the number, written
    the Indonesian way ("12.500", "12.500,00", "Rp1.250.000") or the English way ("12,500.00"); decimals
    are dropped. Case is ignored. `pattern` None uses a generic one.
    """
    match = re.search(pattern or GENERIC_PATTERN, text, re.IGNORECASE | re.DOTALL)
    if match is None:
        return None
    if "amount" in match.groupdict():
        found = match.group("amount")
    else:
        found = match.group(1) if match.groups() else match.group(0)
    return parse_amount(found) if found else None


def parse_amount(found: str) -> int | None:
    """'12.500' → 12500, '12.500,00' → 12500, '1,250.50' → 1250, '5000' → 5000, 'Rp 7.500' → 7500."""
    digits = re.sub(r"[^\d.,]", "", found).strip(".,")
    if not digits or not digits[0].isdigit():
        return None
    whole = digits
    last = max(digits.rfind("."), digits.rfind(","))
    if last >= 0 and len(digits) - last - 1 != 3:  # a separator followed by 1, 2 or 4+ digits: decimals
        whole = digits[:last]
    number = re.sub(r"\D", "", whole)
    return int(number) if number else None
