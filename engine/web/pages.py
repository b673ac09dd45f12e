"""The console's pages: Hari ini (and its board), Rekap, Status, SMS, Kotak masalah.

Every figure comes from the engine's own code within the viewer's scope: the snapshot the Telegram
commands build (`chat.views.snapshot`) and the report tables (`reports.build`), rendered as HTML tables;
the admin pages read what `/status` and `/sms` read (`operations`). A class or department asked for in a
URL is checked against the viewer's scope before any query (`narrowed`): outside it, 403.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from werkzeug.exceptions import BadRequest, Forbidden
from werkzeug.wrappers import Response

from .. import reports
from ..app.logs import redact
from ..chat.views import snapshot
from ..operations import alerts, console, sms_sheet, words
from ..operations import views as ops_views
from ..operations.conditions import conditions
from ..operations.facts import gather
from ..reports.fmt import month_label, weekday_date
from ..reports.snapshot import Scope
from ..reports.snapshot import narrowed as within
from ..reports.table import Value
from ..school.calendar import month_bounds
from .chart import hours_chart
from .page import Page
from .routing import Route

REFRESH_SECONDS = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def routes() -> list[Route]:
    return [Route("/", "today", today, nav="Hari ini"),
            Route("/rekap", "recap", recap, nav="Rekap"),
            Route("/status", "status", status, nav="Status", admin=True),
            Route("/sms", "sms", sms, nav="SMS", admin=True),
            Route("/kotak-masalah", "inbox", inbox, nav="Kotak masalah", admin=True),
            Route("/kotak-masalah/coba-lagi", "inbox_retry", inbox_retry, methods=("POST",), admin=True)]


# ------------------------------------------------------------------------------------------ Hari ini


def today(page: Page) -> Response:
    """Today's absences in the viewer's scope and which classes have reported; `?papan=1`: the full-screen
    board for the teachers' room. It reloads itself every REFRESH_SECONDS (static/refresh.js)."""
    scope = page.scope
    with page.turn() as turn:
        day = turn.today
        snap = snapshot(turn, scope, day, day, turn.date_text(day), day)
        absent, reporting = reports.build("harian", snap, day=day)[0], reports.build("status", snap, day=day)[0]
    missing = [str(r.values[0]) for r in reporting.rows if r.kind == "data" and r.values[3] == "Belum"]
    by_class: dict[str, list[tuple[Value, ...]]] = {}
    for row in absent.rows:  # day, class, absen, nis, name, status, note, reporter, time, contacted
        by_class.setdefault(str(row.values[1]), []).append(row.values)
    counts = absent.extra.get("counts", {})
    totals = [(code, page.rules.reason_name(code), int(counts.get(code, 0)) if isinstance(counts, dict) else 0)
              for code in snap.statuses]
    board = page.request.args.get("papan") == "1"
    return page.render("today.html", day=weekday_date(day), reporting=reporting, by_class=by_class,
                       missing=missing, board=board, refresh=REFRESH_SECONDS, scope=scope, totals=totals,
                       school_day=day in snap.school_day_set)


# ------------------------------------------------------------------------------------------ Rekap


def narrowed(page: Page, class_name: str, department: str) -> Scope:
    """The part of the viewer's scope a form asks for (`reports.snapshot.narrowed`); anything outside it is
    refused, not silently emptied."""
    scope = within(page.scope, page.school, class_name, department)
    if scope is None:
        raise Forbidden("Kelas atau jurusan ini di luar cakupan Anda.")
    return scope


def choices(page: Page) -> tuple[list[str], list[str]]:
    """The classes and departments the viewer may pick."""
    scope = page.scope
    classes = sorted(c.name for c in page.school.classes.values() if scope.includes(c.name, c.department))
    departments = sorted({c.department for c in page.school.classes.values()
                          if c.department and (scope.whole or c.department in scope.departments)})
    return classes, departments


def recap(page: Page) -> Response:
    """A month or a semester of a class, a department or the whole scope: the tables `/rekap` and
    `/semester` send, and `?unduh=1` the same .xlsx as `absensi report` writes."""
    args = page.request.args
    classes, departments = choices(page)
    class_name, department = args.get("kelas", ""), args.get("jurusan", "")
    if not class_name and not department and len(classes) == 1:
        class_name = classes[0]  # a wali kelas: her class
    scope = narrowed(page, class_name, department)
    period = args.get("periode", "bulan")
    calendar = page.school.calendar
    with page.turn() as turn:
        day = turn.today
        month = args.get("bulan") or f"{day:%Y-%m}"
        if period == "semester":
            chosen = calendar.semester_named(args.get("semester", "")) if args.get("semester") \
                else calendar.semester_of(day) or (calendar.semesters[-1] if calendar.semesters else None)
            if chosen is None:
                raise BadRequest("Semester tidak dikenal (lihat school.yaml).")
            start, end, label, name = chosen.start, chosen.end, f"Semester {chosen.name}", "semester"
        else:
            found = _MONTH.match(month)
            if found is None or not 1 <= int(found.group(2)) <= 12:
                raise BadRequest("Bulan harus berbentuk YYYY-MM.")
            year, number = int(found.group(1)), int(found.group(2))
            start, end = month_bounds(year, number)
            label, name = month_label(year, number), "rekap-kelas"
            if len(scope.classes) > 1 and args.get("bentuk") != "siswa":  # many classes: the overview first
                name = "rekap-sekolah"
        snap = snapshot(turn, scope, start, end, label, day)
        if args.get("unduh") == "1":
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{name}-{scope.label}-{label}").strip("-").lower()
            return page.download(f"{stem}.xlsx", reports.export_xlsx(name, snap), XLSX)
        tables = reports.build(name, snap)
    query = {k: v for k, v in args.items() if k != "unduh"}
    return page.render("recap.html", tables=tables, classes=classes, departments=departments,
                       chosen_class=class_name, chosen_department=department, period=period, month=month,
                       semesters=[s.name for s in calendar.semesters], chosen_semester=args.get("semester", ""),
                       whole=page.scope.whole or len(classes) > 1, query=query, per_student=args.get("bentuk") == "siswa",
                       label=f"{scope.label} · {label}")


