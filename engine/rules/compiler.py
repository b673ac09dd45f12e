"""Rules compiler: YAML → pydantic → cross-reference checks → one `transitions.Machine` per flow.

Every problem is collected (never raised one by one) so `absensi check` can show all of them at once
with file:line:column. The engine only ever runs a rule set that compiled without errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from transitions import EventData, Machine

from ..messages import Channel
from ..ports import Backoff, DeliveryPolicy
from . import catalogue
from .commands import check_variants
from .diagnostics import DataError, Problems, did_you_mean
from .finger import check_finger, check_hold
from .loader import Source, load_rules_dir, plain, read_yaml
from .schema import Command, Keycode, RuleSet, Strict
from .smslen import segments
from .templates import Template, TemplateError, parse

_ALL_FIELDS = sorted(
    {name for model in Strict.__subclasses__() for name in model.model_fields} | set(RuleSet.model_fields)
)


@dataclass(frozen=True)
class CompiledRules:
    rules: RuleSet
    machines: dict[str, Machine]
    templates: dict[str, Template]
    sms_words: dict[str, tuple[str, Keycode]]  # spoken word → (keycode name, spec)
    reason_words: dict[str, str]  # officer/parent word → reason code
    nihil: frozenset[str]
    withdraw: frozenset[str]
    commands: dict[str, Command]
    cutoff: time
    directory: Path

    def render(self, template: str, /, **values: object) -> str:
        return self.templates[template].render(values)

    def delivery_policy(self) -> DeliveryPolicy:
        """`settings.delivery` as the policy every driver follows."""
        d = self.rules.settings.delivery
        return DeliveryPolicy(max_attempts=d.max_attempts,
                              retry=Backoff(d.retry_first_seconds, max(d.retry_first_seconds, d.retry_max_seconds)),
                              reconnect=Backoff(d.reconnect_first_seconds,
                                                max(d.reconnect_first_seconds, d.reconnect_max_seconds)))

    def conversation(self, channel: Channel) -> str:
        """The conversation `channel` carries: `parents` (SMS keycodes) or `staff` (chat commands)."""
        return self.rules.settings.conversations[str(channel)]

    def reach(self, conversation: str) -> Channel:
        """The channel the engine starts a conversation with `conversation` contacts on."""
        return Channel(self.rules.settings.reach[conversation])  # type: ignore[index]

    def reason_name(self, code: str) -> str:
        reason = self.rules.reasons.get(code)
        return reason.name if reason else code


def compile_rules(rules_dir: Path, problems: Problems | None = None) -> CompiledRules | None:
    """Compile `rules_dir`; on any error, return None with every problem in `problems`."""
    problems = problems if problems is not None else Problems()
    data, source = load_rules_dir(rules_dir, problems)
    if problems.errors:
        return None
    rules = _validate(data, source, problems)
    if rules is None:
        return None
    _cross_check(rules, source, problems)
    templates = _templates(rules, source, problems, rules_dir)
    if problems.errors:
        return None
    return _build(rules, templates, rules_dir)


def load_rules(rules_dir: Path) -> CompiledRules:
    """Compile or raise `DataError` with every problem."""
    problems = Problems()
    compiled = compile_rules(rules_dir, problems)
    if compiled is None:
        raise DataError(problems)
    return compiled


def _validate(data: dict[str, Any], source: Source, problems: Problems) -> RuleSet | None:
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            _pydantic_problem(error, data, source, problems)
    return None


def _pydantic_problem(error: Any, data: dict[str, Any], source: Source, problems: Problems) -> None:
    loc = tuple(x for x in error["loc"] if x not in ("str", "list[str]", "[key]"))
    kind = error["type"]
    if not loc:  # a whole section is missing
        missing = [s for s in RuleSet.model_fields if s not in data and RuleSet.model_fields[s].is_required()]
        for name in missing:
            problems.add("rules", 0, 0, f"section '{name}' is missing from every rules file")
        return
    if kind == "missing" and loc[0] not in data:
        problems.add("rules", 0, 0, f"section '{loc[0]}' is missing from every rules file")
        return
    file, line, col = source.locate(loc, key=kind in ("extra_forbidden", "missing") or "[key]" in error["loc"])
    name = loc[-1]
    if kind == "extra_forbidden":
        problems.add(file, line, col, f"unknown key '{name}'", hint=did_you_mean(str(name), _ALL_FIELDS))
    elif kind == "missing":
        problems.add(file, line, col, f"missing key '{name}'")
    elif "[key]" in error["loc"]:
        problems.add(file, line, col, f"'{error['input']}' is not allowed here: {error['msg']}")
    else:
        problems.add(file, line, col, f"{'.'.join(map(str, loc[1:]))}: {error['msg']}")


def _cross_check(rules: RuleSet, source: Source, problems: Problems) -> None:
    _check_words(rules, source, problems)
    _check_keycodes(rules, source, problems)
    _check_roles_and_routes(rules, source, problems)
    check_finger(rules.finger, rules.roles, rules.reasons, source.locate, problems)
    check_hold(rules.finger, rules.flows.get("absence"), source.locate, problems)
    check_variants(rules, source, problems)
    _check_channels(rules, source, problems)
    for name, flow in rules.flows.items():
        _check_flow(name, flow, source, problems)
    for name in catalogue.FLOWS:
        if name not in rules.flows:
            problems.add(*source.locate(("flows",), key=True), f"flow '{name}' is missing")


def _check_words(rules: RuleSet, source: Source, problems: Problems) -> None:
    seen: dict[str, str] = {}
    for code, reason in rules.reasons.items():
        for i, word in enumerate(reason.words):
            _claim(seen, word.upper(), f"reason {code}", ("reasons", code, "words", i), source, problems)
    for key in ("nihil", "withdraw"):
        for i, word in enumerate(getattr(rules.telegram, key)):
            _claim(seen, word.upper(), f"telegram.{key}", ("telegram", key, i), source, problems)


def _claim(
    seen: dict[str, str], word: str, owner: str, path: tuple[Any, ...], source: Source, problems: Problems
) -> None:
    if not word or not word.replace("_", "").isalnum():
        problems.add(*source.locate(path), f"'{word}' must be one word of letters or digits")
    elif word in seen and seen[word] != owner:
        problems.add(*source.locate(path), f"'{word}' is already used by {seen[word]}")
    else:
        seen[word] = owner


def _check_keycodes(rules: RuleSet, source: Source, problems: Problems) -> None:
    seen: dict[str, str] = {}
    for name, spec in rules.sms.keycodes.items():
        _claim(seen, name.upper(), f"keycode {name}", ("sms", "keycodes", name), source, problems)
        for i, alias in enumerate(spec.aliases):
            _claim(seen, alias.upper(), f"keycode {name}", ("sms", "keycodes", name, "aliases", i), source, problems)
        where = ("sms", "keycodes", name, "reason")
        if spec.action == "parent_report" and spec.reason is None:
            problems.add(*source.locate(where[:-1], key=True), f"keycode {name} (parent_report) needs a 'reason'",
                         hint=f"one of: {', '.join(rules.reasons)}")
        elif spec.action == "parent_report" and spec.reason not in rules.reasons:
            problems.add(*source.locate(where), f"unknown reason '{spec.reason}'",
                         hint=did_you_mean(str(spec.reason), rules.reasons) or f"one of: {', '.join(rules.reasons)}")
        elif spec.action != "parent_report" and spec.reason is not None:
            problems.add(*source.locate(where), f"'reason' only goes with action parent_report, not {spec.action}")


def _check_channels(rules: RuleSet, source: Source, problems: Problems) -> None:
    """Every channel carries a conversation, and each conversation is started on a channel that carries it."""
    known = [str(c) for c in Channel]
    carried = rules.settings.conversations
    for channel in carried:
        if channel not in known:
            problems.add(*source.locate(("settings", "conversations", channel), key=True), f"unknown channel '{channel}'",
                         hint=did_you_mean(channel, known) or f"one of: {', '.join(known)}")
    for channel in known:
        if channel not in carried and carried:
            problems.add(*source.locate(("settings", "conversations"), key=True),
                         f"channel '{channel}' carries no conversation: its messages could not be answered",
                         hint=f"add `{channel}: parents` or `{channel}: staff`")
    for conversation, channel in rules.settings.reach.items():
        where = source.locate(("settings", "reach", conversation))
        if channel not in known:
            problems.add(*where, f"unknown channel '{channel}'", hint=did_you_mean(channel, known))
        elif carried.get(channel) != conversation:
            problems.add(*where, f"{conversation} are reached on '{channel}', which carries "
                                 f"{carried.get(channel) or 'no'} conversation",
                         hint=" or ".join(c for c, kind in carried.items() if kind == conversation))
    for conversation in ("parents", "staff"):
        if conversation not in rules.settings.reach:
            problems.add(*source.locate(("settings", "reach"), key=True), f"no channel to reach {conversation} on")


def _check_roles_and_routes(rules: RuleSet, source: Source, problems: Problems) -> None:
    for role_name, role in rules.roles.items():
        for i, command in enumerate(role.commands):
            if command not in rules.telegram.commands:
                problems.add(*source.locate(("roles", role_name, "commands", i)), f"unknown command '{command}'",
                             hint=did_you_mean(command, rules.telegram.commands))
    for event, targets in rules.routes.items():
        for i, target in enumerate(targets):
            if not target.startswith("group:") and target not in rules.roles:
                problems.add(*source.locate(("routes", event, i)), f"unknown role '{target}'",
                             hint=did_you_mean(target, rules.roles) or "a role from roles.yaml, or group:NAME")
    for i, reminder in enumerate(rules.settings.reminders):
        for j, wanted in enumerate(reminder.to):
            if wanted not in rules.roles:
                problems.add(*source.locate(("settings", "reminders", i, "to", j)), f"unknown role '{wanted}'",
                             hint=did_you_mean(wanted, rules.roles))
        if reminder.template not in rules.templates:
            problems.add(*source.locate(("settings", "reminders", i, "template")),
                         f"unknown template '{reminder.template}'", hint=did_you_mean(reminder.template, rules.templates))
    for code, reason in rules.reasons.items():
        if reason.notify_parents and reason.parent_sms not in rules.templates:
            where = ("reasons", code, "parent_sms") if "parent_sms" in reason.model_fields_set else ("reasons", code)
            problems.add(*source.locate(where), f"reason {code} notifies parents with template '{reason.parent_sms}', "
                         "which templates.yaml does not have", hint=did_you_mean(reason.parent_sms, rules.templates))
    for name in rules.telegram.commands:
        if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
            problems.add(*source.locate(("telegram", "commands", name), key=True),
                         f"command '{name}' must be 1-32 lowercase letters, digits or '_'")


def _check_flow(name: str, flow: Any, source: Source, problems: Problems) -> None:
    vocab = catalogue.FLOWS.get(name)
    if vocab is None:
        problems.add(*source.locate(("flows", name), key=True), f"unknown flow '{name}'",
                     hint=did_you_mean(name, catalogue.FLOWS) or f"flows are: {', '.join(catalogue.FLOWS)}")
        return
    states = set(flow.states)
    base = ("flows", name)
    if len(states) != len(flow.states):
        problems.add(*source.locate((*base, "states")), "a state is listed twice")
    if flow.initial not in states:
        problems.add(*source.locate((*base, "initial")), f"initial state '{flow.initial}' is not in states",
                     hint=did_you_mean(flow.initial, states))
    reached = {flow.initial}
    fired: set[str] = set()
    for i, tr in enumerate(flow.transitions):
        where = (*base, "transitions", i)
        fired.add(tr.trigger)
        _check_transition(tr, where, vocab, states, source, problems)
        reached.update(tr.sources if tr.dest == "=" else [tr.dest])
    for missing in sorted(vocab.triggers - fired):
        problems.add(*source.locate((*base, "transitions"), key=True),
                     f"flow '{name}' has no transition for trigger '{missing}' (the engine fires it)")
    for i, state in enumerate(flow.states):
        if state not in reached:
            problems.add(*source.locate((*base, "states", i)), f"state '{state}' can never be reached", warning=True)


def _check_transition(tr: Any, where: tuple[Any, ...], vocab: Any, states: set[str], source: Source,
                      problems: Problems) -> None:
    triggers = vocab.triggers | vocab.optional_triggers
    if tr.trigger not in triggers:
        problems.add(*source.locate((*where, "trigger")), f"unknown trigger '{tr.trigger}'",
                     hint=did_you_mean(tr.trigger, triggers) or f"triggers: {', '.join(sorted(triggers))}")
    for j, state in enumerate(tr.sources):
        if state not in states and state != "*":
            path = (*where, "source", j) if isinstance(tr.source, list) else (*where, "source")
            problems.add(*source.locate(path), f"unknown state '{state}'", hint=did_you_mean(state, states))
    if tr.dest != "=" and tr.dest not in states:
        problems.add(*source.locate((*where, "dest")), f"unknown state '{tr.dest}'", hint=did_you_mean(tr.dest, states))
    for key, allowed in (("conditions", vocab.conditions), ("unless", vocab.conditions),
                         ("prepare", vocab.actions), ("after", vocab.actions)):
        for j, callback in enumerate(getattr(tr, key)):
            if callback not in allowed:
                kind = "condition" if key in ("conditions", "unless") else "action"
                problems.add(*source.locate((*where, key, j)), f"unknown {kind} '{callback}'",
                             hint=did_you_mean(callback, allowed) or f"{kind}s: {', '.join(sorted(allowed))}")


SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"  # the rules this version ships


def _templates(rules: RuleSet, source: Source, problems: Problems, rules_dir: Path) -> dict[str, Template]:
    allowed = {**catalogue.SMS_TEMPLATES, **catalogue.TELEGRAM_TEMPLATES}
    for reminder in rules.settings.reminders:
        allowed.setdefault(reminder.template, catalogue.REMINDER_FIELDS)
    for reason in rules.reasons.values():
        if reason.notify_parents and reason.parent_sms in rules.templates:  # a missing one is reported at the reason
            allowed.setdefault(reason.parent_sms, catalogue.PARENT_NOTICE_FIELDS)
    if set(allowed) - set(rules.templates):
        _shipped_wording(rules, allowed, source, problems, rules_dir)
    compiled: dict[str, Template] = {}
    for name, text in rules.templates.items():
        template = _one_template(name, text, allowed, source, problems)
        if template is not None:
            compiled[name] = template
    for name in sorted(set(allowed) - set(rules.templates)):
        problems.add(*source.locate(("templates",), key=True), f"template '{name}' is missing",
                     hint=f"fields it may use: {', '.join(sorted(allowed[name])) or '(none)'}")
    return compiled


def _shipped_wording(rules: RuleSet, allowed: dict[str, frozenset[str]], source: Source, problems: Problems,
                     rules_dir: Path) -> None:
    """A school's own copy of the rules made for an older version lacks the templates added since: those
    take the shipped wording (a warning each), so an upgrade never stops the service over a missing text."""
    if rules_dir.resolve() == SHIPPED_RULES:
        return  # the shipped rules themselves: a missing template is an error, reported below
    shipped = read_yaml(SHIPPED_RULES / "templates.yaml", Problems())
    texts = plain(shipped).get("templates", {}) if isinstance(shipped, dict) else {}
    for name in sorted(set(allowed) - set(rules.templates)):
        text = texts.get(name)
        if isinstance(text, str):
            rules.templates[name] = text
            problems.add(*source.locate(("templates",), key=True),
                         f"template '{name}' is missing: the wording this version ships is used", warning=True,
                         hint=f"to word it yourself, add  {name}: {text!r}")


def _one_template(name: str, text: str, allowed: dict[str, frozenset[str]], source: Source,
                  problems: Problems) -> Template | None:
    file, line, col = source.locate(("templates", name))
    if name not in allowed:
        problems.add(file, line, col, f"template '{name}' is never used", warning=True,
                     hint=did_you_mean(name, allowed))
        return None
    try:
        template = parse(name, text)
    except TemplateError as exc:
        problems.add(file, line, col + 1 + exc.column, f"template '{name}': {exc}")
        return None
    for field in sorted(template.fields - allowed[name]):
        problems.add(file, line, col + 1 + max(text.find("{" + field), 0), f"template '{name}' has no field '{field}'",
                     hint=did_you_mean(field, allowed[name]) or f"fields: {', '.join(sorted(allowed[name])) or '(none)'}")
    if name in catalogue.SMS_TEMPLATES:
        _check_sms_size(name, template, (file, line, col), problems)
    return template


def _check_sms_size(name: str, template: Template, where: tuple[str, int, int], problems: Problems) -> None:
    sample = template.render({f: "x" * catalogue.FIELD_SIZES.get(f, 10) for f in template.fields})
    parts, gsm = segments(sample)
    if not gsm:
        problems.add(*where, f"template '{name}' has characters outside the GSM alphabet: every SMS goes as "
                     "UCS-2 (70 characters per SMS)", warning=True, hint="use plain letters, no emoji or curly quotes")
    elif parts > 1:
        problems.add(*where, f"template '{name}' may need {parts} SMS with typical values ({len(sample)} characters)",
                     warning=True, hint="one SMS holds 160 GSM characters")


def _callback(name: str) -> Callable[[EventData], Any]:
    def call(event: EventData) -> Any:
        return getattr(event.kwargs["ctx"], name)()

    call.__name__ = name
    return call


def _build(rules: RuleSet, templates: dict[str, Template], directory: Path) -> CompiledRules:
    machines = {name: _machine(flow) for name, flow in rules.flows.items()}
    sms_words: dict[str, tuple[str, Keycode]] = {}
    for name, spec in rules.sms.keycodes.items():
        for word in (name, *spec.aliases):
            sms_words[word.upper()] = (name, spec)
    reason_words = {w.upper(): code for code, r in rules.reasons.items() for w in r.words}
    hh, mm = map(int, rules.settings.cutoff.split(":"))
    return CompiledRules(
        rules=rules, machines=machines, templates=templates, sms_words=sms_words, reason_words=reason_words,
        nihil=frozenset(w.upper() for w in rules.telegram.nihil),
        withdraw=frozenset(w.upper() for w in rules.telegram.withdraw),
        commands=dict(rules.telegram.commands), cutoff=time(hh, mm), directory=directory,
    )


def _machine(flow: Any) -> Machine:
    transitions = [
        {
            "trigger": tr.trigger,
            "source": tr.sources if tr.sources != ["*"] else "*",
            "dest": tr.dest,
            "conditions": [_callback(c) for c in tr.conditions],
            "unless": [_callback(c) for c in tr.unless],
            "prepare": [_callback(c) for c in tr.prepare],
            "after": [_callback(c) for c in tr.after],
        }
        for tr in flow.transitions
    ]
    return Machine(model=None, states=list(flow.states), initial=flow.initial, transitions=transitions,
                   auto_transitions=False, send_event=True, ignore_invalid_triggers=True)
