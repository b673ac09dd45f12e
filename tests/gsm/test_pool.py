"""Several modems: work spread over the healthy ones, a dead one's work taken over, inbound from all."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from absensi.drivers.gsm import ModemPool, pdu

from .conftest import wait_for
from .fakes import RecordingInbox, RecordingOutbox

STAMP = datetime(2026, 11, 28, 7, 15, tzinfo=UTC)


def test_outbound_is_spread_over_modems_and_each_message_sent_once(emulators, pool_for) -> None:
    emus = [emulators("sim800"), emulators("huawei-e173")]
    for emu in emus:
        emu.send_delay = 0.05
    outbox = RecordingOutbox()
    for n in range(16):
        outbox.add(f"+62811{n:04d}", f"pesan {n}")
    pool_for(emus, outbox)
    wait_for(lambda: all(s in ("sent", "delivered") for s in outbox.states().values()), timeout=8)
    texts = Counter(t for emu in emus for t in emu.sent_texts())
    assert set(texts) == {f"pesan {n}" for n in range(16)} and set(texts.values()) == {1}
    assert all(len(emu.sent) >= 3 for emu in emus), [len(e.sent) for e in emus]


def test_dead_modem_work_is_taken_by_the_others(emulators, pool_for) -> None:
    good, bad = emulators("sim800"), emulators("quectel-ec25")
    outbox = RecordingOutbox()
    pool = pool_for([bad, good], outbox)
    wait_for(lambda: all(w.state == "ready" for w in pool.workers))
    bad.hang_on_send = True
    good.send_delay = 0.2  # so that the bad modem surely takes one
    for n in range(6):
        outbox.add("+6281", f"n{n}")
    wait_for(lambda: all(s in ("sent", "delivered") for s in outbox.states().values()), timeout=10)
    sent = Counter(good.sent_texts() + bad.sent_texts())
    assert set(sent) == {f"n{n}" for n in range(6)}
    assert sum(sent.values()) <= 7, "only the message in flight on the hung modem may go twice"
    assert len(bad.sent) == 1 and pool.workers[0].state != "ready" and len(good.sent) >= 5


def test_a_hung_modem_does_not_stop_the_others_from_receiving(emulators, pool_for) -> None:
    a, b = emulators("sim800"), emulators("wavecom")
    inbox = RecordingInbox()
    pool = pool_for([a, b], inbox=inbox)
    wait_for(lambda: all(w.state == "ready" for w in pool.workers))
    a.hung = True
    b.deliver(pdu.encode_deliver("+6282", "dari modem b", STAMP))
    wait_for(lambda: inbox.texts() == ["dari modem b"], timeout=3)


def test_inbound_from_all_modems(emulators, pool_for) -> None:
    emus = [emulators(p) for p in ("sim800", "huawei-e173", "quectel-ec25", "wavecom")]
    inbox = RecordingInbox()
    pool_for(emus, inbox=inbox)
    for n, emu in enumerate(emus):
        emu.deliver(pdu.encode_deliver(f"+628{n}", f"dari {emu.profile.name}", STAMP))
    wait_for(lambda: len(inbox.messages) == 4, timeout=6)
    assert sorted(inbox.texts()) == sorted(f"dari {e.profile.name}" for e in emus)


def test_pool_needs_a_port() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ModemPool([], RecordingInbox(), RecordingOutbox())
