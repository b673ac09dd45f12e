"""USSD strings as modems really hand them over, decoded by their CBS data coding scheme (TS 23.038 §5)."""

from __future__ import annotations

import pytest

from absensi.drivers.gsm import gsm7
from absensi.drivers.gsm.ussd import (
    Cusd,
    Decoded,
    decode_ussd,
    pack_text,
    parse_cusd,
    read_dcs,
    unpack_septets,
)

BALANCE = "Sisa pulsa Anda Rp 12.500. Berlaku s.d. 31-12-2026"


def ucs2_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


# Published vectors: ArchWiki, "Huawei E1550 3G modem" (wiki.archlinux.org, revision of 7 June 2010), section
# "AT commands": the balance code *100# sent packed as AA180C3602 (`AT+CUSD=1,AA180C3602,15`), and a UCS-2
# balance answer "003100350031002C003200350020044004430431002E0020" that reads "151,25 руб. ".
def test_published_packed_request_vector() -> None:
    assert pack_text("*100#") == "AA180C3602"
    assert unpack_septets(bytes.fromhex("AA180C3602")) == "*100#"


def test_published_ucs2_answer_vector() -> None:
    assert decode_ussd("003100350031002C003200350020044004430431002E0020", 72) == Decoded("151,25 руб. ", "ucs2")


def test_seven_characters_get_a_cr_in_the_spare_bits_not_an_at_sign() -> None:
    """TS 23.038 §6.1.2.3.1: 8n-1 characters leave 7 spare bits, filled with CR so they do not read as '@'."""
    packed = pack_text("*123*1#")
    septets = gsm7.unpack(bytes.fromhex(packed), 8)
    assert septets[-1] == 0x0D
    assert unpack_septets(bytes.fromhex(packed)) == "*123*1#"


@pytest.mark.parametrize("length", range(1, 41))
def test_packed_round_trip_at_every_length(length: int) -> None:
    text = ("Sisa pulsa Rp 1.234 " * 3)[:length]
    assert decode_ussd(pack_text(text), 15).text == text


def test_zero_padding_of_a_sloppy_sender_is_not_an_at_sign() -> None:
    septets = gsm7.to_septets("Pulsa 7")  # 7 septets: 7 spare bits, here left as zeros
    assert unpack_septets(gsm7.pack(septets)) == "Pulsa 7"


def test_extension_characters_survive_packing() -> None:
    text = "Bonus [5 GB] seharga €1 {promo}"
    assert decode_ussd(pack_text(text), 15).text == text


@pytest.mark.parametrize(("payload", "dcs", "charset", "how"), [
    (pack_text(BALANCE), 15, "", "gsm7-packed"),  # Huawei: packed hex whatever AT+CSCS says
    (pack_text(BALANCE), 15, "GSM", "gsm7-packed"),
    (pack_text(BALANCE), 15, "IRA", "gsm7-packed"),
    (pack_text(BALANCE), 0x0F, "UCS2", "gsm7-packed"),  # a Huawei in UCS2 mode still packs
    (ucs2_hex(BALANCE), 72, "", "ucs2"),  # 0x48: general coding, UCS-2
    (ucs2_hex(BALANCE), 15, "UCS2", "ucs2"),  # the modem converted a 7-bit answer into the TE charset
    (ucs2_hex(BALANCE), 15, "", "ucs2"),  # …and we did not know the charset
    (BALANCE, 15, "GSM", "text"),  # plain text, as the standard wants with a text charset
    (BALANCE, 72, "IRA", "text"),  # some modems decode UCS-2 themselves and say 72 anyway
    (bytes(gsm7.to_septets(BALANCE)).hex().upper(), 15, "HEX", "gsm7-hex"),  # one hex pair per septet
    (bytes(gsm7.to_septets(BALANCE)).hex().upper(), 15, "", "gsm7-hex"),
    (BALANCE.encode("latin-1").hex(), 0x44, "", "8bit"),  # 0x44: general coding, 8-bit
    (BALANCE.encode("latin-1").hex(), 0xF4, "", "8bit"),
])
def test_each_way_modems_hand_over_the_balance_answer(payload: str, dcs: int, charset: str, how: str) -> None:
    decoded = decode_ussd(payload, dcs, charset)
    assert (decoded.text, decoded.how) == (BALANCE, how)


