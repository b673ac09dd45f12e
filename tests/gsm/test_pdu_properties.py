"""Round-trip properties: whatever we encode decodes to the same text, part boundaries never cut a character."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from absensi.drivers.gsm import gsm7, pdu

GSM_CHARS = st.sampled_from([c for c in gsm7.DEFAULT if c != "\x1b"] + list(gsm7.EXTENSION.values()))
gsm_text = st.text(GSM_CHARS, min_size=0, max_size=500)
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=300)
numbers = st.one_of(st.from_regex(r"\+62[1-9][0-9]{7,11}", fullmatch=True),
                    st.from_regex(r"0[1-9][0-9]{6,11}", fullmatch=True))
zones = st.integers(min_value=-47, max_value=56).map(lambda q: timezone(timedelta(minutes=15 * q)))
stamps = st.builds(lambda d, z: d.replace(tzinfo=z),
                   st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
                       lambda d: d.replace(microsecond=0)), zones)


def joined(parts: list[pdu.SubmitPdu]) -> str:
    decoded = [pdu.decode(p.hex) for p in parts]
    return "".join(d.text for d in sorted(decoded, key=lambda d: d.concat.seq if d.concat else 0))


@settings(max_examples=150, deadline=None)
@given(numbers, gsm_text)
def test_gsm7_submit_round_trip(number, text) -> None:
    parts = pdu.encode_submit(number, text, status_report=True, concat_ref=77)
    assert joined(parts) == text
    assert all(pdu.decode(p.hex).recipient == number for p in parts)
    assert all(len(bytes.fromhex(p.hex)) - 1 == p.length <= 140 + 26 for p in parts)


@settings(max_examples=150, deadline=None)
@given(numbers, any_text)
def test_any_text_round_trips_with_emoji_intact(number, text) -> None:
    parts = pdu.encode_submit(number, text, concat_ref=300)
    assert joined(parts) == text
    expected = pdu.GSM7 if gsm7.can_encode(text) else pdu.UCS2
    assert {pdu.decode(p.hex).coding for p in parts} == {expected}


@settings(max_examples=100, deadline=None)
@given(any_text)
def test_every_part_fits_one_sms(text) -> None:
    coding = pdu.choose_coding(text)
    chunks = pdu.split_text(text, coding)
    if coding == pdu.GSM7:
        sizes = [len(gsm7.to_septets(c)) for c in chunks]
        limit = 160 if len(chunks) == 1 else 153
    else:
        sizes = [len(c.encode("utf-16-be")) // 2 for c in chunks]
        limit = 70 if len(chunks) == 1 else 67
    assert all(size <= limit for size in sizes)
    assert "".join(chunks) == text


@settings(max_examples=100, deadline=None)
@given(st.one_of(numbers, st.from_regex(r"[A-Z][A-Za-z0-9]{1,10}", fullmatch=True)), any_text, stamps)
def test_deliver_round_trip(sender, text, stamp) -> None:
    coding = pdu.choose_coding(text)
    chunks = pdu.split_text(text, coding)
    for seq, chunk in enumerate(chunks, start=1):
        concat = pdu.Concat(9, max(len(chunks), 2), seq) if seq > 1 or len(text) > 60 else None
        sms = pdu.decode(pdu.encode_deliver(sender, chunk, stamp, coding=coding, concat=concat))
        assert (sms.sender, sms.text, sms.timestamp, sms.concat) == (sender, chunk, stamp, concat)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_septet_pack_unpack(septets, fill) -> None:
    assert gsm7.unpack(gsm7.pack(septets, fill), len(septets), fill) == septets


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60))
def test_garbage_never_crashes_the_decoder(data) -> None:
    with contextlib.suppress(pdu.PduError):
        pdu.decode(data.hex())


def _one_part(text: str, stamp: datetime, with_header: bool) -> tuple[str, str, pdu.Concat | None]:
    """(PDU hex, the part's text, its header) for the first part of `text` as an SMS-DELIVER."""
    coding = pdu.choose_coding(text)
    chunk = pdu.split_text(text, coding)[0]
    concat = pdu.Concat(7, 2, 1) if with_header else None
    return pdu.encode_deliver("+628123", chunk, stamp, coding=coding, concat=concat), chunk, concat


@settings(max_examples=200, deadline=None)
@given(any_text, stamps, st.booleans(), st.integers(1, 140))
def test_an_overstated_length_yields_a_prefix_in_every_coding(text, stamp, with_header, cut) -> None:
    """The leniency rule: a PDU cut short inside its text decodes to the whole characters before the cut,
    with its header, whether GSM 7-bit or UCS-2 (a half surrogate pair or ESC is dropped, never shown)."""
    full, chunk, concat = _one_part(text, stamp, with_header)
    text_start = len(pdu.encode_deliver("+628123", "", stamp)) + (12 if with_header else 0)  # hex digits
    sms = pdu.decode(full[: max(text_start, len(full) - 2 * cut)])
    assert chunk.startswith(sms.text) and sms.concat == concat


@settings(max_examples=100, deadline=None)
@given(any_text, stamps, st.booleans(), st.binary(min_size=1, max_size=20))
def test_octets_past_the_declared_length_change_nothing(text, stamp, with_header, padding) -> None:
    full, chunk, concat = _one_part(text, stamp, with_header)
    sms = pdu.decode(full + padding.hex())
    assert (sms.text, sms.concat) == (chunk, concat)


@settings(max_examples=100, deadline=None)
@given(any_text, stamps, st.booleans(), st.data())
def test_a_pdu_cut_anywhere_decodes_or_is_rejected_never_crashes(text, stamp, with_header, data) -> None:
    full = _one_part(text, stamp, with_header)[0]
    end = data.draw(st.integers(0, len(full) // 2))
    with contextlib.suppress(pdu.PduError):
        pdu.decode(full[: 2 * end])


def test_zero_septets_need_no_octets_even_after_fill_bits() -> None:
    assert gsm7.unpack(b"", 0, 3) == []


def test_emoji_is_a_surrogate_pair_and_never_split() -> None:
    text = "Anak Anda hadir 👍" * 8
    parts = pdu.encode_submit("+628123", text)
    assert len(parts) > 1
    assert all("\ufffd" not in pdu.decode(p.hex).text for p in parts)
    assert joined(parts) == text
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    assert pdu.decode(pdu.encode_deliver("+628", "😀", stamp)).text == "😀"
