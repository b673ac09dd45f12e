"""Retention (SPEC §8): what the daily purge and `absensi purge` delete, table by table.

Every table has exactly one policy in `RETENTION`, so the question "how long is this kept?" has one
answer in one place; a test fails when a table has none. Two periods come from the rules (`settings`):

- `retention_school_years` (default 2): messages and records of a school year are deleted once that
  many further school years have ended — a parent's STOP (an inactive link) included;
- `retention_unregistered_days` (default 30): numbers that never registered — their messages, the
  replies to them and their guard counters — are deleted after this many days without a message.

Before messages and absence records go, their counts per month are added to `tally` (keys such as
`purged:sms_out:2026-07`, never a number), so yearly figures survive the data they came from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property

from sqlalchemy import and_, delete, exists, false, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from ..rules import CompiledRules
from ..school.model import School
from ..school.phones import normalize
from . import usage
from .models import (
    Absence,
    AbsenceChange,
    ClassReport,
    Draft,
    Enrolment,
    InboxRow,
    Incident,
    JobRun,
    OutboxRow,
    ParentLink,
    Punch,
    ServiceHealth,
    SmsSender,
    Tally,
    TelegramLink,
    WebLogin,
    WebSession,
)

DRAFT_DAYS = 7  # an officer's keyboard left unfinished this long is abandoned
HEALTH_DAYS = 30  # a device or process that published nothing for this long is no longer used
WEB_DAYS = 1  # web console links and sessions, this long after they expired or ended (enough to look into a
# login problem the same day; a link lives 5 minutes, a session 8 hours)
KEPT_PREFIX = "purged:"  # tally keys that hold the counts a purge keeps
UNSENT = ("pending", "sending")


def retention_cutoff(today: date, years: int) -> date:
    """Records of school years that ended `years` school years ago or earlier are purged.

    A school year runs July–June. With years=2, on 2029-07-01 the year 2026/2027 is deleted: it ended,
    then 2027/2028 ("next") and 2028/2029 ("after next") ended too.
    """
    current_start = today.year if today.month >= 7 else today.year - 1
    return date(current_start - years, 7, 1)


class Purge:
    """One purge's moments and lookups, computed once and shared by the policies."""

    def __init__(self, session: Session, rules: CompiledRules, school: School, now: datetime) -> None:
        settings = rules.rules.settings
        self.session, self.school, self.now = session, school, now
        self.today = school.calendar.today(now)
        self.cutoff = retention_cutoff(self.today, settings.retention_school_years)
        self.boundary = datetime.combine(self.cutoff, time(0), tzinfo=school.calendar.tz)
        self.idle_since = now - timedelta(days=settings.retention_unregistered_days)

    def month(self, moment: datetime | date) -> str:
        """The school-time month of a moment, for tally keys."""
        day = self.school.calendar.local(moment) if isinstance(moment, datetime) else moment
        return f"{day:%Y-%m}"

    @cached_property
    def registered(self) -> set[str]:
        """Numbers with a parent link that this purge keeps."""
        return set(self.session.scalars(select(ParentLink.phone).where(~link_due(self))))

    @cached_property
    def unregistered(self) -> dict[str, str]:
        """Raw sender → E.164 of numbers without a link whose SMS are older than the unregistered window."""
        senders = self.session.scalars(select(InboxRow.sender).distinct().where(
            InboxRow.channel == "sms", InboxRow.received_at < self.idle_since, InboxRow.received_at >= self.boundary))
        found = {raw: normalize(raw, self.school.region) for raw in senders}
        return {raw: e164 for raw, e164 in found.items() if e164 is not None and e164 not in self.registered}

    @cached_property
    def recently_heard(self) -> list[str]:
        """E.164 numbers that sent an SMS within the unregistered window."""
        senders = self.session.scalars(select(InboxRow.sender).distinct().where(
            InboxRow.channel == "sms", InboxRow.received_at >= self.idle_since))
        return sorted({e164 for raw in senders if (e164 := normalize(raw, self.school.region)) is not None})


# ------------------------------------------------------------------------------------ the policies


