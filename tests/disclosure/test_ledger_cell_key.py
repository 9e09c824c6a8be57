"""The cell-key method in the release ledger.

A perturbed count p with maximum deviation D tells an intruder only that the true count lies in
[max(0, p - D), p + D]. The ledger keeps that; a later suppressed release is audited with it; a
later cell-key release must give every cell the value it had (the same records have the same
cell key, so the same noise: two different draws could be averaged) and must not narrow a cell
that an earlier release hid. Reference intervals are hand-derived in the docstrings.
"""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.disclosure import (
    CountTable,
    DisclosureRules,
    Ledger,
    ProtectedTable,
    audit_release,
    cell_key,
    protect_release,
)
from thbmonitor.errors import DisclosureError

RULES = DisclosureRules(dominance=None)
TRUE = {"x1": 5, "x2": 40, "x3": 50}  # total 95


def table() -> CountTable:
    cells = pd.DataFrame({"x": list(TRUE), "count": list(TRUE.values())})
    return CountTable.from_cells("t", cells, ["x"], universe="A")


def perturbed(noise: dict[str, int], d: int = 3) -> ProtectedTable:
    """The table as the cell-key method would publish it with this noise (Total included)."""
    t = table()
    frame = t.frame.copy()
    true = frame["count"].astype(int)
    frame["count"] = [n + noise.get(str(x), 0) for x, n in zip(frame["x"], true, strict=True)]
    frame["true_count"] = true
    frame["status"] = ["published" if c else "zero" for c in frame["count"]]
    frame["display"] = pd.Series([c if c else "–" for c in frame["count"]], dtype=object)
    grid_order = [str(x) for x in t.grid().categories[0]]
    frame = frame.set_index("x").loc[grid_order].reset_index()
    return ProtectedTable(t, frame, RULES, max_deviation=d)


def key(x: str) -> str:
    return cell_key("A", {"x": x})


def test_a_cell_key_table_round_trips_with_its_deviation_and_bounds() -> None:
    """x1 = 5 published as 7 with D = 3: the truth is in [4, 10]; a 0 says [0, 3]."""
    ledger = Ledger().with_release("2025", [perturbed({"x1": 2, "x2": -1})])
    again = Ledger.from_json(ledger.to_json())
    assert again.tables[0].max_deviation == 3
    assert again.bounds()[key("x1")] == (4.0, 10.0)
    assert again.bounds()[key("x2")] == (36.0, 42.0)
    assert again.tables[0].hidden() == []
    zero = Ledger().with_release("z", [perturbed({"x1": -5})])
    assert zero.bounds()[key("x1")] == (0.0, 3.0)


def test_a_suppressed_release_after_a_cell_key_one_is_audited_with_the_noise() -> None:
    """Release 1 (cell key, D = 3) shows x1 as 4, x2 as 41, x3 as 49, Total 95: x1 in [1, 7].
    Release 2 suppresses x1 (< 10) and x2 (complement), Total and x3 shown: x1 + x2 = 45.
    Without the ledger x1 is in [1, 9] (x2 >= 36 from nothing: only x2 >= 10 and x1 <= 9);
    with it x1 is in [max(1, 45 - 44), min(7, 45 - 38)] = [1, 7]."""
    ledger = Ledger().with_release("1", [perturbed({"x1": -1, "x2": 1, "x3": -1})])
    second = protect_release([table()], RULES, ledger=ledger)
    audit = audit_release(list(second.tables), ledger, RULES)
    x1 = next(c for c in audit.intervals if c.key == key("x1"))
    assert (x1.lower, x1.upper) == (1, 7)
    plain = audit_release(list(second.tables), None, RULES)
    x1_plain = next(c for c in plain.intervals if c.key == key("x1"))
    assert (x1_plain.lower, x1_plain.upper) == (1, 9)


def test_a_suppressed_release_refuses_a_count_outside_the_earlier_noise() -> None:
    """Shown as 20 with D = 3 (truth in [17, 23]), now x1 is 5: revised figures."""
    ledger = Ledger().with_release("1", [perturbed({"x1": 15})])
    with pytest.raises(DisclosureError, match="revised"):
        protect_release([table()], RULES, ledger=ledger)


def test_a_cell_keeps_its_perturbed_value_across_cell_key_releases() -> None:
    ledger = Ledger().with_release("1", [perturbed({"x1": 2})])
    ledger.check_perturbed([perturbed({"x1": 2})], RULES.required_width)  # same: fine
    with pytest.raises(DisclosureError, match="averaged"):
        ledger.check_perturbed([perturbed({"x1": 1})], RULES.required_width)


def test_a_cell_key_release_must_not_narrow_a_cell_hidden_before() -> None:
    """Release 1 suppresses x1 (5, < 10) and a complement; a cell-key release with D = 1
    then shows x1 as 5: [4, 6], width 2 < 3: refused. With D = 3, [2, 8]: width 6, fine."""
    first = protect_release([table()], RULES)
    assert first["t"].frame.set_index("x").loc["x1", "display"] == "<10"
    ledger = Ledger().with_release("1", list(first.tables))
    with pytest.raises(DisclosureError, match="narrow"):
        ledger.check_perturbed([perturbed({}, d=1)], RULES.required_width)
    ledger.check_perturbed([perturbed({}, d=3)], RULES.required_width)
