"""What the punch table holds, read back for the fingerprint tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from absensi.engine.store import Store
from absensi.engine.store.models import Punch


def punches(db_url: str) -> list[tuple[str | None, str, datetime, str, str]]:
    """(nis, user id, time, device, source) of every stored punch, by time and user id."""
    store = Store(db_url)
    try:
        with store.unit() as session:
            rows = session.execute(select(Punch.nis, Punch.user_id, Punch.at, Punch.device, Punch.source)
                                   .order_by(Punch.at, Punch.user_id)).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        store.close()
