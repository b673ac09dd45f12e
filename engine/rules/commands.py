"""A Telegram command as one user gets it: the rules' command, or its variant for one of the user's roles.

`/status` shows the classes' reporting to teachers and the service's health to the admin (keycodes.yaml
`by_role`): one name in the command menu, what it does decided by the role, as the rules say.
"""

from __future__ import annotations

from collections.abc import Iterable

from .diagnostics import Problems, did_you_mean
from .loader import Source
from .schema import Command, CommandVariant, RuleSet


def command_for(rules: RuleSet, name: str, roles: Iterable[str]) -> Command | CommandVariant | None:
    """The command `name` for a user holding `roles` (in staff.csv order): the first role's variant, if any."""
    spec = rules.telegram.commands.get(name)
    if spec is None:
        return None
    for role in roles:
        if role in spec.by_role:
            return spec.by_role[role]
    return spec


def command_doing(rules: RuleSet, action: str) -> str:
    """The name of the first command that does `action` (itself or as a role's variant), for a text that shows
    how to use it (`/rekap 2026-11`); "" when no command does."""
    for name, spec in rules.telegram.commands.items():
        if spec.action == action or any(v.action == action for v in spec.by_role.values()):
            return name
    return ""


def check_variants(rules: RuleSet, source: Source, problems: Problems) -> None:
    """A variant names a role of roles.yaml; a role with a variant may use the command."""
    for name, spec in rules.telegram.commands.items():
        for role in spec.by_role:
            where = source.locate(("telegram", "commands", name, "by_role", role), key=True)
            if role not in rules.roles:
                problems.add(*where, f"unknown role '{role}'", hint=did_you_mean(role, rules.roles))
            elif name not in rules.roles[role].commands:
                problems.add(*where, f"role '{role}' has a variant of /{name} but may not use it",
                             hint=f"add {name} to roles.yaml {role}.commands", warning=True)
