"""How a module adds pages to the console: a `routes()` function returning `Route`s (light to import).

    def routes() -> list[Route]:
        return [Route("/data", "data", show, nav="Data sekolah", admin=True),
                Route("/data/unggah", "data_upload", upload, methods=("POST",), admin=True)]

    def show(page: Page) -> Response:           # URL variables (<name>) come as keyword arguments
        with page.turn() as turn: ...           # a store transaction, with the rules and roster in force
        return page.render("data.html", items=...)

The module is named in `app.ROUTE_MODULES`. Before a handler runs, the app has checked the session (no
session: the login page), `admin` (403 for others) and, for a POST, the form's CSRF field (403 without a
valid one). Templates extend "base.html" and put `{{ csrf_field() }}` in every form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[..., Any]  # (page: Page, **url_values) -> werkzeug Response


@dataclass(frozen=True)
class Route:
    path: str  # a Werkzeug rule: "/rekap", "/data/<stage>"
    endpoint: str  # unique; templates link with url_for(endpoint, ...)
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    admin: bool = False  # only for the operator (the roles whose Telegram commands include /status's or /sms's)
    nav: str | None = None  # the navigation's label, in order of ROUTE_MODULES and routes(); None: not listed
    public: bool = False  # reachable without a session (the login pages only)
