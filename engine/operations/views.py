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
                  engine=engine_line(turn, facts), devices="\n".join(device_line(turn, d) for d in facts.devices)
                  or "SMS: tidak ada modem atau gateway yang berjalan",
                  telegram=telegram_line(turn, facts.telegram), queues=queue_line(turn, facts),
                  inbox=f"Pesan masuk: {waiting} menunggu diproses, {facts.inbox_errors} di kotak galat",
                  database=words.size(facts.database_bytes),
                  problems=f"Perlu perhatian:\n{problems}" if problems else "Semua normal.",
                  pulsa=turn.text("tg_pulsa_checking") if checking else "")


def engine_line(turn: Turn, facts: Facts) -> str:
    tz = turn.school.calendar.tz
    if facts.engine is None or not facts.engine_alive:  # answering this, the engine runs (a scenario, a test)
        return "Mesin: berjalan"
    process = facts.engine_process
    started = process.moment("started_at") if process else None
    since = (f", berjalan sejak {words.clock(started, tz, turn.now)} ({words.duration(turn.now - started)})"
             if started else "")
    version = f", versi {process.get('version')}" if process and process.get("version") else ""
    standby = [p.holder for p in facts.processes if p.holder != facts.engine.holder and not p.stale(turn.now)]
    extra = f"; cadangan: {', '.join(standby)}" if standby else ""
    return f"Mesin: {facts.engine.holder}{since}{version}{extra}"


def device_line(turn: Turn, device: Published) -> str:
    tz, now = turn.school.calendar.tz, turn.now
    if device.stale(now):
        return f"{_name(device)}: tidak ada kabar sejak {words.clock(device.updated_at, tz, now)}"
    parts = [words.state(str(device.get("state") or "?"))]
    if device.kind == "modem":
        if device.get("signal_bars") is not None:
            parts.append(f"sinyal {device.get('signal_bars')}/4 ({device.get('signal_dbm')} dBm)")
        registration = str(device.get("registration") or "unknown")
        parts.append(words.REGISTRATION.get(registration, words.state(registration)))
        if device.get("sim_total"):
            parts.append(f"SIM {device.get('sim_used')}/{device.get('sim_total')}")
    for key, label in (("last_send", "kirim terakhir"), ("last_receive", "terima terakhir")):
        moment = device.moment(key)
        parts.append(f"{label} {words.clock(moment, tz, now) if moment else '-'}")
    if device.get("sends_failed_today") is not None:
        parts.append(f"gagal hari ini {device.get('sends_failed_today')}")
    parts.append(alerts.pulsa_line(turn, device).partition(": ")[2])
    return f"{_name(device)}: " + ", ".join(parts)


def _name(device: Published) -> str:
    what = "Modem" if device.kind == "modem" else "HP gateway"
    operator = device.get("operator_name") or device.get("operator")
    return f"{what} {device.port}" + (f" ({operator})" if operator else "")


def telegram_line(turn: Turn, telegram: Published | None) -> str:
    tz, now = turn.school.calendar.tz, turn.now
    if telegram is None:
        return "Telegram: belum ada kabar dari layanan"
    if not telegram.get("configured", True):
        return "Telegram: tidak dijalankan (kredensial belum diisi); pesan Telegram menunggu di antrean"
    down = telegram.down_since(now)
    if down is not None:
        error = f" ({str(telegram.get('error'))[:80]})" if telegram.get("error") else ""
        return f"Telegram: TERPUTUS sejak {words.clock(down, tz, now)}{error}"
    flood = telegram.moment("flood_wait_until")
    if flood is not None and flood > now:
        return f"Telegram: tersambung, menunggu batas kirim Telegram (flood) s.d. {words.clock(flood, tz, now)}"
    return "Telegram: tersambung"


def queue_line(turn: Turn, facts: Facts) -> str:
    parts = []
    for channel in ("sms", "telegram"):
        counts = facts.outbox.get(channel, {})
        waiting = counts.get("pending", 0) + counts.get("sending", 0)
        oldest = facts.oldest_unsent.get(channel)
        age = f" (tertua {words.duration(turn.now - oldest)})" if oldest is not None and waiting else ""
        parts.append(f"{words.CHANNELS[channel]} {waiting}{age}")
    sms = facts.sms_today
    price = turn.rules.rules.settings.guards.sms_part_price
    return (f"Antrean keluar: {', '.join(parts)}\nSMS hari ini: {sms.sent} terkirim ({sms.parts} bagian, "
            f"{words.money(sms.parts * price)}), {sms.failed} gagal")


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
