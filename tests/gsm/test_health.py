"""What `ModemPool.health()` shows of each modem under each fault knob of the emulator, and the balance
checks the workers run between sends (issue 12, SPEC §9)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from absensi.drivers.gsm import ModemHealth, Modems, UssdFailed
from absensi.drivers.gsm.health import best_registration, rssi_bars, rssi_dbm
from absensi.drivers.gsm.pdu import encode_deliver

from .conftest import FAST, wait_for
from .emulator import ModemEmulator
from .fakes import RecordingInbox, RecordingOutbox
from .profiles import PROFILES

STAMP = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)


def health_of(pool, index: int = 0) -> ModemHealth:
    return pool.health()[index]


def test_a_ready_modem_shows_everything_and_serialises(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    assert isinstance(pool, Modems)
    wait_for(lambda: health_of(pool).checked_at is not None)
    h = health_of(pool)
    assert (h.port, h.state, h.operator, h.mcc_mnc, h.imsi) == (emu.port, "ready", "TELKOMSEL", "51010", emu.imsi)
    assert (h.signal_rssi, h.signal_dbm, h.signal_bars) == (18, -77, 3)
    assert (h.registration, h.registered, h.roaming) == ("home network", True, False)
    assert h.network_states == {"CREG": 1, "CGREG": 1}
    assert (h.sim_used, h.sim_total) == (0, 30)
    assert h.last_send is None and h.last_receive is None and h.pulsa is None
    assert (h.sends_failed_today, h.consecutive_failures, h.last_error) == (0, 0, None)
    data = json.loads(json.dumps(h.as_dict()))
    assert data["port"] == emu.port and data["checked_at"].endswith("+00:00") and data["network_states"]["CREG"] == 1


def test_lte_registration_counts_for_sms(emulators, pool_for) -> None:
    emu = emulators("huawei-e3372")  # +CREG 0,0 but +CEREG 0,1
    pool = pool_for([emu], wait_ready=True)
    h = health_of(pool)
    assert h.registered and h.network_states["CREG"] == 0 and h.network_states["CEREG"] == 1


def test_send_and_receive_times(emulators, pool_for) -> None:
    emu = emulators("sim800")
    outbox, inbox = RecordingOutbox(), RecordingInbox()
    pool = pool_for([emu], outbox, inbox, wait_ready=True)
    item = outbox.add("+6281", "pesan keluar")
    wait_for(lambda: outbox.states()[item] in ("sent", "delivered"))
    emu.deliver(encode_deliver("+6282", "pesan masuk", STAMP))
    wait_for(lambda: inbox.texts() == ["pesan masuk"])
    h = health_of(pool)
    assert h.last_send is not None and h.last_receive is not None and h.last_receive >= h.last_send


@pytest.mark.parametrize(("stat", "registration", "state"), [
    (0, "not registered", "no-network"), (2, "searching", "no-network"), (3, "denied", "no-network"),
    (5, "roaming", "ready"),
])
def test_network_knob(emulators, pool_for, stat, registration, state) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.network_state = stat
    wait_for(lambda: health_of(pool).registration == registration, what=registration)
    h = health_of(pool)
    assert h.state == state and h.registered == (stat == 5) and h.roaming == (stat == 5)
    assert h.network_states == {"CREG": stat, "CGREG": stat}
    assert h.signal_rssi == (18 if stat == 5 else None)  # +CSQ: 99 off the network


def test_weak_signal(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.rssi = 5
    wait_for(lambda: health_of(pool).signal_rssi == 5)
    assert (health_of(pool).signal_dbm, health_of(pool).signal_bars) == (-103, 1)


def test_sim_full(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.sim_full = True
    wait_for(lambda: health_of(pool).sim_used == 30)
    assert health_of(pool).sim_total == 30


def test_cms_errors_count_as_failures_today_and_in_a_row(emulators, pool_for) -> None:
    emu = emulators("sim800")
    outbox = RecordingOutbox()
    pool = pool_for([emu], outbox, wait_ready=True)
    emu.always_send_error = 500
    item = outbox.add("+6281", "gagal terus")
    wait_for(lambda: outbox.states()[item] == "failed", timeout=8)
    h = health_of(pool)
    assert h.sends_failed_today == h.consecutive_failures == FAST.policy.max_attempts
    assert "+CMS ERROR: 500" in (h.last_error or "") and h.last_error_at is not None
    emu.always_send_error = None
    ok = outbox.add("+6281", "berhasil")
    wait_for(lambda: outbox.states()[ok] in ("sent", "delivered"))
    h = health_of(pool)
    assert h.consecutive_failures == 0 and h.sends_failed_today == FAST.policy.max_attempts
    assert h.last_send is not None


def test_a_permanent_refusal_counts_once(emulators, pool_for) -> None:
    emu = emulators("sim800")
    outbox = RecordingOutbox()
    pool = pool_for([emu], outbox, wait_ready=True)
    emu.send_errors = [21]
    item = outbox.add("+6281", "ditolak")
    wait_for(lambda: outbox.states()[item] == "failed")
    assert (health_of(pool).sends_failed_today, health_of(pool).consecutive_failures) == (1, 1)


def test_failures_today_start_afresh_on_a_new_day(clock, emulators, pool_for) -> None:
    from datetime import timedelta
    emu = emulators("sim800")
    outbox = RecordingOutbox()
    pool = pool_for([emu], outbox, wait_ready=True)
    emu.send_errors = [21]
    item = outbox.add("+6281", "ditolak")
    wait_for(lambda: outbox.states()[item] == "failed")
    assert health_of(pool).sends_failed_today == 1
    clock.advance(timedelta(days=1))
    assert health_of(pool).sends_failed_today == 0 and health_of(pool).consecutive_failures == 1


def test_a_hung_modem_shows_hung_then_ready(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.hung = True
    wait_for(lambda: health_of(pool).state == "hung", timeout=8, what="hung")
    assert "no answer" in (health_of(pool).last_error or "")
    emu.hung = False
    wait_for(lambda: health_of(pool).state == "ready", timeout=8, what="ready again")


def test_an_unplugged_modem_shows_reopening_then_ready(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.unplug()
    wait_for(lambda: health_of(pool).state == "reopening", timeout=8, what="reopening")
    emu.replug()
    wait_for(lambda: health_of(pool).state == "ready", timeout=8, what="ready again")


def test_health_of_a_stopped_pool(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    pool.stop()
    assert health_of(pool).state == "stopped"


# ------------------------------------------------------------------------------------------ pulsa


@pytest.mark.parametrize("profile", ["huawei-e173", "huawei-e3372", "sim800", "quectel-ec25", "wavecom"])
def test_balance_check_fills_the_pulsa(emulators, pool_for, profile) -> None:
    emu = emulators(profile)
    pool = pool_for([emu], wait_ready=True)
    [future] = pool.check_balance()
    answer = future.result(timeout=10)
    assert answer.text == "Sisa pulsa Anda Rp 12.500. Berlaku s.d. 31-12-2026" and emu.ussd_requests == ["*888#"]
    h = health_of(pool)
    assert (h.pulsa, h.pulsa_text) == (12500, answer.text) and h.pulsa_at is not None


def test_no_sms_goes_out_while_a_ussd_session_is_open(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.delay = 0.6
    outbox = RecordingOutbox()
    pool = pool_for([emu], outbox, wait_ready=True)
    [future] = pool.check_balance("*888#")
    items = [outbox.add("+6281", f"antre {n}") for n in range(3)]
    assert future.result(timeout=10).status == 0
    wait_for(lambda: all(outbox.states()[i] in ("sent", "delivered") for i in items))
    assert emu.sms_during_ussd == 0


def test_a_sms_received_during_the_session_is_taken(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.delay = 0.6
    inbox = RecordingInbox()
    pool = pool_for([emu], inbox=inbox, wait_ready=True)
    [future] = pool.check_balance()
    wait_for(lambda: emu.ussd_pending)
    emu.deliver(encode_deliver("+6282", "masuk saat USSD", STAMP))
    wait_for(lambda: inbox.texts() == ["masuk saat USSD"])
    assert future.result(timeout=10).text.startswith("Sisa pulsa")


def test_an_unsupported_code_fails_the_future_and_keeps_the_old_pulsa(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True, settings=replace(FAST, ussd_packed=False))
    pool.check_balance()[0].result(timeout=10)
    emu.ussd.unsupported = True
    with pytest.raises(UssdFailed, match="not supported"):
        pool.check_balance()[0].result(timeout=10)
    h = health_of(pool)
    assert h.pulsa == 12500 and "not supported" in (h.last_error or "")


def test_no_answer_times_out(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.silent = True
    pool = pool_for([emu], wait_ready=True, settings=replace(FAST, ussd_timeout=0.5, ussd_packed=False))
    with pytest.raises(UssdFailed, match="no answer"):
        pool.check_balance()[0].result(timeout=10)
    assert emu.ussd_cancels == 1


def test_an_unknown_operator_needs_the_code(tmp_path, pool_for) -> None:
    profile = replace(PROFILES["sim800"], operator="VODAFONE DE", imsi="262020000000001")
    emu = ModemEmulator(tmp_path, profile, name="m0").start()
    try:
        pool = pool_for([emu], wait_ready=True)
        with pytest.raises(UssdFailed, match="operator is unknown"):
            pool.check_balance()[0].result(timeout=10)
        emu.ussd.text = "Guthaben: 5,00 EUR"
        answer = pool.check_balance("*100#", r"Guthaben: (?P<amount>[\d,]+)")[0].result(timeout=10)
        assert answer.text == "Guthaben: 5,00 EUR" and health_of(pool).pulsa == 5
    finally:
        emu.close()


def test_the_operator_pattern_that_finds_nothing_keeps_the_text(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.text = "Maaf, layanan sedang sibuk"
    pool = pool_for([emu], wait_ready=True)
    pool.check_balance()[0].result(timeout=10)
    h = health_of(pool)
    assert h.pulsa is None and h.pulsa_text == "Maaf, layanan sedang sibuk" and "no balance" in (h.last_error or "")


def test_a_network_menu_nobody_asked_for_is_closed(emulators, pool_for) -> None:
    emu = emulators("sim800")
    pool = pool_for([emu], wait_ready=True)
    emu.ussd_menu_open = True
    emu._unsolicited('+CUSD: 1,"Promo! Balas 1 untuk daftar",15')
    wait_for(lambda: emu.ussd_cancels == 1)
    assert health_of(pool).state == "ready"


def test_a_hang_during_the_session_fails_the_future(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.delay = 0.5
    pool = pool_for([emu], wait_ready=True, settings=replace(FAST, ussd_timeout=0.8, ussd_packed=False))
    future = pool.check_balance()[0]
    wait_for(lambda: emu.ussd_pending)
    emu.hung = True
    with pytest.raises(UssdFailed):
        future.result(timeout=10)
    emu.hung = False
    wait_for(lambda: health_of(pool).state == "ready", timeout=8)


# ------------------------------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(("rssi", "dbm", "bars"), [
    (0, -113, 0), (1, -111, 0), (2, -109, 1), (9, -95, 1), (10, -93, 2), (14, -85, 2), (15, -83, 3),
    (19, -75, 3), (20, -73, 4), (31, -51, 4), (99, None, None), (None, None, None), (32, None, None),
])
def test_csq_to_dbm_and_bars(rssi, dbm, bars) -> None:
    assert (rssi_dbm(rssi), rssi_bars(rssi)) == (dbm, bars)


@pytest.mark.parametrize(("states", "best"), [
    ({}, None), ({"CREG": 0, "CEREG": 1}, 1), ({"CREG": 2, "CGREG": 3}, 3), ({"CREG": 5, "CGREG": 1}, 1),
    ({"CREG": 0}, 0), ({"CREG": 4, "CGREG": 2}, 2),
])
def test_the_most_telling_registration(states, best) -> None:
    assert best_registration(states) == best


def test_as_dict_gives_json_types_only() -> None:
    h = ModemHealth("/dev/ttyUSB0", last_send=STAMP, failures_day=date(2026, 11, 28), network_states={"CREG": 1})
    data = h.as_dict()
    assert data["last_send"] == "2026-11-28T07:30:00+00:00" and data["failures_day"] == "2026-11-28"
    assert json.loads(json.dumps(data)) == data
    copy = h.copy()
    copy.network_states["CREG"] = 0
    assert h.network_states == {"CREG": 1}


def test_a_balance_check_asked_of_a_stopped_pool_fails_instead_of_waiting_forever(emulators, pool_for) -> None:
    emu = emulators("sim800")
    emu.ussd.silent = True
    pool = pool_for([emu], wait_ready=True)
    in_flight = pool.check_balance()[0]
    wait_for(lambda: emu.ussd_pending)
    queued = pool.check_balance()[0]
    pool.stop()
    for future in (in_flight, queued, pool.check_balance()[0]):
        with pytest.raises(UssdFailed):
            future.result(timeout=5)
