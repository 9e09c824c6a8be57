"""Category merges (disclosure.merge) and cells shown because the headline gives them away.

Properties (hypothesis): a merge keeps every margin of the table (the totals are the same
numbers), the merged cell is the sum of its parts (computed here with numpy), the merged table
protects and passes the joint audit, and the same merge in two tables of one universe gives the
same cell. The monitor's rule: a small unknown sex is shown where women and men of that year are
kept, and the audit still passes (no other hidden count can be derived).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thbmonitor.disclosure import CellStatus, CountTable, audit_release, protect_release
from thbmonitor.disclosure.merge import Merge, merge_tables, small_cells
from thbmonitor.errors import InputError

from .intruder import intruder_ranges

counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 60))
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROWS = ["a", "b", "other", "unknown"]


def table(name: str, arr: np.ndarray, cols: list[str], universe: str = "u") -> CountTable:
    cells = pd.DataFrame(
        [(r, c, arr[i, j]) for i, r in enumerate(ROWS) for j, c in enumerate(cols)],
        columns=["kind", "col", "count"],
    )
    return CountTable.from_cells(
        name, cells, ["kind", "col"], categories={"kind": ROWS, "col": cols}, universe=universe,
        cost_weights={"kind": {"unknown": 0.2, "Total": 20}}, unknown={"kind": ["unknown"]},
    )  # fmt: skip


MERGE = Merge("kind", ("other", "unknown"), "other_or_unknown")


def value(t: CountTable, kind: str, col: str) -> float:
    f = t.frame
    return float(f.loc[(f["kind"] == kind) & (f["col"] == col), "count"].iloc[0])


@SETTINGS
@given(st.lists(counts, min_size=12, max_size=12))
def test_merge_keeps_margins_and_sums_the_parts(flat: list[int]) -> None:
    arr = np.array(flat, dtype=float).reshape(4, 3)
    t = table("t", arr, ["x", "y", "z"])
    m = MERGE.apply(t)
    assert list(m.grid().categories[0]) == ["a", "b", "other_or_unknown", "Total"]
    for j, c in enumerate(["x", "y", "z"]):
        assert value(m, "other_or_unknown", c) == arr[2, j] + arr[3, j]
        assert value(m, "Total", c) == arr[:, j].sum()
    for i, r in enumerate(["a", "b"]):
        assert value(m, r, "Total") == arr[i].sum()
    assert value(m, "Total", "Total") == arr.sum()
    # the merged category is not 'unknown' (it holds a real category) and costs as the cheapest
    assert m.unknown == {"kind": []}
    assert m.cost_weights["kind"]["other_or_unknown"] == pytest.approx(0.2)
    release = protect_release([m])
    assert audit_release(list(release.tables)).passed


@SETTINGS
@given(st.lists(counts, min_size=8, max_size=8), st.lists(counts, min_size=8, max_size=8))
def test_merged_cell_is_one_cell_across_tables(a: list[int], b: list[int]) -> None:
    """Two tables of one universe sharing the margin by kind: merged in both, their shared
    cells agree and the joint release passes the audit and an integer intruder."""
    t1 = table("t1", np.array(a, dtype=float).reshape(4, 2), ["x", "y"])
    # the second table splits the same persons by another dimension: same row totals
    row_tot = t1.frame[t1.frame["col"] == "Total"].set_index("kind")["count"]
    arr2 = np.zeros((4, 2))
    for i, r in enumerate(ROWS):
        n = float(row_tot[r])
        arr2[i, 0] = np.floor(n * (b[i] % 7) / 7)
        arr2[i, 1] = n - arr2[i, 0]
    t2 = table("t2", arr2, ["p", "q"])
    m1, m2 = merge_tables([t1, t2], [MERGE])
    assert value(m1, "other_or_unknown", "Total") == value(m2, "other_or_unknown", "Total")
    release = protect_release([m1, m2])
    assert release.audit.passed
    ranges = intruder_ranges(list(release.tables))
    for key, (lo, hi, _) in ranges.items():
        assert hi - lo >= 1, f"hidden cell {key} pinned down"


def test_merge_needs_two_categories_and_skips_tables_without_them() -> None:
    with pytest.raises(InputError):
        Merge("kind", ("unknown",), "x")
    t = table("t", np.full((4, 2), 12.0), ["x", "y"])
    assert Merge("col", ("x", "nope"), "xn").apply(t) is t
    assert not small_cells(t, "kind", "unknown", 10)
    assert small_cells(table("s", np.array([[12, 12], [12, 12], [12, 12], [3, 12]], dtype=float),
                             ["x", "y"]), "kind", "unknown", 10)  # fmt: skip


def year_sex(u: list[int], years: list[str]) -> CountTable:
    rows = []
    for y, n in zip(years, u, strict=True):
        rows += [(y, "F", 40), (y, "M", 25), (y, "U", n)]
    cells = pd.DataFrame(rows, columns=["year", "sex", "count"])
    keep = [{"year": y} for y in years]
    keep += [{"year": y, "sex": s} for y in years for s in ("F", "M")]
    return CountTable.from_cells(
        "vic_year_sex", cells, ["year", "sex"], margins=["sex"],
        categories={"year": years, "sex": ["F", "M", "U"]}, unknown={"sex": ["U"]},
        keep=keep, shown=[{"year": y, "sex": "U"} for y in years],
    )  # fmt: skip


def test_unknown_shown_where_the_headline_gives_it_away() -> None:
    """Women, men and the total per year are kept: the unknown sex (their difference) is
    shown, the table passes the audit; without `shown` no safe pattern keeps them."""
    years = ["2019", "2020"]
    t = year_sex([3, 0], years)
    release = protect_release([t])
    f = release["vic_year_sex"].frame
    assert set(f["status"]) <= {CellStatus.PUBLISHED, CellStatus.ZERO}
    assert audit_release(list(release.tables)).passed
    plain = CountTable.from_cells(
        "vic_year_sex", t.frame[t.frame["sex"] != "Total"], ["year", "sex"], margins=["sex"],
        unknown={"sex": ["U"]}, keep=t.keep,
    )  # fmt: skip
    from thbmonitor.errors import DisclosureError

    with pytest.raises(DisclosureError):
        protect_release([plain])


def test_small_unknown_dominating_its_line_is_shown_not_a_contradiction() -> None:
    """With unknown_primary=False a small unknown is shown; if it is the whole of its line
    (all unknowns in one year) the group rule must not mark it 'x' (at least T), which no
    value fits: the release is protected and audited (a demo at scale 0.1 crashed on it)."""
    from thbmonitor.disclosure import DisclosureRules

    rows = [(y, n, 40 + i) for i, y in enumerate(["2019", "2020"]) for n in ("NL", "EU")]
    rows.append(("2020", "unknown", 1))
    cells = pd.DataFrame(rows, columns=["year", "nat", "count"])
    t = CountTable.from_cells(
        "year_nat", cells, ["year", "nat"], categories={"year": ["2019", "2020"],
        "nat": ["NL", "EU", "unknown"]}, unknown={"nat": ["unknown"]},
        keep=[{"year": "2019"}, {"year": "2020"}, {}],
    )  # fmt: skip
    rules = DisclosureRules(unknown_primary=False)
    release = protect_release([t], rules)
    assert audit_release(list(release.tables), rules=rules).passed
    f = release["year_nat"].frame
    assert (f.loc[f["nat"] == "unknown", "status"].isin(["published", "zero"])).all()