def link_due(p: Purge) -> ColumnElement[bool]:
    """A STOP (an inactive link) is kept as the record of the withdrawn consent for the retention period;
    so is the link of a student who left the school, counted from the student's last absence record."""
    last_change = func.coalesce(ParentLink.stopped_at, ParentLink.consent_at)
    stopped = and_(ParentLink.active.is_(False), last_change < p.boundary)
    roster = sorted(p.school.students)
    if not roster:  # an empty roster is a mistake, not every student leaving
        return stopped
    recent_record = exists().where(Absence.nis == ParentLink.nis, Absence.day >= p.cutoff)
    departed = and_(ParentLink.nis.not_in(roster), last_change < p.boundary, ~recent_record)
    return or_(stopped, departed)


def _unregistered_inbox(p: Purge) -> ColumnElement[bool]:
    """Handled SMS of numbers that never registered, older than the window (unhandled ones wait for the
    admin until the retention period: nothing inbound is lost unseen)."""
    if not p.unregistered:
        return false()
    return and_(InboxRow.channel == "sms", InboxRow.status == "done", InboxRow.received_at < p.idle_since,
                InboxRow.sender.in_(sorted(p.unregistered)))


def _inbox_due(p: Purge) -> ColumnElement[bool]:
    return or_(InboxRow.received_at < p.boundary, _unregistered_inbox(p))


def _outbox_due(p: Purge) -> ColumnElement[bool]:
    """Replies to and forwards of an unregistered number go with its messages; unsent rows stay until the
    retention period, like every other row."""
    numbers = sorted(set(p.unregistered.values()))
    caused = select(InboxRow.id).where(_unregistered_inbox(p))  # read before the inbox rows go (see RETENTION)
    about_them = or_(OutboxRow.recipient.in_(numbers), OutboxRow.bridge.in_(numbers), OutboxRow.inbox_id.in_(caused))
    idle = and_(OutboxRow.created_at < p.idle_since, OutboxRow.status.not_in(UNSENT), about_them)
    return or_(OutboxRow.created_at < p.boundary, idle)


def _sender_due(p: Purge) -> ColumnElement[bool]:
    """A number's guard counters: kept while it is registered, heard from lately, or blocked."""
    kept_links = select(ParentLink.phone).where(~link_due(p))
    return and_(SmsSender.phone.not_in(kept_links), SmsSender.phone.not_in(p.recently_heard),
                or_(SmsSender.blocked_until.is_(None), SmsSender.blocked_until < p.now))


def _telegram_link_due(p: Purge) -> ColumnElement[bool]:
    """Staff accounts are the service's working identities, not parents' data; a link whose number is no
    longer any staff member's (someone who left) serves nothing and goes."""
    staff_phones = sorted({s.phone for s in p.school.staff if s.phone})
    return TelegramLink.phone.not_in(staff_phones) if staff_phones else false()


