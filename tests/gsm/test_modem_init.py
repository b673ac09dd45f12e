"""Start-up against every quirk profile, over a real pty opened by pyserial."""

from __future__ import annotations

import pytest

from absensi.drivers.gsm.errors import SimLocked
from absensi.drivers.gsm.modem import Modem

from .conftest import FAST
from .profiles import PROFILES


def open_modem(emu, pin=None, events=None) -> Modem:
    modem = Modem(emu.port, FAST, (events if events is not None else []).append, pin=pin)
    modem.open()
    return modem


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_initialises_into_pdu_mode_with_notifications(emulators, profile) -> None:
    emu = emulators(profile)
    modem = open_modem(emu)
    try:
        info = modem.initialise()
    finally:
        modem.close()
    assert emu.cmgf == 0 and not emu.echo
    assert emu.cnmi[1] == 1, "new messages must be stored and announced"
    assert info.registered and info.operator == "TELKOMSEL"
    assert info.model == PROFILES[profile].model and info.imsi == emu.imsi
    assert info.smsc == "+6281100000" and info.storage_total == emu.capacity
    assert not any(c.upper().startswith("AT+CFUN") for c in emu.commands), "start-up never resets the modem"


def test_sim_busy_after_power_up_is_waited_out(emulators) -> None:
    emu = emulators("wavecom")
    emu.sim_busy_left = 4
    modem = open_modem(emu)
    try:
        assert modem.initialise().sim == "READY"
    finally:
        modem.close()
    assert emu.commands.count("AT+CPIN?") >= 3


def test_pin_is_entered_once_from_configuration(emulators) -> None:
    emu = emulators("sim800", pin="4321")
    modem = open_modem(emu, pin="4321")
    try:
        assert modem.initialise().sim == "READY"
    finally:
        modem.close()
    assert emu.pin_attempts == ["4321"]


def test_missing_pin_gives_a_clear_message(emulators) -> None:
    emu = emulators("sim800", pin="4321")
    modem = open_modem(emu)
    try:
        with pytest.raises(SimLocked, match="wants its PIN and none is configured"):
            modem.initialise()
    finally:
        modem.close()
    assert emu.pin_attempts == []


def test_wrong_pin_is_never_tried_twice(emulators) -> None:
    emu = emulators("sim800", pin="4321")
    modem = open_modem(emu, pin="0000")
    try:
        with pytest.raises(SimLocked, match="refused the configured PIN"):
            modem.initialise()
        with pytest.raises(SimLocked, match="rejected before"):
            modem.initialise()
    finally:
        modem.close()
    assert emu.pin_attempts == ["0000"]


def test_puk_locked_sim_is_reported_and_left_alone(emulators) -> None:
    emu = emulators("huawei-e173")
    emu.sim_state = "SIM PUK"
    modem = open_modem(emu, pin="1234")
    try:
        with pytest.raises(SimLocked, match="PUK"):
            modem.initialise()
    finally:
        modem.close()
    assert emu.pin_attempts == []


def test_no_network_does_not_fail_start_up(emulators) -> None:
    emu = emulators("quectel-ec25")
    emu.registered = False
    modem = open_modem(emu)
    try:
        info = modem.initialise()
    finally:
        modem.close()
    assert not info.registered and info.registration == "searching"


def test_lte_only_registration_counts(emulators) -> None:
    emu = emulators("huawei-e3372")  # +CREG says not registered, +CEREG says home network
    modem = open_modem(emu)
    try:
        assert modem.initialise().registered
    finally:
        modem.close()
