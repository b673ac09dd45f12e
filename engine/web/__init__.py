"""The web console (issue 13): today's board, reports, the service's health, the SMS log, the error inbox and
the roster upload, for staff logged in through the bot's `/web`.

Served in-process by `absensi run --web ADDRESS:PORT` from a thread of the service (`server.start`). It reads
the store and writes only its own rows (logins, sessions) and requests (an inbox retry): messages are
handled by the engine alone. What a page shows is computed within the viewer's scope from `roles.yaml`,
by the engine's own scope code, exactly as in Telegram (`page.Page.scope`).

Werkzeug and Jinja2 are imported by `app`, `page` and `server` only, which only `--web` loads; this package's
`__init__` imports nothing.

Modules plug pages in through `routing.Route` (see `app.ROUTE_MODULES`).
"""
