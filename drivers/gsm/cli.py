"""`absensi modem …`: look at a modem without sending any SMS.

`probe PORT` opens the port, asks who the modem is, how its SIM, network, signal and storage are, and
prints it. It never sends an SMS, never deletes a stored one, never resets the modem, and enters a PIN
only when one is given with --pin. `ussd PORT CODE` asks the network a USSD code (the balance, `*888#`) and
prints the answer as the modem gave it, decoded, and the pulsa read from it. Neither may run while
`absensi run` holds the port.
"""

from __future__ import annotations

import re
from dataclasses import replace

import serial
import typer
from rich.console import Console
from rich.table import Table

from .errors import AtTimeout, ModemError, SimLocked
from .modem import Modem, ModemInfo
from .operators import GENERIC_PATTERN, operator_for, read_balance
from .settings import ModemSettings
from .ussd import UssdAnswer, UssdFailed, check_code, ussd

modem_app = typer.Typer(help="Inspect GSM modems (no SMS is ever sent).", no_args_is_help=True)
console = Console()


@modem_app.callback()
def modem_group() -> None:
    """Inspect GSM modems (no SMS is ever sent)."""


def _hint(exc: BaseException) -> str:
    text = str(exc)
    if "No such file" in text or ("could not open port" in text and "Errno 2" in text):
        return "the port does not exist; list /dev/serial/by-id/ and use the name found there"
    if "Permission denied" in text or "Errno 13" in text:
        return "no permission; add the user to the 'dialout' group (sudo usermod -aG dialout $USER) and log in again"
    if isinstance(exc, AtTimeout):
        return ("no answer to AT; wrong port (Huawei sticks have several: try the others), wrong baud rate, or the "
                "stick is in mass-storage mode (usb_modeswitch)")
    if "busy" in text.lower() or "Errno 16" in text or "Errno 11" in text:
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
    settings = _settings(baudrate, timeout)
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


def _settings(baudrate: int, timeout: float) -> ModemSettings:
    return replace(ModemSettings(), baudrate=baudrate, command_timeout=timeout, sim_busy_timeout=timeout * 2,
                   sim_busy_retry=min(1.0, timeout / 4))


def ask_ussd(port: str, code: str, *, pin: str | None, settings: ModemSettings, wait: float,
             packed: bool | None, charset: str | None) -> tuple[UssdAnswer, ModemInfo]:
    """Open the port, check SIM and network, send `code`, return the answer (UssdFailed when there is none)."""
    modem = Modem(port, settings, lambda _event: None, pin=pin)
    modem.open()
    try:
        modem.wake()
        modem.try_cmd("ATE0")
        modem.try_cmd("AT+CMEE=1")
        if pin:
            modem.unlock_sim()
        elif (state := modem.sim_state()) != "READY":
            raise SimLocked(f"the SIM is not ready: {state}" + (" (give --pin)" if "PIN" in state else ""))
        modem.identify()
        if not modem.wait_registered(min(settings.register_timeout, wait)):
            raise UssdFailed(f"the modem is not on a network ({modem.info.registration}); USSD needs one")
        modem.read_network_code()
        modem.read_operator()
        return ussd(modem, code, timeout=wait, packed=packed, charset=charset), modem.info
    finally:
        modem.close()


def rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def _print_answer(answer: UssdAnswer, info: ModemInfo, pattern: str | None) -> None:
    operator = operator_for(info.operator, info.mcc_mnc)
    show = {"markup": False, "highlight": False, "soft_wrap": True}
    console.print(f"Operator: {info.operator} ({info.mcc_mnc or '?'})"
                  + (f" — {operator.name}" if operator else ""), **show)
    console.print(f"Raw:      {answer.raw}", **show)
    how = f"{answer.how}, dcs {answer.dcs if answer.dcs is not None else '-'}"
    how += ", code sent GSM 7-bit packed" if answer.packed_request else ""
    console.print(f"Decoded ({how}):", **show)
    for line in answer.text.splitlines() or [""]:
        console.print(f"  {line}", **show)
    if answer.menu:
        console.print("The network offered a menu; it was closed (AT+CUSD=2).", **show)
    used = pattern or (operator.balance_pattern if operator else GENERIC_PATTERN)
    balance = read_balance(answer.text, used)
    if balance is not None:
        console.print(f"Pulsa:    {rupiah(balance)}", **show)
    else:
        console.print(f"[yellow]No balance found[/yellow] with the pattern {used!r}", highlight=False)


@modem_app.command("ussd")
def ussd_command(
    port: str = typer.Argument(..., help="Serial port or URL: /dev/serial/by-id/…, /dev/ttyUSB0, socket://host:port"),
    code: str = typer.Argument(..., help="The USSD code, e.g. *888# (Telkomsel's balance); quote it in the shell"),
    pattern: str | None = typer.Option(None, help="Regular expression that finds the balance in the answer "
                                       "(group 'amount'); default: the operator's from the built-in table."),
    packed: bool | None = typer.Option(None, "--packed/--plain", help="Send the code GSM 7-bit packed (many "
                                       "Huawei sticks) or as text; default: text, then packed if refused."),
    charset: str | None = typer.Option(None, help='Set AT+CSCS first ("GSM", "IRA", "UCS2"); default: leave it.'),
    pin: str | None = typer.Option(None, help="SIM PIN to enter if the SIM asks for one (tried once)."),
    baudrate: int = typer.Option(115200, help="Line speed; USB modems ignore it."),
    timeout: float = typer.Option(5.0, help="Seconds to wait for each AT answer."),
    wait: float = typer.Option(30.0, help="Seconds to wait for the network's USSD answer."),
) -> None:
    """Send a USSD code (e.g. the balance check) and print the raw and decoded answer and the pulsa."""
    if not check_code(code):
        console.print(f"[red]Not a USSD code:[/red] {code!r} — digits, '*' and '#', e.g. *888#", highlight=False)
        raise typer.Exit(2)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            console.print(f"[red]The pattern is not a valid regular expression:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    try:
        answer, info = ask_ussd(port, code, pin=pin, settings=_settings(baudrate, timeout), wait=wait,
                                packed=packed, charset=charset)
    except (UssdFailed, SimLocked) as exc:
        console.print(f"[red]No USSD answer on {port}:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except (ModemError, serial.SerialException, OSError, ValueError) as exc:
        console.print(f"[red]Cannot use {port}:[/red] {exc}", highlight=False)
        hint = _hint(exc)
        if hint:
            console.print(f"[yellow]Hint:[/yellow] {hint}")
        raise typer.Exit(2) from None
    _print_answer(answer, info, pattern)
