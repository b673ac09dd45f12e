"""`/status` (the service's health) and `/sms [YYYY-MM]` (SMS usage and cost) in Telegram (SPEC §9).

Both read the database only: the devices as the running service published them (`facts`), the queues, the
usage. `/status` also asks the modems for their pulsa; the answer follows as its own message
(`alerts.ask_pulsa`). The same facts and conditions make `absensi status` (engine/app/status.py).
"""

from __future__ import annotations

from ..messages import Document
from ..rules.commands import command_doing
from ..store.usage import usage
from ..turn import Turn
from . import alerts, sms_sheet, words
from .conditions import conditions
from .facts import Facts, Published, gather

ACTIONS = ("service_status", "sms_usage")  # the admin's commands (the web console's admin pages follow them)

# ------------------------------------------------------------------------------------------ /status


def service_status(turn: Turn, user: int) -> None:
    facts = gather(turn.session, turn.now, turn.school.calendar.tz)
    # this code runs in the engine: it is running, whatever its lease row says (a scenario has none)
    due = [c for c in conditions(facts, turn.rules.rules.settings.alerts) if c.due and c.kind != "no_engine"]
    waiting = facts.inbox_waiting - (turn.inbox_id is not None)  # this /status is not done until it is answered
    checking = [d for d in facts.devices if d.kind == "modem" and d.working]
    if checking:
        alerts.ask_pulsa(turn, user)
    problems = "\n".join(f"- {alerts.problem(turn, c)}" for c in due)
    turn.to_staff(user, "tg_service_status", time=words.clock(turn.now, turn.school.calendar.tz, turn.now),
                  engine=engine_line(turn, facts), devices="\n".join(device_lines(turn, facts)),
                  telegram=telegram_line(turn, facts.telegram), queues=queue_line(turn, facts),
                  inbox=turn.text("ops_inbox", waiting=waiting, errors=facts.inbox_errors),
                  database=words.size(facts.database_bytes),
                  problems=turn.text("ops_problems", problems=problems) if problems else turn.text("ops_all_normal"),
                  pulsa=turn.text("tg_pulsa_checking") if checking else "")


def engine_line(turn: Turn, facts: Facts) -> str:
    tz = turn.school.calendar.tz
    if facts.engine is None or not facts.engine_alive:  # answering this, the engine runs (a scenario, a test)
        return turn.text("ops_engine_here")
    process = facts.engine_process
    started = process.moment("started_at") if process else None
    since = turn.text("ops_engine_since", time=words.clock(started, tz, turn.now),
                      duration=words.duration(turn.now - started)) if started else ""
    version = turn.text("ops_engine_version", version=process.get("version")) \
        if process and process.get("version") else ""
    standby = [p.holder for p in facts.processes if p.holder != facts.engine.holder and not p.stale(turn.now)]
    extra = turn.text("ops_engine_standby", names=", ".join(standby)) if standby else ""
    return turn.text("ops_engine", holder=facts.engine.holder, since=since, version=version, standby=extra)


def device_line(turn: Turn, device: Published) -> str:
    tz, now = turn.school.calendar.tz, turn.now
    if device.stale(now):
        return turn.text("ops_device_silent", device=_name(turn, device), time=words.clock(device.updated_at, tz, now))
    parts = [words.state(str(device.get("state") or "?"))]
    if device.kind == "modem":
        if device.get("signal_bars") is not None:
            parts.append(turn.text("ops_device_signal", bars=device.get("signal_bars"), dbm=device.get("signal_dbm")))
        registration = str(device.get("registration") or "unknown")
        parts.append(words.REGISTRATION.get(registration, words.state(registration)))
        if device.get("sim_total"):
            parts.append(f"SIM {device.get('sim_used')}/{device.get('sim_total')}")
    for key, template in (("last_send", "ops_device_last_send"), ("last_receive", "ops_device_last_receive")):
        moment = device.moment(key)
        parts.append(turn.text(template, time=words.clock(moment, tz, now) if moment else "-"))
    if device.get("sends_failed_today") is not None:
        parts.append(turn.text("ops_device_failed_today", count=device.get("sends_failed_today")))
    parts.append(alerts.pulsa_line(turn, device).partition(": ")[2])
    return f"{_name(turn, device)}: " + ", ".join(parts)


