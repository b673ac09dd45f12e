"""The web console stays a layer on top (issue 13): nothing of the engine imports it but the application
layer, and its libraries load only when the console is started — not for `absensi --help`, not for a service
without `--web`."""

from __future__ import annotations

from pathlib import Path

from test_architecture import engine_modules, imports_of
from test_cli_imports import loaded_after

WEB_LIBRARIES = ("werkzeug", "jinja2", "markupsafe")


def test_only_the_application_layer_imports_the_web_console() -> None:
    offenders = {name: sorted(i for i in imports_of(path) if i.startswith("absensi.engine.web"))
                 for name, path in engine_modules().items()
                 if not name.startswith(("absensi.engine.app", "absensi.engine.web"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_web_libraries_load_only_with_the_console(tmp_path: Path) -> None:
    light = loaded_after("import absensi.engine.app.service, absensi.engine.app.cli, absensi.engine.web", tmp_path)
    assert [name for name in WEB_LIBRARIES if name in light] == []
    started = loaded_after("import absensi.engine.web.server", tmp_path)
    assert [name for name in WEB_LIBRARIES if name not in started] == []  # the check above can fail
