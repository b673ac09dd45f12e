"""Start-up (SPEC §2): parents.csv seeds a registration once; a STOP survives restarts; history is kept."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from absensi.engine.core import Engine
from absensi.engine.messages import Channel, InboundMessage
from absensi.engine.school.files import load_school
from absensi.engine.store import Store
from absensi.engine.store.models import ParentLink

MINI = Path(__file__).parent / "schools" / "mini"
T0 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


def test_parents_csv_seeds_once_and_stop_survives_a_restart(tmp_path: Path, db_url: str, rules) -> None:  # type: ignore[no-untyped-def]
    school_dir = tmp_path / "school"
    shutil.copytree(MINI, school_dir)
    (school_dir / "parents.csv").write_text("phone,nis\n0812-3450-0001,1001\n")
    school = load_school(school_dir, rules.rules)
    store = Store(db_url)
    engine = Engine(rules, school, store, T0)
    out = engine.receive(InboundMessage(Channel.TELEGRAM, "700001", T0, "t1", "A 5"), T0)
    assert [m.to for m in out if m.channel == Channel.SMS] == ["+6281234500001"]  # seeded number is told
    engine.receive(InboundMessage(Channel.SMS, "081234500001", T0, "s1", "STOP"), T0)
    store.close()

    store = Store(db_url)  # restart: the roster is read again, parents.csv included
    engine = Engine(rules, load_school(school_dir, rules.rules), store, T0)
    with store.unit() as session:
        links = session.scalars(select(ParentLink)).all()
        assert [(link.phone, link.active, link.origin) for link in links] == [("+6281234500001", False, "import")]
    out = engine.receive(InboundMessage(Channel.TELEGRAM, "700002", T0, "t2", "A 6"), T0)
    assert not [m for m in out if m.channel == Channel.SMS]
    store.close()
