"""An intruder holding the report and the deliveries tries to narrow the hidden small counts.

Independent of the joint audit: ``tests/disclosure/intruder.py`` rebuilds the margins of every
published table of victim-years (report and deliveries) from what they show, adds the
relations an intruder knows by definition (adults = the adult bands, a type of organisation =
its organisations, forms x groups through their cross table whose impossible cells are zero),
and solves integer programs for the range of each hidden small count.
"""

from __future__ import annotations

import json

from disclosure.intruder import intruder_ranges  # isort: skip
from thbmonitor.export.tables import SUSPECTS

from .conftest import World


def _cell(key: str) -> tuple[str, frozenset[tuple[str, str]]]:
    universe, pairs = json.loads(key)
    return universe, frozenset((str(d), str(v)) for d, v in pairs)


def test_no_hidden_small_count_is_narrowed(world: World) -> None:
    """Every hidden small count of the victim-years keeps a range of width >= 3 (the rules'
    protection: 0.3 x the threshold 10)."""
    universe = next(iter(world.delivered.tables.values())).table.universe
    tables = [t for t in world.release.tables if t.table.universe == universe]
    assert any(t.name == SUSPECTS for t in world.delivered.tables.values())
    assert {t.name for t in world.delivered.tables.values()} - {SUSPECTS} <= {
        t.name for t in tables
    }
    extra = [
        {_cell(k): c for k, c in eq}
        for eq in world.release.relations.equations
        if all(json.loads(k)[0].startswith(universe) for k, _ in eq)
    ]
    assert extra  # the deliveries' relations are there
    ranges = intruder_ranges(tables, small_only=True, extra=extra)
    assert ranges  # there are hidden small counts to attack
    narrow = {c: r for c, r in ranges.items() if r[1] - r[0] < 3}
    assert not narrow
