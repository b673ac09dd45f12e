"""Reading the pulsa out of an operator's USSD answer, and telling the operator from what the modem says.

The answers below are written the way each operator's balance answers are worded in user reports and
guides (wording changes; the school can put its own pattern in the rules). None is a copy of a real SIM's.
"""

from __future__ import annotations

import json

import pytest

from absensi.drivers.gsm.operators import GENERIC_PATTERN, OPERATORS, operator_for, parse_amount, read_balance

TYPICAL = [
    ("telkomsel", "Sisa Pulsa Anda Rp12.500. Aktif s.d 20-12-2026. Info paket: *363#", 12500),
    ("telkomsel", "Pulsa: Rp 7.250 s/d 15/01/2027\n1 Paket Internet\n2 Cek Kuota\n3 Tukar Poin", 7250),
    ("telkomsel", "Sisa pulsa Rp0. Isi ulang sekarang!", 0),
    ("indosat", "Pulsa Anda Rp 25.000, aktif s/d 31/12/2026. Cek paket di *123#", 25000),
    ("indosat", "Pulsa utama Rp1.250.000 berlaku s.d 01-03-2027", 1250000),
    ("xl", "Sisa pulsa Anda: Rp 3.100. Masa aktif s/d 05-01-2027", 3100),
    ("xl", "Saldo Rp 45.600, aktif s.d. 10-02-2027. Beli paket *808#", 45600),
    ("tri", "Pulsa: Rp 2.500\nMasa Aktif: 31/12/2026", 2500),
    ("tri", "Pulsa Anda Rp12.000,00. Masa aktif 30/06/2027", 12000),
    ("smartfren", "Saldo pulsa utama Anda Rp 15.000 berlaku hingga 30-11-2027", 15000),
    ("smartfren", "Pulsa: 8.000, aktif s.d 02/02/2027", 8000),
]


@pytest.mark.parametrize(("key", "answer", "amount"), TYPICAL)
def test_each_operators_typical_answer(key: str, answer: str, amount: int) -> None:
    assert read_balance(answer, str(OPERATORS[key]["balance_pattern"])) == amount


@pytest.mark.parametrize(("key", "answer", "amount"), TYPICAL)
def test_the_generic_pattern_reads_them_too(key: str, answer: str, amount: int) -> None:
    assert read_balance(answer) == amount


@pytest.mark.parametrize("answer", [
    "Maaf, layanan sedang sibuk. Silakan coba lagi.",
    "Pulsa aktif s.d. 31-12-2026",  # a date is not an amount
    "UNKNOWN APPLICATION",
    "",
])
def test_answers_without_a_balance_give_none(answer: str) -> None:
    assert read_balance(answer) is None
    for entry in OPERATORS.values():
        assert read_balance(answer, str(entry["balance_pattern"])) is None


def test_a_schools_own_pattern_with_or_without_a_named_group() -> None:
    answer = "Info: kredit tersisa 9.900 rupiah"
    assert read_balance(answer, r"kredit tersisa (?P<amount>[\d.]+)") == 9900
    assert read_balance(answer, r"tersisa ([\d.]+) rupiah") == 9900
    assert read_balance(answer, r"\d[\d.]*(?= rupiah)") == 9900
    assert read_balance(answer, r"KREDIT TERSISA ([\d.]+)") == 9900  # case is ignored


@pytest.mark.parametrize(("written", "rupiah"), [
    ("12.500", 12500), ("12.500,00", 12500), ("1.250.000", 1250000), ("1.250.000,50", 1250000),
    ("12,500", 12500), ("1,250.50", 1250), ("5000", 5000), ("5000,00", 5000), ("Rp 7.500", 7500),
    ("0", 0), ("Rp", None), ("", None),
])
def test_indonesian_and_english_separators(written: str, rupiah: int | None) -> None:
    assert parse_amount(written) == rupiah


@pytest.mark.parametrize(("cops", "mcc_mnc", "key"), [
    ("TELKOMSEL", None, "telkomsel"), ("T-SEL", None, "telkomsel"), (None, "51010", "telkomsel"),
    ("INDOSAT OOREDOO", None, "indosat"), ("IM3", None, "indosat"), (None, "51001", "indosat"),
    (None, "51021", "indosat"), ("IND XL", None, "xl"), ("XL Axiata", None, "xl"), (None, "51011", "xl"),
    ("3 ID", None, "tri"), ("3", None, "tri"), (None, "51089", "tri"), ("SMARTFREN", None, "smartfren"),
    (None, "51028", "smartfren"), (None, "51009", "smartfren"), (None, "510-28", "smartfren"),
    ("TELKOMSEL", "51089", "tri"),  # the numeric code wins over a name
])
def test_operator_from_name_or_mcc_mnc(cops: str | None, mcc_mnc: str | None, key: str) -> None:
    found = operator_for(cops, mcc_mnc)
    assert found is not None and found.key == key
    assert found.balance_code == OPERATORS[key]["balance_code"]


def test_unknown_operator() -> None:
    assert operator_for("VODAFONE DE", "26202") is None
    assert operator_for(None, None) is None


def test_the_table_is_plain_data_ready_for_the_rules_yaml() -> None:
    """The lead lifts OPERATORS into the rules: it must be JSON/YAML-shaped and complete."""
    assert json.loads(json.dumps(OPERATORS)) == OPERATORS
    for entry in OPERATORS.values():
        assert set(entry) == {"name", "mcc_mnc", "cops", "balance_code", "balance_pattern"}
        assert str(entry["balance_code"]).startswith("*") and str(entry["balance_code"]).endswith("#")
    assert GENERIC_PATTERN in {entry["balance_pattern"] for entry in OPERATORS.values()}
