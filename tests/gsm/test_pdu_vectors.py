"""The codec against published vectors.

The first tests pin a few vectors by hand (gammu tests/at-sms-encode, python-gsmmodem test/test_pdu.py). The
rest read every applicable vector from the peers' shared file (gammu, python-gsmmodem, smspdudecoder,
smsutil), which lives beside the project and is never copied into it; they skip when it is absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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


def test_real_gsm7_pdu_three_septets_short_decodes_what_it_holds() -> None:
    """gammu tests/at-sms/41 (a phone's visual-voicemail SMS): TP-UDL says 85 septets after the 7-octet port
    header, 72 octets hold 82; gammu reads them, so do we."""
    sms = pdu.decode("0041000B817777777777F700005D060504157800004DE1135B851283D4E2AFDD8BD576F3B2DC5E96"
                     "F7DC617A788E2EBBD761173C2CA7E777F0B79CDECBE5663BF8BDC74E57CDCFBCF5B97387DBE59E1BE00E"
                     "D3C37374D9BD0EBBE06139")
    assert sms.text.startswith("MBOXUPDATE?m=15;server=natashenka.party;port=993;") and len(sms.text) == 82


def test_gsm7_with_overstated_length_decodes_the_septets_present() -> None:
    """The same leniency as UCS-2: TP-UDL 5 septets, two octets of data hold two whole septets."""
    sms = pdu.decode("0004039121F300001120304050607005D4F2")
    assert sms.text == "Te"


def test_udhi_without_user_data_is_an_empty_message() -> None:
    """gammu tests/at-sms/20: UDHI set, TP-UDL 0; there is nothing to read, not a broken header."""
    sms = pdu.decode("058163465010D5B00C8163460653332000000000")
    assert isinstance(sms, pdu.Submit) and (sms.text, sms.concat) == ("", None)


def test_octets_past_the_declared_length_are_ignored() -> None:
    """Some modems pad the PDU with FF; TP-UDL says where the text ends."""
    assert pdu.decode("06917228195339040B917228214365F700003130805120618005D4F29C2E03FFFF").text == "Test2"


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
    "0044039121F30000112030405060700505000301",  # UDH claims 5 septets but has no room for its header
    "0044039121F30000112030405060700100",  # TP-UDL (1 septet) shorter than the header it carries
    "0044039121F3000011203040506070050A0500030103",  # header cut off by the end of the PDU
    "0044039121F30000112030405060700505",  # header announced, nothing follows
    "0004159121436587092143658709F100001120304050607005D4F29C2E03",  # address of 21 digits
    "00040391214300391120304050607005D4F29C2E03",  # compressed text (TP-DCS 0x39)
])
def test_malformed_pdus_are_rejected(broken) -> None:
    with pytest.raises(pdu.PduError):
        pdu.decode(broken)


def test_an_address_of_20_digits_is_the_longest_accepted() -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    longest = "+12345678901234567890"
    assert pdu.decode(pdu.encode_deliver(longest, "ok", stamp)).sender == longest


# ---------------------------------------------------------------- the peers' file (../shared/peer_vectors)

VECTORS_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "peer_vectors" / "vectors.json"
PEERS: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8")) if VECTORS_FILE.is_file() else {}
SEMI_OCTET_LETTERS = str.maketrans("abcde", "*#abc")  # hex digits as TS 23.040 9.1.2.3 names them


def cases(source: str, section: str, name: Callable[[Any], str] | None = None) -> list[Any]:
    """One pytest param per vector of a section, or one skipped param when the file is absent."""
    if not PEERS:
        missing = pytest.mark.skip(reason=f"peer vectors not found at {VECTORS_FILE}")
        return [pytest.param(None, marks=missing)]
    items = PEERS[source][section]
    return [pytest.param(item, id=name(item) if name else str(i)) for i, item in enumerate(items)]


def with_coding(params: list[Any], coding: str) -> list[Any]:
    """The same params with a coding beside each vector (for split tests that serve both alphabets)."""
    return [pytest.param(*param.values, coding, id=f"{param.id}-{coding}", marks=param.marks)
            for param in params]


def spec_digits(number: str) -> str:
    """python-gsmmodem prints semi-octets 0xA..0xE as hex letters; TS 23.040 9.1.2.3 names them *, #, a, b, c.
    Alphanumeric addresses ("Megafon") are left alone."""
    numeric = re.fullmatch(r"\+?[0-9a-e]*[0-9][0-9a-e]*", number)
    return number.translate(SEMI_OCTET_LETTERS) if numeric else number


def named(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def raw(value: dict[str, str]) -> bytes:
    """python-gsmmodem's and smspdudecoder's byte strings are stored as {"hex": ...}."""
    return bytes.fromhex(value["hex"])


def ascii_hex(value: dict[str, str]) -> str:
    """python-gsmmodem keeps PDUs as hex text inside byte strings: the bytes are the hex digits."""
    return raw(value).decode("ascii")


def when(value: dict[str, str]) -> datetime:
    return datetime.fromisoformat(value["datetime"])


def without_mms(pdu_hex: str) -> str:
    """The PDU with TP-MMS (bit 2 of the first TPDU octet) cleared: gammu writes 0 in an SMS-DELIVER, we write
    1 ("no more messages waiting"), which is what an SMSC sends for a lone message."""
    at = 2 + 2 * int(pdu_hex[:2], 16)
    return f"{pdu_hex[:at]}{int(pdu_hex[at : at + 2], 16) & ~0x04:02X}{pdu_hex[at + 2 :]}"


def relative_vp(seconds: float) -> int:
    """TP-VP relative format (TS 23.040 9.2.3.12.1) for a validity period; the tests' own helper."""
    minutes = int(seconds // 60)
    if minutes <= 12 * 60:
        return minutes // 5 - 1
    if minutes <= 24 * 60:
        return 143 + (minutes - 12 * 60) // 30
    days = minutes // (24 * 60)
    return 166 + days if days <= 30 else 192 + days // 7


@pytest.mark.parametrize("vector", cases("gammu", "at_sms_encode", named))
def test_gammu_at_sms_encode(vector) -> None:
    """gammu's dump decodes to the backup's message and our encoder writes the very same PDU back.

    gammu stores what one SMS holds: a longer text is cut, and with Default coding forced a character outside
    GSM 7-bit is replaced ('š' becomes 's'); wherever the text fits it must come back exactly.
    """
    backup, dump = vector["backup"], vector["dump"]
    sms = pdu.decode(dump)
    coding = pdu.GSM7 if backup["Coding"] == "Default" else pdu.UCS2
    text = backup["text"]
    fits = (coding == pdu.UCS2 or gsm7.can_encode(text)) and len(pdu.split_text(text, coding)) == 1
    assert sms.text == text if fits else sms.text
    assert (sms.smsc, sms.coding) == (backup["SMSC"], coding)
    if isinstance(sms, pdu.Submit):
        assert sms.recipient == backup["Number"]
        ours = pdu.encode_submit(backup["Number"], sms.text, smsc=backup["SMSC"], validity=0xFF,
                                 coding=coding)
        assert [p.hex for p in ours] == [dump]
    else:
        assert isinstance(sms, pdu.Deliver) and sms.sender == backup["Number"]
        stamp = datetime.strptime(backup["Sent"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        assert sms.timestamp == stamp
        ours = pdu.encode_deliver(backup["Number"], sms.text, stamp, smsc=backup["SMSC"], coding=coding)
        assert without_mms(ours) == without_mms(dump)


@pytest.mark.parametrize("vector", cases("gammu", "at_sms", named))
def test_gammu_real_phone_replies_are_read(vector) -> None:
    """gammu tests/at-sms: `+CMGR` replies from real phones, quirks and all, decode without rejection."""
    for pdu_hex in vector["pdus"]:
        sms = pdu.decode(pdu_hex)
        assert isinstance(sms, pdu.StatusReport) or isinstance(sms.text, str)


@pytest.mark.parametrize("vector", cases("gammu", "at_sms_failing", named))
def test_gammu_failing_pdus_are_rejected(vector) -> None:
    """gammu tests/at-sms-failing: PDUs gammu refuses (bad hex, impossible lengths, compressed text)."""
    for pdu_hex in vector["pdus"]:
        with pytest.raises(pdu.PduError):
            pdu.decode(pdu_hex)


@pytest.mark.parametrize("vector", cases("gammu", "atgen_c", named))
def test_gammu_unsolicited_pdus_are_read(vector) -> None:
    """PDUs from gammu's AT tests (`+CMT`, `+CDS`, `+CMGL` sequences)."""
    assert isinstance(pdu.decode(vector["pdu"]), pdu.Deliver | pdu.StatusReport)


KINDS = {"SMS-DELIVER": pdu.Deliver, "SMS-SUBMIT": pdu.Submit, "SMS-STATUS-REPORT": pdu.StatusReport}


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSmsPdu.test_decode"))
def test_gsmmodem_decode(vector) -> None:
    """python-gsmmodem's decoded fields; its own TP-VP and TP-PID values are not kept by our codec."""
    source, expected = vector
    sms = pdu.decode(ascii_hex(source))
    if "type" in expected:
        assert isinstance(sms, KINDS[expected["type"]])
    if "smsc" in expected:
        assert sms.smsc == expected["smsc"]
    if "number" in expected:
        number = sms.sender if isinstance(sms, pdu.Deliver) else sms.recipient
        assert number == spec_digits(expected["number"])
    for key, field in (("text", "text"), ("reference", "reference")):
        if key in expected:
            assert getattr(sms, field) == expected[key]
    for key, field in (("time", "timestamp"), ("discharge", "discharge")):
        if key in expected:
            assert getattr(sms, field) == when(expected[key])
    for header in expected.get("udh", []):
        assert header["ie"] == 0 and sms.concat == pdu.Concat(*header["data"])


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSmsPdu.test_encodeSmsSubmit"))
def test_gsmmodem_encode_submit(vector) -> None:
    """The expected PDU decodes to the arguments; we write it byte for byte where we offer the same options
    (no flash class, no absolute validity, and TOA 0x81 rather than 0xA1 for a number without '+')."""
    number, text, reference, validity, smsc, report, flash, expected = vector
    expected = ascii_hex(expected)
    sms = pdu.decode(expected)
    assert isinstance(sms, pdu.Submit)
    assert (sms.recipient, sms.text, sms.reference, sms.smsc, sms.status_report) == (
        number, text, reference, smsc, report)
    if flash or (validity is not None and "timedelta_s" not in validity) or not number.startswith("+"):
        return
    vp = None if validity is None else relative_vp(validity["timedelta_s"])
    parts = pdu.encode_submit(number, text, smsc=smsc, validity=vp, reference=reference, status_report=report)
    assert [p.hex for p in parts] == [expected]


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestRelativeValidityPeriod.setUp"))
def test_relative_validity_helper(vector) -> None:
    """Checks the helper above against python-gsmmodem's values, so the encode test can trust it."""
    assert relative_vp(vector[0]["timedelta_s"]) == vector[1]


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSmsPdu.test_encodeSmsSubmit_concatenated"))
def test_gsmmodem_concatenated_submit(vector) -> None:
    text, number, expected = vector
    parts = pdu.encode_submit(number, text, reject_duplicates=True)
    assert [p.hex for p in parts] == [ascii_hex(e) for e in expected]


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestGsm7.setUp"))
def test_gsmmodem_gsm7(vector) -> None:
    text, septets, packed = vector
    assert bytes(gsm7.to_septets(text)) == raw(septets)
    assert gsm7.pack(gsm7.to_septets(text)) == raw(packed)
    assert gsm7.from_septets(gsm7.unpack(raw(packed), len(raw(septets)))) == text


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestGsm7.test_encodeInvalid"))
def test_gsmmodem_gsm7_refuses_other_characters(vector) -> None:
    assert not gsm7.can_encode(vector)
    with pytest.raises(ValueError, match="not in the GSM 7-bit alphabet"):
        gsm7.to_septets(vector)


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestUcs2.setUp"))
def test_gsmmodem_ucs2(vector) -> None:
    text, encoded = vector
    assert pdu._user_data(text, pdu.UCS2, None) == (0x08, bytes([len(raw(encoded))]) + raw(encoded))
    assert pdu._ucs2_text(raw(encoded), cut=False) == text


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSemiOctets.setUp"))
def test_gsmmodem_semi_octets(vector) -> None:
    digits, expected = vector
    assert pdu._encode_semi_octets(digits) == raw(expected)
    assert pdu._semi_octets(raw(expected), len(digits)) == digits


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSmsPduAddressFields.setUp"))
def test_gsmmodem_address_fields(vector) -> None:
    """Decoding stops after the address (`size` octets) whatever follows; TOA 0xA1 is not ours to write."""
    number, size, source, expected = vector
    reader = pdu._Reader(bytes.fromhex(ascii_hex(source)))
    assert pdu._read_address(reader)[0] == number and reader.pos == size
    if bytes.fromhex(ascii_hex(expected))[1] != 0xA1:
        assert pdu.encode_address(number).hex().upper() == ascii_hex(expected)


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestSmsPduSmscFields.setUp"))
def test_gsmmodem_smsc_fields(vector) -> None:
    number, size, source, expected = vector
    reader = pdu._Reader(bytes.fromhex(ascii_hex(source)))
    assert pdu._read_smsc(reader) == number and reader.pos == size
    assert pdu.encode_smsc(number).hex().upper() == ascii_hex(expected)


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestTimestamp.setUp"))
def test_gsmmodem_timestamps(vector) -> None:
    stamp, expected = when(vector[0]), ascii_hex(vector[1])
    assert pdu.encode_time(stamp).hex().upper() == expected
    assert pdu._read_time(pdu._Reader(bytes.fromhex(expected))) == stamp


@pytest.mark.parametrize("vector", cases("gsmmodem", "TestUdhConcatenation.setUp"))
def test_gsmmodem_concatenation_headers(vector) -> None:
    ref, seq, total, expected = vector
    concat = pdu.Concat(ref, total, seq, wide=ref > 0xFF)
    assert pdu._concat_header(concat)[1:].hex().upper() == ascii_hex(expected)
    assert pdu._parse_udh(bytes.fromhex(ascii_hex(expected))) == concat


@pytest.mark.parametrize(("vector", "coding"), [
    *with_coding(cases("gsmmodem", "TestSmsPdu.test_encode_Gsm7_divideSMS"), pdu.GSM7),
    *with_coding(cases("gsmmodem", "TestSmsPdu.test_encode_Ucs2_divideSMS"), pdu.UCS2),
])
def test_gsmmodem_part_counts(vector, coding) -> None:
    """python-gsmmodem divides only texts that already need concatenation, so a text that fits one whole SMS
    (up to 160 septets / 70 units) is one part for us where its divider counts 153 / 67 per chunk."""
    text, parts = vector["text"], vector["parts"]
    whole = sum(len(gsm7.char_septets(c)) for c in text) <= 160 if coding == pdu.GSM7 else len(text) <= 70
    assert len(pdu.split_text(text, coding)) == (1 if whole else parts)


@pytest.mark.parametrize("vector", cases("smspdudecoder", "gsm_encode"))
def test_smspdudecoder_gsm7_packing(vector) -> None:
    """`with_padding`: seven spare bits at the end are filled with CR (TS 23.038 6.1.2.3.1), not zeros."""
    septets = gsm7.to_septets(vector["text"])
    if vector["with_padding"] and len(septets) % 8 == 7:
        septets.append(0x0D)
    assert gsm7.pack(septets).hex().upper() == vector["hex"]


@pytest.mark.parametrize("vector", cases("smspdudecoder", "gsm_decode"))
def test_smspdudecoder_gsm7_unpacking(vector) -> None:
    data = bytes.fromhex(vector["hex"])
    text = gsm7.from_septets(gsm7.unpack(data, len(data) * 8 // 7))
    assert (text.removesuffix("\r") if vector["strip_padding"] else text) == vector["text"]


@pytest.mark.parametrize("vector", cases("smspdudecoder", "address_decode"))
def test_smspdudecoder_addresses(vector) -> None:
    number, toa = pdu._read_address(pdu._Reader(bytes.fromhex(vector["hex"])))
    plus = "+" if vector["ton"] == "international" else ""
    assert number == plus + vector["number"]
    assert (toa == pdu.TOA_ALPHANUMERIC) is (vector["ton"] == "alphanumeric")


@pytest.mark.parametrize("vector", cases("smspdudecoder", "smsc_decode"))
def test_smspdudecoder_smsc(vector) -> None:
    assert pdu._read_smsc(pdu._Reader(bytes.fromhex(vector["hex"]))) == "+" + vector["number"]


@pytest.mark.parametrize("vector", cases("smspdudecoder", "ucs2"))
def test_smspdudecoder_ucs2(vector) -> None:
    if vector["op"] == "encode":
        assert pdu._user_data(vector["arg"], pdu.UCS2, None)[1][1:].hex().upper() == vector["want"]
    else:
        assert pdu._ucs2_text(bytes.fromhex(vector["arg"]), cut=False) == vector["want"]


@pytest.mark.parametrize("vector", cases("smsutil", "encode"))
def test_smsutil_encode(vector) -> None:
    if "gsm7_octets" in vector:
        assert bytes(gsm7.to_septets(vector["text"])).hex().upper() == vector["gsm7_octets"]
    else:
        assert pdu._user_data(vector["text"], pdu.UCS2, None)[1][1:].hex().upper() == vector["ucs2_hex"]


@pytest.mark.parametrize(("vector", "coding"), [
    *with_coding(cases("smsutil", "gsm_split", named), pdu.GSM7),
    *with_coding(cases("smsutil", "unicode_split", named), pdu.UCS2),
])
def test_smsutil_split(vector, coding) -> None:
    """Characters per part with an 8-bit reference: extension characters and emoji are never cut."""
    assert [len(part) for part in pdu.split_text(vector["text"], coding)] == vector["lengths"]
