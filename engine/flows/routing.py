"""Routing targets (rules `routes:`): which Telegram chats receive an event about a class."""

from __future__ import annotations

from datetime import date

from ..school.model import StaffRole
from ..turn import Turn


def staff_for(turn: Turn, role: str, class_name: str | None, day: date) -> list[StaffRole]:
    """Holders of `role` relevant to `class_name`: its wali kelas, its department's head, on-duty guru piket…"""
    spec = turn.rules.rules.roles.get(role)
    if spec is None:
        return []
    info = turn.school.classes.get(class_name or "")
    result = []
    for staff in turn.live.staff_with_role(role):
        if spec.scope == "class" and (info is None or staff.scope != info.name):
            continue
        if spec.scope == "department" and (info is None or staff.scope != info.department):
            continue
        if spec.scope == "duty" and staff.duty_days and day.weekday() not in staff.duty_days:
            continue
        result.append(staff)
    return result


def route_targets(turn: Turn, event: str, class_name: str | None, day: date) -> list[int]:
    """Telegram chat ids for `event`, deduplicated, in rule order; unlinked staff are skipped."""
    chats: list[int] = []
    for target in turn.rules.rules.routes.get(event, []):  # type: ignore[call-overload]
        if target.startswith("group:"):
            group = turn.school.groups.get(target.split(":", 1)[1])
            candidates = [group] if group is not None else []
        else:
            candidates = [turn.telegram_id_of(s) for s in staff_for(turn, target, class_name, day)]
        chats.extend(c for c in candidates if c is not None and c not in chats)
    return chats


def role_label(turn: Turn, staff: StaffRole) -> str:
    """`Wali Kelas X TKJ 1`, `Ketua Jurusan TKJ`, `Kepala Sekolah`: how a role signs a message."""
    spec = turn.rules.rules.roles[staff.role]
    return f"{spec.label} {staff.scope}" if spec.scope in ("class", "department") else spec.label
