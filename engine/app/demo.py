"""`absensi demo`: the sample school's November, then one morning shown as a conversation.

Everything goes through the real engine and a real SQLite file, with the simulator standing in for
the modem and Telegram. The earlier school days of the month are played quietly (officers report,
parents answer) so the recaps at the end have a month of data behind them.
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from absensi.drivers.simulator import Delivered, Simulator

from ..core import Engine
from ..messages import Channel, InboundMessage
from ..rules import CompiledRules
from ..school.calendar import tanggal
from ..school.model import School, StaffRole
from ..school.phones import national
from ..store import Store, sqlite_url
from ..store.models import OutboxRow
from .private import private_dir, write_private

DEMO_DAY = date(2026, 11, 30)


@dataclass
class Demo:
    engine: Engine
    sim: Simulator
    school: School
    out: Path
    now: datetime
    count: int = 0

    def at(self, hh: int, mm: int, day: date | None = None) -> None:
        moment = datetime.combine(day or self.now.date(), time(hh, mm), tzinfo=self.school.calendar.tz)
        self.now = max(moment, self.now)
        self.engine.tick(self.now)

    def send(self, channel: Channel, sender: str, text: str = "", **extra: object) -> list[Delivered]:
        self.count += 1
        msg = InboundMessage(channel, sender, self.now, f"demo:{self.count}", text, **extra)  # type: ignore[arg-type]
        self.engine.receive(msg, self.now)
        return self.sim.deliver(self.now)


def run_demo(rules: CompiledRules, school: School, out: Path, console: Console) -> Path:
    private_dir(out)
    db = out / "absensi-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    start = datetime.combine(DEMO_DAY.replace(day=1), time(6, 0), tzinfo=school.calendar.tz)
    store = Store(sqlite_url(db.resolve()))
    demo = Demo(Engine(rules, school, store, start), Simulator(store), school, out, start)
    console.rule(f"[bold]{school.name}: demo absensi[/bold]")
    console.print(f"Bulan November diputar dulu (laporan harian {len(school.classes)} kelas)…")
    quiet = _play_month(demo, random.Random(2026))
    console.print(f"  {quiet} pesan masuk diproses, {len(demo.sim.log)} pesan keluar.\n")
    _morning(demo, console)
    files = [*_save_documents(store, out), *_write_reports(rules, demo.engine.school, store, out)]
    console.rule()
    for name in files:
        console.print(f"laporan: {name}")
    console.print(f"database: [bold]{db.resolve()}[/bold]")
    store.close()
    for command in try_commands(school, db, out):
        console.print(f"Coba: {command}", markup=False, highlight=False, soft_wrap=True)  # one line, to copy
    return db


def try_commands(school: School, db: Path, out: Path) -> list[str]:
    """Commands to try next on the demo's database, exactly as they run (a test runs each one)."""
    where = f"--school {shlex.quote(str(school.directory.resolve()))} --db {shlex.quote(sqlite_url(db.resolve()))}"
    folder = out.resolve()
    return [
        f"absensi check --school {shlex.quote(str(school.directory.resolve()))}",
        f"absensi report rekap-sekolah {where} --month {DEMO_DAY:%Y-%m} "
        f"-o {shlex.quote(str(folder / 'rekap-sekolah.xlsx'))}",
        f"absensi report semester {where} -o {shlex.quote(str(folder / 'semester.xlsx'))}",
    ]


def _officers(school: School, class_name: str) -> list[StaffRole]:
    return [s for s in school.staff if s.scope == class_name and s.role in ("ketua_kelas", "sekretaris")
            and s.telegram_id]


def _play_month(demo: Demo, rng: random.Random) -> int:
    """Earlier school days of the month: each class reports, some parents answer an alfa."""
    school, played = demo.school, 0
    day = DEMO_DAY.replace(day=1)
    while day < DEMO_DAY:
        if school.calendar.is_school_day(day):
            demo.at(7, 0, day)
            for class_name, members in school.by_class.items():
                officers = _officers(school, class_name)
                if not officers:
                    continue
                absent = rng.sample(members, k=min(len(members), rng.choice((0, 0, 1, 1, 2, 3))))
                text = " ".join(f"{rng.choice('SSIIADP')} {s.absen_no}" for s in absent[:1]) or "NIHIL"
                demo.send(Channel.TELEGRAM, str(rng.choice(officers).telegram_id), text)
                played += 1
        day += timedelta(days=1)
    return played


