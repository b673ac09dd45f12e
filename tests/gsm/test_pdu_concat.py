"""Concatenated SMS-SUBMIT: every part fits one SMS whichever reference size its header carries.

One SMS carries 140 octets of user data (TS 23.040 9.2.3.24). A part with an 8-bit reference spends 6 of them
on its header (153 septets / 67 UTF-16 units left), a part with a 16-bit reference 7 (152 / 66 left).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from absensi.drivers.gsm import gsm7, pdu

GSM_CHARS = st.sampled_from([c for c in gsm7.DEFAULT if c != "\x1b"] + list(gsm7.EXTENSION.values()))
EMOJI = st.sampled_from(["😀", "👍", "🍔", "🇮🇩", "👨\u200d👩\u200d👧"])
ANY_CHAR = st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)), EMOJI)
# hypothesis favours short texts; most of these must need two parts or more to test anything
gsm_text = st.one_of(st.text(GSM_CHARS, max_size=170), st.text(GSM_CHARS, min_size=150, max_size=700))
any_text = st.one_of(st.lists(ANY_CHAR, max_size=80), st.lists(ANY_CHAR, min_size=60, max_size=300)).map(
    "".join)
narrow_refs = st.integers(0, 0xFF)
wide_refs = st.integers(0x100, 0xFFFF)
MAX_UD = 140  # octets of TP-UD in one SMS, header included (TS 23.040 9.2.3.16)
UDH = {False: 6, True: 7}  # UDHL + IEI + IEDL + reference + total + sequence, for an 8-bit / 16-bit reference


def tp_ud(part: pdu.SubmitPdu) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) of an SMS-SUBMIT, read field by field from the hex (not through the codec)."""
    data = bytes.fromhex(part.hex)
    pos = 1 + data[0]  # SMSC
    first = data[pos]
    pos += 2  # first octet, TP-MR
    pos += 2 + (data[pos] + 1) // 2  # TP-DA: digit count, type, semi-octets
    pos += 2  # TP-PID, TP-DCS
    pos += {0: 0, 2: 1}.get((first >> 3) & 0x03, 7)  # TP-VP
    return data[pos], data[pos + 1 :]


def joined(parts: list[pdu.SubmitPdu]) -> str:
    decoded = [pdu.decode(p.hex) for p in parts]
    return "".join(d.text for d in sorted(decoded, key=lambda d: d.concat.seq if d.concat else 0))


def assert_parts_fit(parts: list[pdu.SubmitPdu], text: str, wide: bool) -> None:
    """Each TP-UD within 140 octets and matching its TP-UDL; headers of the asked size; text intact."""
    for part in parts:
        udl, ud = tp_ud(part)
        assert len(ud) <= MAX_UD
        sms = pdu.decode(part.hex)
        expected_octets = (udl * 7 + 7) // 8 if sms.coding == pdu.GSM7 else udl
        assert len(ud) == expected_octets
        if len(parts) > 1:
            assert sms.concat is not None and sms.concat.wide is wide
            assert ud[0] + 1 == UDH[wide]
    assert joined(parts) == text  # a surrogate pair cut in two would decode to two U+FFFD instead


@settings(max_examples=150, deadline=None)
@given(gsm_text, narrow_refs)
def test_gsm7_parts_with_8bit_reference_fit_140_octets(text, ref) -> None:
    assert_parts_fit(pdu.encode_submit("+628123456789", text, concat_ref=ref), text, wide=False)


@settings(max_examples=150, deadline=None)
@given(gsm_text, wide_refs)
def test_gsm7_parts_with_16bit_reference_fit_140_octets(text, ref) -> None:
    assert_parts_fit(pdu.encode_submit("+628123456789", text, concat_ref=ref), text, wide=True)


@settings(max_examples=150, deadline=None)
@given(any_text, narrow_refs)
def test_any_text_with_8bit_reference_fits_140_octets(text, ref) -> None:
    parts = pdu.encode_submit("081234567", text, concat_ref=ref, status_report=True)
    assert_parts_fit(parts, text, wide=False)


@settings(max_examples=150, deadline=None)
@given(any_text, wide_refs)
def test_any_text_with_16bit_reference_fits_140_octets(text, ref) -> None:
    assert_parts_fit(pdu.encode_submit("081234567", text, concat_ref=ref, validity=0xA7), text, wide=True)


