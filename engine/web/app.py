"""The console as a WSGI application: routing, the session, CSRF, security headers, templates.

Every response carries a Content-Security-Policy without inline scripts or styles and without framing,
`nosniff`, `Referrer-Policy: same-origin` (a login link must not leak to another site through a Referer) and
`Cache-Control: no-store` (pages hold children's data). Every POST needs the form's CSRF field (HMAC of the
session, `auth.Signer`) and, when the browser sends one, an `Origin` equal to the console's own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from loguru import logger
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..live import Live
from ..rules import CompiledRules
from ..school.model import School
from ..store import Store, weblogin
from ..turn import Turn
from .auth import Limiter, Signer
from .fmt import cell
from .page import Page, Viewer, viewer_of
from .routing import Route

# the modules whose routes() make the console, in navigation order; a missing one is skipped (logged)
ROUTE_MODULES = ("absensi.engine.web.login", "absensi.engine.web.pages", "absensi.engine.web.data_page")
COOKIE = "absensi_sesi"
HERE = Path(__file__).parent
STATIC = {"style.css": "text/css", "refresh.js": "text/javascript"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# same-origin: a login link's path never goes to another site in a Referer (and browsers still send the real
# Origin on our own forms; with no-referrer Chromium sends "Origin: null", which same_origin refuses)
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin"}
MAX_BODY = 32 * 1024 * 1024  # the roster upload's files together


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_routes(modules: Iterable[str] = ROUTE_MODULES) -> list[Route]:
    found: list[Route] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            logger.warning("web: no module {}; its pages are left out", name)
            continue
        found.extend(module.routes())
    return found


class WebApp:
    def __init__(self, store: Store, rules: Callable[[], CompiledRules], school: Callable[[], School], secret: bytes,
                 secure: bool = False, clock: Callable[[], datetime] = utc_now,
                 routes: list[Route] | None = None) -> None:
        """`rules`, `school`: the set in force (a reload replaces it); `secure`: the public URL is https (the
        cookie is then marked Secure)."""
        self.store, self.rules, self.school, self.clock, self.secure = store, rules, school, clock, secure
        self.signer = Signer(secret)
        self.limiter = Limiter()
        self.routes = {r.endpoint: r for r in (routes if routes is not None else load_routes())}
        self.map = Map([Rule(r.path, endpoint=r.endpoint, methods=list(r.methods)) for r in self.routes.values()]
                       + [Rule("/static/<name>", endpoint="static")], strict_slashes=False)
        self.templates = Environment(loader=FileSystemLoader([HERE / "templates"]),
                                     autoescape=select_autoescape(default=True, default_for_string=True))
        self.templates.globals.update(url_for=self.url_for, csrf_field=_csrf_field, nav=self.nav, cell=cell)
        self._adapter = self.map.bind("localhost")
        # path → WSGI application served as it is (a driver's signed webhooks: no session, no CSRF, no page)
        self.mounts: dict[str, Callable[..., Iterable[bytes]]] = {}

    # ------------------------------------------------------------------------------------- helpers

    def url_for(self, endpoint: str, **values: Any) -> str:
        return str(self._adapter.build(endpoint, values))

    def nav(self, viewer: Viewer | None) -> list[tuple[str, str]]:
        if viewer is None:
            return []
        return [(r.endpoint, r.nav) for r in self.routes.values() if r.nav and (viewer.admin or not r.admin)]

    def render(self, template: str, **values: Any) -> str:
        return self.templates.get_template(template).render(**values)

    def set_session(self, response: Response, session_id: str, ends: datetime) -> None:
        response.set_cookie(COOKIE, self.signer.cookie(session_id), max_age=int((ends - self.clock()).total_seconds()),
                            httponly=True, samesite="Strict", secure=self.secure, path="/")

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=self.secure, path="/")

    # ------------------------------------------------------------------------------------- dispatch

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        mounted = self.mounts.get(str(environ.get("PATH_INFO", "")).rstrip("/"))
        if mounted is not None:
            return mounted(environ, start_response)
        request = Request(environ)
        request.max_content_length = MAX_BODY  # larger bodies are refused (413) before they are parsed
        try:
            try:
                response = self.dispatch(request)
            except HTTPException as exc:
                response = self.error(request, exc.code or 500, exc.description or "")
            except Exception:
                logger.exception("web: a page failed")
                response = self.error(request, 500, "Terjadi kesalahan pada server.")
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            if request.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "max-age=300")
            else:
                response.headers["Cache-Control"] = "no-store"
            return response(environ, start_response)
        finally:
            request.close()  # uploaded files' temporary files, also when the handler never ran

    def error(self, request: Request, code: int, detail: str) -> Response:
        titles = {400: "Permintaan tidak valid", 403: "Tidak diizinkan", 404: "Halaman tidak ditemukan",
                  405: "Metode tidak diizinkan", 413: "Berkas terlalu besar", 429: "Terlalu banyak percobaan", 500: "Kesalahan server"}
        body = self.render("error.html", page=None, viewer=None, title=titles.get(code, "Kesalahan"),
                           detail=detail if code != 500 else "Terjadi kesalahan pada server.")
        return Response(body, status=code, mimetype="text/html")

    def dispatch(self, request: Request) -> Response:
        adapter = self.map.bind_to_environ(request.environ)
        endpoint, values = adapter.match()
        if endpoint == "static":
            return self.static(values["name"])
        route = self.routes[endpoint]
        now = self.clock()
        session_id = self.signer.session_id(request.cookies.get(COOKIE))
        viewer = self.viewer(session_id, now) if session_id else None
        page = Page(self, request, now, viewer, session_id if viewer else None, endpoint)
        if request.method == "POST" and not self.same_origin(request):
            return self.error(request, 403, "Formulir ini tidak berasal dari konsol ini.")
        if not route.public:
            if viewer is None:
                response = page.render("login.html", status=401, expired=bool(session_id))
                return response
            if route.admin and not viewer.admin:
                return self.error(request, 403, "Halaman ini hanya untuk admin.")
            if request.method == "POST" and not self.signer.csrf_ok(page.session_id or "", request.form.get("csrf")):
                return self.error(request, 403, "Formulir kedaluwarsa atau tidak sah; buka halamannya lagi.")
        result = route.handler(page, **values)
        return result  # type: ignore[no-any-return]

    def viewer(self, session_id: str, now: datetime) -> Viewer | None:
        with self.store.unit() as session:
            user = weblogin.session_user(session, session_id, now)
            if user is None:
                return None
            return viewer_of(Turn(Live(self.rules(), self.school()), session, now), user)

    @staticmethod
    def same_origin(request: Request) -> bool:
        """A browser's POST names its origin; it must be this console's (a proxy passes Host through)."""
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser, or an old one: the CSRF field still decides
            return True
        host = request.host
        return origin in (f"http://{host}", f"https://{host}")

    def static(self, name: str) -> Response:
        if name not in STATIC:
            raise NotFound()
        return Response((HERE / "static" / name).read_bytes(), mimetype=STATIC[name])


@pass_context
def _csrf_field(context: Any) -> Markup:
    page = context.get("page")
    token = page.csrf if page is not None else ""
    return Markup('<input type="hidden" name="csrf" value="{}">').format(token)
