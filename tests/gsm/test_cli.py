"""`absensi modem probe` prints what an operator needs and sends nothing."""

from __future__ import annotations

from typer.testing import CliRunner

from absensi.drivers.gsm.cli import modem_app

runner = CliRunner()


def test_probe_prints_the_modem_and_sends_nothing(emulators) -> None:
    emu = emulators("huawei-e173")
    emu.deliver_text("+6281", "jangan dihapus")
    result = runner.invoke(modem_app, ["probe", emu.port, "--timeout", "1"])
    assert result.exit_code == 0, result.output
    for expected in ("E173", emu.imsi, "TELKOMSEL", "-77 dBm", "+6281100000", "SM 1/30", "home network"):
        assert expected in result.output
    assert emu.sent == [] and len(emu.storage) == 1
    assert not any(c.startswith(("AT+CMGS", "AT+CMGD", "AT+CFUN", "AT+CNMI", "AT+CPIN=")) for c in emu.commands)


def test_probe_explains_a_sim_that_wants_a_pin(emulators) -> None:
    emu = emulators("sim800", pin="1234")
    result = runner.invoke(modem_app, ["probe", emu.port, "--timeout", "1"])
    assert result.exit_code == 1
    assert "SIM PIN" in result.output and emu.pin_attempts == []


def test_probe_with_pin_unlocks(emulators) -> None:
    emu = emulators("sim800", pin="1234")
    result = runner.invoke(modem_app, ["probe", emu.port, "--pin", "1234", "--timeout", "1"])
    assert result.exit_code == 0, result.output
    assert emu.pin_attempts == ["1234"]


def test_probe_of_a_missing_port_gives_a_hint(tmp_path) -> None:
    result = runner.invoke(modem_app, ["probe", str(tmp_path / "ttyUSB9"), "--timeout", "0.5"])
    assert result.exit_code == 2
    assert "/dev/serial/by-id/" in result.output


def test_probe_of_a_silent_port_gives_a_hint(emulators) -> None:
    emu = emulators("sim800")
    emu.hung = True
    result = runner.invoke(modem_app, ["probe", emu.port, "--timeout", "0.3"])
    assert result.exit_code == 2
    assert "no answer to AT" in result.output