def test_dcs_0x11_ucs2_with_a_packed_language_first() -> None:
    language = gsm7.pack(gsm7.to_septets("id"))  # two characters, 14 bits padded to two octets
    assert len(language) == 2
    decoded = decode_ussd((language + BALANCE.encode("utf-16-be")).hex(), 0x11)
    assert (decoded.text, decoded.how) == (BALANCE, "ucs2")


def test_dcs_0x10_gsm7_with_a_language_line_first() -> None:
    assert decode_ussd(pack_text("id\r" + BALANCE), 0x10).text == BALANCE
    assert decode_ussd("id\r" + BALANCE, 0x10, "GSM").text == BALANCE


def test_non_latin_ucs2_is_kept_when_the_dcs_says_ucs2() -> None:
    assert decode_ussd(ucs2_hex("Сумма 151 руб."), 72).text == "Сумма 151 руб."
    assert decode_ussd(ucs2_hex("余额 12 元"), 15, "UCS2").text == "余额 12 元"


def test_emoji_in_ucs2_with_surrogates() -> None:
    assert decode_ussd(ucs2_hex("Pulsa Rp 5.000 🎉"), 72).text == "Pulsa Rp 5.000 🎉"


@pytest.mark.parametrize("text", ["1234", "0812", "5000", "12500000", "Rp5000"])
def test_short_plain_answers_that_look_like_hex_stay_text(text: str) -> None:
    assert decode_ussd(text, 15, "GSM").text == text


def test_utf8_charset_text_is_read_as_utf8() -> None:
    as_link_reads_it = "Saldo Rp 5.000 – terima kasih".encode().decode("latin-1")
    assert decode_ussd(as_link_reads_it, 15, "UTF-8").text == "Saldo Rp 5.000 – terima kasih"


@pytest.mark.parametrize(("line", "expected"), [
    ('+CUSD: 0,"Sisa pulsa Rp 5.000",15', Cusd(0, "Sisa pulsa Rp 5.000", 15)),
    ('+CUSD: 1,"Menu:\n1 Cek pulsa\n2 Paket",15', Cusd(1, "Menu:\n1 Cek pulsa\n2 Paket", 15)),
    ('+CUSD: 0,"Info: "promo", hemat 50%",72', Cusd(0, 'Info: "promo", hemat 50%', 72)),
    ('+CUSD: 2,"Terima kasih"', Cusd(2, "Terima kasih", None)),
    ("+CUSD: 4", Cusd(4, None, None)),
    ("+CUSD:2", Cusd(2, None, None)),
    ('+CUSD: 0,"",15', Cusd(0, "", 15)),
    ("+CUSD: 0,Sisa pulsa Rp 5.000,15", Cusd(0, "Sisa pulsa Rp 5.000", 15)),
])
def test_cusd_lines_are_taken_apart(line: str, expected: Cusd) -> None:
    assert parse_cusd(line) == expected


@pytest.mark.parametrize("line", ["+CUSD", "+CMTI: \"SM\",3", "OK", "+CUSD: x"])
def test_other_lines_are_not_cusd(line: str) -> None:
    assert parse_cusd(line) is None


@pytest.mark.parametrize(("dcs", "alphabet", "language"), [
    (None, "gsm7", False), (0x0F, "gsm7", False), (0x00, "gsm7", False), (0x01, "gsm7", False),
    (0x10, "gsm7", True), (0x11, "ucs2", True), (0x1F, "gsm7", False), (0x20, "gsm7", False),
    (0x40, "gsm7", False), (0x44, "8bit", False), (0x48, "ucs2", False), (72, "ucs2", False),
    (0x59, "ucs2", False), (0x98, "ucs2", False), (0xF0, "gsm7", False), (0xF4, "8bit", False),
    (0xA0, "gsm7", False),
])
def test_cbs_data_coding_schemes(dcs: int | None, alphabet: str, language: bool) -> None:
    info = read_dcs(dcs)
    assert (info.alphabet, info.language_prefix) == (alphabet, language)
