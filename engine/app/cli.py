"""`absensi`: the command line (SPEC §5).

Only typer and rich are imported with this module: each command imports what it uses when it runs, so
`absensi --help` and `absensi check` never load the database layer, the report, chart and PDF libraries
or a driver (tests/test_cli_imports.py holds this).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from .logs import log_uncaught
from .logs import setup as setup_logs
from .paths import PROJECT_ROOT, SAMPLE_SCHOOL, resolve_rules_dir
from .private import PRIVATE_UMASK, make_private, write_private

if TYPE_CHECKING:
    from ..rules.compiler import CompiledRules
    from ..rules.schema import Role
    from ..school.model import School
    from ..store import Store
    from .scenario import StepResult

__all__ = ["PROJECT_ROOT", "SAMPLE_SCHOOL", "app", "main"]


class Commands(TyperGroup):
    """The top-level commands; a driver's sub-commands (`absensi modem …`) are imported only when one of
    them runs: `--help` lists them from a stand-in with the same name and help (see `_mount_optional`)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # (typer's own click: its types are private)
        load = LAZY_GROUPS.get(args[0]) if args else None
        if load is not None:
            real = load()
            if real is None:
                self.commands.pop(args[0], None)  # not installed after all: "No such command", as before
            else:
                self.commands[args[0]] = real
        return super().resolve_command(ctx, args)


app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
                  help="absensi: student absences by Telegram and SMS.", cls=Commands)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

SchoolOpt = Annotated[Path | None, typer.Option("--school", envvar="ABSENSI_SCHOOL", show_envvar=True,
                                                help="The school data directory (required).")]
RulesOpt = Annotated[Path | None, typer.Option("--rules", help="The rules directory (default: SCHOOL/rules or rules/).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $DATABASE_URL or SCHOOL/absensi.db).")]


def quiet_logs(level: str = "WARNING") -> None:
    """Logs without noise and without personal data: numbers masked, no variable values (SPEC §8)."""
    setup_logs(level)


def fail(message: str, code: int = 2) -> NoReturn:
    """A user's mistake: one line saying what is wrong and what to do, never a traceback (SPEC §5)."""
    err.print(message, markup=False, soft_wrap=True, style="red")
    raise typer.Exit(code)


def need_school(school: Path | None) -> Path:
    """--school, else $ABSENSI_SCHOOL; without either no command but `demo` runs (SPEC §5)."""
    if school is None:
        fail("no school directory given: pass --school DIR or set ABSENSI_SCHOOL "
             f"(to try the bundled sample school: --school {SAMPLE_SCHOOL})")
    if not school.is_dir():
        what = "is not a folder" if school.exists() else "does not exist"
        fail(f"school directory {school} {what}: pass --school DIR (the folder with school.yaml) or set ABSENSI_SCHOOL")
    return school


def database_url(db: str | None, school: Path) -> str:
    from ..store import sqlite_url

    return db or os.environ.get("DATABASE_URL") or sqlite_url(school.resolve() / "absensi.db")


def open_store(url: str, *, create: bool = False) -> Store:
    """The store at `url`. Commands that only read pass create=False: a missing database is an error, never
    created; a URL that is wrong or a server that does not answer is one line, not a traceback."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from ..store import MissingDatabase, Store

    shown = shown_url(url)
    if create and url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            fail(f"no folder {folder} for the database {shown}: create it, or pass another --db")
    try:
        return Store(url, create=create)
    except MissingDatabase as exc:
        fail(f"{exc} (run `absensi run` first, or pass --db)")
    except (ArgumentError, NoSuchModuleError, ImportError):
        fail(f"database URL {shown!r} is not one absensi can use: pass --db (or DATABASE_URL) as "
             "sqlite:////path/to/absensi.db or postgresql+psycopg://user@host/dbname")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot open the database {shown}: {reason} (check --db or DATABASE_URL, and that the server runs)")


def shown_url(url: str) -> str:
    """A database URL as the operator may see it: never its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def output_file(path: Path, what: str, suffix: str | None = None) -> Path:
    """`-o`: the name decides the format or is refused; its folder must exist."""
    if path.is_dir():
        fail(f"{path} is a folder: give a file name for -o")
    if suffix is not None and path.suffix.lower() != suffix:
        fail(f"{path}: {what}: give a file name ending in {suffix}")
    if not path.parent.is_dir():
        fail(f"{path}: there is no folder {path.parent}: create it first, or give another path to -o")
    return path


