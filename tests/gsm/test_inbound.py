"""Reassembly and source ids, without a modem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from absensi.drivers.gsm import pdu
from absensi.drivers.gsm.inbound import Reassembler, source_id

from .emulator import deliver_pdus

STAMP = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 7, 1, tzinfo=UTC)


def parts(text: str, sender: str = "+6281", ref: int = 5) -> list[pdu.Deliver]:
    return [pdu.decode(p) for p in deliver_pdus(sender, text, STAMP, ref=ref)]


def test_source_id_is_stable_and_text_sensitive() -> None:
    a = source_id("+6281", STAMP, "IZIN")
    assert a == source_id("+6281", STAMP, "IZIN") != source_id("+6281", STAMP, "IZIN ")
    assert a.startswith("sms:+6281:2026-11-28T07:00:00+00:00:") and len(a.rsplit(":", 1)[1]) == 12


def test_complete_message_carries_every_index_once() -> None:
    r = Reassembler(timedelta(minutes=10))
    p1, p2, p3 = parts("k" * 400)
    assert r.add(3, p3, NOW) is None and r.add(1, p1, NOW) is None
    ready = r.add(2, p2, NOW)
    assert ready.message.text == "k" * 400 and ready.indexes == (1, 2, 3) and r.waiting == 0


def test_same_part_read_twice_does_not_complete_a_message() -> None:
    r = Reassembler(timedelta(minutes=10))
    p1, _p2 = parts("d" * 200)
    assert r.add(1, p1, NOW) is None and r.add(1, p1, NOW) is None
    assert r.waiting == 1


def test_leftover_copy_of_a_committed_part_is_only_deleted() -> None:
    r = Reassembler(timedelta(minutes=10))
    p1, p2 = parts("e" * 200)
    r.add(1, p1, NOW)
    ready = r.add(2, p2, NOW)
    r.mark_done(ready)
    again = r.add(7, p2, NOW)  # its CMGD failed; the next listing shows it again
    assert again.message is None and again.indexes == (7,)


def test_messages_from_different_senders_with_the_same_reference_stay_apart() -> None:
    r = Reassembler(timedelta(minutes=10))
    a1, a2 = parts("a" * 200, sender="+6281")
    b1, b2 = parts("b" * 200, sender="+6282")
    r.add(1, a1, NOW)
    r.add(2, b1, NOW)
    assert r.add(3, b2, NOW).message.text == "b" * 200
    assert r.add(4, a2, NOW).message.text == "a" * 200


def test_expiry_hands_over_what_arrived_in_order() -> None:
    r = Reassembler(timedelta(minutes=10))
    _p1, p2, p3 = parts("f" * 153 + "g" * 153 + "h" * 10)
    r.add(9, p3, NOW)
    r.add(8, p2, NOW)
    assert r.expire(NOW + timedelta(minutes=9)) == []
    (ready,) = r.expire(NOW + timedelta(minutes=10))
    assert ready.message.incomplete and ready.message.text == "g" * 153 + "h" * 10 and ready.indexes == (8, 9)


def test_flush_oldest_picks_the_group_seen_first() -> None:
    r = Reassembler(timedelta(minutes=10))
    r.add(1, parts("o" * 200, sender="+6281")[0], NOW)
    r.add(2, parts("n" * 200, sender="+6282")[0], NOW + timedelta(seconds=5))
    assert r.flush_oldest().message.sender == "+6281" and r.waiting == 1


def test_modem_key_is_short_and_follows_the_sim() -> None:
    from absensi.drivers.gsm.outbound import modem_key, native_ref

    assert modem_key("/dev/ttyUSB0", "510101234567890") == modem_key("/dev/ttyUSB3", "510101234567890")
    url_key = modem_key("/dev/serial/by-id/usb-HUAWEI_Technology_HUAWEI_Mobile-if00-port0", "?")
    assert len(url_key) == 9 and url_key != modem_key("/dev/serial/by-id/other", None)
    assert native_ref("1234567890", 7) == "1234567890/007"
