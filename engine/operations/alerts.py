"""Alerts to the admin (SPEC §9), run by the engine at every clock tick: each incident is told once when it
opens and once when it clears, and kept in the database (`incident`), so a restart neither repeats nor forgets
one. Telegram being the part that is down, that alert (and its all-clear) also goes by SMS to the phone of
the admin in staff.csv. Also here: the daily summary (`settings.alerts.daily_summary_at`) and the answer to
a `/status` that asked for the pulsa (`views.ask_pulsa`), sent when the modems have answered.

Who is told is the rules' route `operations` (routing.yaml; a rule set without it uses `school_reload`'s).
An invalid roster or rules change is its own alert already (`tg_reload_failed`, then `tg_reload_done`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from loguru import logger
from sqlalchemy import func, select

from ..flows.routing import route_targets, staff_for
from ..messages import Address, Channel
from ..school.phones import is_phone
from ..store.models import ClassReport, Incident, JobRun, OutboxRow, Tally
from ..store.usage import total
from ..turn import Turn
from . import words
from .conditions import Condition, conditions
from .facts import PUBLISH_SECONDS, Facts, Published, day_usage, gather

ASKED = "pulsa:asked"  # Tally: bumped by /status; every process with modems asks their pulsa when it moves
ASKED_BY = "pulsa:asked:"  # Tally per chat that asked: answered when the modems did, or after PULSA_WAIT
PULSA_WAIT = timedelta(minutes=3)
SETTLED = timedelta(seconds=PUBLISH_SECONDS * 2)  # the engine's process has published its devices by then
BY_SMS = frozenset({"telegram_down"})  # incidents that also go by SMS: Telegram cannot carry them


def run(turn: Turn) -> None:
    """One look at the service: open and clear incidents, the daily summary, pulsa answers."""
    facts = gather(turn.session, turn.now, turn.school.calendar.tz)
    _incidents(turn, facts, conditions(facts, turn.rules.rules.settings.alerts))
    _summary_if_due(turn, facts)
    _pulsa_answers(turn, facts)


# ------------------------------------------------------------------------------------------ incidents


def _incidents(turn: Turn, facts: Facts, found: list[Condition]) -> None:
    present = {c.key: c for c in found if c.kind != "no_engine"}  # the engine is running: it is this code
    open_ = {i.key: i for i in facts.incidents}
    for key, condition in present.items():
        if condition.due and key not in open_:
            incident = Incident(key=key, kind=condition.kind, detail=problem(turn, condition), since=condition.since,
                                opened_at=turn.now)
            turn.session.add(incident)
            turn.session.flush()
            logger.warning("alert: {}", key)
            _tell(turn, incident, opened=True)
    for key, incident in open_.items():
        if key not in present and _may_clear(incident, facts):
            incident.cleared_at = turn.now
            turn.session.add(incident)
            logger.info("alert cleared: {}", key)
            _tell(turn, incident, opened=False)


def _may_clear(incident: Incident, facts: Facts) -> bool:
    """A device's incident clears when the device is seen working — not merely because it has not been
    published yet after a restart; one that is no longer published at all (taken out of service) clears once
    the engine's process has been publishing for a while."""
    subject = incident.key.partition(":")[2]
    if incident.kind == "telegram_down":
        seen = facts.telegram is not None
    elif incident.kind in ("modem_down", "sim_full", "pulsa_low"):
        seen = any(d.port == subject for d in facts.devices)
    elif incident.kind in ("finger_down", "finger_full"):
        seen = any(m.port == subject for m in facts.fingers)
    else:
        return True
    return seen or _settled(facts)


def _settled(facts: Facts) -> bool:
    process = facts.engine_process
    started = process.moment("started_at") if process is not None else None
    return started is not None and facts.now - started >= SETTLED


