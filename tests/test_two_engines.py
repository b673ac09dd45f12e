"""Two `absensi run` on one database (SPEC §8: one engine at a time; a standby takes over within 10 s).

Each process has its own emulated modem on a real pty; both are real subprocesses. The first is the
engine (`absensi status --json` names its pid), the second prints that it is a standby and its modem
driver still serves: SMS go to both modems and both drivers commit them to the shared inbox. Then, three
times, the engine is killed with SIGKILL while its modem is sending, and the standby must take over
(status names it) within 10 s of the kill; the killed one comes back as the new standby. After the last
kill the survivor works alone and must finish every SMS, the dead engine's interrupted one included;
then the other comes back to read what its SIM still holds, and at the end:

- 0 lost: every SMS put on either SIM is in the inbox exactly once, handled;
- 0 handled twice: no inbox row has the same reply twice in the outbox, and no part reached the modems
  (combined) more often than its rows asked for, except one repeat per kill of the part in hand.

`ABSENSI_KILL_SEED` replays the traffic; `ABSENSI_KILL_REPORT=<file.json>` collects the figures.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path

from gsm.procs import (
    FakeTelegram,
    Service,
    TimedModem,
    Traffic,
    describe,
    diagnose,
    judge,
    report_figures,
    status_json,
    wait_alive,
    wait_for,
)
from sqlalchemy import func, select

from absensi.engine.store import Store
from absensi.engine.store.lease import current_holder
from absensi.engine.store.models import InboxRow, OutboxRow

ROUNDS = 3
TAKEOVER_LIMIT = 10.0  # SPEC §8


def test_two_engines_one_leads_standby_takes_over_nothing_lost_or_doubled(db_url: str, tmp_path: Path) -> None:
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    seed = int(os.environ.get("ABSENSI_KILL_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"\ntwo engines ({backend}): seed {seed}")
    rng = random.Random(seed)
    began = time.monotonic()
    store = Store(db_url)
    modems = [TimedModem(tmp_path, name=n, seed=rng.randrange(1_000_000)).start() for n in ("ma", "mb")]
    traffic = Traffic(random.Random(rng.random()))
    telegram = FakeTelegram(db_url, random.Random(rng.random())).start()
    services = [Service([m.port], db_url, tmp_path, f"run-{m.name}") for m in modems]
    kills: list[float] = []
    takeovers: list[float] = []

    def explain() -> str:  # a wait that times out says where every SMS stands (see `diagnose`)
        return diagnose(modems, services, store)

    try:
        # A first: it becomes the engine. Then B: a standby whose driver serves.
        services[0].start()
        services[0].wait_until(lambda: _holder_pid(store) == services[0].pid, 60, "A to take the lease",
                               explain=explain)
        services[1].start()
        services[1].wait_until(lambda: "Engine: standby" in services[1].output() and modems[1].inits() > 0, 60,
                               "B to start as a standby with its modem", explain=explain)
        state = status_json(db_url)
        assert state["engine"].endswith(f":{services[0].pid}") and state["engine_alive"], state
        assert "Engine: standby" not in services[0].output()

        # Both drivers fill the shared inbox; the engine handles what either received.
        for modem in modems:
            traffic.burst(modem, 4)
        wait_alive(services, lambda: all(m.idle() for m in modems) and _handled(store, traffic), 60,
                   "both modems' SMS to be in the inbox and handled", explain=explain)

        leader, standby = 0, 1
        for round_ in range(ROUNDS):
            for modem in modems:
                traffic.burst(modem, rng.randint(3, 6))
            wait_for(lambda i=leader: modems[i].handing_since is not None, 30, "the engine's modem to send",
                     every=0.005, explain=explain)
            time.sleep(rng.uniform(0.0, 0.3))
            killed = services[leader].kill()
            kills.append(killed)
            new = services[standby].pid
            services[standby].wait_until(lambda p=new: _holder_pid(store) == p, 30, "the standby to take over",
                                         explain=explain)
            takeovers.append(time.monotonic() - killed)
            state = status_json(db_url)
            assert state["engine"].endswith(f":{new}"), state
            if round_ < ROUNDS - 1:  # the killed one comes back, as the standby now
                inits = modems[leader].inits()
                services[leader].start()
                services[leader].wait_until(
                    lambda i=leader, n=inits: "Engine: standby" in services[i].output() and modems[i].inits() > n,
                    60, "the restarted process to stand by", explain=explain)
                leader, standby = standby, leader
        survivor, dead = standby, leader

        # The survivor alone: the rest of the traffic, and the SMS the dead engine was sending.
        traffic.burst(modems[survivor], len(traffic.queue))
        wait_alive([services[survivor]], lambda: modems[survivor].idle() and _outbox_done(store) and telegram.idle(),
                   300, "the surviving process to finish every SMS, the dead engine's interrupted one included", 0.5,
                   explain)
        # The dead one's SIM still holds what arrived after the kill: it comes back to read it.
        inits = modems[dead].inits()
        services[dead].start()
        services[dead].wait_until(lambda: modems[dead].inits() > inits, 60, "the killed one's modem to be read again",
                                  explain=explain)
        wait_alive(services, lambda: all(m.idle() for m in modems) and telegram.idle() and _outbox_done(store)
                   and _handled(store, traffic, telegram.replies), 300, "everything to be handled and sent", 0.5,
                   explain)
        time.sleep(1.0)
        assert _outbox_done(store) and _handled(store, traffic, telegram.replies)
        for service in services:
            assert service.stop() == 0, service.output()[-3000:]
        ledger = judge(store, traffic, modems, kills, telegram.replies)
    finally:
        for service in services:
            service.close()
        telegram.stop()
        for modem in modems:
            modem.close()
        store.close()

    figures = {
        "seed": seed,
        "kills": len(kills),
        "takeover_s": {"min": round(min(takeovers), 2), "median": round(statistics.median(takeovers), 2),
                       "max": round(max(takeovers), 2)},
        "sms_in": ledger.inbound,
        "sms_in_per_modem": {m.name: sum(1 for name, _ in traffic.delivered if name == m.name) for m in modems},
        "telegram_in": len(telegram.replies),
        "lost": len(ledger.lost),
        "handled_twice": len(ledger.handled_twice),
        "sms_out_rows": ledger.outbox_sms,
        "parts_received_by_modems": {m.name: len(m.sent) for m in modems},
        "extra_copies": ledger.extra_copies,
        "extra_copies_without_a_kill": len(ledger.unexplained),
        "wall_s": round(time.monotonic() - began, 1),
    }
    print(f"two engines ({backend}): " + json.dumps(figures))
    report_figures("two_engines", backend, figures)

    assert all(t < TAKEOVER_LIMIT for t in takeovers), takeovers
    assert not ledger.lost, ledger.lost
    assert not ledger.not_done, ledger.not_done
    assert not ledger.handled_twice, ledger.handled_twice
    assert not ledger.missing, ledger.missing
    assert not ledger.unexplained, f"repeats no kill explains: {describe(ledger.unexplained)}"
    assert ledger.extra_copies <= len(kills)
    assert not ledger.waiting and not ledger.failed, (ledger.waiting, ledger.failed)
    assert all(len(m.sent) > 0 for m in modems), "both modems sent"


def _holder_pid(store: Store) -> int | None:
    """The pid `absensi status` names as the engine (read the same way, every few milliseconds)."""
    lease = current_holder(store)
    return int(lease.holder.rpartition(":")[2]) if lease is not None else None


def _handled(store: Store, traffic: Traffic, replies: list[str] = ()) -> bool:
    with store.unit() as session:
        rows = session.scalar(select(func.count()).select_from(InboxRow)) or 0
        new = session.scalar(select(func.count()).where(InboxRow.status == "new")) or 0
    return rows >= len(traffic.delivered) + len(replies) and new == 0


def _outbox_done(store: Store) -> bool:
    with store.unit() as session:
        return session.scalar(select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))) == 0
