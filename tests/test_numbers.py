"""Phone numbers (SPEC §3 "Cost and abuse guards"): every written form of a number is one number, and only a
valid mobile number is ever answered.

The tester's cases: `006281280000003` became `+62006281280000003` and got a reply; 7–8 digit senders got the
help SMS. Properties cover every form of any Indonesian mobile number; the engine tests check the reply itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.school.phones import is_phone, mobile, normalize
from absensi.engine.store import Store
from absensi.engine.store.models import OutboxRow, ParentLink, SmsSender

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday

# Indonesian mobile numbers without the country code (what phonenumbers' metadata calls valid mobile).
MOBILE_NSN = st.from_regex(r"8[1-35-9][0-9]{7,10}", fullmatch=True)
SEPARATORS = st.sampled_from(["", "", " ", "-"])


def _valid_mobile(nsn: str) -> bool:
    number = phonenumbers.parse("+62" + nsn)
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@st.composite
def written(draw: st.DrawFn, nsn: str) -> str:
    """`nsn` as someone may write it: grouped with spaces or dashes anywhere."""
    return "".join(ch + draw(SEPARATORS) for ch in nsn).strip(" -")


@given(nsn=MOBILE_NSN, data=st.data())
def test_every_form_of_one_mobile_number_is_one_e164_number(nsn: str, data: st.DataObject) -> None:
    assume(_valid_mobile(nsn))
    body = data.draw(written(nsn))
    forms = ["0" + body, "62" + body, "+62" + body, "+62 " + body, "0062" + body, "00 62 " + body, "0" + nsn]
    assert {normalize(f) for f in forms} == {"+62" + nsn}, forms
    assert {mobile(f) for f in forms} == {"+62" + nsn}, forms  # and every form may be answered


@given(raw=st.text(alphabet="0123456789+ -()", max_size=22))
def test_normalize_is_idempotent_on_anything_typed(raw: str) -> None:
    once = normalize(raw)
    assert once is None or normalize(once) == once


@given(nsn=MOBILE_NSN, data=st.data())
def test_normalize_is_idempotent_on_every_form(nsn: str, data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(["0", "62", "+62 ", "0062", "00 62-"])) + data.draw(written(nsn))
    once = normalize(raw)
    assert once is not None and normalize(once) == once


@given(digits=st.from_regex(r"[0-9]{7,8}", fullmatch=True))
def test_no_seven_or_eight_digit_sender_is_answered(digits: str) -> None:
    assert not is_phone(digits)


def test_the_testers_international_prefix_number() -> None:
    assert normalize("006281280000003") == "+6281280000003"
    assert mobile("0062 812-8000-0003") == "+6281280000003"


@pytest.mark.parametrize("sender", ["TELKOMSEL", "INDOSAT", "3636", "888", "123", "1234567", "12345678",
                                    "0215551234", "+62 21 5551234", "+6281", ""])
def test_senders_that_are_not_mobile_numbers_are_never_answered(sender: str) -> None:
    assert not is_phone(sender)


def test_normalize_stays_lenient_for_the_school_s_own_data() -> None:
    """staff.csv may hold an office landline: it still loads and compares in E.164, though no SMS goes to it."""
    assert normalize("(021) 555-1234") == "+62215551234"
    assert mobile("(021) 555-1234") is None


def _sms(sender: str, text: str, source: str) -> InboundMessage:
    return InboundMessage(Channel.SMS, sender, T0, source, text)


def test_a_0062_sender_is_answered_and_registered_as_its_e164_number(rules, mini, db_url: str) -> None:  # type: ignore[no-untyped-def]
    store = Store(db_url)
    try:
        engine = Engine(rules, mini, store, T0)
        engine.receive(_sms("006281234500001", "REG AB12CD", "s1"), T0)
        engine.receive(_sms("+62 812-3450-0001", "SAKIT demam", "s2"), T0)
        with store.unit() as session:
            assert {r.recipient for r in session.scalars(select(OutboxRow).where(OutboxRow.channel == "sms"))} == {
                "+6281234500001"}
            assert [link.phone for link in session.scalars(select(ParentLink))] == ["+6281234500001"]
    finally:
        store.close()


@pytest.mark.parametrize("sender", ["1234567", "81234567", "3636", "0215551234", "TELKOMSEL"])
def test_non_mobile_senders_get_nothing_and_leave_no_trace(rules, mini, db_url: str, sender: str) -> None:  # type: ignore[no-untyped-def]
    store = Store(db_url)
    try:
        engine = Engine(rules, mini, store, T0)
        for n, text in enumerate(["halo", "REG AB12CD", "REG XXXXXX", "SAKIT demam", "INFO promo", "STOP"]):
            assert engine.receive(_sms(sender, text, f"s{n}"), T0) == []
        with store.unit() as session:
            assert session.scalars(select(SmsSender)).all() == []
            assert session.scalars(select(ParentLink)).all() == []
    finally:
        store.close()