def write_or_fail(path: Path, write: Callable[[], object]) -> None:
    """Run `write()`; a file the system refuses is one line, not a traceback."""
    try:
        write()
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")


def load_all(school: Path, rules: Path | None) -> tuple[CompiledRules, School]:
    """Rules and school data, or a clean exit listing every problem (never a traceback)."""
    from ..rules import load_rules
    from ..rules.diagnostics import DataError, Problems
    from ..school.files import load_school
    from .reload import check_groups

    try:
        compiled = load_rules(resolve_rules_dir(school, rules))
        loaded = load_school(school, compiled.rules)
        problems = Problems()
        check_groups(compiled, loaded, problems)
        if problems.errors:
            raise DataError(problems)
        return compiled, loaded
    except DataError as exc:
        err.print(exc.problems.render(), markup=False, soft_wrap=True)
        err.print("[red]Fix the problems above, or run `absensi check` for details.[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


@app.command()
def check(school: SchoolOpt = None, rules: RulesOpt = None, db: DbOpt = None) -> None:
    """Validate the rules and the school data; every problem as file:line:column: message."""
    from ..rules import compile_rules
    from ..rules.diagnostics import Problems
    from ..school.files import read_school
    from .reload import check_groups

    school = need_school(school)
    problems = Problems()
    rules_dir = resolve_rules_dir(school, rules)
    compiled = compile_rules(rules_dir, problems)
    # the school files are checked even when the rules fail (staff roles then against the rules' roles alone)
    loaded = read_school(school, compiled.rules if compiled else None, problems,
                         roles=None if compiled else _roles_only(rules_dir))
    if compiled is not None and loaded is not None:
        check_groups(compiled, loaded, problems)
    if problems.items:
        typer.echo(problems.render())  # plain: no wrapping, so file:line:column stays greppable
    if loaded is not None and not problems.errors:
        _print_numbering(loaded, db, school)
    errors, warnings = len(problems.errors), len(problems.warnings)
    summary = f"{errors} error(s), {warnings} warning(s) in {rules_dir} and {school}"
    console.print(f"[{'red' if errors else 'green'}]{summary}[/]", soft_wrap=True)
    raise typer.Exit(1 if errors else 0)


def _print_numbering(loaded: School, db: str | None, school: Path) -> None:
    """What this roster would change in the absen numbers the database holds (nothing changes here)."""
    if _no_sqlite_file(db or os.environ.get("DATABASE_URL"), school):
        return  # no database yet (and no need to load the database layer to learn so)
    from datetime import UTC

    from ..store import Store, enrolment
    from ..store.store import MissingDatabase

    url = database_url(db, school)
    try:
        store = Store.open_existing(url)
    except MissingDatabase:
        return  # no database yet: the first use numbers every class by name (or absen_no)
    except Exception as exc:  # an unreachable server must not hide the file check's verdict
        console.print(f"(absen numbers not compared: {type(exc).__name__})", markup=False)
        return
    try:
        with store.unit() as session:
            lines = enrolment.preview(session, loaded, loaded.calendar.today(datetime.now(UTC))).lines
    finally:
        store.close()
    for line in lines:
        console.print(f"numbering: {line}", markup=False)


def _no_sqlite_file(url: str | None, school: Path) -> bool:
    """The database is a SQLite file that is not there (the default SCHOOL/absensi.db, or a plain
    sqlite:/// URL): `Store.open_existing` would say MissingDatabase."""
    if url is None:
        return not (school.resolve() / "absensi.db").is_file()
    if url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///:memory:":
        name = url.removeprefix("sqlite:///")
        return bool(name) and not Path(name).is_file()
    return False


def _roles_only(rules_dir: Path) -> dict[str, Role] | None:
    """The roles of a rule set that does not compile, if they alone are valid (its problems are known)."""
    from pydantic import TypeAdapter, ValidationError

    from ..rules.diagnostics import Problems
    from ..rules.loader import load_rules_dir, plain
    from ..rules.schema import Role

    data, _ = load_rules_dir(rules_dir, Problems())
    try:
        return TypeAdapter(dict[str, Role]).validate_python(plain(data.get("roles")))
    except ValidationError:
        return None


@app.command()
def simulate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (YAML), or folders of them.")],
    db: Annotated[str | None, typer.Option("--db", help="Keep the last scenario's database at this URL.")] = None,
) -> None:
    """Run scenario files against the real engine; exit 1 on a failed expectation."""
    import tempfile

    from ..store import sqlite_url
    from .scenario import ScenarioError, run_scenario

    quiet_logs("ERROR")
    files: list[Path] = []
    for path in scenarios:
        if path.is_dir():  # a folder: its scenarios, in name order
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                fail(f"{path} is a folder without scenario files (*.yaml): give a scenario .yaml file or a folder of "
                     "them")
            files.extend(found)
        elif not path.is_file():
            fail(f"scenario file {path} does not exist: give the path of a scenario .yaml file")
        else:
            files.append(path)
    scenarios = files
    if db:
        open_store(db, create=True).close()  # a wrong URL or an unreachable server: one line, before any scenario runs
    failed = 0
    with tempfile.TemporaryDirectory(prefix="absensi-sim-") as tmp:
        for index, path in enumerate(scenarios):
            url = db if db and index == len(scenarios) - 1 else sqlite_url(Path(tmp) / f"scenario-{index}.db")
            if db and index == len(scenarios) - 1:
                reset_database(url)
            console.print(f"[bold]▶ {path}[/bold]")
            try:
                result = run_scenario(path, url, on_step=_print_step)
            except ScenarioError as exc:
                err.print(f"[red]{exc}[/red]", markup=True)
                failed += 1
                continue
            failed += 0 if result.ok else 1
            console.print(f"  {'[green]ok' if result.ok else '[red]FAILED'}[/] {result.name}\n")
    console.print(f"scenarios: {len(scenarios) - failed} ok, {failed} failed")
    raise typer.Exit(1 if failed else 0)


