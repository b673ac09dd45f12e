"""The console's pages: Hari ini (and its board), Rekap, Status, SMS, Kotak masalah.

Every figure comes from the engine's own code within the viewer's scope: the snapshot the Telegram
commands build (`chat.views.snapshot`) and the report tables (`reports.build`), rendered as HTML tables.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from .. import reports
from ..chat.views import snapshot
from ..reports.fmt import weekday_date
from ..reports.table import Value
from .page import Page
from .routing import Route

REFRESH_SECONDS = 60


def routes() -> list[Route]:
    return [Route("/", "today", today, nav="Hari ini")]


# ------------------------------------------------------------------------------------------ Hari ini


def today(page: Page) -> Response:
    """Today's absences in the viewer's scope and which classes have reported; `?papan=1`: the full-screen
    board for the teachers' room. It reloads itself every REFRESH_SECONDS (static/refresh.js)."""
    scope = page.scope
    with page.turn() as turn:
        day = turn.today
        snap = snapshot(turn, scope, day, day, turn.date_text(day), day)
        absent, status = reports.build("harian", snap, day=day)[0], reports.build("status", snap, day=day)[0]
    missing = [str(r.values[0]) for r in status.rows if r.kind == "data" and r.values[3] == "Belum"]
    by_class: dict[str, list[tuple[Value, ...]]] = {}
    for row in absent.rows:  # day, class, absen, nis, name, status, note, reporter, time, contacted
        by_class.setdefault(str(row.values[1]), []).append(row.values)
    board = page.request.args.get("papan") == "1"
    return page.render("today.html", day=weekday_date(day), absent=absent, reporting=status, by_class=by_class,
                       missing=missing, board=board, refresh=REFRESH_SECONDS, scope=scope,
                       reason_name=page.rules.reason_name, counts=absent.extra.get("counts", {}))
