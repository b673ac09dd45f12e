"""The queries the console's admin pages add to the engine (engine/operations/console.py), on SQLite and
PostgreSQL: the SMS log (in and out, filters, numbers masked), the error inbox and its retry, and the last
24 hours of the outbox queue and SMS sent read back from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from absensi.engine.operations import console
from absensi.engine.store import Store
from absensi.engine.store.models import InboxRow, OutboxRow

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
H = timedelta(hours=1)


def inbox(store: Store, n: int, at: datetime, status: str = "done", channel: str = "sms") -> None:
    with store.unit() as session:
        session.add(InboxRow(source_id=f"s{n}", channel=channel, sender=f"+62812345000{n:02d}", text=f"pesan {n}",
                             received_at=at, status=status, error="rusak" if status == "error" else None))


def outbox(store: Store, n: int, created: datetime, status: str, sent: datetime | None = None, kind: str = "alfa",
           channel: str = "sms", next_try: datetime | None = None) -> None:
    with store.unit() as session:
        session.add(OutboxRow(channel=channel, recipient=f"+62812999000{n:02d}", text=f"keluar {n}", kind=kind,
                              status=status, created_at=created, sent_at=sent, next_try_at=next_try or created))


def test_the_sms_log_filters_and_masks(store: Store) -> None:
    day = NOW.replace(hour=0, minute=0)
    inbox(store, 1, NOW - 2 * H)
    inbox(store, 2, NOW - H, status="error")
    inbox(store, 3, NOW - H, channel="telegram")  # not an SMS
    inbox(store, 4, day - H)  # the day before
    outbox(store, 5, NOW - 3 * H, "sent", NOW - 2.5 * H)
    outbox(store, 6, NOW - 30 * timedelta(minutes=1), "pending", kind="reply")
    outbox(store, 7, NOW - H, "sent", NOW - H, channel="telegram")
    with store.unit() as session:
        lines = console.sms_log(session, day, day + 24 * H)
        assert [(line.incoming, line.number, line.kind, line.state) for line in lines] == [
            (False, "0812****006", "reply", "pending"), (True, "0812****002", "masuk", "error"),
            (True, "0812****001", "masuk", "done"), (False, "0812****005", "alfa", "sent")]
        assert all("+62" not in line.number for line in lines)
        assert [x.number for x in console.sms_log(session, day, day + 24 * H, kind="masuk")] == \
            ["0812****002", "0812****001"]
        assert [x.number for x in console.sms_log(session, day, day + 24 * H, kind="alfa")] == ["0812****005"]
        assert [x.number for x in console.sms_log(session, day, day + 24 * H, state="error")] == ["0812****002"]
        assert [x.number for x in console.sms_log(session, day, day + 24 * H, state="pending")] == ["0812****006"]
        assert [x.number for x in console.sms_log(session, day - 24 * H, day)] == ["0812****004"]
        assert console.sms_kinds(session) == ["alfa", "reply"]


def test_requeue_puts_failed_messages_back(store: Store) -> None:
    for n in (1, 2, 3):
        inbox(store, n, NOW, status="error")
    inbox(store, 4, NOW, status="done")
    with store.unit() as session:
        failed = console.failed_inbox(session)
        assert [(f.sender, f.error) for f in failed] == [("0812****001", "rusak"), ("0812****002", "rusak"),
                                                          ("0812****003", "rusak")]
        assert console.requeue(session, [failed[1].id]) == 1
        assert console.requeue(session, [failed[1].id]) == 0  # no longer failed
    with store.unit() as session:
        assert console.requeue(session) == 2
        statuses = session.scalars(select(InboxRow.status).order_by(InboxRow.source_id)).all()
        assert statuses == ["new", "new", "new", "done"]


def test_the_last_hours_read_back_from_the_outbox(store: Store) -> None:
    first = NOW.replace(minute=0) - 23 * H  # 13:00 the day before: the first of 24 hours
    outbox(store, 1, first - 5 * H, "sent", first - 4 * H)  # before the window: nowhere
    outbox(store, 2, first + 30 * timedelta(minutes=1), "sent", first + 2.5 * H)  # queued at +1h, +2h; sent in +2h
    outbox(store, 3, first + 10.5 * H, "pending")  # queued from +11h on
    outbox(store, 4, first + 20.5 * H, "failed", next_try=first + 21.5 * H)  # queued at +21h only
    outbox(store, 5, first + 21.9 * H, "sent", first + 22.2 * H, channel="telegram")  # not an SMS: queued at +22h
    outbox(store, 6, first - 2 * H, "delivered", first + 0.5 * H)  # queued at +0h, sent in hour 0
    with store.unit() as session:
        hours = console.last_hours(session, NOW)
    assert len(hours) == 24 and hours[0].start == first and hours[-1].start == NOW.replace(minute=0)
    sent = {i: h.sent for i, h in enumerate(hours) if h.sent}
    assert sent == {0: 1, 2: 1}
    queued = [h.queued for h in hours]
    expected = [1, 1, 1] + [0] * 8 + [1] * 13
    expected[21] += 1
    expected[22] += 1
    assert queued == expected


def test_the_chart_has_a_bar_per_hour_and_whole_axis_steps() -> None:
    import re
    from zoneinfo import ZoneInfo

    from absensi.engine.web.chart import hours_chart

    first = NOW.replace(minute=0) - 23 * H
    hours = [console.Hour(first + i * H, queued=i % 4, sent=7 if i == 5 else 1) for i in range(24)]
    svg = str(hours_chart(hours, ZoneInfo("Asia/Jakarta")))
    assert svg.count("<rect ") == 24 and svg.count("<polyline ") == 1 and " style=" not in svg
    labels = re.findall(r'text-anchor="end">(\d+)</text>', svg)  # the left axis: SMS sent
    assert labels == ["8", "6", "4", "2", "0"]
    assert "19.00: 1 SMS terkirim, antrean 3" in svg  # the last hour, 12:00 UTC, is 19.00 in Jakarta
