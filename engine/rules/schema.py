"""The shape of `rules/*.yaml`, checked by pydantic. Unknown keys are errors (`extra="forbid"`).

Only the shape lives here; references between sections (a route naming a role, a flow naming an
action) are checked by `compiler.py`, which knows what the engine can do.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .finger import Finger
from .operators import DEFAULT_OPERATORS, check_code, check_pattern

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ERAPOR = Literal["sakit", "izin", "tanpa_keterangan"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"'{value}' is not a time of day like \"14:00\"")
    return value


class Guards(Strict):
    reg_wrong_limit: int = Field(5, ge=1)
    reg_wrong_window_hours: int = Field(24, ge=1)
    reg_block_hours: int = Field(24, ge=1)
    info_per_day: int = Field(5, ge=0)
    help_per_day: int = Field(1, ge=0)
    # School-wide: automatic replies (help, wrong code, register first) to numbers without a registered child.
    unregistered_replies_per_hour: int = Field(60, ge=0)
    unregistered_replies_per_day: int = Field(200, ge=0)
    # A bridged reply that needs more SMS parts than this is refused, with its cost at this price per part.
    bridge_max_parts: int = Field(3, ge=1, le=10)
    sms_part_price: int = Field(150, ge=0)  # Rupiah


class Reminder(Strict):
    at: str
    to: list[str] = Field(min_length=1)
    template: str

    _at = field_validator("at")(_hhmm)


class Thresholds(Strict):
    alfa_per_month: int = Field(3, ge=1)
    consecutive_days: int = Field(3, ge=1)
    min_attendance_pct: float = Field(85, ge=0, le=100)


class Delivery(Strict):
    """The one retry and reconnect policy of every driver (`engine.ports.DeliveryPolicy`)."""

    max_attempts: int = Field(8, ge=1, le=50)  # tries of one message before it is failed and the admin told
    retry_first_seconds: float = Field(30, gt=0)  # a transient failure waits this long, doubling …
    retry_max_seconds: float = Field(1800, gt=0)  # … up to this
    reconnect_first_seconds: float = Field(1, gt=0)  # a lost modem, phone or network: first wait, doubling …
    reconnect_max_seconds: float = Field(60, gt=0)  # … up to this


class Alerts(Strict):
    """Operations alerts to the admin (SPEC §9): when each condition is an incident, and the daily jobs."""

    modem_down_minutes: int = Field(5, ge=1, le=1440)  # a modem or phone unreachable or unregistered this long
    telegram_down_minutes: int = Field(10, ge=1, le=1440)  # Telegram unreachable this long (told by SMS)
    outbox_waiting_minutes: int = Field(15, ge=1, le=1440)  # a message still waiting to go out after this
    sim_storage_percent: int = Field(90, ge=1, le=100)  # SIM storage used at least this much is nearly full
    pulsa_below: int = Field(10000, ge=0)  # rupiah; 0: never
    balance_check_at: str = "06:30"  # the daily pulsa check (USSD), school time
    daily_summary_at: str | None = "15:00"  # the admin's daily summary on school days; null: none
    finger_down_minutes: int = Field(30, ge=1, le=1440)  # a fingerprint machine not pulled this long …
    finger_watch_from: str = "06:00"  # … between these times of a school day (SPEC §10, absensi run --finger)
    finger_watch_until: str = "15:00"
    finger_log_percent: int = Field(90, ge=1, le=100)  # a machine's attendance log this full

    _balance = field_validator("balance_check_at")(_hhmm)
    _finger_watch = field_validator("finger_watch_from", "finger_watch_until")(_hhmm)

    @field_validator("daily_summary_at")
    @classmethod
    def _summary(cls, value: str | None) -> str | None:
        return None if value is None else _hhmm(value)


class Settings(Strict):
    cutoff: str = "14:00"
    max_parents_per_student: int = Field(2, ge=1, le=10)
    guards: Guards = Guards()
    delivery: Delivery = Delivery()
    alerts: Alerts = Alerts()
    # channel → the conversation it carries; conversation → the channel the engine starts it on
    conversations: dict[str, Literal["parents", "staff"]] = {"sms": "parents", "telegram": "staff"}
    reach: dict[Literal["parents", "staff"], str] = {"parents": "sms", "staff": "telegram"}
    reminders: list[Reminder] = []
    thresholds: Thresholds = Thresholds()
    retention_school_years: int = Field(2, ge=1, le=10)
    retention_unregistered_days: int = Field(30, ge=1, le=3650)
    retention_backup_days: int = Field(90, ge=1, le=3650)  # SCHOOL/backups/* (roster files replaced)

    _cutoff = field_validator("cutoff")(_hhmm)


class Reason(Strict):
    name: str = Field(min_length=1)
    words: list[str] = Field(min_length=1)
    erapor: _ERAPOR | None = None
    notify_parents: bool = False
    # the SMS `notify_parents` sends (a template that may use the student fields and `reason`)
    parent_sms: str = Field("reason_parent", min_length=1)
    # the school's own decision (dispensation, sent home): a parent's SAKIT/IZIN the same day does not replace it
    school_decision: bool = False


class Role(Strict):
    label: str = Field(min_length=1)
    scope: Literal["class", "department", "school", "duty"]
    view: Literal["class", "department", "school", "none"] = "none"
    student: bool = False
    commands: list[str] = []


SmsAction = Literal["register", "parent_report", "info", "stop", "help"]
CommandAction = Literal[
    "start",
    "report_buttons",
    "today",
    "month_recap",
    "semester_recap",
    "student_history",
    "report_status",
    "attention",
    "correct",
    "help",
    "service_status",
    "sms_usage",
    "web_login",
]


class Keycode(Strict):
    aliases: list[str] = []
    action: SmsAction
    reason: str | None = None


class SmsRules(Strict):
    keycodes: dict[str, Keycode] = Field(min_length=1)
    fallback: Literal["help", "ignore"] = "help"


class CommandVariant(Strict):
    """What a command does for the holders of one role instead (`by_role`)."""

    action: CommandAction
    description: str = Field(min_length=1, max_length=256)


class Command(Strict):
    action: CommandAction
    description: str = Field(min_length=1, max_length=256)
    # role → what the command does for it instead: /status is the classes' reporting for teachers, and the
    # service's health for the admin (a user holding such a role gets the variant)
    by_role: dict[str, CommandVariant] = {}


class TelegramRules(Strict):
    nihil: list[str] = ["NIHIL"]
    withdraw: list[str] = ["BATAL"]
    commands: dict[str, Command] = Field(min_length=1)


class Transition(Strict):
    trigger: str
    source: str | list[str]
    dest: str
    conditions: list[str] = []
    unless: list[str] = []
    prepare: list[str] = []
    after: list[str] = []

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)


class Flow(Strict):
    initial: str
    states: list[str] = Field(min_length=1)
    transitions: list[Transition] = Field(min_length=1)


RouteEvent = Literal["parent_report", "info", "alfa_push", "delivery_failed", "reply_cap", "school_reload",
                     "operations"]


class Operator(Strict):
    """A mobile operator (operators.yaml): how to recognise its SIM, and how to ask and read the pulsa."""

    name: str = Field(min_length=1)
    mcc_mnc: list[str] = []  # networks, as AT+COPS numeric or the SIM's IMSI begin: "51010"
    names: list[str] = []  # what AT+COPS? shows: "TELKOMSEL"
    balance_code: str  # the USSD code that asks the balance: "*888#"
    balance_pattern: str  # a regular expression finding the amount (group `amount`) in the answer

    _code = field_validator("balance_code")(check_code)
    _pattern = field_validator("balance_pattern")(check_pattern)


def _default_operators() -> dict[str, Operator]:
    return {key: Operator.model_validate(entry) for key, entry in DEFAULT_OPERATORS.items()}


class RuleSet(Strict):
    settings: Settings = Settings()
    reasons: dict[str, Reason] = Field(min_length=1)
    roles: dict[str, Role] = Field(min_length=1)
    routes: dict[RouteEvent, list[str]]
    sms: SmsRules
    telegram: TelegramRules
    flows: dict[str, Flow]
    templates: dict[str, str]
    operators: dict[str, Operator] = Field(default_factory=_default_operators)
    finger: Finger = Finger()  # fingerprint cross-checks (rules/finger.yaml, SPEC §10)


SECTIONS = tuple(RuleSet.model_fields)
