"""*Data sekolah* (admin): upload roster tables, see `absensi check`'s findings and what they would change, then
apply them (the service reloads) or cancel. The checking, preview and switching are `school.staging`'s; this
module only turns forms into its calls and its results into pages.
"""

from __future__ import annotations

import re

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..rules.diagnostics import Problem
from ..school.staging import (
    BACKUPS,
    MAX_BYTES,
    Staged,
    Staging,
    StagingError,
    Upload,
    live_files,
    settle,
)
from .page import Page
from .routing import Route

# the form's file fields: (field, table or None for a workbook / a file named by its table, label)
FIELDS = (
    ("students", "students", "Siswa (students)"),
    ("staff", "staff", "Staf (staff)"),
    ("classes", "classes", "Kelas (classes)"),
    ("parents", "parents", "Nomor orang tua (parents)"),
    ("buku", None, "Buku kerja impor (absensi template) atau berkas bernama tabelnya"),
)
KINDS = {"new": "Baru", "moved": "Pindah kelas", "leaving": "Keluar", "renumbered": "Nomor absen berubah"}
_BACKUP = re.compile(r"^[0-9_-]{17,24}$")


def routes() -> list[Route]:
    return [Route("/data", "data", show, nav="Data sekolah", admin=True),
            Route("/data/unggah", "data_upload", upload, methods=("POST",), admin=True),
            Route("/data/<staged_id>", "data_staged", staged, admin=True),
            Route("/data/<staged_id>/terapkan", "data_apply", apply, methods=("POST",), admin=True),
            Route("/data/<staged_id>/batal", "data_cancel", cancel, methods=("POST",), admin=True)]


def staging_of(page: Page) -> Staging:
    """The school directory and the rules in force: what the service would reload. An apply a crash
    interrupted is completed (or rolled back) first, so the page never shows a half-applied set."""
    settle(page.school.directory)
    return Staging(page.school.directory, page.rules.directory)


def show(page: Page) -> Response:
    """The form, the school's files as they are, and the result of the last apply (after its redirect)."""
    done = page.request.args.get("diterapkan", "")
    backup = page.school.directory / BACKUPS / done if _BACKUP.match(done) else None
    files = sorted(live_files(staging_of(page).school_dir))
    return page.render("data.html", fields=FIELDS, files=files, max_mb=MAX_BYTES // (1024 * 1024),
                       applied=backup.name if backup is not None and backup.is_dir() else None)


def upload(page: Page) -> Response:
    uploads = []
    for field, table, _ in FIELDS:
        for item in page.request.files.getlist(field):
            try:
                if item.filename:
                    uploads.append(Upload(item.filename, item.stream.read(MAX_BYTES + 1), table))
            finally:  # the parser's temporary file goes now, not when the garbage collector finds it
                item.close()
    who = page.viewer.name if page.viewer else ""
    result = staging_of(page).stage(uploads, page.store, page.now, by=who)
    return page.redirect("data_staged", staged_id=result.id)


def staged(page: Page, staged_id: str) -> Response:
    found = staging_of(page).get(staged_id, page.now)
    if found is None:
        raise NotFound("Unggahan ini tidak ada lagi (sudah diterapkan, dibatalkan, atau kedaluwarsa).")
    return _show_staged(page, found)


def _show_staged(page: Page, found: Staged, refusal: str = "", status: int = 200) -> Response:
    staging = staging_of(page)
    expires = found.expires(staging.ttl).astimezone(page.school.calendar.tz)
    return page.render("data_staged.html", status=status, staged=found, kinds=KINDS, refusal=refusal,
                       expires=f"{expires:%H:%M}", findings=[_finding(f) for f in found.findings])


def _finding(fields: dict[str, object]) -> dict[str, object]:
    """A finding split for the page: where, the message, the quoted line with its caret, the hint."""
    rendered = Problem(**fields).render().split("\n")  # type: ignore[arg-type]
    head, rest = rendered[0], [line[4:] for line in rendered[1:]]
    hint = rest.pop() if rest and rest[-1].startswith("hint: ") else ""
    return {"head": head, "source": "\n".join(rest), "hint": hint.removeprefix("hint: "),
            "error": fields["severity"] == "error"}


def apply(page: Page, staged_id: str) -> Response:
    staging = staging_of(page)
    try:
        done = staging.apply(staged_id, page.store, page.now)
    except StagingError as exc:
        found = staging.get(staged_id, page.now)
        if found is None:
            raise NotFound(str(exc)) from None
        return _show_staged(page, found, refusal=str(exc), status=409)
    response = page.redirect("data")
    response.headers["Location"] += f"?diterapkan={done.backup.name}"
    return response


def cancel(page: Page, staged_id: str) -> Response:
    staging_of(page).cancel(staged_id)
    return page.redirect("data")