def _print_step(step: StepResult) -> None:
    mark = "[red]✗[/red]" if step.failures else "[green]✓[/green]"
    console.print(f"  {mark} {step.number:>2}. {step.label}".replace("[", "\\[", 0))
    for msg in step.produced:
        doc = f" 📎 {msg.document}" if msg.document else ""
        text = msg.text.replace("\n", "\n        ")
        console.print(f"      → {msg.channel} {msg.to}:{doc} {text}", markup=False)
        for row in msg.buttons:  # the labels a scenario's `press:` can name
            console.print("        " + " ".join(f"[{button.label}]" for button in row), markup=False)
    for failure in step.failures:
        console.print(f"      ✗ {failure}", style="red", markup=False)


def reset_database(url: str) -> None:
    """An empty database at `url`: a SQLite file is removed, other backends have their tables dropped."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlmodel import SQLModel


    engine = create_engine(url)
    with engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@app.command()
def demo(
    school: Annotated[Path, typer.Option("--school", help="The school data directory.")] = SAMPLE_SCHOOL,
    out: Annotated[Path, typer.Option("--out", help="Where the demo database and reports go.")] = Path("demo-output"),
) -> None:
    """The main job with no hardware and no accounts: the sample school's morning, played through the engine."""
    from .demo import run_demo

    quiet_logs("ERROR")
    school = need_school(school)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file: give a folder for the demo's database and reports")
    compiled, loaded = load_all(school, None)
    run_demo(compiled, loaded, out, console)


