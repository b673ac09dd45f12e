"""A roster upload, checked and previewed before it goes live (issue 13, *Data sekolah*).

Uploaded tables (`students`/`staff`/`classes`/`parents` as .csv or .xlsx, or the import workbook of
`absensi template`) are put in a staging copy of the school directory, `SCHOOL/.staging/ID/`. There they
are checked exactly as `absensi check` checks a directory, with each finding naming the uploaded file,
and compared with the database: who is new, who moves, who leaves, whose absen number changes
(`enrolment.plan`, the same plan `absensi check` and the reload use). The live files are untouched until
the set is applied, so a bad row loses nothing.

Apply is journaled so that a crash never leaves a mix of old and new tables live. Under a lock
(`LOCK`), it first copies every file the set replaces or removes into `SCHOOL/backups/DATE_TIME/`
(fsync'd, modification times kept), then writes the `APPLYING` marker holding the plan (the staged
folder, the backup folder, the files written and removed, their checksums; temp file + fsync + rename),
then replaces the school's files one by one with `os.replace` (each switch atomic), removes the dropped
ones, deletes the marker, deletes the staging copy, and asks for a reload the way `absensi reload` does.
The reload watch waits while the marker is there. A failure inside apply puts the previous files back.
After a crash, `finish_interrupted_apply` (at `absensi run` start and whenever the console opens its
staging) redoes the switch from the staging copy, or, when that copy is gone or damaged, puts the backed-up
files back; every step can be redone. A set with errors, an expired one, or one staged before the live
files changed is refused. Cancel deletes the staging copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..rules.diagnostics import Problem, Problems
from .tables import TABLES, _sheet_named

if TYPE_CHECKING:
    from ..rules.compiler import CompiledRules
    from ..store import Store
    from .model import School

STAGING = ".staging"
BACKUPS = "backups"
APPLYING = ".absensi-applying"  # apply's plan, present while it switches files (app/reload.py's APPLYING_MARKER)
LOCK = ".absensi-applying.lock"  # flock'd by apply and by finish_interrupted_apply; a dead process holds none
PLAN_VERSION = 1
TTL = timedelta(hours=2)
MAX_BYTES = 5 * 1024 * 1024
LIVE_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
WORKBOOK = "data-sekolah.xlsx"  # where an uploaded import workbook is kept (its stem names no table)
ALIASES = {"siswa": "students", "murid": "students", "peserta_didik": "students", "guru": "staff",
           "staf": "staff", "pegawai": "staff", "kelas": "classes", "rombel": "classes",
           "orang_tua": "parents", "orangtua": "parents", "wali_murid": "parents"}
_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_BACKUP_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}_\d{6})(?:_\d+)?$")  # _backup_folder's names
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # _put's temporary files


class StagingError(Exception):
    """A staged set that cannot be used (unknown, expired, with errors, or out of date): the reason, in
    Indonesian, for the person who uploaded it."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the person's computer had it, and its bytes. `table` when the form
    said which table it is; else the name says it (`students.csv`, `siswa.xlsx`) or it is an import workbook."""

    name: str
    data: bytes
    table: str | None = None


@dataclass(frozen=True)
class Change:
    """One row of the preview: `kind` is new, moved, leaving or renumbered."""

    kind: str
    nis: str
    name: str
    before: str  # "X TKJ 1 no. 4", or "" for a new student
    after: str  # "X TKJ 2 no. 7", or "" for one who leaves


@dataclass
class Staged:
    """A staged set as the page shows it; kept as meta.json in its staging folder."""

    id: str
    created: str  # ISO time, UTC
    by: str
    uploads: dict[str, str]  # staged file name -> the uploaded file's name
    writes: list[str]  # files the set puts in the school directory
    removes: list[str]  # live files it takes out (a table uploaded in the other format)
    base: dict[str, list[int]]  # the live files when staged: name -> [size, mtime_ns]
    findings: list[dict[str, Any]] = field(default_factory=list)  # Problem fields, files named for people
    changes: list[Change] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # a line per table, in Indonesian
    checked: bool = False  # the check ran to the end and the school loaded
    first_numbering: bool = False  # no class has absen numbers this school year yet: nothing to compare

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f["severity"] == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f["severity"] != "error")

    @property
    def applicable(self) -> bool:
        return self.checked and not self.errors

    def expires(self, ttl: timedelta = TTL) -> datetime:
        return datetime.fromisoformat(self.created) + ttl

    def rendered(self) -> list[str]:
        """The findings as `absensi check` prints them (file:line:column: message, the line, a hint)."""
        return [Problem(**f).render() for f in self.findings]


@dataclass(frozen=True)
class Applied:
    backup: Path
    written: list[str]
    removed: list[str]
    reload: str


class Staging:
    """Staged uploads of one school directory, checked against `rules_dir`."""

    def __init__(self, school_dir: Path, rules_dir: Path, ttl: timedelta = TTL) -> None:
        self.school_dir, self.rules_dir, self.ttl = school_dir.resolve(), rules_dir, ttl
        self.root = self.school_dir / STAGING

    # -------------------------------------------------------------------------------- stage, get, cancel

    def stage(self, uploads: Sequence[Upload], store: Store | None, now: datetime, by: str = "") -> Staged:
        """Copy the live files, put the uploads over them, check the set and preview its changes."""
        self.purge(now)
        folder = self._new_folder()
        base = live_files(self.school_dir)
        for name in base:
            _copy_private(self.school_dir / name, folder / name)
        staged = Staged(folder.name, now.isoformat(), by, {}, [], [], {k: list(v) for k, v in base.items()})
        problems = Problems()
        self._place(uploads, folder, staged, problems)
        school = self._check(folder, problems)
        staged.findings = [asdict(p) for p in self._for_people(problems, folder, staged)]
        if school is not None:
            live = self._live_school()
            staged.checked = True
            found = changes(school, store, now) if store is not None else None
            staged.changes = name_leavers(found or [], live)
            staged.first_numbering = found is None
            staged.summary = summary(live, school)
        _write_meta(folder, staged)
        return staged

    def get(self, staged_id: str, now: datetime) -> Staged | None:
        """The staged set, or None when there is none by that id or it expired (then it is deleted)."""
        folder = self._folder(staged_id)
        if folder is None or not (folder / "meta.json").is_file():
            return None
        staged = _read_meta(folder)
        if now >= staged.expires(self.ttl):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return staged

    def cancel(self, staged_id: str) -> bool:
        folder = self._folder(staged_id)
        if folder is None or not folder.is_dir():
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def purge(self, now: datetime, dry_run: bool = False) -> int:
        """Delete expired staged sets (and folders without a readable meta.json); how many went (or would go,
        `dry_run`)."""
        gone = 0
        for folder in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            try:
                expired = now >= _read_meta(folder).expires(self.ttl)
            except (OSError, ValueError, KeyError, TypeError):
                expired = True
            if expired:
                if not dry_run:
                    shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        return gone

    # ----------------------------------------------------------------------------------------- apply

    def apply(self, staged_id: str, store: Store, now: datetime) -> Applied:
        """Put the staged files live (previous versions to a dated backup folder) and ask for a reload."""
        with _apply_lock(self.school_dir, wait=True):
            _log(_recover(self.school_dir))  # a crashed apply is finished (or rolled back) first
            staged = self.get(staged_id, now)
            if staged is None:
                raise StagingError("Unggahan ini tidak ada lagi (sudah diterapkan, dibatalkan, atau kedaluwarsa). "
                                   "Unggah ulang berkasnya.")
            if not staged.applicable:
                raise StagingError(f"Unggahan ini masih punya {staged.errors} kesalahan: perbaiki berkasnya lalu "
                                   "unggah ulang. Data yang berjalan tidak diubah.")
            current = {k: list(v) for k, v in live_files(self.school_dir).items()}
            if current != staged.base:
                raise StagingError("Berkas data sekolah berubah sejak unggahan ini diperiksa. Unggah ulang agar "
                                   "pemeriksaan memakai data terbaru.")
            backup = self._backup_folder(now)
            try:
                plan = self._prepare(staged, backup, now)
                _write_plan(self.school_dir, plan)
            except OSError as exc:  # nothing live was touched: the partial backup goes
                (self.school_dir / APPLYING).unlink(missing_ok=True)
                shutil.rmtree(backup, ignore_errors=True)
                raise StagingError(f"Cadangan berkas lama tidak dapat dibuat ({exc.strerror or exc}). Data yang "
                                   "berjalan tidak diubah.") from exc
            try:
                _switch(self.school_dir, plan)
            except Exception as exc:
                if _roll_back(self.school_dir, plan) is not None:
                    raise  # the marker stays: finish_interrupted_apply tries again
                _durable_unlink(self.school_dir / APPLYING)
                _remove_tree(backup)  # the previous files are live again: their copies are not needed
                raise StagingError(f"Berkas baru tidak dapat dipasang ({exc}). Data yang berjalan dikembalikan "
                                   "seperti semula.") from exc
            _finish(self.school_dir, plan)
        from ..app.reload import request  # the application layer's reload, as `absensi reload` asks it

        return Applied(backup, list(staged.writes), list(staged.removes), request(store, now))

    def _prepare(self, staged: Staged, backup: Path, now: datetime) -> Plan:
        """Back up every live file the set replaces or removes (synced to disk) and say what apply will do."""
        backed = {}
        for name in [*staged.writes, *staged.removes]:
            live = self.school_dir / name
            if live.is_file() and name not in backed:
                data = live.read_bytes()
                _durable_write(backup / name, data)
                stat = live.stat()
                os.utime(backup / name, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # rollback keeps the base
                backed[name] = _digest(data)
        _sync_directory(backup)
        folder = self.root / staged.id
        new = {name: _digest((folder / name).read_bytes()) for name in staged.writes}
        return Plan(PLAN_VERSION, staged.id, str(folder.relative_to(self.school_dir)),
                    str(backup.relative_to(self.school_dir)), list(staged.writes), list(staged.removes), new, backed,
                    now.isoformat())

    def _backup_folder(self, now: datetime) -> Path:
        stamp = now.strftime("%Y-%m-%d_%H%M%S")
        folder = self.school_dir / BACKUPS / stamp
        suffix = 1
        while folder.exists():
            suffix += 1
            folder = self.school_dir / BACKUPS / f"{stamp}_{suffix}"
        folder.mkdir(mode=0o700, parents=True)
        return folder

    # ----------------------------------------------------------------------------------------- parts

    def _new_folder(self) -> Path:
        self.root.mkdir(mode=0o700, exist_ok=True)
        folder = self.root / secrets.token_urlsafe(18)
        folder.mkdir(mode=0o700)
        return folder

    def _folder(self, staged_id: str) -> Path | None:
        return self.root / staged_id if _ID.match(staged_id or "") else None

    def _place(self, uploads: Sequence[Upload], folder: Path, staged: Staged, problems: Problems) -> None:
        """Write each upload under its table's name; problems for files that cannot be placed."""
        if not uploads:
            problems.add("(unggahan)", 0, 0, "no file was uploaded: choose students, staff, classes or parents "
                         "(.csv or .xlsx)")
        for upload in uploads:
            placed = _placement(upload, problems)
            if placed is None:
                continue
            stored, tables = placed
            if stored in staged.uploads:
                problems.add(upload.name, 0, 0, f"{staged.uploads[stored]} is also {stored}: upload one file per table")
                continue
            _write_private(folder / stored, upload.data)
            if stored == WORKBOOK:
                tables = [t for t in TABLES if _sheet_named(folder / stored, t) is not None]
                if not tables:
                    problems.add(upload.name, 0, 0, "this workbook has no sheet named students, staff, classes or "
                                 "parents", hint="use the workbook `absensi template` writes, or one file per table")
            staged.uploads[stored] = upload.name
            staged.writes.append(stored)
            for old in _competitors(folder, stored, tables):
                (folder / old).unlink()
                staged.removes.append(old)

    def _check(self, folder: Path, problems: Problems) -> School | None:
        """`absensi check` on the staging folder: the rules, the school files, the groups the routes name."""
        from ..app.reload import check_groups
        from ..rules import compile_rules
        from .files import read_school

        compiled = compile_rules(self.rules_dir, problems)
        school = read_school(folder, compiled.rules if compiled else None, problems)
        if compiled is not None and school is not None:
            check_groups(compiled, school, problems)
        return school if compiled is not None and not problems.errors else None

    def _live_school(self) -> School | None:
        from ..rules import compile_rules
        from .files import read_school

        quiet = Problems()
        compiled: CompiledRules | None = compile_rules(self.rules_dir, quiet)
        return read_school(self.school_dir, compiled.rules, quiet) if compiled else None

    def _for_people(self, problems: Problems, folder: Path, staged: Staged) -> list[Problem]:
        """Findings that name the uploaded file (not the staging copy) and the school's other files by name."""
        prefix = f"{folder}{os.sep}"
        result = []
        for problem in problems.sorted():
            name = problem.file
            if name.startswith(prefix):
                name = name[len(prefix):]
                stored = name.split("[", 1)[0]
                if stored in staged.uploads:
                    name = staged.uploads[stored] + name[len(stored):]
            elif name == str(folder):
                name = self.school_dir.name
            result.append(replace(problem, file=name))
        return result