def _message_counts(direction: str) -> Callable[[Purge, list[tuple]], Counter[str]]:
    """Messages per channel and month (`purged:sms_out:2026-07`), and per kind where there is one
    (`purged:sms_out:2026-07:alfa`): what the yearly SMS figures need, without a number or a text."""
    def count(p: Purge, rows: list[tuple]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for channel, moment, *kind in rows:
            key = f"{KEPT_PREFIX}{channel}_{direction}:{p.month(moment)}"
            counts[key] += 1
            if kind and kind[0]:
                counts[f"{key}:{kind[0]}"] += 1
        return counts
    return count


def _outbox_counts(p: Purge, rows: list[tuple]) -> Counter[str]:
    """Messages per channel, month and kind (as for the inbox), and SMS per day and kind exactly as `/sms`
    counts them (store/usage.py), so a month's SMS figures and cost stay what they were."""
    counts = _message_counts("out")(p, [row[:3] for row in rows])
    sms = [(kind, status, text, sent_at, created, payload)
           for channel, created, kind, status, text, sent_at, payload in rows if channel == "sms"]
    counts.update(usage.rollup(sms, p.school.calendar.tz))
    return counts


def _absence_counts(p: Purge, rows: list[tuple]) -> Counter[str]:
    return Counter(f"{KEPT_PREFIX}absence:{p.month(day)}:{status}" for day, status in rows if status)


@dataclass(frozen=True)
class Policy:
    """How long one table's rows live. `due` selects the rows to delete now (None: the table is kept,
    it holds no personal data); `counted` names the columns whose counts `tally` keeps before they go."""

    rule: str
    due: Callable[[Purge], ColumnElement[bool]] | None
    counted: tuple[str, ...] = ()
    count: Callable[[Purge, list[tuple]], Counter[str]] | None = None


# Order matters where one policy reads another table: outbox before inbox (replies follow the inbox rows
# that caused them), parent_link before sms_sender (a number whose last link goes is no longer registered).
RETENTION: dict[str, Policy] = {
    "outbox": Policy("sent messages: the retention period; replies to unregistered numbers: their window",
                     _outbox_due, ("channel", "created_at", "kind", "status", "text", "sent_at", "payload"),
                     _outbox_counts),
    "inbox": Policy("received messages: the retention period; handled SMS of unregistered numbers: their window",
                    _inbox_due, ("channel", "received_at"), _message_counts("in")),
    "absence": Policy("absence records: the retention period (by school day)",
                      lambda p: Absence.day < p.cutoff, ("day", "status"), _absence_counts),
    "absence_change": Policy("changes to absence records: with their records",
                             lambda p: AbsenceChange.day < p.cutoff),
    "punch": Policy("fingerprint punches (a student's arrival times; unknown ids too): the retention period",
                    lambda p: Punch.at < p.boundary),
    "class_report": Policy("which class reported when: the retention period", lambda p: ClassReport.day < p.cutoff),
    "parent_link": Policy("registrations: while active; a STOP or a departed student's link: the retention period",
                          link_due),
    "sms_sender": Policy("a number's guard counters: while registered, else the unregistered window", _sender_due),
    "telegram_link": Policy("linked staff accounts: while the number is in staff.csv", _telegram_link_due),
    "enrolment": Policy("class seats and absen numbers (no number, no message): with their school year's records",
                        lambda p: Enrolment.school_year < f"{p.cutoff.year}/{p.cutoff.year + 1}"),
    "draft": Policy(f"unfinished /absen keyboards: {DRAFT_DAYS} days",
                    lambda p: Draft.day < p.today - timedelta(days=DRAFT_DAYS)),
    "job_run": Policy("which scheduled jobs ran (no personal data): the retention period",
                      lambda p: JobRun.at < p.boundary),
    "engine_lease": Policy("who runs the engine (host and process, no personal data): kept", None),
    "service_health": Policy(f"what the service published of its devices (no personal data): {HEALTH_DAYS} days "
                             "after the last update", lambda p: ServiceHealth.updated_at < p.now - timedelta(days=HEALTH_DAYS)),
    "incident": Policy("operations alerts (no personal data): cleared ones, the retention period",
                       lambda p: and_(Incident.cleared_at.is_not(None), Incident.cleared_at < p.boundary)),
    "web_login": Policy(f"one-time web console links (kept hashed): {WEB_DAYS} day after they expired",
                        lambda p: WebLogin.expires_at < p.now - timedelta(days=WEB_DAYS)),
    "web_session": Policy(f"web console sessions: {WEB_DAYS} day after they expired or were ended",
                          lambda p: or_(WebSession.expires_at < p.now - timedelta(days=WEB_DAYS),
                                        WebSession.ended_at < p.now - timedelta(days=WEB_DAYS))),
    "tally": Policy("counts: purged:* kept for good; other counters untouched for the retention period go",
                    lambda p: and_(~Tally.key.startswith(KEPT_PREFIX), Tally.updated_at < p.boundary)),
}


# ------------------------------------------------------------------------------------ running them


def purge(session: Session, rules: CompiledRules, school: School, now: datetime, *,
          dry_run: bool = False) -> dict[str, int]:
    """Delete what is due in every table (or only count it, `dry_run`); returns rows per table."""
    p = Purge(session, rules, school, now)
    gone: dict[str, int] = {}
    for name, policy in RETENTION.items():
        gone[name] = 0 if policy.due is None else _purge_table(p, name, policy, dry_run)
    return gone


def _purge_table(p: Purge, name: str, policy: Policy, dry_run: bool) -> int:
    assert policy.due is not None
    table = SQLModel.metadata.tables[name]
    where = policy.due(p)
    due = p.session.scalar(select(func.count()).select_from(table).where(where)) or 0
    if dry_run or not due:
        return due
    if policy.count is not None:
        rows = p.session.execute(select(*(table.c[c] for c in policy.counted)).where(where)).all()
        _keep_counts(p, policy.count(p, [tuple(r) for r in rows]))
    p.session.execute(delete(table).where(where))
    return due


def _keep_counts(p: Purge, counts: Counter[str]) -> None:
    for key, n in sorted(counts.items()):
        row = p.session.get(Tally, key) or Tally(key=key, count=0)
        row.count += n
        row.updated_at = p.now
        p.session.add(row)
    p.session.flush()
