"""The architecture, held by tests: engine → ports ← drivers; only engine/app wires drivers in; no import
circle among the engine's modules; drivers are found by the scheme of their address."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from absensi.engine.app import drivers
from absensi.engine.ports import Backoff, DeliveryPolicy

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def module_of(path: Path) -> str:
    parts = ["absensi", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: frozenset[str] = frozenset()) -> set[str]:
    """Absolute names of the absensi modules `path` imports (relative imports resolved), at any depth.

    `from package import name` counts as importing `package.name` when that is one of `modules`, else as
    importing the package (whose `__init__` defines the name)."""
    here = module_of(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("absensi"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base.startswith("absensi"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else base)
    return found


def engine_modules() -> dict[str, Path]:
    return {module_of(p): p for p in ENGINE.rglob("*.py") if "migrations" not in p.parts}


def test_only_the_application_layer_imports_drivers() -> None:
    offenders = {name: sorted(i for i in imports_of(path) if i.startswith("absensi.drivers"))
                 for name, path in engine_modules().items() if not name.startswith("absensi.engine.app")}
    assert {name: found for name, found in offenders.items() if found} == {}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (module → modules it imports), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        stack.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (circle := visit(name)):
            return circle
    return None


def graph_of(modules: dict[str, Path]) -> dict[str, set[str]]:
    names = frozenset(modules)
    return {name: {i for i in imports_of(path, names) if i in modules and i != name} for name, path in modules.items()}


def test_no_import_circle_among_engine_modules() -> None:
    circle = find_circle(graph_of(engine_modules()))
    assert circle is None, f"import circle: {' → '.join(circle or [])}"


def test_the_check_finds_a_circle_when_there_is_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The circle test above can fail: the same reading finds a planted circle."""
    (tmp_path / "engine" / "flows").mkdir(parents=True)
    (tmp_path / "engine" / "a.py").write_text("from .flows.b import x\n")
    (tmp_path / "engine" / "flows" / "b.py").write_text("from .. import a\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    modules = {module_of(p): p for p in (tmp_path / "engine").rglob("*.py")}
    assert find_circle(graph_of(modules)) == ["absensi.engine.a", "absensi.engine.flows.b", "absensi.engine.a"]


@pytest.mark.parametrize(("address", "scheme", "driver"), [
    ("/dev/ttyUSB0", "serial", "absensi.drivers.gsm"),
    ("COM3", "serial", "absensi.drivers.gsm"),
    ("socket://127.0.0.1:7000", "socket", "absensi.drivers.gsm"),
    ("rfc2217://ts.local:2217", "rfc2217", "absensi.drivers.gsm"),
    ("http://sms:secret@192.168.1.20:8080", "http", "absensi.drivers.android"),
    ("HTTPS://phone.local", "https", "absensi.drivers.android"),
])
def test_a_driver_is_found_by_the_scheme_of_its_address(address: str, scheme: str, driver: str) -> None:
    assert drivers.scheme_of(address) == scheme
    start = drivers.find(scheme)
    assert start.__module__ == driver and start.__name__ == "start"


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(drivers.UnknownDriver, match=r"ftp://.*known: .*http.*serial"):
        drivers.find(drivers.scheme_of("ftp://x"))


def test_an_installed_entry_point_adds_a_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    point = EntryPoint(name="chatapp", value="absensi.drivers.gsm:start", group=drivers.GROUP)
    monkeypatch.setattr(drivers, "entry_points", lambda group: [point] if group == drivers.GROUP else [])
    assert drivers.known_schemes()["chatapp"] == "absensi.drivers.gsm:start"
    assert drivers.find("chatapp").__name__ == "start"


def test_credentials_never_reach_the_start_up_line() -> None:
    assert drivers.shown("http://sms:secret@10.0.0.2:8080/") == "http://***@10.0.0.2:8080/"
    assert drivers.shown("/dev/ttyUSB0") == "/dev/ttyUSB0"


def test_the_delivery_policy_doubles_up_to_its_cap() -> None:
    policy = DeliveryPolicy(max_attempts=3, retry=Backoff(30, 100))
    assert [policy.retry.delay(n) for n in range(4)] == [30, 60, 100, 100]
    assert not policy.exhausted(1) and policy.exhausted(2)


def test_every_sms_action_has_one_handler_and_is_documented() -> None:
    """An SMS action is named once in the rules' vocabulary; the handler table and rules/README.md follow it."""
    import re
    from typing import get_args

    from absensi.engine.chat.parents import ACTIONS
    from absensi.engine.rules.schema import SmsAction

    assert set(ACTIONS) == set(get_args(SmsAction))
    line = next(x for x in (ROOT / "rules" / "README.md").read_text().splitlines() if x.startswith("SMS actions:"))
    documented = re.findall(r"(?<!needs )`(\w+)`", line.split("Command actions")[0])
    assert set(documented) == set(get_args(SmsAction))


def test_every_command_action_has_one_handler_and_is_documented() -> None:
    """A command action is named once in the rules' vocabulary; the staff handler table and rules/README.md
    follow it (the README's list ends with the sentence about unique words)."""
    import re
    from typing import get_args

    from absensi.engine.chat.staff import ACTIONS
    from absensi.engine.rules.schema import CommandAction

    assert set(ACTIONS) == set(get_args(CommandAction))
    text = " ".join((ROOT / "rules" / "README.md").read_text().split())
    listed = text.split("Command actions:", 1)[1].split("Every word must be unique", 1)[0]
    listed = re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", "", listed)  # the explanations in brackets name no action
    assert set(re.findall(r"`(\w+)`", listed)) == set(get_args(CommandAction))


def test_every_package_is_in_the_distribution() -> None:
    """A folder of modules missing from pyproject's package list works in the editable checkout and is absent
    from a real install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {p.parent for top in ("engine", "drivers") for p in (ROOT / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    wanted = {".".join(["absensi", *f.relative_to(ROOT).parts]) for f in folders}
    assert wanted - listed == set()