@pytest.mark.parametrize(("ref", "septets"), [(7, 153), (300, 152)])
def test_gsm7_part_size_follows_the_header(ref, septets) -> None:
    """A text of exactly two full parts: the 16-bit header costs one septet per part."""
    text = "a" * (2 * septets)
    parts = pdu.encode_submit("+6281", text, concat_ref=ref)
    assert [len(pdu.decode(p.hex).text) for p in parts] == [septets, septets]
    assert len(pdu.encode_submit("+6281", text + "a", concat_ref=ref)) == 3


@pytest.mark.parametrize(("ref", "units"), [(7, 67), (300, 66)])
def test_ucs2_part_size_follows_the_header(ref, units) -> None:
    text = "あ" * (2 * units)
    parts = pdu.encode_submit("+6281", text, concat_ref=ref)
    assert [len(pdu.decode(p.hex).text) for p in parts] == [units, units]
    header = UDH[ref > 0xFF]
    assert all(len(tp_ud(p)[1]) == header + 2 * units for p in parts)


@pytest.mark.parametrize(("ref", "septets"), [(7, 153), (300, 152)])
def test_an_extension_character_never_straddles_two_parts(ref, septets) -> None:
    """'€' is ESC + code: with one septet left in the part it moves whole to the next part."""
    text = "x" * (septets - 1) + "€" + "y" * 20
    first, second = (pdu.decode(p.hex).text for p in pdu.encode_submit("+6281", text, concat_ref=ref))
    assert (first, second) == ("x" * (septets - 1), "€" + "y" * 20)


@pytest.mark.parametrize(("ref", "units"), [(7, 67), (300, 66)])
def test_an_emoji_never_straddles_two_parts(ref, units) -> None:
    """An emoji is a surrogate pair: with one UTF-16 unit left in the part it moves whole to the next."""
    text = "x" * (units - 1) + "😀" + "y" * 10
    first, second = (pdu.decode(p.hex).text for p in pdu.encode_submit("+6281", text, concat_ref=ref))
    assert (first, second) == ("x" * (units - 1), "😀" + "y" * 10)


def test_a_single_sms_has_no_header_whatever_the_reference() -> None:
    for ref in (0, 300):
        (part,) = pdu.encode_submit("+6281", "a" * 160, concat_ref=ref)
        assert pdu.decode(part.hex).concat is None and len(tp_ud(part)[1]) == 140


def test_the_reference_size_is_chosen_by_its_value() -> None:
    """0..255 goes out as an 8-bit reference (what `outbound` sends: the outbox id's low octet)."""
    narrow = pdu.decode(pdu.encode_submit("+6281", "a" * 200, concat_ref=255)[0].hex).concat
    assert narrow == pdu.Concat(255, 2, 1)
    wide = pdu.decode(pdu.encode_submit("+6281", "a" * 200, concat_ref=256)[0].hex).concat
    assert wide == pdu.Concat(256, 2, 1, wide=True)


@pytest.mark.parametrize("ref", [-1, 0x10000])
def test_a_reference_outside_16_bits_is_refused(ref) -> None:
    with pytest.raises(ValueError, match="concatenation reference"):
        pdu.encode_submit("+6281", "a" * 200, concat_ref=ref)


@pytest.mark.parametrize(("coding", "header", "capacity"), [
    (pdu.GSM7, 0, 160), (pdu.GSM7, 6, 153), (pdu.GSM7, 7, 152),
    (pdu.UCS2, 0, 70), (pdu.UCS2, 6, 67), (pdu.UCS2, 7, 66),
    (pdu.OCTET, 0, 140), (pdu.OCTET, 6, 134), (pdu.OCTET, 7, 133),
])
def test_part_capacity(coding, header, capacity) -> None:
    assert pdu.part_capacity(coding, header) == capacity


def test_8bit_coding_parts_fit_too() -> None:
    parts = pdu.encode_submit("+6281", "é" * 300, coding=pdu.OCTET, concat_ref=4000)
    assert [len(tp_ud(p)[1]) for p in parts] == [140, 140, 7 + 300 - 2 * 133]
    assert joined(parts) == "é" * 300