# --------------------------------------------------------------------------------- the apply journal


@dataclass(frozen=True)
class Plan:
    """What an apply does, written in the `APPLYING` marker before the first live file changes. Paths are
    relative to the school directory; `new` and `backed` map file names to SHA-256 checksums: the staged
    files to put live, and the live files copied to `backup` (the ones a rollback puts back)."""

    version: int
    staged: str
    folder: str
    backup: str
    writes: list[str]
    removes: list[str]
    new: dict[str, str]
    backed: dict[str, str]
    time: str


def finish_interrupted_apply(school_dir: Path) -> str | None:
    """Complete an apply a crash interrupted, so the school directory holds the whole new set or the whole
    old one, never a mix: the switch is redone from the staging copy, or, when that copy is gone or damaged,
    the backed-up files are put back. A line for the operator's log saying what was done, or None when no
    apply was interrupted (or one is running right now in another thread or process)."""
    school_dir = Path(school_dir)
    if not (school_dir / APPLYING).exists() and not _temporaries(school_dir):
        return None
    with _apply_lock(school_dir, wait=False) as held:
        return _recover(school_dir) if held else None


def settle(school_dir: Path) -> None:
    """`finish_interrupted_apply`, with what it did in the log: `absensi run` calls it before it reads the
    roster, the reload watch before it looks at the files, the console before it shows them."""
    _log(finish_interrupted_apply(school_dir))