def problem(turn: Turn, condition: Condition) -> str:
    """The condition in the rules' words (`ops_*` templates)."""
    tz, v = turn.school.calendar.tz, dict(condition.values)
    since = words.clock(condition.since, tz, turn.now)
    if condition.kind == "modem_down":
        return turn.text("ops_modem_down", device=v["device"], state=words.state(str(v["state"])), since=since)
    if condition.kind == "sim_full":
        return turn.text("ops_sim_full", device=v["device"], used=v["used"], total=v["total"])
    if condition.kind == "pulsa_low":
        return turn.text("ops_pulsa_low", device=v["device"], pulsa=words.money(int(str(v["pulsa"]))),
                         threshold=words.money(int(str(v["threshold"]))))
    if condition.kind == "outbox_waiting":
        return turn.text("ops_outbox_waiting", count=v["count"], channel=words.CHANNELS.get(str(v["channel"]),
                                                                                           v["channel"]),
                         minutes=v["minutes"])
    if condition.kind == "inbox_error":
        return turn.text("ops_inbox_error", count=v["count"])
    if condition.kind == "telegram_down":
        return turn.text("ops_telegram_down", since=since, error=str(v.get("error") or "")[:80])
    if condition.kind == "finger_down":
        error = words.state(str(v.get("error") or ""))[:80]
        return turn.text("ops_finger_down", device=v["device"], since=since,
                         error=turn.text("ops_finger_error", error=error) if error else "")
    if condition.kind == "finger_full":
        return turn.text("ops_finger_full", device=v["device"], percent=v["percent"], count=v["count"],
                         capacity=v["capacity"])
    return turn.text("ops_no_engine")


def _tell(turn: Turn, incident: Incident, opened: bool) -> None:
    stage = "open" if opened else "clear"
    values = {"problem": incident.detail, "since": words.clock(incident.since, turn.school.calendar.tz, turn.now),
              "duration": words.duration(turn.now - incident.since)}
    for chat in admins(turn):
        turn.to_staff(chat, "tg_alert" if opened else "tg_alert_cleared", key=f"incident:{incident.id}:{stage}:{chat}",
                      kind="alert", **values)
    if incident.kind in BY_SMS:
        for phone in admin_phones(turn):
            turn.send(Address(Channel.SMS, phone), "sms_alert" if opened else "sms_alert_cleared",
                      key=f"incident:{incident.id}:{stage}:sms:{phone}", kind="alert", problem=incident.detail)


def _event(turn: Turn) -> str:
    return "operations" if "operations" in turn.rules.rules.routes else "school_reload"


def admins(turn: Turn) -> list[int]:
    """The Telegram chats the operations route names."""
    return route_targets(turn, _event(turn), None, turn.today)


def admin_phones(turn: Turn) -> list[str]:
    """The mobile numbers (staff.csv) of the staff the operations route names."""
    phones: list[str] = []
    for target in turn.rules.rules.routes.get(_event(turn), []):  # type: ignore[call-overload]
        if target.startswith("group:"):
            continue
        for staff in staff_for(turn, target, None, turn.today):
            if staff.phone and is_phone(staff.phone, turn.school.region) and staff.phone not in phones:
                phones.append(staff.phone)
    return phones


# ------------------------------------------------------------------------------------------ daily summary


def _summary_if_due(turn: Turn, facts: Facts) -> None:
    at = turn.rules.rules.settings.alerts.daily_summary_at
    local = turn.school.calendar.local(turn.now)
    if at is None or not turn.school.calendar.is_school_day(local.date()):
        return
    hh, mm = map(int, at.split(":"))
    key = f"summary:{local.date()}"
    if local.time() < time(hh, mm) or turn.session.get(JobRun, key) is not None:
        return
    turn.session.add(JobRun(key=key, at=turn.now))
    for chat in admins(turn):
        turn.to_staff(chat, "tg_daily_summary", key=f"{key}:{chat}", kind="alert", **summary_values(turn, facts))


