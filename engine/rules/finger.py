"""The `finger` section (rules/finger.yaml, SPEC §10): how the fingerprint punches are cross-checked with the
officers' reports, and who is told. Nothing here changes a record: people decide.

Kept apart from `schema.py` (which only imports `Finger`) so the section's shape and its cross-checks
against roles and reasons live together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .diagnostics import Problems, did_you_mean

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hhmm(value: str | None) -> str | None:
    if value is not None and not _HHMM.match(value):
        raise ValueError(f"'{value}' is not a time of day like \"07:00\"")
    return value


class Finger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bell: str = "07:00"  # a first punch after this is a late arrival
    min_stay_minutes: int = Field(60, ge=1, le=720)  # a later punch at least this long after the first is going home
    poll_minutes: int = Field(5, ge=1, le=120)  # `absensi run --finger`: each machine's log is pulled this often
    # reported absent, yet clocked in that day: told at once, with the time
    absent_but_present: list[str] = ["wali_kelas", "guru_bk"]
    absent_reasons: list[str] | None = None  # None: every reason the school does not decide itself (not D, P)
    ask_reporter: bool = True  # the officer who reported is asked to check too
    # late arrivals (first punch after the bell), listed once a day at late_at
    late_at: str = "08:00"
    late_to: list[str] = ["guru_piket"]
    # a class that reported NIHIL with students who have no punch by nihil_at (None: the first reminder's time)
    nihil_at: str | None = None
    nihil_to: list[str] = ["ketua_kelas", "sekretaris", "wali_kelas"]
    # the parent's alfa SMS of a student who clocked in before the report: `wait` holds it until a holder of
    # `alfa_sms_confirm` presses a button or until `alfa_sms_until`, whichever comes first; `send`: at once
    alfa_sms: Literal["wait", "send"] = "wait"
    alfa_sms_until: str = "10:00"
    alfa_sms_confirm: list[str] = ["wali_kelas"]
    # Siswa Perlu Perhatian: absent in class (absent_reasons) yet at the gate on this many days of the period
    attention_days: int = Field(2, ge=1, le=100)

    _times = field_validator("bell", "late_at", "nihil_at", "alfa_sms_until")(_hhmm)


def checked_reasons(finger: Finger, reasons: Mapping[str, Any]) -> set[str]:
    """The reasons the cross-checks look at: `absent_reasons`, else every reason the school does not decide."""
    if finger.absent_reasons is not None:
        return set(finger.absent_reasons)
    return {code for code, spec in reasons.items() if not spec.school_decision}


def clock(hhmm: str) -> time:
    """"07:00" → 07:00 (the section's times are validated when the rules load)."""
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


Locate = Callable[[tuple[str | int, ...]], tuple[str, int, int]]

# The absence flow's state that holds a parent's alfa SMS for the wali kelas (rules/flows.yaml), and the
# triggers the engine fires at a record in it (engine/finger/hold.py).
HELD_STATE = "ditahan"
HOLD_ENDS = ("confirm_alfa", "deny_alfa", "hold_expired")


def check_hold(finger: Finger, flow: Any, locate: Locate, problems: Problems) -> None:
    """A flow that holds the alfa SMS has a way out of the hold for each of HOLD_ENDS (else a held SMS would
    never go, or a button would do nothing); `alfa_sms: wait` with a flow that never holds is said."""
    if flow is None:
        return
    holds = [i for i, tr in enumerate(flow.transitions) if tr.dest == HELD_STATE]
    if not holds:
        if finger.alfa_sms == "wait":
            problems.add(*locate(("finger", "alfa_sms")), f"alfa_sms is 'wait', but the absence flow never holds an "
                         f"SMS (no transition leads to '{HELD_STATE}'): every alfa SMS goes at once", warning=True,
                         hint="take the hold's transitions from the project's rules/flows.yaml, or write alfa_sms: send")
        return
    for trigger in HOLD_ENDS:
        if not any(tr.trigger == trigger and ({HELD_STATE, "*"} & set(tr.sources)) for tr in flow.transitions):
            problems.add(*locate(("flows", "absence", "transitions", holds[0])),
                         f"the absence flow holds the alfa SMS in '{HELD_STATE}' but has no transition for "
                         f"'{trigger}' from it", hint="see the project's rules/flows.yaml")


def check_finger(finger: Finger, roles: Collection[str], reasons: Collection[str], locate: Locate,
                 problems: Problems) -> None:
    """Role and reason names of the section, against roles.yaml and reasons.yaml, at file:line:column."""
    for key in ("absent_but_present", "late_to", "nihil_to", "alfa_sms_confirm"):
        for i, role in enumerate(getattr(finger, key)):
            if role not in roles:
                problems.add(*locate(("finger", key, i)), f"unknown role '{role}'", hint=did_you_mean(role, roles))
    for i, code in enumerate(finger.absent_reasons or []):
        if code not in reasons:
            problems.add(*locate(("finger", "absent_reasons", i)), f"unknown reason '{code}'",
                         hint=did_you_mean(code, reasons))
