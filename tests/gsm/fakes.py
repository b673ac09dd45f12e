"""In-memory recording fakes of the `Inbox` and `Outbox` ports (drivers/base.py), thread-safe.

They behave like the store where it matters to a driver: the inbox refuses a second `source_id`; the
outbox claims oldest-first, honours `next_try`, hands an item left `sending` out once more on `recover`,
and matches delivery reports by reference token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime

from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.ports import OutboxItem


class RecordingInbox:
    def __init__(self, fail_times: int = 0) -> None:
        self.messages: list[InboundMessage] = []
        self.submits: list[InboundMessage] = []  # every call, duplicates included
        self.kept: list[tuple[InboundMessage, str]] = []  # unreadable messages kept as errors
        self.fail_times = fail_times  # the next N submits raise (database down)
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def keep(self, msg: InboundMessage, reason: str) -> None:
        with self._lock:
            self.kept.append((msg, reason))

    def submit(self, msg: InboundMessage) -> bool:
        with self._lock:
            self.submits.append(msg)
            if self.fail_times > 0:
                self.fail_times -= 1
                raise RuntimeError("database is locked")
            if msg.source_id in self._ids:
                return False
            self._ids.add(msg.source_id)
            self.messages.append(msg)
            return True

    def texts(self) -> list[str]:
        with self._lock:
            return [m.text for m in self.messages]


@dataclass
class Row:
    item: OutboxItem
    state: str = "pending"  # pending, sending, sent, failed, delivered, undelivered
    next_try: datetime | None = None
    native_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)  # worker names, one per claim
    recovered: int = 0
    handed: list[int] = field(default_factory=list)  # part numbers announced before each +CMGS
    parts: list[str] = field(default_factory=list)  # refs of accepted parts of a multipart item


class RecordingOutbox:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.reports: list[tuple[str, bool, bool]] = []  # (ref, delivered, matched)
        self.crash_on_sent = False  # simulate a crash between +CMGS and recording the answer
        self.crashed, self.release = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def add(self, to: str, text: str) -> int:
        with self._lock:
            item_id = len(self.rows) + 1
            self.rows[item_id] = Row(OutboxItem(item_id, Channel.SMS, to, text))
            return item_id

    def claim(self, channel: Channel, now: datetime, limit: int = 1, worker: str = "") -> list[OutboxItem]:
        with self._lock:
            due = [r for r in self.rows.values() if r.state == "pending" and r.item.channel == channel
                   and (r.next_try is None or r.next_try <= now)]
            taken = due[:limit]
            for row in taken:
                row.state = "sending"
                row.claims.append(worker)
            return [r.item for r in taken]

    def sent(self, item_id: int, now: datetime, native_id: str | None = None) -> None:
        if self.crash_on_sent:  # the process "dies" here: the answer is never recorded
            self.crashed.set()
            self.release.wait(10)
            return
        with self._lock:
            row = self.rows[item_id]
            row.state, row.native_id = "sent", native_id

    def handing(self, item_id: int, part: int, now: datetime) -> None:
        with self._lock:
            self.rows[item_id].handed.append(part)

    def part_sent(self, item_id: int, native_ref: str) -> None:
        with self._lock:
            self.rows[item_id].parts.append(native_ref)

    def retry(self, item_id: int, now: datetime, reason: str, next_try: datetime) -> None:
        with self._lock:
            row = self.rows[item_id]
            row.state, row.next_try = "pending", next_try
            row.reasons.append(reason)
            row.item = replace(row.item, attempts=row.item.attempts + 1)

    def failed(self, item_id: int, now: datetime, reason: str) -> None:
        with self._lock:
            row = self.rows[item_id]
            row.state = "failed"
            row.reasons.append(reason)

    def delivery_report(self, channel: Channel, native_ref: str, delivered: bool, now: datetime) -> bool:
        with self._lock:
            for row in self.rows.values():
                if row.native_id and native_ref in row.native_id.split(","):
                    row.state = "delivered" if delivered else "undelivered"
                    self.reports.append((native_ref, delivered, True))
                    return True
            self.reports.append((native_ref, delivered, False))
            return False

    def recover(self, channel: Channel, now: datetime, worker: str = "") -> int:
        """Like the store: only rows this `worker` (restarting) left sending; "" means every worker."""
        with self._lock:
            stuck = [r for r in self.rows.values() if r.state == "sending" and r.recovered == 0
                     and (not worker or (r.claims and r.claims[-1] == worker))]
            for row in stuck:
                row.state, row.recovered = "pending", 1
                row.item = replace(row.item, attempts=row.item.attempts + 1)
            for row in self.rows.values():
                mine = not worker or (row.claims and row.claims[-1] == worker)
                if row.state == "sending" and mine and row not in stuck:  # left sending twice: never again
                    row.state = "failed"
                    row.reasons.append("left sending by two crashes")
            return len(stuck)

    def states(self) -> dict[int, str]:
        with self._lock:
            return {i: r.state for i, r in self.rows.items()}
