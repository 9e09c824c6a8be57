"""The release ledger: it round-trips, keeps what was public, and never blocks re-publishing.

Reference values are hand-derived from the margins of the published tables (the LP an intruder
would solve); each docstring shows the arithmetic.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from thbmonitor.disclosure import (
    CountTable,
    Ledger,
    ProtectedTable,
    Release,
    audit_release,
    cell_key,
    protect_release,
)
from thbmonitor.disclosure import ledger as ledger_module
from thbmonitor.errors import DisclosureError, InputError

# group A is all in sector s1 (group disclosure): A/s1 is hidden as "x" and A's zeros as "<10"
GROUP_SECTOR = [
    ("A", "s1", 50), ("A", "s2", 0), ("A", "s3", 0),
    ("B", "s1", 20), ("B", "s2", 30), ("B", "s3", 25),
    ("C", "s1", 15), ("C", "s2", 12), ("C", "s3", 40),
]  # fmt: skip


def group_sector() -> CountTable:
    cells = pd.DataFrame(GROUP_SECTOR, columns=["group", "sector", "count"])
    return CountTable.from_cells("group_sector", cells, ["group", "sector"])


def sex_table() -> CountTable:
    cells = pd.DataFrame({"sex": ["F", "M"], "count": [30, 4]})
    return CountTable.from_cells("sex", cells, ["sex"], universe="persons")


def displays(tables: list[ProtectedTable]) -> dict[str, list[object]]:
    return {t.name: t.frame["display"].tolist() for t in tables}


def release_in_two_calls(ledger: Ledger | None = None) -> tuple[Release, Release]:
    """As the pipeline does: each universe is protected on its own, audited jointly."""
    return protect_release([group_sector()], ledger=ledger), protect_release(
        [sex_table()], ledger=ledger
    )


def rs(**coords: str) -> str:
    return cell_key("registrations", coords)


def test_release_one_leaves_the_zeros_of_a_dominated_group_unproven():
    """What release 1 made public, hand-derived from its shown margins.

    A's zeros are shown "<10" (0 to 9), so the pattern must not let their column totals prove
    them 0 (as an older pattern did: column s2 read 42 = A/s2 + 30 + 12). Row C is hidden:
    column s2: 42 = A/s2 + 30 + C/s2 with C/s2 >= 10 ("x") gives A/s2 in 0..2 and
    C/s2 = 12 - A/s2 in 10..12; column s3: 65 = A/s3 + 25 + C/s3 with A/s3 in 0..9 gives
    C/s3 = 40 - A/s3 in 31..40; row C: C/s1 = 67 - C/s2 - C/s3 = 15 + A/s2 + A/s3 in
    15..26; row A: A/s1 = 50 - A/s2 - A/s3 in 39..50. Persons: M "<10" with F "x" >= 10 and
    total 34: M in 0..9, F = 34 - M in 25..34. The group rule only needs A/s1 < 0.9 * 50 = 45
    to stay possible.
    """
    regs, persons = release_in_two_calls()
    assert displays(list(regs.tables))["group_sector"][:3] == ["x", "<10", "<10"]
    ledger = Ledger().with_release("r1", [*regs.tables, *persons.tables])
    derived = {k: iv for t in ledger.tables for k, iv in zip(t.keys, t.derived, strict=True) if iv}
    assert derived == {
        rs(group="A", sector="s1"): (39, 50),
        rs(group="A", sector="s2"): (0, 2),
        rs(group="A", sector="s3"): (0, 9),
        rs(group="C", sector="s1"): (15, 26),
        rs(group="C", sector="s2"): (10, 12),
        rs(group="C", sector="s3"): (31, 40),
        cell_key("persons", {"sex": "F"}): (25, 34),
        cell_key("persons", {"sex": "M"}): (0, 9),
    }
    assert regs.audit.passed and persons.audit.passed


def test_the_same_release_can_be_published_again(tmp_path):
    """Re-publishing identical figures against their own ledger reveals nothing new.

    Before the ledger kept what was public, the persons call failed: it checked the ledger's
    A/s2 ("<10", but 0..2 from release 1 alone, see above) for a width of 3 that no table of
    that call can give ("no safe suppression pattern ... table 'r1/group_sector'").
    """
    first = release_in_two_calls()
    tables = [t for r in first for t in r.tables]
    path = tmp_path / "ledger.json"
    Ledger().with_release("r1", tables).save(path)
    ledger = Ledger.load(path)
    second = release_in_two_calls(ledger)
    again = [t for r in second for t in r.tables]
    assert displays(again) == displays(tables)
    assert audit_release(again, ledger).passed


def test_round_trip_and_readable_format(tmp_path):
    """save -> load gives the same ledger; the file is format /2 with readable intervals."""
    regs, persons = release_in_two_calls()
    ledger = Ledger().with_release("r1", [*regs.tables, *persons.tables])
    path = tmp_path / "ledger.json"
    ledger.save(path)
    loaded = Ledger.load(path)
    assert loaded == ledger
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "thbmonitor-disclosure-ledger/2"
    (gs,) = [t for t in doc["tables"] if t["name"] == "group_sector"]
    assert gs["shown"][:4] == ["x", "<10", "<10", 50]
    assert gs["derived"][:4] == [[39, 50], [0, 2], [0, 9], None]
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]  # no temporary file left


def test_format_1_files_are_still_read(tmp_path):
    """A /1 file (no intervals) loads, with the intervals derived again from its tables."""
    regs, persons = release_in_two_calls()
    ledger = Ledger().with_release("r1", [*regs.tables, *persons.tables])
    doc = json.loads(ledger.to_json())
    doc["format"] = "thbmonitor-disclosure-ledger/1"
    for t in doc["tables"]:
        del t["derived"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    old = Ledger.load(path)
    assert old == ledger
    second = release_in_two_calls(old)
    assert audit_release([t for r in second for t in r.tables], old).passed


def test_unreadable_ledgers_are_refused(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text('{"format": "something else", "tables": []}', encoding="utf-8")
    with pytest.raises(InputError, match="not a thbmonitor disclosure ledger"):
        Ledger.load(path)
    path.write_text('{"format": "thbmonitor-disclosure-ledger/2", "tables": [{}]}')
    with pytest.raises(InputError, match="damaged"):
        Ledger.load(path)


def test_a_failed_save_leaves_the_old_ledger(tmp_path, monkeypatch):
    """The ledger is replaced atomically: if the rename fails, the old bytes stay."""
    regs, persons = release_in_two_calls()
    path = tmp_path / "ledger.json"
    Ledger().with_release("r1", list(regs.tables)).save(path)
    before = path.read_bytes()

    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    grown = Ledger.load(path).with_release("r2", list(persons.tables))
    with pytest.raises(OSError, match="disk full"):
        grown.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]
    assert ledger_module.FORMAT.endswith("/2")


def test_a_release_name_is_refused_twice():
    regs, _ = release_in_two_calls()
    ledger = Ledger().with_release("r1", list(regs.tables))
    with pytest.raises(InputError, match="already in the ledger"):
        ledger.with_release("r1", list(regs.tables))
    with pytest.raises(InputError, match="needs a name"):
        ledger.check_new(" ")


def test_a_hidden_count_outside_what_was_implied_is_a_revision():
    """Release 1 implied A/s2 = 0 (column s2: 42 - 30 - 12). A later table of group A with
    A/s2 = 5 (and the same total 50) contradicts it: revised figures, refused with that
    reason rather than a failed search or an audit that trusts the stale 0..0."""
    regs, _ = release_in_two_calls()
    ledger = Ledger().with_release("r1", list(regs.tables))
    cells = pd.DataFrame(
        [("A", "s1", 45), ("A", "s2", 5), ("A", "s3", 0)], columns=["group", "sector", "count"]
    )
    row_a = CountTable.from_cells("a_sector", cells, ["group", "sector"], margins=["sector"])
    with pytest.raises(DisclosureError, match=r"revised figures.*group=A, sector=s2"):
        protect_release([row_a], ledger=ledger)
