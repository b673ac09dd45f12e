"""Delivery reports, and recovery from hangs, reboots and unplugging — nothing lost, nothing sent twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from absensi.drivers.gsm import pdu

from .conftest import wait_for
from .fakes import RecordingInbox, RecordingOutbox

STAMP = datetime(2026, 11, 28, 7, 15, tzinfo=UTC)


@pytest.fixture
def pool_for(pool_for):
    def start(*args, **kw):
        return pool_for(*args, wait_ready=True, **kw)

    return start


def no_resets(*emus) -> bool:
    return not any(c.upper().startswith("AT+CFUN") for e in emus for c in e.commands)


def test_routed_delivery_report_marks_the_row_delivered(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "laporan")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] == "delivered")
    assert outbox.reports == [(outbox.rows[item].native_id, True, True)]


def test_stored_delivery_report_is_read_matched_and_deleted(emulator, pool_for) -> None:
    emulator.refuse_cnmi = {"2,1,0,1,0", "1,1,0,1,0"}  # this unit stores reports (+CDSI) instead
    emulator.report_status = 0x41  # permanent error at the SMSC
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "gagal terkirim")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] == "undelivered")
    wait_for(lambda: not emulator.storage, what="the report removed from the SIM")
    assert emulator.cnmi[3] == 2


def test_interim_report_changes_nothing(emulator, pool_for) -> None:
    emulator.report_status = 0x21  # SMSC still trying
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "masih dicoba")
    pool = pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] == "sent")
    wait_for(lambda: pool.workers[0].stats["drains"] >= 2)
    assert outbox.states()[item] == "sent" and outbox.reports == []


def test_multipart_rows_match_a_report_for_any_part(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "p" * 200)
    pool_for([emulator], outbox)
    wait_for(lambda: len(outbox.reports) == 2)
    assert all(matched for _, _, matched in outbox.reports)
    assert outbox.states()[item] == "delivered"


# ------------------------------------------------------------------------------------ recovery


def test_hung_modem_is_reopened_and_nothing_is_lost(emulator, pool_for) -> None:
    inbox, outbox = RecordingInbox(), RecordingOutbox()
    pool = pool_for([emulator], outbox, inbox)
    emulator.hung = True
    emulator.deliver(pdu.encode_deliver("+6281", "selama macet", STAMP))
    outbox.add("+6282", "keluar setelah pulih")
    wait_for(lambda: pool.workers[0].state == "down", timeout=8, what="hang detected")
    emulator.hung = False
    wait_for(lambda: inbox.texts() == ["selama macet"] and not emulator.storage, timeout=8)
    wait_for(lambda: emulator.sent_texts() == ["keluar setelah pulih"], timeout=5)
    assert pool.workers[0].stats["opens"] >= 2 and no_resets(emulator)


def test_hang_right_after_cmgs_resends_that_message_at_most_once(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    first = outbox.add("+6281", "pesan satu")
    second = outbox.add("+6282", "pesan dua")
    emulator.hang_on_send = True
    pool = pool_for([emulator], outbox)
    wait_for(lambda: pool.workers[0].state == "down", timeout=8)
    emulator.hung = False
    wait_for(lambda: {outbox.states()[first], outbox.states()[second]} <= {"sent", "delivered"}, timeout=8)
    texts = emulator.sent_texts()
    assert texts.count("pesan satu") == 2 and texts.count("pesan dua") == 1


def test_reboot_announced_with_rdy_is_followed_by_initialisation(emulator, pool_for) -> None:
    inbox = RecordingInbox()
    pool = pool_for([emulator], inbox=inbox)
    emulator.reboot()
    wait_for(lambda: pool.workers[0].stats["inits"] >= 2 and emulator.cmgf == 0 and emulator.cnmi[1] == 1)
    emulator.deliver(pdu.encode_deliver("+6281", "setelah reboot", STAMP))
    wait_for(lambda: inbox.texts() == ["setelah reboot"])
    assert pool.workers[0].stats["opens"] == 1 and no_resets(emulator)


def test_silent_reboot_is_noticed_by_the_health_check(emulators, pool_for) -> None:
    emu = emulators("huawei-e173")  # says nothing when it restarts
    inbox = RecordingInbox()
    pool = pool_for([emu], inbox=inbox)
    emu.reboot()
    wait_for(lambda: pool.workers[0].stats["inits"] >= 2, timeout=4)
    emu.deliver(pdu.encode_deliver("+6281", "diam-diam", STAMP))
    wait_for(lambda: inbox.texts() == ["diam-diam"])
    assert no_resets(emu)


def test_unplugged_modem_is_reopened_on_the_same_path_with_backoff(emulator, pool_for) -> None:
    inbox, outbox = RecordingInbox(), RecordingOutbox()
    pool = pool_for([emulator], outbox, inbox)
    emulator.unplug()
    wait_for(lambda: pool.workers[0].state == "down", timeout=4)
    item = outbox.add("+6281", "setelah dicolok lagi")
    import time

    time.sleep(1.0)
    assert outbox.states()[item] == "pending"
    attempts_while_gone = pool.workers[0].stats["opens"]
    emulator.replug()
    emulator.deliver(pdu.encode_deliver("+6282", "tersimpan", STAMP))
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered") and inbox.texts() == ["tersimpan"],
             timeout=6)
    assert attempts_while_gone == 1, "opening a missing port does not count as an open"
    assert emulator.sent_texts() == ["setelah dicolok lagi"] and no_resets(emulator)


def test_sim_busy_for_long_after_power_up_recovers_without_reset(emulators, pool_for) -> None:
    emu = emulators("wavecom")
    emu.sim_busy_left = 6
    inbox = RecordingInbox()
    pool_for([emu], inbox=inbox)
    emu.deliver(pdu.encode_deliver("+6281", "akhirnya", STAMP))
    wait_for(lambda: inbox.texts() == ["akhirnya"])
    assert no_resets(emu)


def test_reassembly_clock_is_the_injected_clock(emulator, pool_for, clock) -> None:
    inbox = RecordingInbox()
    pool = pool_for([emulator], inbox=inbox)
    from .emulator import deliver_pdus

    emulator.deliver(deliver_pdus("+6281", "q" * 200, STAMP)[1])
    wait_for(lambda: pool.workers[0].reassembler.waiting == 1)
    clock.advance(timedelta(minutes=9))
    wait_for(lambda: pool.workers[0].stats["drains"] >= 3)
    assert inbox.messages == []
    clock.advance(timedelta(minutes=2))
    wait_for(lambda: inbox.messages)
    assert inbox.messages[0].incomplete