def _morning(demo: Demo, console: Console) -> None:
    school = demo.school
    class_name = next((c for c in sorted(school.by_class) if _has_cast(school, c)), None) or next(
        c for c in sorted(school.by_class) if {"ketua_kelas", "wali_kelas"} <= _telegram_roles(school, c))
    members = school.by_class[class_name]
    officers = _officers(school, class_name)
    ketua = next(s for s in officers if s.role == "ketua_kelas")
    sekretaris = next((s for s in officers if s.role == "sekretaris"), ketua)  # each under their own name and role
    wali = next(s for s in school.staff if s.role == "wali_kelas" and s.scope == class_name)
    head = next(s for s in school.staff if s.role == "kepala_sekolah")
    child, other, sick = members[4], members[9], members[12]
    parent = "085712345678"  # a parent who registers during the demo
    group = str(school.groups.get("pejabat", 0))
    table = Table(title=f"{tanggal(DEMO_DAY)} - {class_name}", show_lines=True, expand=True)
    table.add_column("Masuk (jam, dari, pesan)", ratio=1)
    table.add_column("Keluar (ke, pesan)", ratio=1)

    def show(who: str, text: str, produced: list[Delivered]) -> None:
        table.add_row(f"[dim]{demo.now:%H:%M}[/dim] [bold]{who}[/bold]\n{text}", "\n\n".join(_fmt(school, d)
                                                                                           for d in produced))

    demo.at(6, 40, DEMO_DAY)
    show(f"SMS {parent} (ortu {child.name})", f"REG {child.parent_code}",
         demo.send(Channel.SMS, parent, f"REG {child.parent_code.lower()}"))
    demo.at(7, 5)
    line = f"A {child.absen_no} {other.absen_no}"
    show(f"Telegram: {ketua.name} (ketua kelas)", line, demo.send(Channel.TELEGRAM, str(ketua.telegram_id), line))
    line = f"S {sick.absen_no} demam"
    show(f"Telegram: {sekretaris.name} ({sekretaris.role.replace('_', ' ')})", line,
         demo.send(Channel.TELEGRAM, str(sekretaris.telegram_id), line))
    demo.at(7, 20)
    line = "SAKIT demam sejak semalam, maaf baru mengabari"
    show(f"SMS {parent} (ortu {child.name})", line, demo.send(Channel.SMS, parent, line))
    reply_to = demo.sim.last_message.get(str(wali.telegram_id))
    demo.at(7, 25)
    line = "Baik Bu/Pak, semoga lekas sembuh. Mohon surat dokter besok."
    show(f"Telegram: {wali.name} (membalas pesan ortu)", line,
         demo.send(Channel.TELEGRAM, str(wali.telegram_id), line, reply_to=reply_to))
    demo.at(7, 30)
    line = "INFO ada pohon tumbang di depan gerbang sekolah, hati-hati"
    show("SMS 081398765432 (warga)", line, demo.send(Channel.SMS, "081398765432", line))
    demo.at(7, 40)
    line = "Terima kasih infonya, petugas sedang menuju lokasi."
    show(f"Telegram grup pejabat: {head.name}", line,
         demo.send(Channel.TELEGRAM, str(head.telegram_id), line, chat=group, reply_to=demo.sim.last_message.get(group)))
    _other_classes_report(demo, class_name, random.Random(30))
    demo.at(9, 0)
    reminders = demo.sim.deliver(demo.now)
    shown = reminders[:4]
    if len(reminders) > len(shown):
        shown.append(Delivered(Channel.TELEGRAM, "…", f"dan {len(reminders) - len(shown)} pengingat lainnya", ""))
    show("(jam 09:00: pengingat otomatis)", "kelas yang belum melapor", shown)
    demo.at(9, 30)
    for command in ("/hariini", "/rekap 2026-11"):
        show(f"Telegram: {wali.name} (wali kelas)", command,
             demo.send(Channel.TELEGRAM, str(wali.telegram_id), command))
    console.print(table)


def _other_classes_report(demo: Demo, skip: str, rng: random.Random) -> None:
    """Most classes report quietly before nine; the last two forget, so the reminders have work."""
    for class_name in sorted(demo.school.by_class)[:-2]:
        officers = _officers(demo.school, class_name)
        if class_name != skip and officers:
            demo.send(Channel.TELEGRAM, str(rng.choice(officers).telegram_id), "NIHIL")


def _has_cast(school: School, class_name: str) -> bool:
    """A class whose ketua kelas, sekretaris and wali kelas all use Telegram (the demo shows each of them)."""
    return {"ketua_kelas", "sekretaris", "wali_kelas"} <= _telegram_roles(school, class_name)


def _telegram_roles(school: School, class_name: str) -> set[str]:
    return {s.role for s in school.staff if s.scope == class_name and s.telegram_id}


def _fmt(school: School, msg: Delivered) -> str:
    to = national(msg.to) if msg.channel == Channel.SMS else _tg_name(school, msg.to)
    doc = f"\n📎 {msg.document}" if msg.document else ""
    text = msg.text if len(msg.text) < 600 else msg.text[:600] + " …"
    return f"[cyan]{msg.channel.upper()} → {to}[/cyan]\n{text}{doc}"


def _tg_name(school: School, chat: str) -> str:
    if chat.startswith("-"):
        group = next((k for k, v in school.groups.items() if str(v) == chat), chat)
        return f"grup {group}"
    staff = next((s for s in school.staff if str(s.telegram_id) == chat), None)
    return f"{staff.name}" if staff else chat


# The whole school's reports of the demo day and month, as `absensi report` writes them (SPEC §5: "reports written")
# (rekap-sekolah, with its charts, is left to a "Coba" command: matplotlib would lift the demo's peak memory)
DAY, MONTH = DEMO_DAY.isoformat(), f"{DEMO_DAY:%Y-%m}"
REPORTS = (("harian", "day", DAY), ("status", "day", DAY), ("perhatian", "month", MONTH))


def _write_reports(rules: CompiledRules, school: School, store: Store, out: Path) -> list[Path]:
    from .cli_reports import write_report

    written = []
    for name, option, value in REPORTS:
        path = out / f"{name}-{value}.xlsx"
        options = {"class_name": None, "department": None, "month": None, "semester": None, "day": None, "nis": None}
        write_report(rules, school, store, name, path, **{**options, option: value}, today=DEMO_DAY)  # type: ignore[arg-type]
        written.append(path)
    return written


def _save_documents(store: Store, out: Path) -> list[Path]:
    """Write the documents the bot sent (the xlsx recaps) next to the database."""
    written = []
    with store.unit() as session:
        for row in session.scalars(select(OutboxRow).where(OutboxRow.channel == "telegram")):
            doc = row.payload.get("document")
            if doc:
                path = out / doc["filename"]
                write_private(path, bytes.fromhex(doc["hex"]))
                written.append(path)
    return written
