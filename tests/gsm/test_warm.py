"""A modem started before the service (`warm.py`, `absensi run`'s first step) is taken over by its worker:
one initialisation, nothing it heard meanwhile lost, its failure handled as the worker's own first attempt."""

from __future__ import annotations

import threading

import pytest
import serial

from absensi.drivers.gsm import ModemPool, pdu
from absensi.drivers.gsm.link import Unsolicited
from absensi.drivers.gsm.warm import WarmModem

from .conftest import FAST, wait_for
from .fakes import RecordingInbox, RecordingOutbox
from .test_pool import STAMP


def warm(emu, pin: str | None = None) -> WarmModem:  # type: ignore[no-untyped-def]
    return WarmModem(emu.port, pin, FAST).start()


def pool_with(emu, started: WarmModem, clock, inbox=None) -> ModemPool:  # type: ignore[no-untyped-def]
    pool = ModemPool([emu.port], inbox or RecordingInbox(), RecordingOutbox(), clock=clock, settings=FAST,
                     warm={emu.port: started})
    pool.start()
    return pool


def test_the_worker_takes_the_started_modem_over_instead_of_starting_it_again(emulators, clock) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("huawei-e173")  # SIM busy twice after the port opens
    started = warm(emu)
    wait_for(lambda: started.ready_at > 0, what="the early start ended")
    emu.deliver(pdu.encode_deliver("+6281", "masuk sebelum layanan siap", STAMP))  # +CMTI heard early
    inbox = RecordingInbox()
    pool = pool_with(emu, started, clock, inbox)
    try:
        worker = pool.workers[0]
        wait_for(lambda: worker.state == "ready" and inbox.texts() == ["masuk sebelum layanan siap"])
        assert worker.modem is started.modem
        assert emu.commands.count("ATE0") == 1 and emu.commands.count("AT+CMGF=0") == 1, emu.commands
        assert worker.stats["opens"] == 1 and worker.stats["inits"] == 1
        assert worker.health().imsi not in (None, "?")
    finally:
        pool.stop()


def test_a_modem_that_restarts_between_its_early_start_and_the_take_over_is_initialised_again(emulators, clock) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800")
    started = warm(emu)
    wait_for(lambda: started.ready_at > 0, what="the early start ended")
    emu.reboot()  # settings lost (text mode, no notifications) while no worker serves it yet
    pool = pool_with(emu, started, clock)
    try:
        worker = pool.workers[0]
        wait_for(lambda: worker.stats["inits"] >= 2 and worker.state == "ready", what="initialised again")
        assert emu.cmgf == 0 and emu.cnmi[1] == 1
    finally:
        pool.stop()


def test_a_failed_early_start_is_the_workers_first_failure_and_a_refused_pin_is_not_tried_again(emulators, clock) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("sim800", pin="4321")
    started = warm(emu, pin="0000")
    pool = pool_with(emu, started, clock)
    try:
        worker = pool.workers[0]
        wait_for(lambda: worker.state == "sim-locked", what="the SIM reported locked")
        assert "refused the configured PIN" in (worker.health().last_error or "")
        opens = worker.stats["opens"]
        wait_for(lambda: worker.stats["opens"] > opens, timeout=5, what="the worker tried again")
        assert emu.pin_attempts == ["0000"]  # the modem's memory of the refusal went to the worker with it
    finally:
        pool.stop()


def test_a_started_modem_no_worker_takes_is_closed(emulators) -> None:  # type: ignore[no-untyped-def]
    emu = emulators("huawei-e173")
    started = warm(emu)
    wait_for(lambda: emu.commands, what="the port opened")
    started.close()  # e.g. the rules had an error: the service never got to its drivers
    assert not started.modem.is_open
    assert not any(t.name == f"gsm-warm:{emu.port}" for t in threading.enumerate())


def test_lines_heard_before_the_take_over_come_first_and_a_start_error_is_raised_to_the_taker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    started = WarmModem(str(tmp_path / "no-such-port"), None, FAST).start()
    got: list[tuple[float, Unsolicited]] = []
    started._event(Unsolicited("+CMTI: \"SM\",3"))  # as the link's reader would deliver it
    with pytest.raises(serial.SerialException):
        started.take(got.append)
    started._event(Unsolicited("+CMTI: \"SM\",4"))
    assert [event.line for _, event in got] == ['+CMTI: "SM",3', '+CMTI: "SM",4']
    assert got[0][0] <= got[1][0]  # each keeps the moment it came
