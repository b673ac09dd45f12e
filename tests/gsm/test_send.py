"""Sending: the right coding and parts, retries that never duplicate, permanent failures with a reason."""

from __future__ import annotations

import pytest

from absensi.drivers.gsm import pdu
from absensi.engine.messages import Channel

from .conftest import FAST, wait_for
from .fakes import RecordingInbox, RecordingOutbox


def test_short_gsm7_message_is_one_part_with_a_status_report_request(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281234567890", "Ananda Budi tidak hadir hari ini (alpa).")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    assert len(emulator.sent) == 1
    submit = emulator.sent[0].submit
    assert (submit.recipient, submit.coding, submit.status_report) == ("+6281234567890", pdu.GSM7, True)
    assert outbox.rows[item].native_id == f"{emulator.imsi[-10:]}/{emulator.sent[0].reference:03d}"


def test_unicode_goes_as_ucs2_and_long_text_in_linked_parts(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    text = "Terima kasih 🙏 — Bu Siti. " * 6
    item = outbox.add("081234567890", text)
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    submits = [s.submit for s in emulator.sent]
    assert {s.coding for s in submits} == {pdu.UCS2} and len(submits) == 3
    assert [s.concat.seq for s in submits] == [1, 2, 3] and len({s.concat.ref for s in submits}) == 1
    assert "".join(s.text for s in submits) == text
    assert "AT+CMMS=1" in emulator.commands
    assert outbox.rows[item].native_id.count(",") == 2


def test_references_of_ten_parts_fit_the_outbox_column(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "w" * 153 * 10)
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    assert len(emulator.sent) == 10 and len(outbox.rows[item].native_id) <= 200


def test_transient_errors_are_retried_without_duplicates(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    emulator.send_errors = [500, 42, 38]
    item = outbox.add("+6281", "coba lagi")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"), timeout=5)
    assert emulator.sent_texts() == ["coba lagi"]
    assert len(outbox.rows[item].reasons) == 3 and "congestion" in outbox.rows[item].reasons[1]


def test_permanent_error_fails_the_row_with_its_reason_and_the_queue_moves_on(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    emulator.send_errors = [28]
    bad = outbox.add("+6200", "nomor salah")
    good = outbox.add("+6281", "nomor benar")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[good] in ("sent", "delivered"))
    assert outbox.states()[bad] == "failed"
    assert "unidentified subscriber" in outbox.rows[bad].reasons[-1]
    assert emulator.sent_texts() == ["nomor benar"]


def test_retries_stop_after_max_attempts(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    emulator.send_errors = [500] * 20
    item = outbox.add("+6281", "tidak pernah")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] == "failed", timeout=5)
    assert len(outbox.rows[item].claims) == FAST.policy.max_attempts
    assert "gave up after 8 attempts" in outbox.rows[item].reasons[-1]
    assert emulator.sent == []


def test_failure_in_the_middle_of_a_multipart_resumes_without_resending_parts(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    text = "".join(f"baris {n:03d}. " for n in range(40))  # 3 parts
    item = outbox.add("+6281", text)

    original = emulator.submit

    def flaky(length, body):  # second part fails once with congestion
        if len(emulator.sent) == 1 and not getattr(flaky, "done", False):
            flaky.done = True
            return emulator.final("+CMS ERROR: 42")
        return original(length, body)

    emulator.submit = flaky
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"), timeout=5)
    seqs = [s.submit.concat.seq for s in emulator.sent]
    assert seqs == [1, 2, 3]
    assert "".join(s.submit.text for s in emulator.sent) == text


def test_recipient_that_is_no_phone_number_fails_at_once(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    bad = outbox.add("TELKOMSEL", "balasan ke pengirim alfanumerik")
    good = outbox.add("081234567890", "ke nomor nasional")
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[good] in ("sent", "delivered"))
    assert outbox.states()[bad] == "failed" and "not a phone number" in outbox.rows[bad].reasons[0]
    assert [s.submit.recipient for s in emulator.sent] == ["081234567890"]


def test_too_long_message_fails_with_reason(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "x" * 153 * 11)
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] == "failed")
    assert "11 SMS parts" in outbox.rows[item].reasons[0] and emulator.sent == []


def test_no_network_holds_sends_until_it_returns(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    emulator.registered = False
    pool = pool_for([emulator], outbox)
    wait_for(lambda: pool.workers[0].state == "no-network")
    item = outbox.add("+6281", "tunggu sinyal")
    wait_for(lambda: pool.workers[0].stats["inits"] >= 1)
    assert outbox.states()[item] == "pending" and emulator.sent == []
    emulator.registered = True
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"), timeout=5)
    assert emulator.sent_texts() == ["tunggu sinyal"]


def test_no_network_service_on_send_holds_the_modem_instead_of_burning_the_queue(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    pool = pool_for([emulator], outbox)
    wait_for(lambda: pool.workers[0].state == "ready")
    emulator.registered = False  # the network goes away between health checks: +CMGS says 331
    items = [outbox.add("+6281", f"antri {n}") for n in range(5)]
    wait_for(lambda: pool.workers[0].state == "no-network")
    assert any("no network service" in r for i in items for r in outbox.rows[i].reasons)
    assert sum(len(outbox.rows[i].claims) for i in items) <= 1, "one failed send, not the whole queue"
    emulator.registered = True
    wait_for(lambda: all(outbox.states()[i] in ("sent", "delivered") for i in items), timeout=5)
    assert sorted(emulator.sent_texts()) == [f"antri {n}" for n in range(5)]


def test_crash_between_cmgs_and_the_outbox_means_at_most_one_resend(emulator, pool_for, clock) -> None:
    outbox = RecordingOutbox()
    item = outbox.add("+6281", "sekali lagi paling banyak")
    outbox.crash_on_sent = True
    first = pool_for([emulator], outbox)
    wait_for(outbox.crashed.is_set, what="the crash")
    assert len(emulator.sent) == 1 and outbox.states()[item] == "sending"
    outbox.crash_on_sent = False
    outbox.release.set()
    first.stop()
    pool_for([emulator], outbox)  # restart: recover hands the item out once more
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    assert emulator.sent_texts() == ["sekali lagi paling banyak"] * 2
    outbox.rows[item].state = "sending"  # and a second crash on the same item...
    outbox.recover(Channel.SMS, clock())
    assert outbox.states()[item] == "failed", "...never a third send"


def test_a_long_sms_resumed_after_a_crash_sends_only_the_parts_no_modem_accepted(emulator, pool_for) -> None:
    from dataclasses import replace

    outbox = RecordingOutbox()
    text = "x" * 153 + "y" * 153 + "z" * 20
    item = outbox.add("+6281", text)
    # a run that died after another SIM had accepted part 1 (its ref is in the row; the part on the air)
    outbox.rows[item].item = replace(outbox.rows[item].item, parts_sent=("9999999999/017",))
    pool_for([emulator], outbox)
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    assert [s.submit.concat.seq for s in emulator.sent] == [2, 3], "part 1 is never sent twice"
    assert outbox.rows[item].native_id.startswith("9999999999/017,")


class WorkerTime:
    """The worker module's `time`, for pacing: a monotonic clock that moves only when told or slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_send_rate_spaces_parts_by_the_interval_counting_the_time_spent_sending(monkeypatch) -> None:
    """The pacing itself, on a clock the test moves (a wall-clock measurement would fail under load)."""
    from absensi.drivers.gsm import ModemPool, worker

    pool = ModemPool(["/dev/no-modem"], RecordingInbox(), RecordingOutbox(), settings=FAST, send_rate_per_min=300)
    (paced,) = pool.workers  # 300 parts a minute: one every 0.2 s
    clock = WorkerTime()
    monkeypatch.setattr(worker, "time", clock)
    monkeypatch.setattr(paced, "_sleep", clock.sleep)
    paced._pace()  # the first part goes at once
    paced._pace()  # the next one right after waits the whole interval
    clock.now += 0.15  # that part took 0.15 s to send: only the rest is waited
    paced._pace()
    clock.now += 1.0  # a slow send: the next part goes at once
    paced._pace()
    assert clock.slept == pytest.approx([0.2, 0.05])
    unpaced = ModemPool(["/dev/no-modem"], RecordingInbox(), RecordingOutbox(), settings=FAST).workers[0]
    monkeypatch.setattr(unpaced, "_sleep", clock.sleep)
    unpaced._pace()
    unpaced._pace()
    assert clock.slept == pytest.approx([0.2, 0.05]), "no rate: never waits"


def test_a_rate_limited_modem_sends_every_message_in_order(emulator, pool_for) -> None:
    outbox = RecordingOutbox()
    for n in range(3):
        outbox.add("+6281", f"pelan {n}")
    pool_for([emulator], outbox, send_rate_per_min=300)
    wait_for(lambda: len(emulator.sent) == 3, timeout=10)
    assert emulator.sent_texts() == ["pelan 0", "pelan 1", "pelan 2"]
