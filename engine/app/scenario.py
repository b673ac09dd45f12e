"""Scenario files (SPEC §6): play messages into the real engine on a simulated clock, check what it sends.

Each scenario starts from an empty database holding only the school data. Every step's produced
messages are printed; a failed expectation is marked with what was expected and what came.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from absensi.drivers.simulator import Delivered, Simulator

from ..core import Engine
from ..finger.files import RawPunch
from ..finger.punches import store_punches
from ..messages import Channel, Contact, InboundMessage
from ..rules import load_rules
from ..rules.diagnostics import DataError, Problems
from ..rules.loader import read_yaml
from ..school.files import load_school
from ..school.phones import normalize
from ..store import Store
from .paths import resolve_rules_dir
from .reload import load_checked

STEP_KINDS = ("sms", "telegram", "at", "reload", "finger")


class ScenarioError(Exception):
    """A scenario file that cannot be run (not a failed expectation)."""


@dataclass
class StepResult:
    number: int
    line: int
    label: str
    produced: list[Delivered]
    failures: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    path: Path
    name: str
    steps: list[StepResult] = field(default_factory=list)
    store_url: str = ""

    @property
    def ok(self) -> bool:
        return all(not s.failures for s in self.steps)


def load_scenario(path: Path) -> CommentedMap:
    problems = Problems()
    doc = read_yaml(path, problems)
    if problems.errors:
        raise ScenarioError(problems.render())
    if not isinstance(doc, CommentedMap) or "steps" not in doc or "school" not in doc:
        raise ScenarioError(f"{path}:1:1: a scenario needs 'school' and 'steps' (and usually 'start')")
    if not isinstance(doc["steps"], list):
        line = doc.lc.value("steps")[0] + 1
        raise ScenarioError(f"{path}:{line}: 'steps' must be a list of steps (- sms: …, - telegram: …, - at: …)")
    return doc


def run_scenario(path: Path, store_url: str, on_step: Callable[[StepResult], None] | None = None) -> ScenarioResult:
    doc = load_scenario(path)
    school_dir = (path.parent / str(doc["school"])).resolve()
    rules_dir = (path.parent / str(doc["rules"])).resolve() if doc.get("rules") else None
    try:
        rules = load_rules(resolve_rules_dir(school_dir, rules_dir))
        school = load_school(school_dir, rules.rules)
    except DataError as exc:
        raise ScenarioError(exc.problems.render()) from None
    now = (_moment(doc.get("start"), path, doc, "start", school.calendar.tz) if doc.get("start")
           else datetime.now(school.calendar.tz))
    store = Store(store_url)
    try:
        engine = Engine(rules, school, store, now)
        runner = _Runner(path, engine, Simulator(store), now, rules_dir or resolve_rules_dir(school_dir, None))
        result = ScenarioResult(path, str(doc.get("name") or path.stem), store_url=store_url)
        for index, step in enumerate(doc["steps"], start=1):
            outcome = runner.step(index, step, doc["steps"].lc.item(index - 1)[0] + 1)
            result.steps.append(outcome)
            if on_step:
                on_step(outcome)
        return result
    finally:
        store.close()


def _moment(value: Any, path: Path, node: Any, key: Any, tz: tzinfo) -> datetime:
    """A scenario's time: with its zone as written, or without one in the school's time (`tz`)."""
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            parsed = None
    if parsed is None:
        line = node.lc.value(key)[0] + 1 if hasattr(node, "lc") else 0
        raise ScenarioError(f"{path}:{line}: '{value}' is not a time: write it as 2026-11-30T06:30:00+07:00 (or "
                            "without the zone, in the school's time)")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


class _Runner:
    def __init__(self, path: Path, engine: Engine, sim: Simulator, now: datetime, rules_dir: Path) -> None:
        self.path, self.engine, self.sim, self.now = path, engine, sim, now
        self.school_dir, self.rules_dir = engine.school.directory, rules_dir
        self.count = 0

    def step(self, index: int, step: Any, line: int) -> StepResult:
        if not isinstance(step, dict) or not any(k in step for k in STEP_KINDS):
            raise ScenarioError(f"{self.path}:{line}: a step needs one of: {', '.join(STEP_KINDS)}")
        unknown = set(step) - {*STEP_KINDS, "expect", "expect_none", "exactly"}
        if unknown:
            raise ScenarioError(f"{self.path}:{line}: unknown key(s) in step: {', '.join(sorted(unknown))}")
        try:
            label, failures = self._act(step, line)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ScenarioError(f"{self.path}:{line}: malformed step ({type(exc).__name__}: {exc}); "
                                "see SPEC §6 for the step kinds and their fields") from None
        produced = self.sim.deliver(self.now)
        result = StepResult(index, line, label, produced, failures)
        if not failures:
            result.failures.extend(check(step, produced, self.engine.school.region))
        return result

    def _act(self, step: dict[str, Any], line: int) -> tuple[str, list[str]]:
        if "at" in step:
            moment = _moment(step["at"], self.path, step, "at", self.engine.school.calendar.tz)
            if moment < self.now:
                raise ScenarioError(f"{self.path}:{line}: the clock never goes back ({moment} < {self.now})")
            self.now = moment
            self.engine.tick(self.now)
            return f"at {moment.isoformat()}", []
        if "reload" in step:
            return self._reload(step["reload"] or {})
        if "finger" in step:
            return self._finger(step["finger"], line)
        self.engine.tick(self.now)
        self.count += 1
        if "sms" in step:
            spec = step["sms"]
            msg = InboundMessage(Channel.SMS, str(spec["from"]), self.now, f"scenario:{self.count}",
                                 str(spec.get("text", "")))
            self.engine.receive(msg, self.now)
            return f"sms {spec['from']} > {spec.get('text', '')}", []
        return self._telegram(step["telegram"], line)

    def _reload(self, spec: dict[str, Any]) -> tuple[str, list[str]]:
        """As the service does when files change (SPEC §2): validate the whole set, then switch or refuse."""
        if "school" in spec:
            self.school_dir = (self.path.parent / str(spec["school"])).resolve()
        if "rules" in spec:
            self.rules_dir = (self.path.parent / str(spec["rules"])).resolve()
        problems = Problems()
        loaded = load_checked(self.school_dir, self.rules_dir, problems)
        if loaded is None:
            self.engine.refuse(problems.render(), len(problems.errors), self.now)
            return f"reload {self.school_dir.name} (refused: {len(problems.errors)} error(s))", []
        self.engine.switch(*loaded, self.now)
        return f"reload {self.school_dir.name}", []

    def _finger(self, spec: dict[str, Any], line: int) -> tuple[str, list[str]]:
        """A punch at the gate (SPEC §10), `id` as the machine reports it: stored as an import stores it, then
        the checks that are due run (the clock stays; a punch may be earlier than now, as imports are)."""
        moment = _moment(spec["at"], self.path, spec, "at", self.engine.school.calendar.tz)
        local = self.engine.school.calendar.local(moment).replace(tzinfo=None)
        punch = RawPunch(str(self.path), line, str(spec["id"]).strip(), local, str(spec.get("device", "scenario")),
                         "scenario")
        with self.engine.store.unit() as session:
            store_punches(session, self.engine.school, [punch], self.now)
        self.engine.tick(self.now)
        return f"finger {punch.user_id} {local:%H:%M}", []

    def _telegram(self, spec: dict[str, Any], line: int) -> tuple[str, list[str]]:
        sender = str(int(spec["from"]))
        chat = str(int(spec["chat"])) if spec.get("chat") is not None else None
        where = chat or sender
        press, contact, reply_to = None, None, None
        label = f"telegram {sender}{' in ' + chat if chat else ''} > "
        if "press" in spec:
            button = self.sim.button(sender, str(spec["press"]))
            if button is None:
                return label + f"[{spec['press']}]", [self._no_button(sender, str(spec["press"]))]
            press = button.data
            reply_to = self.sim.keyboard_message.get(sender)
            label += f"[{button.label}]"
        if "contact" in spec:
            card = spec["contact"]
            contact = Contact(str(card.get("phone", "")), int(card["user_id"]) if card.get("user_id") else None)
            label += f"(contact {contact.phone})"
        if spec.get("reply"):
            reply_to = self.sim.last_message.get(where)
            if reply_to is None:
                return label, [f"reply: nothing was sent to chat {where} to reply to"]
        text = str(spec.get("text", ""))
        msg = InboundMessage(Channel.TELEGRAM, sender, self.now, f"scenario:{self.count}", text, chat=chat,
                             press=press, contact=contact, reply_to=reply_to)
        self.engine.receive(msg, self.now)
        return label + text, []

    def _no_button(self, sender: str, wanted: str) -> str:
        """Why a press found no button, with the labels it could have pressed."""
        labels = [b.label for row in self.sim.keyboards.get(sender, ()) for b in row]
        if not labels:
            return f"no button '{wanted}': no keyboard was sent to {sender}"
        return (f"no single button '{wanted}' on the last keyboard sent to {sender}; its buttons: "
                + ", ".join(repr(label) for label in labels))


# ------------------------------------------------------------------------------------------ matching


def check(step: dict[str, Any], produced: list[Delivered], region: str) -> list[str]:
    failures: list[str] = []
    expected = [_item(e) for e in step.get("expect") or []]
    if not _assign(expected, produced, region):
        for channel, spec in expected:
            if not any(matches(channel, spec, d, region) for d in produced):
                failures.append(f"expected {channel} {_describe(spec)}")
        if not failures:
            failures.append("expected items could not each match a different message")
    for channel, spec in (_item(e) for e in step.get("expect_none") or []):
        hits = [d for d in produced if matches(channel, spec, d, region)]
        if hits:
            failures.append(f"expected no {channel} {_describe(spec)}, got {len(hits)}")
    if step.get("exactly") and len(produced) > len(expected):
        failures.append(f"exactly: {len(produced) - len(expected)} unexpected message(s)")
    return failures


def _item(item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in ("sms", "telegram"):
        raise ScenarioError(f"an expectation must be {{sms: {{…}}}} or {{telegram: {{…}}}}, not {item!r}")
    channel = next(iter(item))
    return channel, dict(item[channel] or {})


def matches(channel: str, spec: dict[str, Any], msg: Delivered, region: str) -> bool:
    if str(msg.channel) != channel:
        return False
    if "to" in spec and not _same_address(channel, spec["to"], msg.to, region):
        return False
    contains = spec.get("contains", [])
    for needle in [contains] if isinstance(contains, str) else contains:
        if str(needle).lower() not in msg.text.lower():
            return False
    return "document" not in spec or (msg.document is not None and fnmatch.fnmatch(msg.document, str(spec["document"])))


def _same_address(channel: str, wanted: Any, actual: str, region: str) -> bool:
    if channel == "telegram":
        try:
            return int(wanted) == int(actual)
        except (TypeError, ValueError):
            return False
    return (normalize(str(wanted), region) or str(wanted)) == (normalize(actual, region) or actual)


def _assign(expected: list[tuple[str, dict[str, Any]]], produced: list[Delivered], region: str) -> bool:
    """Each expectation matched by a different message (a small bipartite matching)."""
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        channel, spec = expected[i]
        for j, msg in enumerate(produced):
            if j in seen or not matches(channel, spec, msg, region):
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    return all(place(i, set()) for i in range(len(expected)))


def _describe(spec: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in spec.items()) or "(anything)"
