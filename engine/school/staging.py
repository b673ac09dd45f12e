"""A roster upload, checked and previewed before it goes live (issue 13, *Data sekolah*).

Uploaded tables (`students`/`staff`/`classes`/`parents` as .csv or .xlsx, or the import workbook of
`absensi template`) are put in a staging copy of the school directory, `SCHOOL/.staging/ID/`. There they
are checked exactly as `absensi check` checks a directory, with each finding naming the uploaded file,
and compared with the database: who is new, who moves, who leaves, whose absen number changes
(`enrolment.plan`, the same plan `absensi check` and the reload use). The live files are untouched until
the set is applied, so a bad row loses nothing.

Apply replaces the school's files one by one with `os.replace` (each switch is atomic; the reload watch
waits while the `APPLYING` marker is there, so it never sees half a set), keeps the previous versions in
`SCHOOL/backups/DATE_TIME/`, and asks for a reload the way `absensi reload` does. A set with errors, an
expired one, or one staged before the live files changed is refused. Cancel deletes the staging copy.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
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
APPLYING = ".absensi-applying"  # present while apply switches files (app/reload.py's APPLYING_MARKER)
TTL = timedelta(hours=2)
MAX_BYTES = 5 * 1024 * 1024
LIVE_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
WORKBOOK = "data-sekolah.xlsx"  # where an uploaded import workbook is kept (its stem names no table)
ALIASES = {"siswa": "students", "murid": "students", "peserta_didik": "students", "guru": "staff",
           "staf": "staff", "pegawai": "staff", "kelas": "classes", "rombel": "classes",
           "orang_tua": "parents", "orangtua": "parents", "wali_murid": "parents"}
_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_BACKUP_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}_\d{6})(?:_\d+)?$")  # _backup_folder's names


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
        folder = self.root / staged.id
        backup = self._backup_folder(now)
        marker = self.school_dir / APPLYING
        marker.write_text(now.isoformat())
        try:
            for name in staged.writes:
                self._switch(folder / name, name, backup)
            for name in staged.removes:
                if (self.school_dir / name).exists():
                    os.replace(self.school_dir / name, backup / name)
        finally:
            marker.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        from ..app.reload import request  # the application layer's reload, as `absensi reload` asks it

        return Applied(backup, list(staged.writes), list(staged.removes), request(store, now))

    def _switch(self, source: Path, name: str, backup: Path) -> None:
        live = self.school_dir / name
        if live.exists():
            shutil.copy2(live, backup / name)
        temporary = self.school_dir / f".{name}.{secrets.token_hex(4)}.tmp"
        _copy_private(source, temporary)
        os.replace(temporary, live)

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