def device_lines(turn: Turn, facts: Facts) -> list[str]:
    """The SMS devices (or that there is none), then the fingerprint machines pulled live."""
    return [*([device_line(turn, d) for d in facts.devices] or [turn.text("ops_no_devices")]),
            *(finger_line(turn, m) for m in facts.fingers)]


def finger_line(turn: Turn, machine: Published) -> str:
    """`Mesin finger 192.168.1.201:4370: siap, tarik terakhir 07.10, 1200/100000 catatan (1%)`."""
    tz, now = turn.school.calendar.tz, turn.now
    name = turn.text("ops_finger_device", port=machine.port)
    if machine.stale(now):
        return turn.text("ops_device_silent", device=name, time=words.clock(machine.updated_at, tz, now))
    state = str(machine.get("state") or "?")
    parts = [turn.text("ops_finger_failing", error=str(machine.get("error") or "?")[:80]) if state == "failing"
             else words.state(state)]
    last = machine.moment("last_pull")
    parts.append(turn.text("ops_finger_last_pull", time=words.clock(last, tz, now) if last else "-"))
    count, capacity = machine.get("records"), machine.get("capacity")
    if isinstance(count, int) and isinstance(capacity, int) and capacity:
        parts.append(turn.text("ops_finger_records", count=count, capacity=capacity, percent=count * 100 // capacity))
    offset = machine.get("clock_offset_minutes")
    if isinstance(offset, int) and offset:
        parts.append(turn.text("ops_finger_clock_ahead" if offset > 0 else "ops_finger_clock_behind",
                               minutes=abs(offset)))
    return f"{name}: " + ", ".join(parts)


def _name(turn: Turn, device: Published) -> str:
    what = turn.text("ops_device_modem" if device.kind == "modem" else "ops_device_gateway", port=device.port)
    operator = device.get("operator_name") or device.get("operator")
    return what + (f" ({operator})" if operator else "")


def telegram_line(turn: Turn, telegram: Published | None) -> str:
    tz, now = turn.school.calendar.tz, turn.now
    if telegram is None:
        return turn.text("ops_telegram_unknown")
    if not telegram.get("configured", True):
        return turn.text("ops_telegram_off")
    down = telegram.down_since(now)
    if down is not None:
        error = f" ({str(telegram.get('error'))[:80]})" if telegram.get("error") else ""
        return turn.text("ops_telegram_lost", since=words.clock(down, tz, now), error=error)
    flood = telegram.moment("flood_wait_until")
    if flood is not None and flood > now:
        return turn.text("ops_telegram_flood", until=words.clock(flood, tz, now))
    return turn.text("ops_telegram_up")


def queue_line(turn: Turn, facts: Facts) -> str:
    parts = []
    for channel in ("sms", "telegram"):
        counts = facts.outbox.get(channel, {})
        waiting = counts.get("pending", 0) + counts.get("sending", 0)
        oldest = facts.oldest_unsent.get(channel)
        age = turn.text("ops_queue_oldest", age=words.duration(turn.now - oldest)) if oldest is not None and waiting \
            else ""
        parts.append(f"{words.CHANNELS[channel]} {waiting}{age}")
    sms = facts.sms_today
    price = turn.rules.rules.settings.guards.sms_part_price
    return turn.text("ops_queues", queues=", ".join(parts), sent=sms.sent, parts=sms.parts,
                     cost=words.money(sms.parts * price), failed=sms.failed)


# ------------------------------------------------------------------------------------------ /sms


def sms_usage(turn: Turn, user: int, argument: str) -> None:
    parsed = sms_sheet.parse_month(argument, turn.today)
    if parsed is None:
        turn.to_staff(user, "tg_month_format", command=command_doing(turn.rules.rules, "sms_usage"),
                      example=f"{turn.today:%Y-%m}")
        return
    month = month_figures(turn, *parsed)
    turn.to_staff(user, "tg_sms_usage", **sms_sheet.text_values(month))
    name = sms_sheet.file_name(month)
    turn.to_staff_text(user, name, document=Document(name, sms_sheet.xlsx(month, turn.school.name)))


def month_figures(turn: Turn, year: int, month: int) -> sms_sheet.Month:
    draft = sms_sheet.Month(year, month, {}, turn.rules.rules.settings.guards.sms_part_price)
    start, end = draft.bounds
    return sms_sheet.Month(year, month, usage(turn.session, start, end, turn.school.calendar.tz), draft.price)