# ------------------------------------------------------------------------------------------ Status


def status(page: Page) -> Response:
    """What `/status` says (the same lines, the same conditions), and the last 24 hours as a chart."""
    with page.turn() as turn:
        facts = gather(turn.session, turn.now, turn.school.calendar.tz)
        found = [c for c in conditions(facts, turn.rules.rules.settings.alerts) if c.due]
        lines = {"engine": ops_views.engine_line(turn, facts) if facts.engine_alive
                 else "Mesin: TIDAK berjalan (tidak ada detak dari absensi run)",
                 "devices": [ops_views.device_line(turn, d) for d in facts.devices]
                 or ["SMS: tidak ada modem atau gateway yang berjalan"],
                 "fingers": [ops_views.finger_line(turn, m) for m in facts.fingers],
                 "telegram": ops_views.telegram_line(turn, facts.telegram),
                 "queues": ops_views.queue_line(turn, facts).split("\n"),
                 "inbox": f"Pesan masuk: {facts.inbox_waiting} menunggu diproses, {facts.inbox_errors} di kotak "
                          "masalah",
                 "database": f"Basis data: {words.size(facts.database_bytes)}"}
        problems = [alerts.problem(turn, c) for c in found]
        hours = console.last_hours(turn.session, turn.now)
        tz = turn.school.calendar.tz
        checked = words.clock(turn.now, tz, turn.now)
    return page.render("status.html", lines=lines, problems=problems, chart=hours_chart(hours, tz),
                       checked=checked, hours=hours, refresh=REFRESH_SECONDS)


# ------------------------------------------------------------------------------------------ SMS


def sms(page: Page) -> Response:
    """The SMS log of one day (in and out, numbers masked, filtered by kind and state) and the month's
    usage and cost as `/sms` counts them; `?unduh=1`: the month's .xlsx `/sms` sends."""
    args = page.request.args
    tz = page.school.calendar.tz
    with page.turn() as turn:
        try:
            day = date.fromisoformat(args.get("tanggal", "")) if args.get("tanggal") else turn.today
        except ValueError:
            raise BadRequest("Tanggal harus berbentuk YYYY-MM-DD.") from None
        kind = args.get("jenis") or None
        state = args.get("status") or None
        month = ops_views.month_figures(turn, day.year, day.month)
        if args.get("unduh") == "1":
            return page.download(sms_sheet.file_name(month), sms_sheet.xlsx(month, page.school.name), XLSX)
        start = datetime.combine(day, time(), tz)
        lines = console.sms_log(turn.session, start, start + timedelta(days=1), kind, state)
        kinds = console.sms_kinds(turn.session)
    shown = [(words.clock(line.at, tz, line.at), "Masuk" if line.incoming else "Keluar", line.number,
              "SMS masuk" if line.incoming else words.kind_label(line.kind),
              console.STATE_WORDS.get(line.state, line.state),
              redact(line.text)[:300], redact(line.error)[:200]) for line in lines]
    usage = sms_sheet.tables(month, page.school.name)[0]
    return page.render("sms.html", lines=shown, day=day.isoformat(), day_label=weekday_date(day), kind=kind or "",
                       state=state or "", kinds=[(console.INCOMING, "SMS masuk")]
                       + [(k, words.kind_label(k)) for k in kinds],
                       states=[(s, console.STATE_WORDS[s]) for s in (*console.OUTBOX_STATES, *console.INBOX_STATES)],
                       usage=usage, cost=words.money(month.cost(month.total)), month_label=month.label,
                       limit=console.LOG_LIMIT)


# ------------------------------------------------------------------------------------------ Kotak masalah


def inbox(page: Page) -> Response:
    """Messages the engine could not handle, kept (SPEC §8); "Coba lagi" hands them back to the engine."""
    with page.turn() as turn:
        failed = console.failed_inbox(turn.session)
    tz = page.school.calendar.tz
    rows = [(f.id, words.clock(f.received_at, tz, page.now), f.channel, f.sender, redact(f.text)[:300],
             redact(f.error)[:300]) for f in failed]
    return page.render("inbox.html", rows=rows, done=page.request.args.get("dikembalikan"))


def inbox_retry(page: Page) -> Response:
    """Put one failed message (`id`) or all (`semua`) back in the inbox and wake the engine — the engine
    handles them, in its own thread, as after `absensi inbox --retry`; this thread handles nothing."""
    form = page.request.form
    ids: list[int] | None
    if form.get("semua") == "1":
        ids = None
    else:
        try:
            ids = [int(form.get("id", ""))]
        except ValueError:
            raise BadRequest("Pesan tidak dikenal.") from None
    with page.store.unit() as session:
        count = console.requeue(session, ids)
    if count:
        page.store.notify_inbox()
    return Response(status=303, headers={"Location": f"{page.url_for('inbox')}?dikembalikan={count}"})