def _log(line: str | None) -> None:
    if line is not None:
        from loguru import logger

        (logger.error if line.startswith("error:") else logger.warning)("data sekolah: {}", line)


def _recover(school_dir: Path) -> str | None:
    """finish_interrupted_apply's work; the caller holds the lock."""
    _remove_temporaries(school_dir)
    marker = school_dir / APPLYING
    if not marker.exists():
        return None
    plan = _read_plan(marker)
    if plan is None:
        _durable_unlink(marker)
        return (f"warning: removed {marker}, an apply marker without a plan (from an older version): if an upload "
                "was being applied when the process stopped, the school's files may mix two sets; run "
                "`absensi check` and compare them with the newest folder in backups/")
    what = f"the roster upload {plan.staged} (applied at {plan.time})"
    damaged = _staged_damage(school_dir, plan)
    if damaged is None:
        try:
            _switch(school_dir, plan)
        except (OSError, StagingError) as exc:
            damaged = f"finishing it failed: {exc}"
        else:
            _finish(school_dir, plan)
            removed = f", removed {', '.join(plan.removes)}" if plan.removes else ""
            return (f"finished {what}, interrupted by a stop: put {', '.join(plan.writes)} live{removed}; "
                    f"the previous files are in {plan.backup}")
    failed = _roll_back(school_dir, plan)
    if failed is None:
        _durable_unlink(marker)
        _remove_tree(school_dir / plan.folder)
        return (f"rolled back {what}, interrupted by a stop ({damaged}): the previous files are live again "
                f"(copies in {plan.backup}); the upload has to be made again")
    return (f"error: could not finish or roll back {what} ({damaged}; {failed}): the school's files may mix "
            f"two sets; copy the files of {plan.backup} back by hand, then delete {marker}")


