"""The LP audit against hand-derived intervals; patterns that DO disclose must fail."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.disclosure import (
    CellStatus,
    CountTable,
    DisclosureRules,
    Ledger,
    ProtectedTable,
    audit_release,
    cell_key,
    protect_release,
)
from thbmonitor.errors import DisclosureError

P, S, Z = CellStatus.PRIMARY, CellStatus.SECONDARY, CellStatus.PUBLISHED


def table(name: str, dims: list[str], rows: list[tuple], universe: str = "u") -> CountTable:
    """A table from inner cells ``(cat, ..., count)``; margins are added."""
    cells = pd.DataFrame(rows, columns=[*dims, "count"])
    return CountTable.from_cells(name, cells, dims, universe=universe)


def with_pattern(t: CountTable, hidden: dict[tuple, CellStatus]) -> ProtectedTable:
    """The table with exactly the given cells hidden (keys are coordinate tuples)."""
    rules = DisclosureRules()
    status: dict[str, CellStatus] = {}
    g = t.grid()
    for idx in pd.MultiIndex.from_product([range(n) for n in g.shape]):
        coords = tuple(g.categories[k][i] for k, i in enumerate(idx))
        v = g.values[idx]
        default = CellStatus.ZERO if v == 0 else CellStatus.PUBLISHED
        status[str(g.keys[idx])] = hidden.get(coords, default)
    return ProtectedTable.from_status(t, status, rules)


def interval(result, universe: str, **coords: str) -> tuple[float, float]:
    key = cell_key(universe, coords)
    (c,) = [c for c in result.intervals if c.key == key]
    return (c.lower, c.upper)


def test_one_hidden_cell_in_a_line_is_exactly_disclosed():
    """Cells 5, 30, 20 with total 55 shown: hiding only the 5 discloses it (55-30-20 = 5).

    Hand check: the one equation A + 30 + 20 = 55 pins A = 5, so the interval is [5, 5].
    """
    t = table("form", ["form"], [("sexual", 5), ("labour", 30), ("criminal", 20)])
    pt = with_pattern(t, {("sexual",): P})
    result = audit_release([pt])
    assert interval(result, "u", form="sexual") == (5, 5)
    assert not result.passed
    assert len(result.exact_disclosures) == 1
    with pytest.raises(DisclosureError, match="disclose 1 hidden cell"):
        result.raise_if_disclosive()


def test_two_by_two_intervals_match_hand_derivation():
    """Inner cells (a, b / c, d) = (3, 20 / 15, 40), all hidden; margins shown: rows 23, 55,
    columns 18, 60, total 78.

    Hand derivation with the markers' knowledge (a = '<10' -> 0..9, zeros can be hidden under
    the default group rule; b, c, d = 'x' -> >= 10): b = 23 - a >= 10 and c = 18 - a >= 10
    give a <= 8, so a in [0, 8]; then b = 23 - a in [15, 23], c = 18 - a in [10, 18],
    d = 60 - b = 37 + a in [37, 45].
    """
    t = table("g_s", ["g", "s"], [("A", "F", 3), ("A", "M", 20), ("B", "F", 15), ("B", "M", 40)])
    pt = with_pattern(t, {("A", "F"): P, ("A", "M"): S, ("B", "F"): S, ("B", "M"): S})
    result = audit_release([pt])
    assert interval(result, "u", g="A", s="F") == (0, 8)
    assert interval(result, "u", g="A", s="M") == (15, 23)
    assert interval(result, "u", g="B", s="F") == (10, 18)
    assert interval(result, "u", g="B", s="M") == (37, 45)
    assert result.passed


def test_marker_knowledge_can_disclose():
    """'x' means >= 10 because every 1..9 is shown as '<10'. Cells 9 ('<10') and 10 ('x'),
    total 19 shown: a = 19 - x with x >= 10 gives a <= 9, so a in [0, 9] and x in [10, 19].
    Without the group rule no zero is ever hidden, so '<10' means 1..9: then x <= 18 (hand
    check). With cells 2, 7 ('<10') and 10 ('x'), total 19: a + b = 19 - x <= 9, so a in [0, 9]
    under the default rules and [1, 8] when '<10' means 1..9.
    """
    t = table("f", ["f"], [("a", 9), ("b", 10)])
    res = audit_release([with_pattern(t, {("a",): P, ("b",): S})])
    assert interval(res, "u", f="a") == (0, 9)
    assert interval(res, "u", f="b") == (10, 19)
    strict = DisclosureRules(dominance=None)
    res = audit_release([with_pattern(t, {("a",): P, ("b",): S})], rules=strict)
    assert interval(res, "u", f="b") == (10, 18)
    t2 = table("f", ["f"], [("a", 2), ("b", 7), ("c", 10)])
    pattern2 = with_pattern(t2, {("a",): P, ("b",): P, ("c",): S})
    assert interval(audit_release([pattern2]), "u", f="a") == (0, 9)
    assert interval(audit_release([pattern2], rules=strict), "u", f="a") == (1, 8)


def test_narrow_interval_fails_required_protection():
    """Cells 1 and 10 hidden, 1 is '<10', total 51 and the 40 shown: x = 11 - a >= 10 gives
    a <= 1, so a in [0, 1] (hand check): narrower than the required width 3 -- the marker
    semantics narrow a pattern that tau-Argus-style audits without marker bounds would pass
    (a in [0, 11]). When '<10' means 1..9 (no hidden zeros) it is exactly 1."""
    t = table("f", ["f"], [("a", 1), ("b", 10), ("c", 40)])
    res = audit_release([with_pattern(t, {("a",): P, ("b",): S})])
    assert interval(res, "u", f="a") == (0, 1)
    assert not res.passed and not res.exact_disclosures
    strict = audit_release(
        [with_pattern(t, {("a",): P, ("b",): S})], rules=DisclosureRules(dominance=None)
    )
    assert interval(strict, "u", f="a") == (1, 1) and strict.exact_disclosures


def cross_tables() -> tuple[CountTable, CountTable]:
    """group x sex and group x age of the same 100 victims (they share the group margins)."""
    a = table(
        "group_sex",
        ["group", "sex"],
        [("G1", "F", 9), ("G1", "M", 26), ("G2", "F", 40), ("G2", "M", 25)],
    )
    b = table(
        "group_age",
        ["group", "age"],
        [("G1", "Y", 10), ("G1", "O", 25), ("G2", "Y", 30), ("G2", "O", 35)],
    )
    return a, b


def test_cross_table_disclosure_is_caught_only_by_the_joint_audit():
    """Each table alone is safe; together they pin the shared margin G1 = 35 (hand check).

    group x sex hides G1F (9, '<10'), G1 total, G2F, G2 total: alone, G1F = G1 - 26 and
    G2F = 49 - G1F >= 10 leave G1F in [0, 9]. group x age hides G1Y, G1 total, G2Y, G2 total:
    alone, G1Y in [10, 30] so G1 = G1Y + 25 in [35, 55]. Jointly G1 = G1F + 26 <= 35 and
    G1 >= 35, hence G1 = 35 and G1F = 9: exact disclosure.
    """
    a, b = cross_tables()
    pa = with_pattern(a, {("G1", "F"): P, ("G1", "Total"): S, ("G2", "F"): S, ("G2", "Total"): S})
    pb = with_pattern(b, {("G1", "Y"): S, ("G1", "Total"): S, ("G2", "Y"): S, ("G2", "Total"): S})
    alone_a, alone_b = audit_release([pa]), audit_release([pb])
    assert alone_a.passed and alone_b.passed
    assert interval(alone_a, "u", group="G1", sex="F") == (0, 9)
    assert interval(alone_b, "u", group="G1") == (35, 55)
    joint = audit_release([pa, pb])
    assert interval(joint, "u", group="G1", sex="F") == (9, 9)
    with pytest.raises(DisclosureError):
        joint.raise_if_disclosive()


def test_protect_release_handles_the_linked_tables():
    """protect_release on the same two tables must find a pattern the joint audit passes."""
    a, b = cross_tables()
    release = protect_release([a, b])
    assert release.audit.passed
    assert audit_release(release.tables).passed
    lo, hi = interval(release.audit, "u", group="G1", sex="F")
    assert hi - lo >= DisclosureRules().required_width


def test_cell_shown_in_another_table_counts_as_known():
    """Hiding G1's total in one table while another table shows it discloses the hidden
    small cell: 35 - 26 = 9 (hand check)."""
    a, b = cross_tables()
    pa = with_pattern(a, {("G1", "F"): P, ("G1", "Total"): S, ("G2", "F"): S, ("G2", "Total"): S})
    pb = with_pattern(b, {})
    res = audit_release([pa, pb])
    assert interval(res, "u", group="G1", sex="F") == (9, 9)
    assert not res.passed


def test_ledger_of_an_earlier_release_constrains_the_audit(tmp_path):
    """Release 1 showed the group totals (35, 65). Release 2 hides G1's total around the
    small cell; with the ledger the intruder knows G1 = 35, so G1F = 35 - 26 = 9 (hand check).
    protect_release with the ledger must avoid relying on the known total."""
    a, _ = cross_tables()
    groups = table("group", ["group"], [("G1", 35), ("G2", 65)])
    first = protect_release([groups])
    ledger = Ledger().with_release("2025-1", first.tables)
    path = tmp_path / "ledger.json"
    ledger.save(path)
    ledger = Ledger.load(path)
    assert ledger.releases == ("2025-1",)
    pa = with_pattern(a, {("G1", "F"): P, ("G1", "Total"): S, ("G2", "F"): S, ("G2", "Total"): S})
    assert audit_release([pa]).passed
    res = audit_release([pa], ledger=ledger)
    assert interval(res, "u", group="G1", sex="F") == (9, 9)
    assert not res.passed
    second = protect_release([a], ledger=ledger)
    assert second.audit.passed
    assert audit_release(second.tables, ledger=ledger).passed


def test_ledger_refuses_revised_figures():
    """A count published earlier that differs now cannot be audited against the ledger."""
    groups = table("group", ["group"], [("G1", 35), ("G2", 65)])
    ledger = Ledger().with_release("r1", protect_release([groups]).tables)
    revised = table("group", ["group"], [("G1", 36), ("G2", 65)])
    with pytest.raises(DisclosureError, match="revised"):
        protect_release([revised], ledger=ledger)


def test_shown_small_count_fails_the_audit():
    """A count 1..9 that is shown is a failure of the primary rule, whatever the LP says."""
    t = table("f", ["f"], [("a", 4), ("b", 40)])
    res = audit_release([with_pattern(t, {})])
    assert res.unsafe_shown and not res.passed
    with pytest.raises(DisclosureError, match="below the threshold"):
        res.raise_if_disclosive()


def test_highs_audit_equals_public_linprog():
    """The warm-started HiGHS audit (highspy) gives the same intervals as one
    ``scipy.optimize.linprog(method="highs")`` per bound over the whole system, built here
    from the grids' margin lines, on a 3-way release."""
    import math

    import numpy as np
    from scipy.optimize import linprog

    from thbmonitor.disclosure.audit import LinearSystem

    rng = np.random.default_rng(5)
    rows = [
        (f, s, a, int(rng.choice([0, 2, 5, 12, 30, 80])))
        for f in ("f1", "f2", "f3")
        for s in ("F", "M")
        for a in ("a1", "a2", "a3")
    ]
    t = table("fsa", ["f", "s", "a"], rows)
    rel = protect_release([t])
    fast = {c.key: (c.lower, c.upper) for c in audit_release(rel.tables).intervals}
    pt = rel.tables[0]
    keys = pt.keys
    col = {k: j for j, k in enumerate(keys)}
    system = LinearSystem([t.grid()])
    a_eq = np.zeros((len(system.rows), len(keys)))
    for i, row in enumerate(system.rows):
        for k, c in row:
            a_eq[i, col[k]] = c
    bounds = []
    for st, n in zip(pt.frame["status"], pt.frame["count"], strict=True):
        if st in ("published", "zero"):
            bounds.append((int(n), int(n)))
        elif st == "primary":
            bounds.append((0, 9))
        else:
            bounds.append((10, None))
    slow = {}
    for k in fast:
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(keys))
            c[col[k]] = sign
            sol = linprog(c, A_eq=a_eq, b_eq=np.zeros(len(a_eq)), bounds=bounds, method="highs")
            ends.append(sign * sol.fun if sol.status == 0 else -sign * math.inf)
        slow[k] = (math.ceil(ends[0] - 1e-7), math.floor(ends[1] + 1e-7))
    assert fast == slow and len(fast) > 4