@app.command()
def run(
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    modem: Annotated[list[str] | None, typer.Option("--modem", help="A pyserial port or URL; repeatable.")] = None,
    gateway: Annotated[list[str] | None, typer.Option(
        "--gateway", help="An Android phone running SMS Gateway for Android, http://user:pass@host:port; "
                          "repeatable, mixable with --modem (docs/android.md).")] = None,
    gateway_listen: Annotated[str | None, typer.Option(
        "--gateway-listen", help="HOST:PORT for the phones' webhooks (default 127.0.0.1:8555).")] = None,
    db: DbOpt = None,
    pin: Annotated[str | None, typer.Option("--pin", envvar="ABSENSI_SIM_PIN", help="SIM PIN, if the SIM asks.")] = None,
    modem_rate: Annotated[float | None, typer.Option("--modem-rate", help="At most this many SMS per minute per modem.")]
    = None,
    finger: Annotated[list[str] | None, typer.Option(
        "--finger", help="A fingerprint machine on the network, \\[udp://][KEY@]HOST[:PORT] (port 4370): its "
                         "attendance log is pulled every few minutes (docs/finger.md); repeatable.")] = None,
    web: Annotated[str | None, typer.Option(
        "--web", help="Serve the web console at HOST:PORT (HOST defaults to 127.0.0.1; see docs/deploy.md).")] = None,
    web_url: Annotated[str | None, typer.Option(
        "--web-url", help="The console's address as browsers reach it (behind a proxy: https://…); /web links "
                          "name it, and the session cookie is Secure when it is https.")] = None,
) -> None:
    """The service: engine, scheduler and the configured drivers."""
    from .drivers import warm_up
    from .stopping import Stopping

    stopping = Stopping()  # from here on a SIGTERM stops the start-up cleanly (stopping.py)
    warm = None
    try:
        quiet_logs("INFO")
        school = need_school(school)
        warm = warm_up(modem or [], pin)  # a modem initialises while the rest of the start runs (drivers.py)
        from ..school.staging import settle
        from .service import serve

        settle(school)  # a roster upload a crash cut short is finished or undone before the roster is read
        compiled, loaded = load_all(school, rules)
        url = database_url(db, school)
        open_store(url, create=True).close()  # the service may create its database; a wrong URL is one line
        # the service's lines whole, never cut at 80 columns: a journal or a log file reads them one per line
        lines = Console(highlight=False, soft_wrap=True)
        code = serve(compiled, loaded, url, [*(modem or []), *(gateway or [])], pin, lines, modem_rate,
                     gateway_listen, fingers=finger, web=web, web_url=web_url, stopping=stopping, warm=warm)
    finally:
        if warm is not None:
            warm.close()  # what no driver took over: the start-up failed or was stopped first
        stopping.restore()
    raise typer.Exit(code)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="harian, status, rekap-kelas, rekap-sekolah, semester, riwayat, perhatian, "
                                             "sms")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx file to write.")],
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    db: DbOpt = None,
    class_name: Annotated[str | None, typer.Option("--class")] = None,
    department: Annotated[str | None, typer.Option("--department")] = None,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM")] = None,
    semester: Annotated[str | None, typer.Option("--semester", help="A semester name from school.yaml")] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    student: Annotated[str | None, typer.Option("--student", help="NIS (for riwayat)")] = None,
) -> None:
    """Write one report as .xlsx (harian, status, rekap-kelas, rekap-sekolah, semester, riwayat, perhatian; sms:
    the month's SMS per day and kind, parts, failures and cost). Each takes its own period: harian and status
    --date, rekap-kelas, rekap-sekolah and sms --month, semester --semester, perhatian --month or --semester,
    riwayat (--student) any one; --class and --department match ignoring case and repeated spaces."""
    from ..reports import REPORTS
    from .cli_reports import check_options, write_report

    quiet_logs()
    school = need_school(school)
    if name == "sms":
        unused = [o for o, v in (("--semester", semester), ("--date", day), ("--class", class_name),
                                 ("--department", department), ("--student", student)) if v]
        if unused:
            fail(f"sms is the whole school's month: give --month YYYY-MM only ({unused[0]} does not apply)")
        _sms_report(school, rules, db, month, output)
        return
    if name not in REPORTS:
        fail(f"unknown report '{name}': choose one of {', '.join(REPORTS)}, sms")
    try:  # a usage mistake is told before any file or database is read
        check_options(name, class_name=class_name, department=department, month=month, semester=semester, day=day,
                      nis=student)
    except ValueError as exc:
        fail(str(exc))
    _write_workbook(school, rules, db, output, lambda compiled, loaded, store, today: write_report(
        compiled, loaded, store, name, output, class_name=class_name, department=department, month=month,
        semester=semester, day=day, nis=student, today=today))