def _switch(school_dir: Path, plan: Plan) -> None:
    """Put the staged files live, each with an atomic rename, and remove the dropped ones (redoable)."""
    folder = school_dir / plan.folder
    for name in plan.writes:
        data = (folder / name).read_bytes()
        if _digest(data) != plan.new[name]:
            raise StagingError(f"the staged {name} changed after the plan was written")
        _put(school_dir, name, data)
    for name in plan.removes:
        _durable_unlink(school_dir / name)


def _roll_back(school_dir: Path, plan: Plan) -> str | None:
    """Put the backed-up files back (their modification times too) and take out the ones the set added;
    None when done, else what is missing or failed (nothing is changed when the backup is incomplete)."""
    backup = school_dir / plan.backup
    try:
        saved = {name: (backup / name).read_bytes() for name in plan.backed}
    except OSError as exc:
        return f"the backup is incomplete: {exc.strerror or exc}: {exc.filename}"
    wrong = sorted(name for name, data in saved.items() if _digest(data) != plan.backed[name])
    if wrong:
        return f"the backup of {', '.join(wrong)} is damaged"
    try:
        for name, data in saved.items():
            _put(school_dir, name, data, like=backup / name)
        for name in plan.writes:
            if name not in plan.backed:
                _durable_unlink(school_dir / name)
    except OSError as exc:
        return f"putting the backup back failed: {exc}"
    return None


