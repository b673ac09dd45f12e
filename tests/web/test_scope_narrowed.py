"""`reports.snapshot.narrowed`: what a viewer may ask for within their scope (the console's Rekap form and URL)."""

from __future__ import annotations

from pathlib import Path

from absensi.engine.reports.snapshot import narrowed, scope_of
from absensi.engine.rules import CompiledRules
from absensi.engine.school.files import load_school

ROOT = Path(__file__).resolve().parents[2]


def test_a_viewer_narrows_within_the_scope_only(rules: CompiledRules) -> None:
    school = load_school(ROOT / "tests/schools/mini_year", rules.rules)
    role = {s.role + (s.scope or ""): s for s in school.staff}
    wali = scope_of(school, rules, [role["wali_kelasX TKJ 1"]])
    kajur = scope_of(school, rules, [role["ketua_jurusanTKJ"]])
    whole = scope_of(school, rules, [role["admin"]])
    assert narrowed(wali, school) is wali
    assert narrowed(wali, school, "X TKJ 1") == wali
    for asked in (("X TKJ 2", ""), ("XI RPL 1", ""), ("", "TKJ"), ("", "RPL"), ("X TKJ 9", ""), ("", "ZZZ")):
        assert narrowed(wali, school, *asked) is None, asked
    assert narrowed(kajur, school, "", "TKJ") == kajur.__class__(frozenset({"X TKJ 1", "X TKJ 2"}), "Jurusan TKJ",
                                                                   frozenset({"TKJ"}))
    assert narrowed(kajur, school, "X TKJ 2") is not None and narrowed(kajur, school, "XI RPL 1") is None
    assert narrowed(kajur, school, "", "RPL") is None
    assert narrowed(whole, school, "", "RPL") is not None and narrowed(whole, school, "XI RPL 1") is not None
    assert narrowed(whole, school, "Tidak Ada") is None and narrowed(whole, school, "", "Tidak Ada") is None