def _sms_report(school: Path, rules: Path | None, db: str | None, month: str | None, output: Path) -> None:
    """`absensi report sms [--month YYYY-MM]`: the month's SMS usage and cost (SPEC §9), the sheet of `/sms`."""
    from .cli_ops import write_sms_report

    _write_workbook(school, rules, db, output, lambda compiled, loaded, store, today: write_sms_report(
        compiled, loaded, store, output, month, today))


def _write_workbook(school: Path, rules: Path | None, db: str | None, output: Path,
                    write: Callable[[CompiledRules, School, Store, date], str]) -> None:
    """One report workbook from the store: `write` makes it and returns the text to show; a wrong value or a
    file that cannot be written is one line."""
    output_file(output, "a report is an Excel workbook", ".xlsx")
    compiled, loaded = load_all(school, rules)
    store = open_store(database_url(db, school))
    try:
        text = write(compiled, loaded, store, datetime.now(loaded.calendar.tz).date())
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror or exc}")
    finally:
        store.close()
    console.print(text, markup=False)
    console.print(f"[green]wrote {output}[/green]")


@app.command()
def letters(
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF file to write.")],
    school: SchoolOpt = None,
    class_name: Annotated[str | None, typer.Option("--class")] = None,
    two_per_page: Annotated[bool, typer.Option("--two-per-page", help="Two letters per A4 page.")] = False,
) -> None:
    """Printable parent letters: one per student, with the parent code and how to use the SMS keycodes."""
    from ..reports.letters import render_letters
    from .cli_reports import find_class

    school = need_school(school)
    output_file(output, "the letters are a PDF", ".pdf")
    _, loaded = load_all(school, None)
    if class_name:  # matched as the school's files match class names: case and repeated spaces aside (SPEC §2)
        found = find_class(loaded, class_name)
        if found is None:
            names = sorted(loaded.classes)
            fail(f"unknown class '{class_name}': give a class as classes.csv names it (e.g. {', '.join(names[:3])})")
        class_name = found
    students = sorted((s for s in loaded.students.values() if not class_name or s.class_name == class_name),
                      key=lambda s: (s.class_name, s.absen_no))
    with _progress("letters", len(students)) as advance:
        pdf = render_letters(loaded.name, loaded.sms_number,
                             [(s.name, s.class_name, s.nis, s.parent_code) for s in students],
                             place=loaded.place, on=date.today(), per_page=2 if two_per_page else 1, progress=advance)
    write_or_fail(output, lambda: write_private(output, pdf))
    console.print(f"[green]wrote {output}: {len(students)} letters[/green]")


@contextmanager
def _progress(what: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on the terminal's stderr while `total` things are made (nothing when not a terminal);
    yields a function to call with the count done so far."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not err.is_terminal:  # a log or a pipe gets the result line only, as before
        yield lambda done: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)


@app.command()
def codes(
    school: SchoolOpt = None,
    replace_weak: Annotated[bool, typer.Option("--replace-weak", help="Also replace codes shorter than 6.")] = False,
) -> None:
    """Fill in missing parent codes in students.csv with unguessable ones (then print the letters).

    The file keeps its delimiter, encoding and line endings; a file with nothing to fill is not written."""
    from ..school.codes import fill_codes

    school = need_school(school)
    path = school / "students.csv"
    if not path.is_file():
        fail(f"{path} not found (codes are written into the CSV roster): put the students table there as CSV")
    try:
        make_private(path)  # parent codes let anyone register as a parent: the roster is private from now on
        filled, kept = fill_codes(path, replace_weak=replace_weak)
    except ValueError as exc:
        fail(f"{path}: cannot read: {exc}")
    except OSError as exc:
        fail(f"{path}: cannot read or write: {exc.strerror or exc}")
    unchanged = "" if filled else " (file unchanged)"
    console.print(f"{path}: {filled} new code(s), {kept} kept{unchanged}. Next: absensi letters -o surat.pdf",
                  markup=False, soft_wrap=True)


