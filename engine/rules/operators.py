"""The operators' balance codes and how to read their answers: the defaults of `rules/operators.yaml`.

A school edits `operators.yaml` (operators change codes and wording); this module holds the shipped values
(for a school whose own `rules/` folder predates the file) and the lookups the application layer needs to
pick a modem's operator from what the modem reports. Nothing here reads a balance: the modem driver does,
with the pattern it is given. The codes and patterns were gathered for the GSM driver (drivers/gsm/operators.py
names the sources) and are repeated here as the rules' data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

# The amount is the pattern's group `amount` (else its first group, else the whole match), written the Indonesian
# way ("12.500", "12.500,00"). Generic: the first amount after "pulsa"/"saldo"/"balance" that follows "Rp", "IDR"
# or a colon, on the same line — not a date ("Pulsa aktif s.d. 31-12-2026").
GENERIC_PATTERN = (r"(?:pulsa|saldo|balance)[^0-9\n]{0,40}?(?:Rp\.?|IDR|:)\s*"
                   r"(?P<amount>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)")
_RP_PATTERN = r"pulsa[^0-9\n]{0,30}?Rp\.?\s*(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)"

DEFAULT_OPERATORS: dict[str, dict[str, object]] = {
    "telkomsel": {"name": "Telkomsel", "mcc_mnc": ["51010"],
                  "names": ["TELKOMSEL", "TSEL", "T-SEL", "SIMPATI", "KARTU AS"],
                  "balance_code": "*888#", "balance_pattern": _RP_PATTERN},
    "indosat": {"name": "Indosat Ooredoo", "mcc_mnc": ["51001", "51021"],
                "names": ["INDOSAT", "IM3", "MENTARI", "OOREDOO", "ISAT"],
                "balance_code": "*555#", "balance_pattern": _RP_PATTERN},
    "xl": {"name": "XL Axiata", "mcc_mnc": ["51011", "51008"], "names": ["XL", "AXIS", "PROXL", "XLSMART"],
           "balance_code": "*123#",
           "balance_pattern": r"(?:pulsa|saldo)[^0-9\n]{0,30}?Rp\.?\s*(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)"},
    "tri": {"name": "Tri", "mcc_mnc": ["51089"], "names": ["3", "TRI", "THREE", "3 ID", "H3I"],
            "balance_code": "*111#", "balance_pattern": GENERIC_PATTERN},
    "smartfren": {"name": "Smartfren", "mcc_mnc": ["51028", "51009"], "names": ["SMARTFREN", "SMART", "FREN"],
                  "balance_code": "*999#", "balance_pattern": GENERIC_PATTERN},
}

_CODE = re.compile(r"^[*#]?[0-9*#]{1,30}#$")


class OperatorLike(Protocol):
    """What a lookup needs of one operator (the rules' `Operator`)."""

    @property
    def name(self) -> str: ...

    @property
    def mcc_mnc(self) -> Sequence[str]: ...

    @property
    def names(self) -> Sequence[str]: ...


def check_code(code: str) -> str:
    """A USSD code as the rules may hold it: digits, `*` and `#`, ending in `#` (`*888#`, `*123*1#`)."""
    if not _CODE.match(code):
        raise ValueError(f"'{code}' is not a USSD code like *888# (digits, * and #, ending in #)")
    return code


def check_pattern(pattern: str) -> str:
    """A pattern that compiles and can hold an amount (a group named `amount`, else its first group)."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"the pattern does not compile: {exc}") from None
    if compiled.groups and "amount" not in compiled.groupindex and compiled.groups > 1:
        raise ValueError("with several groups, name the one holding the amount: (?P<amount>…)")
    return pattern


def operator_key(operators: Mapping[str, OperatorLike], cops_name: str | None = None,
                 mcc_mnc: str | None = None) -> str | None:
    """The operator of a modem: by its MCC-MNC (`AT+COPS` numeric, or the IMSI's first five digits), else by
    the name `AT+COPS?` shows ("TELKOMSEL", "IND XL", "3 ID")."""
    if mcc_mnc:
        code = re.sub(r"\D", "", mcc_mnc)[:5]
        for key, operator in operators.items():
            if code in operator.mcc_mnc:
                return key
    if cops_name:
        shown = cops_name.upper()
        words = re.findall(r"[A-Z0-9-]+", shown)
        for key, operator in operators.items():
            if any(name.upper() in words or (len(name) > 3 and name.upper() in shown) for name in operator.names):
                return key
    return None
