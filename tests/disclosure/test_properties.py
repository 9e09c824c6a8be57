"""Property-based tests (hypothesis) on random 1-, 2- and 3-way tables and linked pairs.

After protection: no shown count is 1..9, every shown margin is the true total (computed here
with numpy from the generated cells), the joint LP audit passes (no exact disclosure, every
primary cell at least the required width), and an independent integer intruder working from
the shown tables only (tests/disclosure/intruder.py, scipy.optimize.milp) finds no hidden cell
it can pin down exactly.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thbmonitor.disclosure import CountTable, DisclosureRules, audit_release, protect_release

from .intruder import intruder_ranges

counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 25), st.integers(26, 120))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def arrays(draw: st.DrawFn, ndim: int) -> np.ndarray:
    shape = tuple(draw(st.integers(2, 5 if ndim == 1 else 3)) for _ in range(ndim))
    flat = draw(st.lists(counts, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(flat, dtype=float).reshape(shape)


def to_table(
    name: str, arr: np.ndarray, dims: list[str], factors: list[float] | None = None
) -> CountTable:
    """A table of ``arr``; ``factors`` (cycled) become cost weights of every category."""
    cats = [
        [f"{d}{string.ascii_lowercase[i]}" for i in range(n)]
        for d, n in zip(dims, arr.shape, strict=True)
    ]
    rows = [(*(cats[k][i] for k, i in enumerate(idx)), arr[idx]) for idx in np.ndindex(*arr.shape)]
    cells = pd.DataFrame(rows, columns=[*dims, "count"])
    weights = None
    if factors:
        it = iter(factors * (1 + sum(len(c) + 1 for c in cats) // len(factors)))
        weights = {
            d: {c: next(it) for c in [*cs, "Total"]} for d, cs in zip(dims, cats, strict=True)
        }
    return CountTable.from_cells(
        name, cells, dims, categories=dict(zip(dims, cats, strict=True)), cost_weights=weights
    )


factor_lists = st.lists(st.sampled_from([0.1, 0.2, 1.0, 5.0, 20.0]), min_size=1, max_size=8)


RULES = st.sampled_from(
    [DisclosureRules(), DisclosureRules(zeros_disclosive=True), DisclosureRules(threshold=5)]
)


def check_release(
    tables: list[CountTable],
    arrays_by_name: dict[str, np.ndarray],
    small_only: bool = False,
    rules: DisclosureRules | None = None,
) -> None:
    rules = rules or DisclosureRules()
    rel = protect_release(tables, rules)
    # 1. no shown count 1..T-1
    for pt in rel.tables:
        for v in pt.frame["display"]:
            assert not (isinstance(v, int) and 0 < v < rules.threshold)
    # 2. every shown margin is the true total (numpy sum of the generated cells)
    for pt in rel.tables:
        arr, dims = arrays_by_name[pt.name], list(pt.dims)
        for _, r in pt.frame.iterrows():
            tot = [k for k, d in enumerate(dims) if r[d] == "Total"]
            if not tot or not isinstance(r["display"], int):
                continue
            idx = tuple(
                slice(None) if k in tot else string.ascii_lowercase.index(str(r[d])[-1])
                for k, d in enumerate(dims)
            )
            assert r["display"] == arr[idx].sum()
    # 3. our joint audit: passes, nothing exact, primary cells wide enough
    assert rel.audit.passed
    again = audit_release(rel.tables)
    assert again.passed and not again.exact_disclosures
    for c in again.intervals:
        if c.status == "primary":
            assert c.width >= min(rules.required_width, c.required_width)
    # 4. the independent integer intruder pins no hidden cell, not even a zero hidden to
    #    break a group's share (its marker says 0 to 9, so it must not be provably 0)
    for lo, hi, marker in intruder_ranges(
        rel.tables, rules.threshold, small_only=small_only
    ).values():
        assert hi > lo, marker


@SETTINGS
@given(arrays(1))
def test_one_way(arr: np.ndarray) -> None:
    check_release([to_table("t", arr, ["a"])], {"t": arr})


@SETTINGS
@given(arrays(2), RULES)
def test_two_way(arr: np.ndarray, rules: DisclosureRules) -> None:
    check_release([to_table("t", arr, ["a", "b"])], {"t": arr}, rules=rules)


@SETTINGS
@given(arrays(3))
def test_three_way(arr: np.ndarray) -> None:
    check_release([to_table("t", arr, ["a", "b", "c"])], {"t": arr}, small_only=True)


@SETTINGS
@given(arrays(3), RULES)
def test_linked_pair_shares_margins(arr: np.ndarray, rules: DisclosureRules) -> None:
    """group x sex and group x age of the same units share the group margin (and total)."""
    gs, ga = arr.sum(axis=2), arr.sum(axis=1)
    tables = [to_table("gs", gs, ["a", "b"]), to_table("ga", ga, ["a", "c"])]
    check_release(tables, {"gs": gs, "ga": ga}, small_only=True, rules=rules)


@SETTINGS
@given(arrays(2), RULES, factor_lists)
def test_two_way_with_cost_weights(
    arr: np.ndarray, rules: DisclosureRules, factors: list[float]
) -> None:
    """Cost weights only steer the choice of complements: the release stays safe."""
    check_release([to_table("t", arr, ["a", "b"], factors)], {"t": arr}, rules=rules)


@SETTINGS
@given(arrays(3), factor_lists, factor_lists)
def test_linked_pair_with_cost_weights(arr: np.ndarray, f1: list[float], f2: list[float]) -> None:
    """Linked tables that weight their shared margin differently stay safe jointly."""
    gs, ga = arr.sum(axis=2), arr.sum(axis=1)
    tables = [to_table("gs", gs, ["a", "b"], f1), to_table("ga", ga, ["a", "c"], f2)]
    check_release(tables, {"gs": gs, "ga": ga}, small_only=True)


@SETTINGS
@given(arrays(3))
def test_second_release_against_the_ledger(arr: np.ndarray) -> None:
    """Release 1 shows a x b; release 2 shows a x c of the same units (shared margin a and
    total). Safety: release 2 is either refused (DisclosureError: the margins fixed by release
    1 can leave no safe pattern, e.g. a group of exactly 10 all in one category) or, audited
    together with the ledger of release 1, discloses nothing."""
    from hypothesis import event

    from thbmonitor.disclosure import Ledger
    from thbmonitor.errors import DisclosureError

    ab, ac = arr.sum(axis=2), arr.sum(axis=1)
    first = protect_release([to_table("ab", ab, ["a", "b"])])
    ledger = Ledger().with_release("r1", first.tables)
    try:
        second = protect_release([to_table("ac", ac, ["a", "c"])], ledger=ledger)
    except DisclosureError:
        event("refused")
        return
    joint = audit_release(second.tables, ledger=ledger)
    assert joint.passed and not joint.exact_disclosures
    for pt in second.tables:
        for v in pt.frame["display"]:
            assert not (isinstance(v, int) and 0 < v < 10)