def _finish(school_dir: Path, plan: Plan) -> None:
    """The switch is complete: the marker goes (the reload watch may look again), then the staging copy."""
    _durable_unlink(school_dir / APPLYING)
    _remove_tree(school_dir / plan.folder)


def _staged_damage(school_dir: Path, plan: Plan) -> str | None:
    """Why the staging copy cannot finish the switch (a file missing or not the one planned), or None."""
    folder = school_dir / plan.folder
    for name in plan.writes:
        try:
            data = (folder / name).read_bytes()
        except OSError:
            return f"the staged {name} is gone"
        if _digest(data) != plan.new[name]:
            return f"the staged {name} is damaged"
    return None


def _write_plan(school_dir: Path, plan: Plan) -> None:
    data = json.dumps(asdict(plan), ensure_ascii=False, indent=1).encode()
    temporary = school_dir / f"{APPLYING}.{secrets.token_hex(4)}.tmp"
    _durable_write(temporary, data)
    _durable_replace(temporary, school_dir / APPLYING)


def _read_plan(marker: Path) -> Plan | None:
    """The marker's plan; None for a marker without one (the previous version wrote only a time)."""
    try:
        plan = Plan(**json.loads(marker.read_text(encoding="utf-8")))
        names = [*plan.writes, *plan.removes, *plan.new, *plan.backed]
        inside = all(not Path(p).is_absolute() and ".." not in Path(p).parts for p in (plan.folder, plan.backup))
        sound = plan.version == PLAN_VERSION and inside and all(n and Path(n).name == n for n in names) and \
            set(plan.new) == set(plan.writes)
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return plan if sound else None


