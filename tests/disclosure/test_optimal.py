"""The optimal secondary suppression (Fischetti-Salazar cuts, HiGHS MILP).

Safety is checked as for the heuristic (tests/disclosure/test_properties.check_release: no
shown 1..9, true margins, joint audit, an independent integer intruder); optimality against
an exhaustive search over every subset of hideable cells (each audited by the same joint
audit) on small tables, and against today's heuristic on random tables: never costlier.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thbmonitor.disclosure import CountTable, DisclosureRules, protect_release
from thbmonitor.disclosure.auditor import Auditor
from thbmonitor.disclosure.primary import primary_statuses
from thbmonitor.disclosure.rules import CellStatus
from thbmonitor.disclosure.suppression import cell_costs
from thbmonitor.errors import DisclosureError

from .test_properties import RULES, SETTINGS, arrays, check_release, factor_lists, to_table

HEURISTIC = DisclosureRules(time_limit=0)


def secondary_cost(release, rules: DisclosureRules) -> float:
    grids = [pt.table.grid() for pt in release.tables]
    costs = cell_costs(grids, rules)
    keys = {
        k
        for pt in release.tables
        for k, s in zip(pt.keys, pt.frame["status"], strict=True)
        if s == CellStatus.SECONDARY
    }
    return sum(costs[k] for k in keys)


def both(tables: list[CountTable], rules: DisclosureRules) -> tuple[float, float, object]:
    from dataclasses import replace

    opt = protect_release(tables, rules)
    heur = protect_release(tables, replace(rules, time_limit=0))
    return secondary_cost(opt, rules), secondary_cost(heur, rules), opt


@SETTINGS
@given(arrays(2), RULES, factor_lists)
def test_two_way_never_costlier_than_the_heuristic(
    arr: np.ndarray, rules: DisclosureRules, factors: list[float]
) -> None:
    t = to_table("t", arr, ["a", "b"], factors)
    opt, heur, _ = both([t], rules)
    assert opt <= heur + 1e-6
    check_release([to_table("t", arr, ["a", "b"], factors)], {"t": arr}, rules=rules)


@SETTINGS
@given(arrays(3), RULES)
def test_linked_pair_never_costlier_than_the_heuristic(
    arr: np.ndarray, rules: DisclosureRules
) -> None:
    gs, ga = arr.sum(axis=2), arr.sum(axis=1)
    tables = [to_table("gs", gs, ["a", "b"]), to_table("ga", ga, ["a", "c"])]
    opt, heur, rel = both(tables, rules)
    assert opt <= heur + 1e-6
    assert rel.search.method in ("optimal", "heuristic", "none")
    tables = [to_table("gs", gs, ["a", "b"]), to_table("ga", ga, ["a", "c"])]
    check_release(tables, {"gs": gs, "ga": ga}, small_only=True, rules=rules)


@SETTINGS
@given(arrays(3))
def test_three_way_never_costlier_than_the_heuristic(arr: np.ndarray) -> None:
    opt, heur, _ = both([to_table("t", arr, ["a", "b", "c"])], DisclosureRules())
    assert opt <= heur + 1e-6


def brute_force(table: CountTable, rules: DisclosureRules) -> float:
    """The cheapest pattern over all subsets of hideable cells, each checked by the audit."""
    grid = table.grid()
    status, risks = primary_statuses([grid], rules)
    auditor = Auditor([grid], None, rules)
    costs = cell_costs([grid], rules)
    cand = [k for k, s in status.items() if s == CellStatus.PUBLISHED and auditor.values[k] >= 10]
    best = np.inf
    for size in range(len(cand) + 1):
        for subset in itertools.combinations(cand, size):
            cost = sum(costs[k] for k in subset)
            if cost >= best - 1e-9:
                continue
            trial = dict(status)
            trial.update((k, CellStatus.SECONDARY) for k in subset)
            if auditor.audit(trial, risks, exact=False).passed:
                best = cost
    return best


@pytest.mark.parametrize("seed", range(6))
def test_equals_the_exhaustive_optimum_on_small_tables(seed: int) -> None:
    """3 x 3 tables with margins (16 cells): the optimiser's cost is the minimum over every
    subset of hideable cells (about 2^10 patterns, each audited)."""
    rng = np.random.default_rng(seed)
    rules = DisclosureRules(dominance=None)
    inner = rng.choice([0, 2, 5, 8, 11, 14, 20, 30, 45, 70], size=(3, 3)).astype(float)
    table = to_table("t", inner, ["r", "c"])
    rel = protect_release([table], rules)
    assert rel.search.method in ("optimal", "none")
    assert secondary_cost(rel, rules) == pytest.approx(brute_force(table, rules))


def test_a_kept_cell_is_never_hidden_and_infeasibility_says_merge() -> None:
    """Row a: 4 + 30 = 34 (total kept). Protecting the 4 needs the 30 or the row total
    hidden in the line over columns: with the total kept, the 30 and its column partners
    go; if every other cell of the row is kept too, no safe pattern exists."""
    cells = pd.DataFrame(
        [("a", "x", 4), ("a", "y", 30), ("b", "x", 25), ("b", "y", 40)],
        columns=["r", "c", "count"],
    )
    kept = CountTable.from_cells("t", cells, ["r", "c"], keep=[{"r": "a"}, {}])
    rel = protect_release([kept])
    f = rel["t"].frame
    row_a_total = f[(f["r"] == "a") & (f["c"] == "Total")]
    assert (row_a_total["status"] == "published").all()
    assert (f.loc[(f["r"] == "a") & (f["c"] == "y"), "status"] == "secondary").all()
    blocked = CountTable.from_cells(
        "t", cells, ["r", "c"], keep=[{"r": "a"}, {"r": "a", "c": "y"}, {"c": "x"}]
    )
    with pytest.raises(DisclosureError, match="merge"):
        protect_release([blocked])


def test_time_limit_zero_uses_the_heuristic() -> None:
    cells = pd.DataFrame(
        [("a", "x", 4), ("a", "y", 30), ("b", "x", 25), ("b", "y", 40)],
        columns=["r", "c", "count"],
    )
    t = CountTable.from_cells("t", cells, ["r", "c"])
    assert protect_release([t], HEURISTIC).search.method == "heuristic"
    assert protect_release([t]).search.method == "optimal"


@given(st.integers(0, 10_000))
@SETTINGS
def test_linked_yearly_and_window_tables_never_costlier_than_the_heuristic(seed: int) -> None:
    """Yearly tables year x sex and year x age with a total over the years, and a window table
    group x sex, from the same records: the yearly totals are margins of two tables, the window
    totals by sex of two (the registrations' linked system). Unit costs, no weights."""
    rng = np.random.default_rng(seed)
    n = 400
    rec = pd.DataFrame(
        {
            "year": rng.choice(["y1", "y2", "y3"], n),
            "sex": rng.choice(["F", "M", "U"], n, p=[0.6, 0.37, 0.03]),
            "age": rng.choice(["minor", "adult", "unknown"], n, p=[0.2, 0.77, 0.03]),
            "group": rng.choice(["g1", "g2", "g3"], n, p=[0.5, 0.4, 0.1]),
        }
    )
    rules = DisclosureRules(cost="cells", margin_weight=0)
    tables = [
        CountTable.from_records("ys", rec, ["year", "sex"]),
        CountTable.from_records("ya", rec, ["year", "age"]),
        CountTable.from_records("gs", rec, ["group", "sex"]),
    ]
    opt, heur, _ = both(tables, rules)
    assert opt <= heur + 1e-6


def _pattern(release) -> list[tuple[str, str]]:
    return sorted(
        (k, str(s))
        for pt in release.tables
        for k, s in zip(pt.keys, pt.frame["status"], strict=True)
    )


@pytest.mark.parametrize("rounds", [2, 5])
def test_a_search_stopped_by_its_work_limit_gives_the_same_pattern_at_any_speed(
    rounds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The optimiser stops after a number of rounds of cuts (a work limit), not after a number
    of seconds: stopped early, it hands its last pattern to the heuristic, and the release is
    the same whatever the time allowed (a slow machine, a loaded one). The time guard is far
    away here (60 s and 600 s); a release stopped by it would say so (search.reproducible)."""
    from dataclasses import replace

    import thbmonitor.disclosure.optimal as optimal

    # a 3-way table whose optimum takes 9 rounds of cuts (measured)
    rng = np.random.default_rng(3)
    arr = rng.choice([0, 3, 6, 12, 25, 40], size=(4, 5, 4), p=[0.1, 0.2, 0.2, 0.2, 0.2, 0.1])
    tables = [to_table("t", arr, ["a", "b", "c"], [1.0] * 6)]
    monkeypatch.setattr(optimal, "MAX_ROUNDS", rounds)
    rules = DisclosureRules(dominance=None)
    first = protect_release(tables, replace(rules, time_limit=60.0))
    again = protect_release(tables, replace(rules, time_limit=600.0))
    assert first.search.reproducible and again.search.reproducible
    assert first.search.method == "heuristic"  # stopped early: the heuristic finished it
    assert _pattern(first) == _pattern(again)
    assert first.audit.passed
