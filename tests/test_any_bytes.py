"""Any bytes in, nothing lost (SPEC §8), on SQLite and PostgreSQL.

PostgreSQL refuses NUL in text; no backend can store a lone UTF-16 surrogate (a broken emoji from a UCS-2
SMS). Whatever arrives — as text or as a raw PDU from a modem — becomes exactly one inbox row that the
engine either handles or keeps as an error, with the original bytes alongside.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from absensi.drivers.gsm.inbound import to_message
from absensi.drivers.gsm.pdu import Deliver, PduError, decode
from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.store import Store
from absensi.engine.store.cleaning import bounded_id, raw_hex
from absensi.engine.store.models import InboxRow

T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta, a Monday
HOSTILE = st.sampled_from(["\x00", "\ud83d", "\ude00", "😀", "REG ", "SAKIT ", "INFO ", "\n", "é", "€", "a"])
TEXTS = st.text(max_size=300) | st.lists(HOSTILE, max_size=40).map("".join)
SENDERS = st.sampled_from(["+6281234500001", "081234500002", "TELKOMSEL", "\x00\x00", "+62\ud83d", "9" * 90])
_ids = itertools.count()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _row(store: Store, source_id: str) -> InboxRow:
    with store.unit() as session:
        rows = session.scalars(select(InboxRow).where(InboxRow.source_id == source_id)).all()
    assert len(rows) == 1, f"{len(rows)} inbox rows for one message"
    return rows[0]


@FUZZ
@given(text=TEXTS, sender=SENDERS)
def test_any_text_from_any_sender_is_kept_once_and_handled_or_kept_as_an_error(store: Store, rules, mini,  # type: ignore[no-untyped-def]
                                                                               text: str, sender: str) -> None:
    engine = Engine(rules, mini, store, T0)
    msg = InboundMessage(Channel.SMS, sender, T0, f"fuzz:{next(_ids)}", text)
    engine.receive(msg, T0 + timedelta(seconds=1))
    engine.receive(msg, T0 + timedelta(seconds=2))  # read twice from the SIM: still one row
    row = _row(store, msg.source_id)
    assert row.status in ("done", "error")
    if row.text != text:  # cleaned for the backend: the original bytes are kept
        assert row.payload.get("raw_text") == raw_hex(text)
    assert "\x00" not in row.text


PDU_BYTES = st.binary(min_size=0, max_size=180)


@FUZZ
@given(data=PDU_BYTES)
def test_any_pdu_a_modem_hands_over_either_is_refused_as_unreadable_or_reaches_the_inbox(store: Store, rules, mini,  # type: ignore[no-untyped-def]
                                                                                        data: bytes) -> None:
    try:
        sms = decode(data.hex())
    except PduError:
        return  # the worker logs and deletes an unreadable PDU: nothing there to keep
    if not isinstance(sms, Deliver):
        return
    msg = to_message(sms.sender, sms.timestamp or T0, sms.text, raw=data.hex())
    Engine(rules, mini, store, T0).receive(msg, T0)
    row = _row(store, bounded_id(msg.source_id))
    assert row.status in ("done", "error") and row.payload["raw"] == data.hex()


def test_a_nul_inside_a_ucs2_sms_is_stored_and_answered_on_every_backend(store: Store, rules, mini) -> None:  # type: ignore[no-untyped-def]
    """The tester's case: a UCS-2 SMS with a NUL; on PostgreSQL it was retried from the SIM forever."""
    engine = Engine(rules, mini, store, T0)
    out = engine.receive(InboundMessage(Channel.SMS, "+6281299990001", T0, "nul:1", "HALO\x00 PAK"), T0)
    row = _row(store, "nul:1")
    assert row.status == "done" and row.text == "HALO PAK" and row.payload["raw_text"] == raw_hex("HALO\x00 PAK")
    assert [m.to for m in out] == ["+6281299990001"]  # the help reply, as for any other unknown text


def test_a_message_no_driver_could_read_is_kept_once_as_an_error_with_its_bytes(store: Store) -> None:
    msg = InboundMessage(Channel.SMS, "", T0, "sms-unreadable:abc", "", raw="0044039121F3")
    store.keep(msg, "unreadable PDU: header cut off")
    store.keep(msg, "unreadable PDU: header cut off")  # read again before the SIM copy was deleted
    row = _row(store, "sms-unreadable:abc")
    assert row.status == "error" and row.payload["raw"] == "0044039121F3" and "header" in (row.error or "")
