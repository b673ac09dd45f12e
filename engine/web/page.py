"""What a handler gets: the request, who is looking (their roles and scope), the store, and helpers to
answer (a template, a redirect, a download)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Request, Response

from ..chat.staff import allowed_commands
from ..live import Live
from ..operations.views import ACTIONS as OPERATIONS
from ..reports.snapshot import Scope, scope_of
from ..rules import CompiledRules
from ..rules.commands import command_for
from ..school.model import School, StaffRole
from ..store import Store
from ..turn import Turn
from .auth import Limiter, Signer


class Console(Protocol):
    """What a page uses of the application (`app.WebApp`)."""

    store: Store
    signer: Signer
    limiter: Limiter

    def rules(self) -> CompiledRules: ...
    def school(self) -> School: ...
    def url_for(self, endpoint: str, **values: Any) -> str: ...
    def render(self, template: str, **values: Any) -> str: ...
    def error(self, request: Request, code: int, detail: str) -> Response: ...
    def set_session(self, response: Response, session_id: str, ends: datetime) -> None: ...
    def clear_session(self, response: Response) -> None: ...


@dataclass(frozen=True)
class Viewer:
    """A logged-in staff member: the staff rows their Telegram account holds (students' rows excluded)."""

    telegram_id: int
    name: str
    roles: tuple[StaffRole, ...]
    scope: Scope
    admin: bool


def viewer_of(turn: Turn, telegram_id: int) -> Viewer | None:
    """Who `telegram_id` is for the console, from the rules and roster in force; None: not (or no longer)
    linked staff. Admin: a role whose Telegram commands include the operator's (/status's service health,
    /sms) — the console's admin pages show the same things."""
    roles = [r for r in turn.roles_of(telegram_id) if not turn.rules.rules.roles[r.role].student]
    if not roles:
        return None
    names = allowed_commands(turn, roles)
    admin = any((command_for(turn.rules.rules, name, [r.role]) or turn.rules.commands[name]).action in OPERATIONS
                for r in roles for name in names if name in turn.rules.rules.roles[r.role].commands)
    return Viewer(telegram_id, roles[0].name, tuple(roles), scope_of(turn.school, turn.rules, roles), admin)


class Page:
    def __init__(self, app: Any, request: Request, now: datetime, viewer: Viewer | None,
                 session_id: str | None, endpoint: str) -> None:
        self.app: Console = app
        self.request, self.now = request, now
        self.viewer, self.session_id, self.endpoint = viewer, session_id, endpoint
        self.rules: CompiledRules = app.rules()
        self.school: School = app.school()
        self.headers: dict[str, str] = {}

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def scope(self) -> Scope:
        """What the viewer may see; every query of a page is made within it."""
        if self.viewer is None:
            raise Forbidden()
        return self.viewer.scope

    @contextmanager
    def turn(self) -> Iterator[Turn]:
        """A store transaction with the rules and roster in force (its own `Live`: the engine's is the
        engine thread's). Reads only, by convention: the console changes nothing the engine owns."""
        with self.store.unit() as session:
            yield Turn(Live(self.rules, self.school), session, self.now)

    @property
    def csrf(self) -> str:
        return self.app.signer.csrf(self.session_id or "")

    def url_for(self, endpoint: str, **values: Any) -> str:
        return self.app.url_for(endpoint, **values)

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        body = self.app.render(template, page=self, viewer=self.viewer, **values)
        return Response(body, status=status, mimetype="text/html", headers=self.headers)

    def redirect(self, endpoint: str, **values: Any) -> Response:
        return Response(status=303, headers={"Location": self.url_for(endpoint, **values)})

    def download(self, name: str, content: bytes, mimetype: str) -> Response:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        return Response(content, mimetype=mimetype, headers={
            "Content-Disposition": f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(safe)}"})