finger_app = typer.Typer(no_args_is_help=True, help="Fingerprint arrival logs (SPEC §10).")
app.add_typer(finger_app, name="finger")


@finger_app.command("import")
def finger_import(
    files: Annotated[list[Path], typer.Argument(help="*_attlog.dat files from a machine's USB export, or the "
                                                     "vendor software's .xlsx/.csv export.")],
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    db: DbOpt = None,
    device: Annotated[str | None, typer.Option("--device", help="The machine's name (default: from the file: "
                                                                "1_attlog.dat is 'mesin 1').")] = None,
    shift: Annotated[int, typer.Option("--shift", help="Minutes the machine's clock was ahead (negative: "
                                                       "behind); its times are corrected.")] = 0,
) -> None:
    """Import punches, once: importing the same file again adds nothing; unknown ids are listed."""
    from .finger import import_files

    quiet_logs()
    school = need_school(school)
    _, loaded = load_all(school, rules)
    url = database_url(db, school)
    import_files(files, loaded, lambda: open_store(url), device, shift)


@finger_app.command("pull")
def finger_pull(
    address: Annotated[str, typer.Argument(help="The machine: \\[udp://][KEY@]HOST[:PORT] (port 4370; KEY: its Comm "
                                                "Key; udp:// for machines without TCP).")],
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    db: DbOpt = None,
    shift: Annotated[int, typer.Option("--shift", help="Minutes the machine's clock is ahead (negative: "
                                                       "behind); its times are corrected.")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each answer.")] = 10.0,
    listing: Annotated[bool, typer.Option("--list", help="Print every record (user id, tab, time).")] = False,
) -> None:
    """Pull a machine's attendance log once over the network and store it (once, like an import)."""
    from .finger_pull import pull_once

    quiet_logs()
    school = need_school(school)
    _, loaded = load_all(school, rules)
    url = database_url(db, school)
    pull_once(address, loaded, lambda: open_store(url), shift, timeout, listing)


@app.command()
def template(
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx workbook to write.")],
    school: SchoolOpt = None,
    rules: RulesOpt = None,
) -> None:
    """An import workbook: a sheet per table with its columns, an example row and a class list to pick from."""
    from ..rules import compile_rules
    from ..rules.diagnostics import Problems
    from ..school.workbook import write_template

    school = need_school(school)
    output_file(output, "the template is an Excel workbook", ".xlsx")
    compiled = compile_rules(resolve_rules_dir(school, rules), Problems())
    write_or_fail(output, lambda: write_template(output, sorted(compiled.rules.roles) if compiled else []))
    console.print(f"wrote {output}: fill in its sheets, put it in the school directory in place of the CSV "
                  "files, then run absensi check", markup=False, soft_wrap=True)


@app.command()
def inbox(
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    db: DbOpt = None,
    retry: Annotated[bool, typer.Option("--retry", help="Handle the failed messages again, now.")] = False,
) -> None:
    """Messages the engine could not handle (kept, never lost); --retry handles them again after a fix."""
    from sqlalchemy import select

    from ..school.phones import mask
    from ..store.models import InboxRow
    from .logs import redact

    quiet_logs()
    school = need_school(school)
    compiled, loaded = load_all(school, rules)
    store = open_store(database_url(db, school))
    with store.unit() as session:
        failed = session.scalars(select(InboxRow).where(InboxRow.status == "error").order_by(InboxRow.id)).all()
        for row in failed:
            console.print(f"#{row.id} {row.received_at:%Y-%m-%d %H:%M} {row.channel} {mask(row.sender)}: "
                          f"{redact(row.error or '')}", markup=False)
            if retry:
                row.status = "new"
    console.print(f"{len(failed)} failed message(s)")
    if retry and failed:
        _retry_inbox(compiled, loaded, store, len(failed))
    store.close()


def _retry_inbox(compiled: CompiledRules, loaded: School, store: Store, count: int) -> None:
    """Handle the re-queued messages here, unless a running service is the engine (it takes them now)."""
    from sqlalchemy import select

    from ..core import Engine
    from ..store.lease import Lease, current_holder
    from ..store.models import InboxRow

    now = datetime.now(loaded.calendar.tz)
    lease = Lease(store)
    if not lease.acquire(now):
        store.notify_inbox()  # PostgreSQL: the engine takes them at once (SQLite: within its fallback poll)
        holder = current_holder(store)
        console.print(f"the running service ({holder.holder if holder else '?'}) handles them now; "
                      "see `absensi status`")
        return
    try:
        Engine(compiled, loaded, store, now).process_pending(now)
    finally:
        lease.release()
    with store.unit() as session:
        left = session.scalars(select(InboxRow.id).where(InboxRow.status == "error")).all()
    console.print(f"retried: {count - len(left)} handled, {len(left)} still failing")


@app.command("naik-kelas")
def naik_kelas(
    to: Annotated[str, typer.Option("--to", help="The new school year, e.g. 2027/2028.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Next year's school directory (must not exist).")],
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    top_grade: Annotated[int, typer.Option("--top-grade", help="The grade that graduates (13 in 4-year SMK).")] = 12,
    new: Annotated[Path | None, typer.Option("--new", help="The new students (grade-X intake, transfers in): a "
                                             "students table, .csv or .xlsx, merged into next year's.")] = None,
) -> None:
    """Write next school year's directory: classes move up a grade, the top grade graduates (SPEC §2)."""
    from ..rules.diagnostics import Problems
    from ..school.naikkelas import YearError, add_new_students, plan_year, write_year

    quiet_logs()
    school = need_school(school)
    _, loaded = load_all(school, rules)
    problems = Problems()
    try:
        plan = plan_year(loaded, to, top_grade)
        added = add_new_students(plan, new, problems) if new is not None else []
        if problems.errors:
            typer.echo(problems.render())  # plain, like `absensi check`: file:line:column stays greppable
            fail(f"{len(problems.errors)} error(s) in {new}: nothing was written", 1)
        write_year(loaded, plan, out)
    except YearError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")
    if problems.items:
        typer.echo(problems.render())
    for line in plan.lines:
        console.print(f"  {line}", markup=False)
    todo = (f"give the new classes their staff in {out / 'staff.csv'}" if new is not None
            else f"add the new students to {out / 'students.csv'} (or use --new FILE)")
    console.print(f"{out}: {len(plan.classes)} classes, {len(plan.students)} students ({len(added)} new), "
                  f"{len(plan.staff)} staff rows. Next: {todo}, check the semesters in school.yaml, then run "
                  f"`absensi check --school {out}`.", markup=False)


@app.command()
def reload(
    school: SchoolOpt = None,
    db: DbOpt = None,
) -> None:
    """Ask the running service to reload the school directory and rules (it validates them first)."""
    from datetime import UTC

    from .reload import request

    quiet_logs()
    school = need_school(school)
    store = open_store(database_url(db, school))
    console.print(request(store, datetime.now(UTC)))
    store.close()


@app.command()
def status(
    school: SchoolOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The health of the running service as it publishes it (modems, Telegram, engine, queues, pulsa, database);
    exit 1 when something needs attention — the alerts' own conditions (SPEC §9)."""
    import json
    from datetime import UTC

    from .cli_ops import print_health
    from .status import health

    quiet_logs()
    school = need_school(school)
    store = open_store(database_url(db, school))
    state = health(store, datetime.now(UTC))
    store.close()
    if as_json:
        typer.echo(json.dumps(state.as_dict(), indent=2))
    else:
        print_health(state, console)
    raise typer.Exit(1 if state.problems else 0)


@app.command()
def purge(
    school: SchoolOpt = None,
    rules: RulesOpt = None,
    db: DbOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be deleted.")] = False,
) -> None:
    """Delete what the retention rules say is due (SPEC §8); the service also does this daily."""
    from ..school.staging import FILE_RETENTION, purge_files
    from ..store.purge import RETENTION
    from ..store.purge import purge as purge_due

    quiet_logs()
    school = need_school(school)
    compiled, loaded = load_all(school, rules)
    store = open_store(database_url(db, school))
    now = datetime.now(loaded.calendar.tz)
    try:
        with store.unit() as session:
            gone = purge_due(session, compiled, loaded, now, dry_run=dry_run)
    finally:
        store.close()
    for table, count in gone.items():
        console.print(f"{table:<15} {count:>7}  {RETENTION[table].rule}", markup=False)
    folders = purge_files(loaded.directory, compiled.directory, now, compiled.rules.settings.retention_backup_days,
                          dry_run=dry_run)
    for kind, count in folders.items():
        console.print(f"{kind:<15} {count:>7}  {FILE_RETENTION[kind]}", markup=False)
    verb = "would be deleted (dry run: nothing deleted)" if dry_run else "deleted"
    console.print(f"{sum(gone.values())} row(s) and {sum(folders.values())} folder(s) {verb}")


@app.command()
def backup(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the copy (a SQLite file).")],
    school: SchoolOpt = None,
    db: DbOpt = None,
) -> None:
    """A consistent copy of the SQLite database, safe while the service runs (use pg_dump for PostgreSQL)."""
    import sqlite3

    school = need_school(school)
    url = database_url(db, school)
    if not url.startswith("sqlite:///"):
        if not url.startswith("postgresql"):
            open_store(url).close()  # a URL that is wrong, or a database that is not there, says so first
        fail(f"backup copies SQLite databases; {shown_url(url)} is not one: for PostgreSQL use pg_dump")
    source_path = Path(url.removeprefix("sqlite:///"))
    output_file(output, "the backup")
    if output.resolve() == source_path.resolve():
        fail(f"{output} is the database itself: give another file name for the copy")
    open_store(url).close()  # an absensi database, or one line saying there is none (nothing created)
    try:
        make_private(output)  # children's personal data: owner only before the first page is copied
        source, target = sqlite3.connect(source_path), sqlite3.connect(output)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    except (OSError, sqlite3.Error) as exc:
        fail(f"{output}: cannot write the copy: {getattr(exc, 'strerror', None) or exc}")
    console.print(f"[green]backed up {source_path} to {output}[/green]")


def main() -> None:
    """The `absensi` program: private files and redacted logs for every command, whatever fails."""
    os.umask(PRIVATE_UMASK)  # the database, its journals, reports, letters, the Telegram session (SPEC §8)
    setup_logs()
    _mount_optional()
    try:
        app()
    except Exception as exc:  # a bug, not a user's mistake: its traceback goes through the redacting log
        log_uncaught(exc)
        raise SystemExit(1) from None


MODEM_HELP = "GSM modem tools: probe (what the modem and SIM say), ussd (ask the operator, e.g. the pulsa)."
LAZY_GROUPS: dict[str, Callable[[], Any]] = {}  # name → loads the real group when it runs


def _mount_optional() -> None:
    """Driver sub-commands (`absensi modem …`) when their driver is installed: a stand-in with the name
    and help until one of them runs (`Commands.resolve_command` then loads the driver's own group)."""
    from importlib.util import find_spec

    try:
        installed = find_spec("absensi.drivers.gsm") is not None and find_spec("serial") is not None
    except (ImportError, ValueError):
        installed = False
    if installed and "modem" not in LAZY_GROUPS:
        app.add_typer(typer.Typer(), name="modem", help=MODEM_HELP)
        LAZY_GROUPS["modem"] = _load_modem


def _load_modem() -> Any:
    """The GSM driver's `modem` group, mounted as before (None: the driver cannot be imported)."""
    try:
        from absensi.drivers.gsm.cli import modem_app
    except ImportError:
        return None
    holder = typer.Typer()
    holder.add_typer(modem_app, name="modem", help=MODEM_HELP)
    return typer.main.get_group(holder).commands["modem"]


if __name__ == "__main__":
    main()
