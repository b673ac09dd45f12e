"""USSD end to end: `ussd()` on a `Modem` opened by pyserial on the emulator's pty, in every encoding modems
use, and the link's handling of `+CUSD` lines (several lines, before or after `OK`)."""

from __future__ import annotations

import pytest

from absensi.drivers.gsm.at import AtChannel
from absensi.drivers.gsm.link import Link, Unsolicited
from absensi.drivers.gsm.modem import Modem
from absensi.drivers.gsm.ussd import UssdFailed, pack_text, ussd

from .conftest import FAST, wait_for
from .test_link_at import ScriptedPort

BALANCE = "Sisa pulsa Anda Rp 12.500. Berlaku s.d. 31-12-2026"


@pytest.fixture
def opened(emulators):
    modems: list[Modem] = []

    def open_on(profile: str = "sim800", **emu_knobs) -> tuple[object, Modem]:
        emu = emulators(profile)
        for name, value in emu_knobs.items():
            setattr(emu.ussd, name, value)
        modem = Modem(emu.port, FAST, lambda _event: None)
        modem.open()
        modems.append(modem)
        modem.initialise()
        return emu, modem

    yield open_on
    for modem in modems:
        modem.close()


# ------------------------------------------------------------------------------------------ every encoding


@pytest.mark.parametrize(("profile", "knobs", "charset", "how"), [
    ("huawei-e173", {}, None, "gsm7-packed"),  # packed request, packed answer, dcs 15
    ("huawei-e3372", {}, None, "ucs2"),  # UCS-2 hex, dcs 72
    ("sim800", {}, None, "text"),  # plain text in the TE charset (IRA), dcs 15
    ("quectel-ec25", {}, None, "text"),  # plain text, charset GSM
    ("sim800", {}, "UCS2", "ucs2"),  # a 7-bit answer converted into UCS2 hex by the modem, dcs 15
    ("sim800", {}, "HEX", "gsm7-hex"),  # one hex pair per septet, dcs 15
    ("sim800", {"encoding": "packed"}, "IRA", "gsm7-packed"),
    ("sim800", {"encoding": "ucs2-lang"}, None, "ucs2"),  # dcs 0x11: language first
    ("sim800", {"encoding": "8bit"}, None, "8bit"),  # dcs 0x44
    ("wavecom", {"delay": 0.3}, None, "text"),  # the answer some time after OK
    ("sim800", {"inline": True}, None, "text"),  # the answer before OK
])
def test_each_encoding_through_a_real_pty(opened, profile, knobs, charset, how) -> None:
    emu, modem = opened(profile, **knobs)
    answer = ussd(modem, "*888#", timeout=3, charset=charset)
    assert (answer.text, answer.how, answer.status) == (BALANCE, how, 0)
    assert answer.raw.startswith("+CUSD: 0,") and emu.ussd_requests == ["*888#"]
    assert emu.ussd_cancels == 0 and not emu.ussd_busy


def test_a_multiline_answer_comes_whole(opened) -> None:
    text = "Sisa pulsa Rp 7.250\n1 Paket Internet\n2 Cek Kuota, \"promo\"\n3 Keluar"
    _emu, modem = opened("sim800", text=text)
    assert ussd(modem, "*888#", timeout=3).text == text


def test_a_packed_only_stick_gets_the_code_packed_after_refusing_it_plain(opened) -> None:
    emu, modem = opened("huawei-e173")
    answer = ussd(modem, "*888#", timeout=3)
    assert answer.text == BALANCE and answer.packed_request
    assert emu.ussd_raw == ["*888#", pack_text("*888#")] and pack_text("*888#") == "2A1C0E3702"


def test_the_packed_setting_sends_packed_at_once(opened) -> None:
    emu, modem = opened("huawei-e173")
    assert ussd(modem, "*888#", timeout=3, packed=True).text == BALANCE
    assert emu.ussd_raw == ["2A1C0E3702"]


def test_a_menu_is_read_and_cancelled(opened) -> None:
    emu, modem = opened("sim800", status=1, text="Pulsa Rp 5.000\n1 Info\n2 Paket")
    answer = ussd(modem, "*888#", timeout=3)
    assert answer.menu and answer.text.startswith("Pulsa Rp 5.000")
    assert emu.ussd_cancels == 1 and not emu.ussd_busy


def test_an_answer_that_ends_the_session_still_counts(opened) -> None:
    _emu, modem = opened("sim800", status=2, text="Terima kasih. Pulsa Rp 100")
    assert ussd(modem, "*888#", timeout=3).text == "Terima kasih. Pulsa Rp 100"


