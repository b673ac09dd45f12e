"""The operations commands' bodies (SPEC §9): `absensi status` as text, `absensi report sms` as .xlsx.

Kept apart from cli.py (which only parses arguments) so the command line loads the database layer only when
one of these runs. `absensi status` prints in English for whoever runs it (the IT teacher, a monitoring
script); the SMS sheet and its text are Indonesian, as the school reads them.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..operations import sms_sheet
from ..rules import CompiledRules
from ..school.model import School
from ..store import Store
from ..store.usage import usage
from .private import write_private
from .status import Health


def write_sms_report(rules: CompiledRules, school: School, store: Store, output: Path, month: str | None,
                     today: date) -> str:
    """`absensi report sms [--month YYYY-MM] -o FILE.xlsx`; returns the month's text. ValueError on a bad month."""
    parsed = sms_sheet.parse_month(month or "", today)
    if parsed is None:
        raise ValueError(f"--month '{month}' is not YYYY-MM")
    price = rules.rules.settings.guards.sms_part_price
    start, end = sms_sheet.Month(*parsed, {}, price).bounds
    with store.unit() as session:
        figures = sms_sheet.Month(*parsed, usage(session, start, end, school.calendar.tz), price)
    write_private(output, sms_sheet.xlsx(figures, school.name))  # owner only (SPEC §8)
    return rules.render("tg_sms_usage", school=school.name, **sms_sheet.text_values(figures))


def print_health(state: Health, console: Console) -> None:
    """`absensi status` for a person: one line per part, then what needs attention."""
    def say(text: str) -> None:
        console.print(text, soft_wrap=True)  # one line per part, whatever the terminal's width (scripts grep)
    _engine(state, say)
    for device in state.devices:
        say(escape(device_line(device)))
    for machine in state.fingers:
        say(escape(finger_line(machine)))
    say(escape(telegram_line(state.telegram)))
    oldest = f", oldest {state.oldest_waiting_s:.0f} s" if state.oldest_waiting_s is not None else ""
    say(f"Inbox: {state.inbox_waiting} waiting{oldest}; {state.inbox_errors} kept as errors")
    for channel, counts in sorted(state.outbox.items()):
        say(f"Outbox {channel}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    today = state.sms_today
    say(f"SMS today: {today.get('sent', 0)} sent, {today.get('parts', 0)} parts, {today.get('failed', 0)} failed, "
        f"{today.get('waiting', 0)} waiting")
    say(f"Database: {_size(state.database_bytes)}")
    for incident in state.incidents:
        say(escape(f"Alert open since {_clock(incident['opened_at'])}: {incident['detail']}"))
    for note in state.watching:
        say(escape(f"Watching (not yet a problem): {note}"))
    for problem in state.problems:
        say(f"[red]! {escape(problem)}[/red]")


def _engine(state: Health, say: Any) -> None:
    if state.engine is None:
        say("Engine: none has run on this database yet")
    elif state.engine_stopped_at is not None:
        say(f"Engine: {state.engine}, [red]stopped[/red] at {_clock(state.engine_stopped_at)} (a clean stop; "
            f"no engine handles messages now)")
    else:
        alive = "running" if state.engine_alive else "[red]silent[/red]"
        say(f"Engine: {state.engine}, since {_clock(state.engine_since)}, {alive} "
            f"(last sign of life {state.heartbeat_age_s:.0f} s ago)")
    service = state.service
    if service is not None:
        uptime = _span(service.get("uptime_s"))
        say(f"Service: version {service.get('version')}, up {uptime}; published {service['published_s_ago']:.0f} s ago")
    for holder in state.standby:
        say(f"Standby: {holder} (serves its drivers; takes over if the engine stops)")


def device_line(device: dict[str, Any]) -> str:
    name = f"SMS {device['kind']} {device.get('port')}"
    if device.get("operator_name") or device.get("operator"):
        name += f" ({device.get('operator_name') or device.get('operator')})"
    if device.get("stale"):
        return f"{name}: no news since {_clock(device.get('published_at'))} (its process stopped or hangs)"
    parts = [str(device.get("state"))]
    if device["kind"] == "modem":
        parts.append(f"{'registered' if device.get('registered') else 'NOT registered'} "
                     f"({device.get('registration')})")
        if device.get("signal_bars") is not None:
            parts.append(f"signal {device['signal_bars']}/4 ({device.get('signal_dbm')} dBm)")
        if device.get("sim_total"):
            parts.append(f"SIM {device.get('sim_used')}/{device.get('sim_total')}")
    parts.append(f"last send {_clock(device.get('last_send'))}, last receive {_clock(device.get('last_receive'))}")
    if device.get("sends_failed_today") is not None:
        parts.append(f"failed today {device['sends_failed_today']}")
    parts.append(_pulsa(device))
    if not device.get("working") and device.get("down_since"):
        parts.append(f"not working since {_clock(device['down_since'])}")
    return f"{name}: " + ", ".join(parts)


def finger_line(machine: dict[str, Any]) -> str:
    """`Fingerprint 192.168.1.201:4370: ready, last pull 07:10:03, 1200/100000 records (1 %), clock 3 min ahead`."""
    name = f"Fingerprint {machine.get('port')}"
    if machine.get("stale"):
        return f"{name}: no news since {_clock(machine.get('published_at'))} (its process stopped or hangs)"
    state = str(machine.get("state"))
    parts = [f"{state} ({machine.get('error')})" if machine.get("error") else state,
             f"last pull {_clock(machine.get('last_pull'))}"]
    count, capacity = machine.get("records"), machine.get("capacity")
    if isinstance(count, int) and capacity:
        parts.append(f"{count}/{capacity} records ({count * 100 // capacity} %)")
    offset = machine.get("clock_offset_minutes")
    if isinstance(offset, int):
        parts.append(f"clock {abs(offset)} min {'ahead' if offset > 0 else 'behind'}" if offset else "clock right")
    return f"{name}: " + ", ".join(parts)


def _pulsa(device: dict[str, Any]) -> str:
    if device["kind"] != "modem":
        return "pulsa unknown (a phone gateway cannot be asked)"
    text = f"pulsa Rp {device['pulsa']:,}".replace(",", ".") + f" ({_clock(device.get('pulsa_at'))})" \
        if device.get("pulsa") is not None else "pulsa not known yet"
    return text + (f"; last check: {device['balance_error']}" if device.get("balance_error") else "")


def telegram_line(telegram: dict[str, Any] | None) -> str:
    if telegram is None:
        return "Telegram: no news from the service"
    if not telegram.get("configured", True):
        return f"Telegram: not run ({telegram.get('reason') or 'no credentials'}); its messages wait in the outbox"
    if not telegram.get("working"):
        error = f" ({telegram['error']})" if telegram.get("error") else ""
        return f"Telegram: NOT connected since {_clock(telegram.get('down_since'))}{error}"
    flood = telegram.get("flood_wait_until")
    if flood and datetime.fromisoformat(flood) > datetime.fromisoformat(str(telegram["published_at"])):
        return f"Telegram: connected, waiting on Telegram's flood limit until {_clock(flood)}"
    return "Telegram: connected"


def _clock(value: Any) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(str(value)).astimezone()
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _span(seconds: Any) -> str:
    if seconds is None:
        return "?"
    minutes = int(float(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return (f"{days} d " if days else "") + (f"{hours} h " if hours or days else "") + f"{minutes} min"


def _size(count: int | None) -> str:
    if count is None:
        return "unknown"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
