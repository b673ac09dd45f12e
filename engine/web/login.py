"""Logging in with a link from the bot's `/web`, and out.

Opening the link shows a page with one button; only pressing it (a POST) spends the link. A chat app that
fetches the link to show a preview therefore cannot use it up, and a link forwarded by mistake is spent
only by whoever presses the button first.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from ..live import Live
from ..store import weblogin
from ..turn import Turn
from .page import Page, viewer_of
from .routing import Route


def routes() -> list[Route]:
    return [Route("/masuk", "login_help", login_help, public=True),
            Route("/masuk/<token>", "login", login, methods=("GET", "POST"), public=True),
            Route("/keluar", "logout", logout, methods=("POST",))]


def login_help(page: Page) -> Response:
    return page.render("login.html", status=200, expired=False)


def login(page: Page, token: str) -> Response:
    app = page.app
    csrf = app.signer.csrf(f"login:{token}")
    if page.request.method == "GET":
        return page.render("login_confirm.html", token=token, login_csrf=csrf)
    client = client_of(page.request)
    if app.limiter.blocked(client):
        return app.error(page.request, 429, "Terlalu banyak tautan yang salah. Coba lagi 10 menit lagi.")
    if not app.signer.csrf_ok(f"login:{token}", page.request.form.get("csrf")):
        app.limiter.failed(client)
        return app.error(page.request, 403, "Formulir tidak sah; buka tautan dari bot lagi.")
    with page.store.unit() as session:
        user = weblogin.redeem(session, token, page.now)
        if user is not None:
            viewer = viewer_of(Turn(Live(page.rules, page.school), session, page.now), user)
            if viewer is None:
                user = None
    if user is None:
        app.limiter.failed(client)
        return page.render("login.html", status=403, refused=True, expired=False)
    with page.store.unit() as session:
        session_id, ends = weblogin.open_session(session, user, page.now)
    response = page.redirect("today")
    app.set_session(response, session_id, ends)
    return response


def client_of(request: Request) -> str:
    """Who is guessing, for the limiter: the peer, or behind a reverse proxy on this machine the address the
    proxy says it forwarded for (the last one it appended). Spoofing it gains nothing: the limiter also
    counts all failures together."""
    peer = request.remote_addr or "?"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in ("127.0.0.1", "::1") and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()[:64] or peer
    return peer


def logout(page: Page) -> Response:
    if page.session_id:
        with page.store.unit() as session:
            weblogin.end_session(session, page.session_id, page.now)
    response = page.redirect("login_help")
    page.app.clear_session(response)
    return response