@contextmanager
def _apply_lock(school_dir: Path, wait: bool) -> Iterator[bool]:
    """Hold the school directory's apply lock (True), or, with `wait=False`, False when someone else does.
    The kernel drops the lock of a process that dies, so a crashed apply never blocks its recovery."""
    fd = os.open(school_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _put(school_dir: Path, name: str, data: bytes, like: Path | None = None) -> None:
    """Replace the live file `name` by `data` atomically (a private temporary file, synced, renamed over it);
    with the modification time of `like` when given."""
    temporary = school_dir / f".{name}.{secrets.token_hex(4)}.tmp"
    _durable_write(temporary, data)
    if like is not None:
        stat = like.stat()
        os.utime(temporary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _durable_replace(temporary, school_dir / name)


def _durable_write(path: Path, data: bytes) -> None:
    """A private file with `data`, on disk when this returns."""
    _write_private(path, data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_replace(source: Path, target: Path) -> None:
    os.replace(source, target)
    _sync_directory(target.parent)


def _durable_unlink(path: Path) -> None:
    if path.exists():
        path.unlink(missing_ok=True)
        _sync_directory(path.parent)


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _temporaries(school_dir: Path) -> list[Path]:
    """Temporary files an interrupted apply left in the school directory (a file or the marker half-written)."""
    return [path for path in school_dir.iterdir() if _TEMPORARY.match(path.name) and path.is_file()]


def _remove_temporaries(school_dir: Path) -> None:
    for path in _temporaries(school_dir):
        path.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """Make a directory's entries (a rename, a new or removed file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------- placement


def _placement(upload: Upload, problems: Problems) -> tuple[str, list[str]] | None:
    """(the name it is staged as, the tables it holds), or None with a problem."""
    suffix = Path(upload.name).suffix.lower()
    if suffix == ".xls":
        problems.add(upload.name, 0, 0, "this is the old Excel format: save it as .xlsx or as \"CSV UTF-8\"")
        return None
    if suffix not in (".csv", ".xlsx"):
        problems.add(upload.name, 0, 0, "not a .csv or .xlsx file")
        return None
    if len(upload.data) > MAX_BYTES:
        problems.add(upload.name, 0, 0, f"larger than {MAX_BYTES // (1024 * 1024)} MB: is this the right file?")
        return None
    table = upload.table or table_of(upload.name)
    if table is not None:
        if table not in TABLES:
            problems.add(upload.name, 0, 0, f"unknown table '{table}'", hint=", ".join(TABLES))
            return None
        return f"{table}{suffix}", [table]
    if suffix == ".xlsx":
        return WORKBOOK, []  # the tables are the sheets named like them (found once it is written)
    problems.add(upload.name, 0, 0, "cannot tell which table this file is",
                 hint="name it students.csv, staff.csv, classes.csv or parents.csv (or pick the table in the form)")
    return None


def table_of(filename: str) -> str | None:
    """The table a file's name says: `students.csv`, `Siswa.xlsx`, `data kelas.csv` → students, students, classes."""
    stem = re.sub(r"[\s-]+", "_", Path(filename).stem.strip().lower())
    if stem in TABLES:
        return stem
    if stem in ALIASES:
        return ALIASES[stem]
    words = [w for w in stem.split("_") if w]
    found = {t for t in TABLES if t in words} | {ALIASES[w] for w in words if w in ALIASES}
    return found.pop() if len(found) == 1 else None


def _competitors(folder: Path, stored: str, tables: Iterable[str]) -> list[str]:
    """Files the new one would compete with: the same table in the other format, and for an import
    workbook the tables' own files and other workbooks holding the same sheets."""
    names = set()
    for table in tables:
        names |= {f"{table}.csv", f"{table}.xlsx"}
    if stored == WORKBOOK:
        wanted = set(tables)
        for book in sorted(folder.glob("*.xlsx")):
            if book.name != WORKBOOK and book.stem.lower() not in TABLES and \
                    any(_sheet_named(book, t) is not None for t in wanted):
                names.add(book.name)
    names.discard(stored)
    return sorted(n for n in names if (folder / n).exists())


def purge_backups(school_dir: Path, now: datetime, days: int, dry_run: bool = False) -> int:
    """Delete the backup folders apply made (`backups/DATE_TIME[_N]/`: the roster files it replaced, personal
    data) more than `days` days old by their name; how many went (or would go, `dry_run`). Folders named
    otherwise (a copy the school made by hand) are left alone."""
    root = Path(school_dir) / BACKUPS
    limit = now.astimezone(UTC).replace(tzinfo=None) - timedelta(days=days)
    gone = 0
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        made = _BACKUP_NAME.match(folder.name)
        if made is None or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            stamp = datetime.strptime(made.group(1), "%Y-%m-%d_%H%M%S")
        except ValueError:
            continue
        if stamp < limit:
            if not dry_run:
                shutil.rmtree(folder)
            gone += 1
    return gone


def purge_files(school_dir: Path, rules_dir: Path, now: datetime, backup_days: int,
                dry_run: bool = False) -> dict[str, int]:
    """The school directory's share of the retention purge (SPEC §8): roster backups past
    `retention_backup_days`, staged uploads past their expiry. Folders per kind, as `FILE_RETENTION` names them."""
    return {"backups": purge_backups(school_dir, now, backup_days, dry_run),
            "staging": Staging(school_dir, rules_dir).purge(now, dry_run)}


FILE_RETENTION = {
    "backups": "roster files an applied upload replaced (SCHOOL/backups/DATE_TIME): retention_backup_days",
    "staging": f"uploads not applied (SCHOOL/{STAGING}/ID): {int(TTL.total_seconds() // 3600)} hours",
}


def live_files(school_dir: Path) -> dict[str, tuple[int, int]]:
    """The school directory's data files (what the reload watches): name -> (size, mtime_ns)."""
    result = {}
    for path in sorted(school_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in LIVE_SUFFIXES and not path.name.startswith("."):
            stat = path.stat()
            result[path.name] = (stat.st_size, stat.st_mtime_ns)
    return result


# ---------------------------------------------------------------------------------------------- preview


def changes(school: School, store: Store, now: datetime) -> list[Change] | None:
    """What the staged roster would change in this school year's seats: new, moved, leaving, renumbered.

    None when no class has been numbered this year yet (the first use numbers every class by name)."""
    from ..store import enrolment

    today = school.calendar.today(now)
    with store.unit() as session:
        seats = enrolment.seats_of_year(session, enrolment.school_year(today))
    if not seats:
        return None
    plan = enrolment.plan(seats, school, today)
    open_seats = {s.nis: s for s in seats if s.end_day is None}
    by_id = {s.id: s for s in seats}
    result = []
    for seat in plan.add:
        student, old = school.students[seat.nis], open_seats.get(seat.nis)
        after = f"{seat.class_name} no. {seat.absen_no}"
        if old is None:
            result.append(Change("new", seat.nis, student.name, "", after))
        else:
            result.append(Change("moved", seat.nis, student.name, f"{old.class_name} no. {old.absen_no}", after))
    moved = {c.nis for c in result}
    for seat_id in plan.end:
        seat = by_id[seat_id]
        if seat.nis not in moved:
            result.append(Change("leaving", seat.nis, "", f"{seat.class_name} no. {seat.absen_no}", ""))
    for seat_id, number in plan.renumber.items():
        seat = by_id[seat_id]
        name = school.students[seat.nis].name
        result.append(Change("renumbered", seat.nis, name, f"{seat.class_name} no. {seat.absen_no}",
                             f"{seat.class_name} no. {number}"))
    return sorted(result, key=lambda c: (("new", "moved", "leaving", "renumbered").index(c.kind), c.after or c.before,
                                         c.name, c.nis))


def name_leavers(found: list[Change], live: School | None) -> list[Change]:
    """Leaving students carry the name the running roster gives them (the staged one no longer has it)."""
    if live is None:
        return found
    return [replace(c, name=live.students[c.nis].name) if c.kind == "leaving" and c.nis in live.students else c
            for c in found]


def summary(live: School | None, staged: School) -> list[str]:
    """A line per table: how many rows now and after, what is added and removed (in Indonesian)."""
    before_classes = set(live.classes) if live else set()
    before_students = set(live.students) if live else set()
    before_staff = {(s.name, s.role, s.scope) for s in live.staff} if live else set()
    after_staff = {(s.name, s.role, s.scope) for s in staged.staff}
    lines = [
        _line("Kelas", before_classes, set(staged.classes)),
        _line("Siswa", before_students, set(staged.students)),
        _line("Staf (peran)", before_staff, after_staff),
        _line("Nomor orang tua", set(live.preregistered) if live else set(), set(staged.preregistered)),
    ]
    return lines


def _line(label: str, before: set[Any], after: set[Any]) -> str:
    return f"{label}: {len(before)} → {len(after)} (+{len(after - before)} baru, −{len(before - after)} dihapus)"


# ------------------------------------------------------------------------------------------------ files


def _write_private(path: Path, data: bytes) -> None:
    from ..app.private import write_private

    write_private(path, data)


def _copy_private(source: Path, target: Path) -> None:
    _write_private(target, source.read_bytes())


def _write_meta(folder: Path, staged: Staged) -> None:
    data = asdict(staged)
    _write_private(folder / "meta.json", json.dumps(data, ensure_ascii=False, indent=1).encode())


def _read_meta(folder: Path) -> Staged:
    data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    data["changes"] = [Change(**c) for c in data.get("changes", [])]
    return Staged(**data)