def summary_values(turn: Turn, facts: Facts) -> dict[str, object]:
    """Classes that reported today, alfa notices sent, failures, today's SMS and what is still wrong."""
    day = turn.today
    reported = set(turn.session.scalars(select(ClassReport.class_name).where(ClassReport.day == day)))
    missing = sorted(set(turn.school.classes) - reported)
    cells = day_usage(turn.session, day, turn.school.calendar.tz)
    sms = total(cells.values())
    start = turn.school.calendar.local(turn.now).replace(hour=0, minute=0, second=0, microsecond=0)
    failed = turn.session.scalar(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.status == "failed", OutboxRow.created_at >= start)) or 0
    price = turn.rules.rules.settings.guards.sms_part_price
    open_ = [i.detail for i in facts.incidents]
    shown = ", ".join(missing[:12]) + (turn.text("ops_summary_more", count=len(missing) - 12) if len(missing) > 12
                                       else "")
    return {"date": turn.date_text(day), "reported": len(reported & set(turn.school.classes)),
            "classes": len(turn.school.classes), "missing": turn.text("ops_summary_missing", classes=shown) if missing else "",
            "alfa": sum(c.sent for (_, kind), c in cells.items() if kind == "alfa"), "failed": failed,
            "sms": sms.sent, "parts": sms.parts, "cost": words.money(sms.parts * price),
            "problems": turn.text("ops_summary_problems", problems="\n".join(f"- {p}" for p in open_)) if open_
            else turn.text("ops_summary_normal")}


# ------------------------------------------------------------------------------------------ pulsa answers


def _pulsa_answers(turn: Turn, facts: Facts) -> None:
    """Answer each `/status` that asked for the pulsa once every modem answered (or PULSA_WAIT passed)."""
    asks = turn.session.scalars(select(Tally).where(Tally.key.startswith(ASKED_BY))).all()
    for ask in asks:
        modems = [d for d in facts.devices if d.kind == "modem" and d.down_since(turn.now) is None]
        answered = [d for d in modems if (at := d.moment("balance_at")) is not None and at >= ask.updated_at]
        if len(answered) < len(modems) and turn.now - ask.updated_at < PULSA_WAIT:
            continue
        chat = ask.key.removeprefix(ASKED_BY)
        lines = [pulsa_line(turn, d, asked=ask.updated_at) for d in facts.devices] or [turn.text("ops_pulsa_no_modem")]
        turn.to_staff(chat, "tg_pulsa_result", key=f"pulsa:{ask.updated_at.isoformat()}:{chat}",
                      time=words.clock(turn.now, turn.school.calendar.tz, turn.now), lines="\n".join(lines))
        turn.session.delete(ask)


def pulsa_line(turn: Turn, device: Published, asked: datetime | None = None) -> str:
    """`- /dev/ttyUSB0 (Telkomsel): Rp 12.500 (06.30)`; a gateway's pulsa is unknown."""
    tz = turn.school.calendar.tz
    name = f"- {device.port}" + (f" ({device.get('operator_name') or device.get('operator')})"
                                 if device.get("operator_name") or device.get("operator") else "")
    if device.kind != "modem":
        return f"{name}: " + turn.text("ops_pulsa_gateway")
    error, at = device.get("balance_error"), device.moment("balance_at")
    fresh = asked is None or (at is not None and at >= asked)
    if fresh and error:
        return f"{name}: " + turn.text("ops_pulsa_failed", error=str(error)[:120])
    if device.get("pulsa") is not None:
        when = device.moment("pulsa_at")
        stamp = f" ({words.clock(when, tz, turn.now)})" if when else ""
        old = "" if fresh else turn.text("ops_pulsa_stale")
        return f"{name}: {words.money(int(device.get('pulsa')))}{stamp}{old}"
    return f"{name}: " + turn.text("ops_pulsa_unknown" if fresh else "ops_pulsa_unanswered")


def ask_pulsa(turn: Turn, chat: int) -> None:
    """Ask every process with modems to check the pulsa now; `chat` gets the answers (`_pulsa_answers`)."""
    for key in (ASKED, f"{ASKED_BY}{chat}"):
        row = turn.session.get(Tally, key) or Tally(key=key, count=0, updated_at=turn.now)
        row.count, row.updated_at = row.count + 1, turn.now
        turn.session.add(row)
