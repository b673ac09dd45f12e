"""`absensi modem …`: look at a modem without sending anything.

`probe PORT` opens the port, asks who the modem is, how its SIM, network, signal and storage are, and
prints it. It never sends an SMS, never deletes a stored one, never resets the modem, and enters a PIN
only when one is given with --pin.
"""

from __future__ import annotations

from dataclasses import replace

import serial
import typer
from rich.console import Console
from rich.table import Table

from .errors import AtTimeout, ModemError, SimLocked
from .modem import Modem, ModemInfo
from .settings import ModemSettings

modem_app = typer.Typer(help="Inspect GSM modems (nothing is ever sent).", no_args_is_help=True)
console = Console()


@modem_app.callback()
def modem_group() -> None:
    """Inspect GSM modems (nothing is ever sent)."""


def _hint(exc: BaseException) -> str:
    text = str(exc)
    if "No such file" in text or ("could not open port" in text and "Errno 2" in text):
        return "the port does not exist; list /dev/serial/by-id/ and use the name found there"
    if "Permission denied" in text or "Errno 13" in text:
        return "no permission; add the user to the 'dialout' group (sudo usermod -aG dialout $USER) and log in again"
    if isinstance(exc, AtTimeout):
        return ("no answer to AT; wrong port (Huawei sticks have several: try the others), wrong baud rate, or the "
                "stick is in mass-storage mode (usb_modeswitch)")
    if "busy" in text.lower() or "Errno 16" in text:
        return "another program holds the port (ModemManager? stop it or blacklist the modem)"
    return ""


def probe_modem(port: str, pin: str | None, settings: ModemSettings) -> ModemInfo:
    """Read-only look at one modem (see the module docstring)."""
    modem = Modem(port, settings, lambda _event: None, pin=pin)
    modem.open()
    try:
        modem.wake()
        modem.try_cmd("ATE0")
        modem.try_cmd("AT+CMEE=1")
        try:
            modem.unlock_sim() if pin else setattr(modem.info, "sim", modem.sim_state())
        except SimLocked as exc:
            modem.info.notes.append(str(exc))
        modem.identify()  # after the SIM answered: the IMSI is unreadable while the SIM is busy
        if modem.info.sim == "READY":
            modem.wait_registered(0)
            modem.read_operator()
            modem.read_signal()
            modem.check_smsc()
            modem.read_storage()
        return modem.info
    finally:
        modem.close()


def render(info: ModemInfo) -> Table:
    table = Table(title=f"Modem on {info.port}", show_header=False)
    rows = [("Manufacturer", info.manufacturer), ("Model", info.model), ("Firmware", info.revision),
            ("IMEI", info.imei), ("IMSI", info.imsi), ("SIM", info.sim),
            ("Registration", info.registration), ("Operator", info.operator), ("Signal", info.signal),
            ("SMSC", info.smsc),
            ("Storage", f"{info.storage} {info.storage_used}/{info.storage_total}" if info.storage_total else "?")]
    for key, value in rows:
        table.add_row(key, value)
    return table


@modem_app.command()
def probe(
    port: str = typer.Argument(..., help="Serial port or URL: /dev/serial/by-id/…, /dev/ttyUSB0, socket://host:port"),
    pin: str | None = typer.Option(None, help="SIM PIN to enter if the SIM asks for one (tried once)."),
    baudrate: int = typer.Option(115200, help="Line speed; USB modems ignore it."),
    timeout: float = typer.Option(5.0, help="Seconds to wait for each answer."),
) -> None:
    """Print identity, SIM/PIN state, registration, operator, signal, SMSC and storage use. Sends nothing."""
    settings = replace(ModemSettings(), baudrate=baudrate, command_timeout=timeout, sim_busy_timeout=timeout * 2,
                       sim_busy_retry=min(1.0, timeout / 4))
    try:
        info = probe_modem(port, pin, settings)
    except (ModemError, serial.SerialException, OSError, ValueError) as exc:
        console.print(f"[red]Cannot probe {port}:[/red] {exc}")
        hint = _hint(exc)
        if hint:
            console.print(f"[yellow]Hint:[/yellow] {hint}")
        raise typer.Exit(2) from None
    console.print(render(info))
    for note in info.notes:
        console.print(f"[yellow]Note:[/yellow] {note}")
    if info.sim != "READY" or not info.registered:
        raise typer.Exit(1)
