"""What the service does at every start: merge the roster's pre-registered parents into the store.

`parents.csv` seeds a registration once: a (phone, student) pair that already exists in the store —
active, or stopped by the parent's STOP — is left alone, so a STOP survives restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..school.model import School
from ..store import Store
from ..store.models import ParentLink, SmsSender


def seed(school: School, store: Store, now: datetime) -> int:
    """Insert pre-registered parent numbers not seen before; returns how many were added."""
    pairs = school.preregistered
    if not pairs:
        return 0
    with store.unit() as session:
        known = {(phone, nis) for phone, nis in session.execute(select(ParentLink.phone, ParentLink.nis))}
        senders = {s.phone: s for s in session.scalars(select(SmsSender))}
        added = 0
        for phone, nis in pairs:
            if (phone, nis) in known:
                continue
            known.add((phone, nis))
            session.add(ParentLink(phone=phone, nis=nis, active=True, origin="import", consent_at=now,
                                   consent_source="parents.csv"))
            sender = senders.get(phone) or SmsSender(phone=phone, state="baru")
            sender.state = "terdaftar"
            senders[phone] = sender
            session.add(sender)
            added += 1
        return added