# ------------------------------------------------------------------------------------------ failures


def test_not_supported_says_so(opened) -> None:
    _emu, modem = opened("sim800", unsupported=True)
    with pytest.raises(UssdFailed, match="not supported") as failure:
        ussd(modem, "*888#", timeout=3, packed=False)
    assert failure.value.status == 4


def test_not_supported_in_auto_mode_tries_packed_then_reports_the_first_failure(opened) -> None:
    emu, modem = opened("sim800", unsupported=True)
    with pytest.raises(UssdFailed, match=r"not supported.*packed: the modem refused") as failure:
        ussd(modem, "*888#", timeout=3)
    assert failure.value.status == 4 and emu.ussd_raw == ["*888#", "2A1C0E3702"]


def test_no_answer_times_out_and_cancels_the_session(opened) -> None:
    emu, modem = opened("sim800", silent=True)
    with pytest.raises(UssdFailed, match="no answer within 1 s"):
        ussd(modem, "*888#", timeout=1)
    assert emu.ussd_cancels == 1 and not emu.ussd_busy


def test_a_cme_error_is_a_clear_failure(opened) -> None:
    _emu, modem = opened("sim800", error="+CME ERROR: 100")
    with pytest.raises(UssdFailed, match=r"refused the USSD request \(\+CME ERROR: 100 \(unknown error\)\)"):
        ussd(modem, "*888#", timeout=3, packed=False)


def test_without_network_the_modem_says_no_network_service(opened) -> None:
    emu, modem = opened("sim800")
    emu.network_state = 3
    with pytest.raises(UssdFailed, match="no network service"):
        ussd(modem, "*888#", timeout=3, packed=False)


def test_a_stale_answer_of_an_abandoned_request_is_not_taken_for_the_new_one(opened) -> None:
    emu, modem = opened("sim800", text="jawaban lama")
    modem.cusd.put('+CUSD: 0,"jawaban lama",15')
    emu.ussd.text = BALANCE
    assert ussd(modem, "*888#", timeout=3).text == BALANCE


def test_not_a_ussd_code() -> None:
    with pytest.raises(ValueError, match="not a USSD code"):
        ussd(Modem("loop://", FAST, lambda _e: None), "*888#; AT+CFUN=1,1", timeout=1)


# ------------------------------------------------------------------------------------------ the link


@pytest.fixture
def wired():
    events: list[Unsolicited] = []
    port = ScriptedPort()
    link = Link(port, events.append, name="test").start()
    yield port, AtChannel(link, default_timeout=0.5), events
    link.close()


def test_link_joins_the_lines_of_one_ussd_answer(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CUSD=1"] = b'\r\nOK\r\n\r\n+CUSD: 1,"Pulsa Rp 5.000\r\n1 Info\n2 Paket",15\r\n^RSSI:17\r\n'
    assert at.command('AT+CUSD=1,"*888#",15') == []
    wait_for(lambda: len(events) == 2)
    assert [e.line for e in events] == ['+CUSD: 1,"Pulsa Rp 5.000\n1 Info\n2 Paket",15', "^RSSI:17"]


def test_link_hands_a_ussd_answer_before_ok_to_the_unsolicited_side(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CUSD=1"] = b'\r\n+CUSD: 0,"Pulsa Rp 5.000",15\r\n\r\nOK\r\n'
    assert at.command('AT+CUSD=1,"*888#",15') == []
    wait_for(lambda: [e.line for e in events] == ['+CUSD: 0,"Pulsa Rp 5.000",15'])


def test_link_a_quote_inside_the_text_does_not_open_a_string(wired) -> None:
    port, _at, events = wired
    port.incoming.put(b'\r\n+CUSD: 0,"Paket "Hemat" aktif",15\r\n+CMTI: "SM",3\r\n')
    wait_for(lambda: len(events) == 2)
    assert events[0].line == '+CUSD: 0,"Paket "Hemat" aktif",15' and events[1].line == '+CMTI: "SM",3'


def test_link_an_unclosed_string_cannot_swallow_the_final_ok(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CUSD=1"] = b'\r\n+CUSD: 0,"Pulsa Rp 5.000\r\nOK\r\n'
    assert at.command('AT+CUSD=1,"*888#",15') == []
    wait_for(lambda: [e.line for e in events] == ['+CUSD: 0,"Pulsa Rp 5.000"'])
