"""The codec against published vectors (gammu tests/at-sms-encode, python-gsmmodem test/test_pdu.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from absensi.drivers.gsm import gsm7, pdu

PLUS2 = timezone(timedelta(hours=2))


def test_gammu_default_coding_vector_01() -> None:
    """gammu at-sms-encode 01: '123456' to 1234 via SMSC 1234, maximum validity."""
    parts = pdu.encode_submit("1234", "123456", smsc="1234", validity=0xFF)
    assert [p.hex for p in parts] == ["038121431100048121430000FF0631D98C56B301"]
    assert parts[0].length == 16


@pytest.mark.parametrize(("number", "text", "smsc", "validity", "expected"), [
    ("+27820001111", "Hello World!", None, None, "0001000B917228001011F100000CC8329BFD065DDF72363904"),
    ("+123456789", "世界您好！", "+44000000000", 0xF4,
     "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01"),
])
def test_submit_vectors(number, text, smsc, validity, expected) -> None:
    assert pdu.encode_submit(number, text, smsc=smsc, validity=validity)[0].hex == expected


def test_concatenated_submit_vector() -> None:
    """A 3-part GSM 7-bit message with 8-bit reference 0 and reject-duplicates, byte for byte."""
    text = ("Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et "
            "dolore magna aliqua.Ut enim ad minim veniam, quinostrud exercitation ullamco laboris nisi ut aliquip "
            "ex ea commodo consequat.Duis aute irure dolor in reprehenderit in voluptate velit esse cillum doloe eu "
            "fugiat nulla pariatur.Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
            "deserunt mollit anim id est laborum")
    parts = pdu.encode_submit("+15125551234", text, reject_duplicates=True)
    assert len(parts) == 3
    assert parts[0].hex.startswith("0045000B915121551532F40000A0050003000301986F79B90D4AC3E7F53688FC66BFE5A0")
    assert parts[2].hex.startswith("0045000B915121551532F400008C050003000303EA2073FD9C0ED341EE3A9B1D06C1C3")
    assert parts[2].hex.endswith("A0B03BDD06A5C9A0F29C0E6287C56F79BD0D")


def test_deliver_vector_test2() -> None:
    sms = pdu.decode("06917228195339040B917228214365F700003130805120618005D4F29C2E03")
    assert isinstance(sms, pdu.Deliver)
    assert (sms.smsc, sms.sender, sms.text) == ("+2782913593", "+27821234567", "Test2")
    assert sms.timestamp == datetime(2013, 3, 8, 15, 2, 16, tzinfo=PLUS2)


def test_deliver_with_extension_characters() -> None:
    sms = pdu.decode("06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910")
    assert sms.text == "@{tést}!"


def test_deliver_long_gsm7_with_zone_plus8() -> None:
    sms = pdu.decode("07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB613288"
                     "5EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E")
    assert sms.sender == "+85291234567"
    assert sms.text == "It is easy to read text messages via AT commands."
    assert sms.timestamp == datetime(2007, 4, 12, 23, 25, 42, tzinfo=timezone(timedelta(hours=8)))


def test_deliver_national_sender_with_concatenation_header() -> None:
    sms = pdu.decode("0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E06494"
                     "1B19CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0"
                     "DB0D82C55EB0DB4B068BCD5C20")
    assert sms.sender == "2781188" and sms.sender_toa == 0x81
    assert sms.concat == pdu.Concat(0xC3, 1, 1)
    assert sms.text == "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. "


def test_ucs2_submit_and_8bit_submit_decode() -> None:
    assert pdu.decode("07914346466554F601000B914316565811F9000806304253F68449").text == "あ叶葉"
    sms = pdu.decode("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421")
    assert (sms.coding, sms.text) == (pdu.OCTET, "Hello world!")


def test_ucs2_with_overstated_length_still_decodes() -> None:
    sms = pdu.decode("0041010C910661345542F60008A0050003000301306F3044")
    assert sms.text == "はい" and sms.concat == pdu.Concat(0, 3, 1)


def test_status_report_vector() -> None:
    report = pdu.decode("0006D60B911326880736F4111011719551401110117195714000")
    assert isinstance(report, pdu.StatusReport)
    assert (report.reference, report.recipient, report.status) == (214, "+31628870634", 0)
    assert report.delivered and report.final


def test_status_report_from_a_broken_zte_keeps_reference_and_times() -> None:
    report = pdu.decode("0297F1061C0F910B487228297020F5317062419272803170624192138000")
    assert report.reference == 28
    assert report.timestamp == datetime(2013, 7, 26, 14, 29, 27, tzinfo=PLUS2)
    assert report.discharge == datetime(2013, 7, 26, 14, 29, 31, tzinfo=PLUS2)


@pytest.mark.parametrize(("status", "final", "delivered"), [(0x00, True, True), (0x21, False, False),
                                                            (0x41, True, False), (0x62, True, False)])
def test_status_report_outcomes(status, final, delivered) -> None:
    report = pdu.decode(pdu.encode_status_report(5, "+628123", datetime(2026, 1, 1, tzinfo=UTC), status))
    assert (report.final, report.delivered) == (final, delivered)


def test_alphanumeric_sender() -> None:
    stamp = datetime(2026, 11, 28, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    sms = pdu.decode(pdu.encode_deliver("TELKOMSEL", "Sisa pulsa Anda", stamp))
    assert (sms.sender, sms.sender_toa) == ("TELKOMSEL", pdu.TOA_ALPHANUMERIC)
    assert sms.timestamp == stamp
    assert pdu.encode_address("abc").hex().upper() == "06D061F118"
    assert pdu.encode_address("FRANCOIS").hex().upper() == "0ED04669D0397C26A7"


def test_sixteen_bit_concatenation_reference() -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    sms = pdu.decode(pdu.encode_deliver("+6281", "x", stamp, concat=pdu.Concat(384, 4, 2, wide=True)))
    assert sms.concat == pdu.Concat(384, 4, 2, wide=True)
    assert pdu._concat_header(pdu.Concat(384, 4, 2, wide=True)).hex().upper() == "06080401800402"


def test_negative_time_zone() -> None:
    raw = pdu.encode_time(datetime(2007, 4, 12, 23, 25, 42, tzinfo=timezone(timedelta(hours=-8))))
    assert raw.hex().upper() == "7040213252242B"


def test_septet_packing_vectors() -> None:
    assert gsm7.pack(gsm7.to_septets("Hello World!")) == bytes([200, 50, 155, 253, 6, 93, 223, 114, 54, 57, 4])
    assert gsm7.pack(gsm7.to_septets("a[]{}€")) == bytes([225, 13, 111, 227, 219, 160, 54, 169, 77, 25])


@pytest.mark.parametrize("broken", [
    "", "00", "0004", "06917228195339040B917228214365",  # truncated
    "0006D60B9113268807",  # status report cut in the address
    "zz", "07911326040000F0030D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701",  # reserved type 3
    "0004039121F300001120304050607005D4F2",  # user data shorter than its length
    "0044039121F30000112030405060700505000301",  # UDH claims 5 septets but has no room for its header
])
def test_malformed_pdus_are_rejected(broken) -> None:
    with pytest.raises(pdu.PduError):
        pdu.decode(broken)
