"""Receiving: nothing lost, nothing processed twice, the SIM emptied only after the inbox committed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from absensi.drivers.gsm import ModemPool, pdu
from absensi.engine.messages import Channel

from .conftest import FAST, wait_for
from .emulator import deliver_pdus
from .fakes import RecordingInbox, RecordingOutbox

STAMP = datetime(2026, 11, 28, 7, 15, 3, tzinfo=UTC)


@pytest.fixture
def run_pool(clock):
    pools = []

    def start(emus, inbox=None, settings=FAST, **kw):
        inbox = inbox or RecordingInbox()
        pool = ModemPool([e.port for e in emus], inbox, kw.pop("outbox", RecordingOutbox()), clock=clock,
                         settings=settings, **kw)
        pool.start()
        pools.append(pool)
        wait_for(lambda: all(w.state in ("ready", "no-network") for w in pool.workers), what="modems ready")
        return pool, inbox

    yield start
    for pool in pools:
        pool.stop()


def test_cmti_message_reaches_the_inbox_and_leaves_the_sim(emulator, run_pool) -> None:
    _pool, inbox = run_pool([emulator])
    emulator.deliver(pdu.encode_deliver("+6281234567890", "IZIN 12345 sakit", STAMP))
    wait_for(lambda: inbox.messages and not emulator.storage, what="message committed and deleted")
    msg = inbox.messages[0]
    assert len(inbox.submits) == 1
    assert (msg.channel, msg.sender, msg.text, msg.received_at) == (Channel.SMS, "+6281234567890",
                                                                    "IZIN 12345 sakit", STAMP)
    assert msg.source_id.startswith("sms:+6281234567890:2026-11-28T07:15:03+00:00:")
    assert not msg.incomplete


def test_national_and_alphanumeric_senders_are_kept_as_received(emulator, run_pool) -> None:
    _pool, inbox = run_pool([emulator])
    emulator.deliver(pdu.encode_deliver("081234567890", "halo", STAMP))
    emulator.deliver(pdu.encode_deliver("TELKOMSEL", "Sisa kuota", STAMP))
    wait_for(lambda: len(inbox.messages) == 2)
    assert sorted(m.sender for m in inbox.messages) == ["081234567890", "TELKOMSEL"]


def test_lost_cmti_is_caught_by_polling(emulator, run_pool) -> None:
    _pool, inbox = run_pool([emulator])
    emulator.lose_all_cmti = True
    emulator.deliver(pdu.encode_deliver("+6281", "tanpa notifikasi", STAMP))
    wait_for(lambda: inbox.texts() == ["tanpa notifikasi"], timeout=3, what="poll to find it")
    wait_for(lambda: not emulator.storage)
    assert len(inbox.submits) == 1


def test_commit_before_delete_when_the_inbox_fails(emulator, run_pool) -> None:
    inbox = RecordingInbox(fail_times=2)
    _pool, _ = run_pool([emulator], inbox=inbox)
    emulator.deliver(pdu.encode_deliver("+6281", "penting", STAMP))
    wait_for(lambda: len(inbox.submits) >= 1)
    assert emulator.storage, "the SMS must stay on the SIM while the inbox refuses it"
    wait_for(lambda: inbox.texts() == ["penting"] and not emulator.storage, timeout=4)
    deletes = [c for c in emulator.commands if c.startswith("AT+CMGD")]
    assert len(deletes) == 1 and len(inbox.submits) == 3


def test_message_read_twice_is_processed_once(emulator, run_pool) -> None:
    """A crash after the commit but before AT+CMGD: the next run reads it again and the inbox refuses it."""
    inbox = RecordingInbox()
    sms = pdu.encode_deliver("+6281", "sekali saja", STAMP)
    emulator.deliver(sms)
    pool, _ = run_pool([emulator], inbox=inbox)
    wait_for(lambda: not emulator.storage)
    pool.stop()
    emulator.deliver(sms)  # the same PDU still on the SIM, as if CMGD never happened
    run_pool([emulator], inbox=inbox)
    wait_for(lambda: not emulator.storage and len(inbox.submits) == 2)
    assert inbox.texts() == ["sekali saja"]


def test_multipart_is_reassembled_out_of_order(emulator, run_pool) -> None:
    text = "Assalamualaikum Bu, anak saya Budi tidak masuk hari ini karena demam tinggi sejak semalam. " * 3
    parts = deliver_pdus("+6281", text, STAMP, ref=200)
    _pool, inbox = run_pool([emulator])
    for part in reversed(parts):
        emulator.deliver(part)
    wait_for(lambda: inbox.messages and not emulator.storage)
    assert len(parts) == 2 and inbox.texts() == [text] and not inbox.messages[0].incomplete
    assert len(inbox.submits) == 1


def test_multipart_parts_stay_on_the_sim_until_complete(emulator, run_pool) -> None:
    parts = deliver_pdus("+6281", "x" * 400, STAMP)
    pool, inbox = run_pool([emulator])
    emulator.deliver(parts[0])
    emulator.deliver(parts[2])
    wait_for(lambda: pool.workers[0].stats["drains"] >= 3)
    assert not inbox.messages and len(emulator.storage) == 2
    emulator.deliver(parts[1])
    wait_for(lambda: inbox.texts() == ["x" * 400] and not emulator.storage)


def test_missing_part_is_handed_over_incomplete_after_the_timeout(emulator, run_pool, clock) -> None:
    parts = deliver_pdus("+6281", "y" * 300, STAMP)
    pool, inbox = run_pool([emulator])
    emulator.deliver(parts[0])
    wait_for(lambda: pool.workers[0].reassembler.waiting == 1)
    clock.advance(timedelta(minutes=11))
    wait_for(lambda: inbox.messages and not emulator.storage)
    msg = inbox.messages[0]
    assert msg.incomplete and msg.text == "y" * 153


def test_parts_survive_a_restart_while_waiting(emulator, run_pool) -> None:
    parts = deliver_pdus("+6281", "z" * 200, STAMP)
    inbox = RecordingInbox()
    pool, _ = run_pool([emulator], inbox=inbox)
    emulator.deliver(parts[0])
    wait_for(lambda: pool.workers[0].reassembler.waiting == 1)
    pool.stop()
    emulator.deliver(parts[1])
    run_pool([emulator], inbox=inbox)
    wait_for(lambda: inbox.texts() == ["z" * 200] and not emulator.storage)


def test_full_storage_keeps_up(emulators, run_pool) -> None:
    """A SIM with 5 slots, 12 messages arriving at once: the network holds the rest until slots free up."""
    emu = emulators("huawei-e173", capacity=5)
    _pool, inbox = run_pool([emu])
    for n in range(12):
        emu.deliver(pdu.encode_deliver("+6281", f"pesan {n}", STAMP + timedelta(seconds=n)))
    wait_for(lambda: len(inbox.messages) == 12 and not emu.storage and not emu.backlog, timeout=8)
    assert sorted(inbox.texts()) == sorted(f"pesan {n}" for n in range(12))
    assert len(inbox.submits) == 12, "each message committed exactly once"


def test_storage_full_of_waiting_parts_is_unblocked(emulators, run_pool) -> None:
    emu = emulators("sim800", capacity=2)
    _pool, inbox = run_pool([emu])
    emu.deliver(deliver_pdus("+6281", "a" * 300, STAMP, ref=1)[0])
    emu.deliver(deliver_pdus("+6282", "b" * 300, STAMP, ref=2)[0])
    emu.deliver(pdu.encode_deliver("+6283", "masuk", STAMP))  # waits in the network backlog
    wait_for(lambda: "masuk" in inbox.texts(), timeout=5)
    assert any(m.incomplete for m in inbox.messages)


def test_unreadable_pdu_is_kept_with_its_bytes_then_removed_from_the_sim(emulator, run_pool) -> None:
    emulator.storage[1] = (0, "0044039121F30000112030405060700505")
    emulator.deliver(pdu.encode_deliver("+6281", "setelahnya", STAMP))
    _pool, inbox = run_pool([emulator])
    wait_for(lambda: inbox.texts() == ["setelahnya"] and not emulator.storage)
    assert [(m.raw, reason.startswith("unreadable PDU")) for m, reason in inbox.kept] == [
        ("0044039121F30000112030405060700505", True)]


def test_noise_and_interleaved_unsolicited_lines_do_not_disturb(emulators, run_pool) -> None:
    emu = emulators("huawei-e173")
    emu.noise_every = 0.05
    pool, inbox = run_pool([emu])
    for n in range(5):
        emu.deliver(pdu.encode_deliver("+6281", f"n{n}", STAMP + timedelta(seconds=n)))
    wait_for(lambda: len(inbox.messages) == 5 and not emu.storage)
    assert pool.workers[0].stats["opens"] == 1 and len(inbox.submits) == 5


def test_message_routed_directly_with_cmt_is_committed(emulator, run_pool) -> None:
    _pool, inbox = run_pool([emulator])
    body = pdu.encode_deliver("+6281", "langsung", STAMP)
    emulator._unsolicited(f"+CMT: ,{len(body) // 2 - 1}", body)
    wait_for(lambda: inbox.texts() == ["langsung"])


def test_a_database_error_in_a_claim_does_not_kill_the_modem_thread(emulator, pool_for) -> None:
    """The modem's thread reopens and goes on: SMS keep being read and sent (a dead thread left them on the SIM)."""

    class FlakyOutbox(RecordingOutbox):
        failures = 2

        def claim(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.failures:
                self.failures -= 1
                raise RuntimeError("database is locked")
            return super().claim(*args, **kwargs)

    outbox, inbox = FlakyOutbox(), RecordingInbox()
    item = outbox.add("+6281", "tetap terkirim")
    pool_for([emulator], outbox, inbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"), timeout=10)
    emulator.deliver(pdu.encode_deliver("+6282", "masih dibaca", STAMP))
    wait_for(lambda: "masih dibaca" in inbox.texts(), timeout=10)


def test_a_full_sim_that_the_same_drain_empties_does_not_split_a_long_sms(emulators, run_pool) -> None:
    """The SIM is full when listed, its last slot holds part 1 of a long SMS and the network holds part 2
    (storage full). Reading the full SIM frees the other slots and part 2 comes in: the long SMS must be
    joined, not handed over as two incomplete halves (part 2 alone would wait out the reassembly timeout)."""
    emu = emulators("sim800", capacity=3)
    long_text = "panjang " * 25  # 200 characters: two parts
    emu.deliver(pdu.encode_deliver("+6281", "satu", STAMP))
    emu.deliver(pdu.encode_deliver("+6282", "dua", STAMP))
    for part in deliver_pdus("+6283", long_text, STAMP, ref=9):
        emu.deliver(part)  # part 1 in the last slot, part 2 in the network's backlog
    assert len(emu.storage) == 3 and len(emu.backlog) == 1
    _pool, inbox = run_pool([emu])
    wait_for(lambda: len(inbox.messages) >= 3 and not emu.storage and not emu.backlog, timeout=8,
             what="three messages in the inbox and an empty SIM")
    assert not any(m.incomplete for m in inbox.messages), [(m.text, m.incomplete) for m in inbox.messages]
    assert sorted(inbox.texts()) == sorted(["satu", "dua", long_text])
