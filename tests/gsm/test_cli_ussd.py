"""`absensi modem ussd PORT CODE` prints the raw and decoded answer and the pulsa; mistakes are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from absensi.drivers.gsm.cli import modem_app

runner = CliRunner()
QUICK = ["--timeout", "1", "--wait", "3"]


def run(*args: str):
    return runner.invoke(modem_app, ["ussd", *args])


@pytest.mark.parametrize(("profile", "how"), [
    ("huawei-e173", "gsm7-packed, dcs 15, code sent GSM 7-bit packed"),
    ("huawei-e3372", "ucs2, dcs 72"),
    ("sim800", "text, dcs 15"),
    ("quectel-ec25", "text, dcs 15"),
])
def test_prints_raw_decoded_and_pulsa_and_sends_no_sms(emulators, profile, how) -> None:
    emu = emulators(profile)
    result = run(emu.port, "*888#", *QUICK)
    assert result.exit_code == 0, result.output
    assert f"Decoded ({how}):" in result.output
    assert "  Sisa pulsa Anda Rp 12.500. Berlaku s.d. 31-12-2026" in result.output
    assert "Pulsa:    Rp 12.500" in result.output
    assert "Raw:      +CUSD: 0," in result.output and "TELKOMSEL (51010) — Telkomsel" in result.output
    assert emu.sent == [] and not any(c.startswith(("AT+CMGS", "AT+CMGD", "AT+CFUN")) for c in emu.commands)


def test_a_menu_answer_is_printed_line_by_line_and_closed(emulators) -> None:
    emu = emulators("sim800")
    emu.ussd.status, emu.ussd.text = 1, "Pulsa: Rp 7.250 s/d 15/01/2027\n1 Paket Internet\n2 Cek Kuota"
    result = run(emu.port, "*888#", *QUICK)
    assert result.exit_code == 0, result.output
    assert "  1 Paket Internet\n  2 Cek Kuota" in result.output and "Pulsa:    Rp 7.250" in result.output
    assert "menu" in result.output and emu.ussd_cancels == 1


def test_own_pattern_and_an_answer_without_a_balance(emulators) -> None:
    emu = emulators("sim800")
    emu.ussd.text = "Kredit tersisa 9.900 rupiah [promo]"
    result = run(emu.port, "*123#", "--pattern", r"tersisa (?P<amount>[\d.]+)", *QUICK)
    assert result.exit_code == 0 and "Pulsa:    Rp 9.900" in result.output and "[promo]" in result.output
    emu.ussd.text = "Maaf, layanan sedang sibuk"
    result = run(emu.port, "*123#", *QUICK)
    assert result.exit_code == 0 and "No balance found" in result.output


def test_packed_and_charset_options(emulators) -> None:
    emu = emulators("sim800")
    emu.ussd.encoding = "text"
    result = run(emu.port, "*888#", "--charset", "UCS2", *QUICK)
    assert result.exit_code == 0 and "Decoded (ucs2, dcs 15):" in result.output and emu.cscs == "UCS2"
    huawei = emulators("huawei-e173")
    result = run(huawei.port, "*888#", "--packed", *QUICK)
    assert result.exit_code == 0 and huawei.ussd_raw == ["2A1C0E3702"]


@pytest.mark.parametrize(("knob", "value", "message"), [
    ("unsupported", True, "not supported by the network or the modem"),
    ("silent", True, "no answer within 1 s"),
    ("error", "+CME ERROR: 100", "refused the USSD request"),
])
def test_ussd_failures_exit_1_with_the_reason(emulators, knob, value, message) -> None:
    emu = emulators("sim800")
    setattr(emu.ussd, knob, value)
    result = run(emu.port, "*888#", "--plain", "--timeout", "1", "--wait", "1")
    assert result.exit_code == 1, result.output
    assert "No USSD answer on" in result.output and message in result.output


def test_no_network_exit_1(emulators) -> None:
    emu = emulators("sim800")
    emu.network_state = 3
    result = run(emu.port, "*888#", *QUICK)
    assert result.exit_code == 1 and "not on a network (denied)" in result.output


def test_sim_wants_a_pin(emulators) -> None:
    emu = emulators("sim800", pin="1234")
    result = run(emu.port, "*888#", *QUICK)
    assert result.exit_code == 1 and "SIM PIN" in result.output and "--pin" in result.output
    assert emu.pin_attempts == []


def test_missing_port_gives_the_probe_hint(tmp_path: Path) -> None:
    result = run(str(tmp_path / "ttyUSB9"), "*888#", "--timeout", "0.5")
    assert result.exit_code == 2 and "/dev/serial/by-id/" in result.output


def test_silent_port_gives_the_probe_hint(emulators) -> None:
    emu = emulators("sim800")
    emu.hung = True
    result = run(emu.port, "*888#", "--timeout", "0.3")
    assert result.exit_code == 2 and "no answer to AT" in result.output


@pytest.mark.parametrize("code", ["", "*888#;AT+CFUN=1,1", 'x"y', "saldo"])
def test_not_a_ussd_code_opens_nothing(tmp_path: Path, code: str) -> None:
    result = run(str(tmp_path / "never-opened"), code)
    assert result.exit_code == 2 and "Not a USSD code" in result.output


def test_a_broken_pattern_is_refused_before_the_port_is_opened(tmp_path: Path) -> None:
    result = run(str(tmp_path / "never-opened"), "*888#", "--pattern", "Rp (")
    assert result.exit_code == 2 and "not a valid regular expression" in result.output


def test_the_absensi_program_runs_it_as_a_real_process(emulators) -> None:
    """Mounted as `absensi modem ussd` (engine/app/cli.py), in its own process, on the emulator's pty."""
    emu = emulators("huawei-e173")
    absensi = Path(sys.executable).with_name("absensi")
    done = subprocess.run([str(absensi), "modem", "ussd", emu.port, "*888#", *QUICK], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Pulsa:    Rp 12.500" in done.stdout and "Traceback" not in done.stderr
