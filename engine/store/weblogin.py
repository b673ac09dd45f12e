"""The web console's logins (issue 13): a one-time link asked for with `/web`, and the sessions it opens.

A link carries a random token (256 bits); only its SHA-256 is stored, so a copy of the database opens
nothing. It is valid LINK_LIFETIME, once: redeeming marks it used in the same UPDATE that checks it, so two
browsers racing for one link cannot both get in. A session is named the same way (the cookie holds its id,
the row its hash) and lasts SESSION_LIFETIME; a logout ends it. The engine writes links (in the `/web`
turn), the web console redeems them; neither knows the other.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session

from .models import OutboxRow, ServiceHealth, WebLogin, WebSession

LINK_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=8)
KEEP = timedelta(days=1)  # used or expired rows are deleted this long after they stopped being valid
CONSOLE_KIND = "web"  # the service_health kind under which a running console publishes its public URL
CONSOLE_STALE = timedelta(minutes=3)  # the console refreshes its row every minute
# what the bot's message with the link says once the link is used or expired (the token leaves the outbox)
SPENT_TEXT = "Tautan masuk konsol web (sudah dipakai atau kedaluwarsa)."


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def outbox_key(token_hash: str) -> str:
    """The outbox key of the bot's message carrying a link: the link is taken out of it once spent."""
    return f"web:{token_hash}"


def new_login(session: Session, telegram_id: int, now: datetime) -> str:
    """A one-time token for `telegram_id`, valid LINK_LIFETIME from `now` (the caller puts it in a link)."""
    token = secrets.token_urlsafe(32)
    session.add(WebLogin(token_hash=digest(token), telegram_id=telegram_id, created_at=now,
                         expires_at=now + LINK_LIFETIME))
    return token


def redeem(session: Session, token: str, now: datetime) -> int | None:
    """The Telegram id a valid, unused, unexpired token was made for, marking it used; None otherwise."""
    if not token or len(token) > 100:
        return None
    hashed = digest(token)
    done = session.execute(update(WebLogin).where(WebLogin.token_hash == hashed, WebLogin.used_at.is_(None),
                                                  WebLogin.expires_at > now).values(used_at=now))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    _scrub(session, [hashed])
    return session.scalar(select(WebLogin.telegram_id).where(WebLogin.token_hash == hashed))


def _scrub(session: Session, hashes: list[str]) -> None:
    """Take spent links out of the bot's messages that carried them (the outbox keeps sent texts)."""
    if hashes:
        session.execute(update(OutboxRow).where(OutboxRow.key.in_([outbox_key(h) for h in hashes]))
                        .values(text=SPENT_TEXT))


def open_session(session: Session, telegram_id: int, now: datetime) -> tuple[str, datetime]:
    """A new session for `telegram_id`: its id (for the cookie) and when it ends."""
    session_id = secrets.token_urlsafe(32)
    ends = now + SESSION_LIFETIME
    session.add(WebSession(id_hash=digest(session_id), telegram_id=telegram_id, created_at=now, expires_at=ends))
    return session_id, ends


def session_user(session: Session, session_id: str, now: datetime) -> int | None:
    """The Telegram id of a session that has neither expired nor been ended."""
    if not session_id or len(session_id) > 100:
        return None
    return session.scalar(select(WebSession.telegram_id).where(
        WebSession.id_hash == digest(session_id), WebSession.expires_at > now, WebSession.ended_at.is_(None)))


def end_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id_hash == digest(session_id),
                                             WebSession.ended_at.is_(None)).values(ended_at=now))


def forget_old(session: Session, now: datetime) -> int:
    """Delete links that expired unused (taking them out of the bot's messages), and used links and sessions
    that stopped being valid more than KEEP ago."""
    cutoff = now - KEEP
    unused = list(session.scalars(select(WebLogin.token_hash).where(WebLogin.expires_at <= now,
                                                                    WebLogin.used_at.is_(None))))
    _scrub(session, unused)  # an expired link opens nothing: its message and its row go now
    gone = session.execute(delete(WebLogin).where(WebLogin.token_hash.in_(unused))).rowcount  # type: ignore[attr-defined]
    gone += session.execute(delete(WebLogin).where(WebLogin.expires_at < cutoff)).rowcount  # type: ignore[attr-defined]
    gone += session.execute(delete(WebSession).where(or_(WebSession.expires_at < cutoff,  # type: ignore[attr-defined]
                                                         WebSession.ended_at < cutoff))).rowcount
    return int(gone)


def console_url(session: Session, now: datetime) -> str | None:
    """The public address of a running web console (the freshest one published), or None."""
    rows = session.scalars(select(ServiceHealth).where(ServiceHealth.kind == CONSOLE_KIND)
                           .order_by(ServiceHealth.updated_at.desc()))
    for row in rows:
        url = row.data.get("url")
        if now - row.updated_at <= CONSOLE_STALE and isinstance(url, str) and url:
            return url.rstrip("/")
    return None


def withdraw_console(session: Session, name: str) -> None:
    """A console that stops takes its published address away (`/web` then says none is running)."""
    session.execute(delete(ServiceHealth).where(ServiceHealth.name == name))


def link(base_url: str, token: str) -> str:
    """The login link for `token` on the console at `base_url`."""
    return f"{base_url.rstrip('/')}/masuk/{token}"
