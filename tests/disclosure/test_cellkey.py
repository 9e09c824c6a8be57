"""The cell-key method (disclosure.cellkey): the perturbation table and perturbed tables.

Properties (hypothesis): every row of the perturbation table but the zero row has mean 0 and
variance V (at most V for counts below D; computed here with numpy from the probabilities),
puts no mass below -count and does not fall toward 0 on the negative side (ptable's monotony);
the table equals the R package ptable's (reference values below);
a perturbed count is within D of the true one, never negative, zero where the true count is;
the same cell (the same records) has the same published value in every table; the audit's view
(audit_cell_key) passes and catches a tampered table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thbmonitor.disclosure import CountTable, DisclosureRules
from thbmonitor.disclosure.cellkey import (
    KEY_SCALE,
    PerturbationTable,
    audit_cell_key,
    cell_keys,
    perturb_table,
)
from thbmonitor.errors import ConfigError

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.integers(1, 6), st.floats(0.05, 0.95))
def test_perturbation_table_mean_zero_variance_v(d: int, frac: float) -> None:
    v = frac * d
    pt = PerturbationTable.build(d, v)
    j = pt.noise
    assert pt.probabilities.shape == (d + 2, 2 * d + 1)
    assert pt.row(0)[j == 0] == 1.0  # zeros stay zero
    for i in range(1, len(pt.probabilities)):
        p = pt.probabilities[i]
        assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
        assert p @ j == pytest.approx(0.0, abs=1e-6)
        # at most V (ptable's constraint: less where more entropy lies below V); exactly V
        # for counts of at least D unless V exceeds the uniform noise's variance D(D+1)/3
        # (then monotony caps it: R ptable gives D = 1, V = 0.75 the uniform row, 2/3)
        assert p @ j**2 <= v + 1e-6
        if i >= d and v <= d * (d + 1) / 3:
            assert p @ j**2 == pytest.approx(v, abs=1e-6)
        assert p[i + j < 0].sum() == 0.0  # never below zero
        neg = p[(j <= 0) & (i + j >= 0)]
        assert np.all(np.diff(neg) >= -1e-9)  # monotony: no fall toward zero
    # larger counts use the last row
    assert np.array_equal(pt.row(1000), pt.probabilities[-1])


def test_perturbation_table_settings_checked() -> None:
    with pytest.raises(ConfigError):
        PerturbationTable.build(0, 0.5)
    with pytest.raises(ConfigError):
        PerturbationTable.build(2, 2.0)  # V must lie below D
    with pytest.raises(ConfigError):
        PerturbationTable.build(2, 0.0)


def test_noise_follows_the_cumulative_row() -> None:
    """The noise is the first value whose cumulative probability exceeds the cell key
    (the ABS lookup): from the lowest noise at key 0 to the highest at a key near 1."""
    pt = PerturbationTable.build(2, 0.5)
    cum = np.cumsum(pt.row(50))
    assert pt.noise_of(50, 0.0) == -2
    assert pt.noise_of(50, 0.9999999) == 2
    for k in np.linspace(0, 0.999, 37):
        assert pt.noise_of(50, float(k)) == pt.noise[int(np.searchsorted(cum, k, side="right"))]
    assert {pt.noise_of(0, float(k)) for k in np.linspace(0, 0.99, 20)} == {0}


records = st.lists(
    st.tuples(st.sampled_from("abc"), st.sampled_from("xyz"), st.sampled_from("pq"),
              st.integers(0, KEY_SCALE - 1)),
    min_size=0, max_size=60,
)  # fmt: skip


def _tables(rows: list[tuple[str, str, str, int]]) -> list[tuple[CountTable, pd.DataFrame]]:
    """Two tables of one universe over the same records, a x b and a x c, with key sums."""
    recs = pd.DataFrame(rows, columns=["a", "b", "c", "key"])
    cats = {"a": list("abc"), "b": list("xyz"), "c": list("pq")}
    out = []
    for dims in (["a", "b"], ["a", "c"]):
        t = CountTable.from_records("t_" + dims[1], recs, dims, categories=cats)
        sums = recs.groupby(dims)["key"].sum().rename("key_sum").reset_index()
        out.append((t, sums))
    return out


@SETTINGS
@given(records, st.integers(1, 4))
def test_perturbed_tables_bounded_consistent_and_audited(
    rows: list[tuple[str, str, str, int]], d: int
) -> None:
    pt = PerturbationTable.build(d, d / 2)
    rules = DisclosureRules()
    published: dict[str, int] = {}
    done = []
    for table, sums in _tables(rows):
        keys = cell_keys(table, sums)
        frame = perturb_table(table, keys, pt, rules)
        done.append((table, frame))
        for k, p, t in zip(
            table.grid().keys.ravel(), frame["count"], frame["true_count"], strict=True
        ):
            assert abs(int(p) - int(t)) <= d and int(p) >= 0
            assert int(t) > 0 or int(p) == 0
            # the same cell (same records, same key) has the same value in both tables
            assert published.setdefault(str(k), int(p)) == int(p)
        assert not frame["display"].isin(["<10", "x"]).any()
    assert audit_cell_key(done, pt) == []
    # the audit catches a table whose shared cell was changed
    table, frame = done[1]
    tampered = frame.copy()
    tampered.loc[len(tampered) - 1, "count"] = int(frame["count"].iloc[-1]) + 1
    assert audit_cell_key([done[0], (table, tampered)], pt)


def test_cell_key_is_the_sum_of_record_keys_mod_1() -> None:
    rows = [("a", "x", "p", KEY_SCALE // 2), ("a", "x", "q", KEY_SCALE // 4 * 3),
            ("b", "y", "p", 5)]  # fmt: skip
    (table, sums), _ = _tables(rows)
    keys = cell_keys(table, sums)
    from thbmonitor.disclosure import cell_key

    assert keys[cell_key(table.universe, {"a": "a", "b": "x"})] == pytest.approx(0.25)
    assert keys[cell_key(table.universe, {})] == pytest.approx(0.25 + 5 / KEY_SCALE)
    assert keys[cell_key(table.universe, {"a": "c", "b": "z"})] == 0.0


# R 4.2.2, ptable (github sdcTools/ptable 9d5c774, 2019-10-29), per row i the probabilities of
# the noise from -min(i, D) to D:
#   ptable::create_cnt_ptable(D = D, V = V, js = 0)@pTable
R_PTABLE = {
    (3, 1.0): [
        [0.36988218, 0.36988218, 0.17106039, 0.06870396, 0.02047129],
        [0.06027651, 0.24723103, 0.39149963, 0.23934983, 0.05649478, 0.00514822],
        [0.00450820, 0.05434724, 0.24203727, 0.39821458, 0.24203727, 0.05434724, 0.00450820],
    ],
    (2, 0.5): [
        [0.23635500, 0.54093500, 0.20906500, 0.01364500],
        [0.01049480, 0.20802080, 0.56296880, 0.20802080, 0.01049480],
    ],
    (3, 2.0): [
        [0.37967089, 0.37967089, 0.13660124, 0.06910130, 0.03495568],
        [0.16764429, 0.23331922, 0.24398216, 0.19169529, 0.11316460, 0.05019444],
        [0.03735821, 0.11190781, 0.21614489, 0.26917818, 0.21614489, 0.11190781, 0.03735821],
    ],
    (5, 2.5): [
        [0.38893783, 0.38893782, 0.12209348, 0.05639415, 0.02604806, 0.01203143, 0.00555723],
        [0.19897920, 0.22834748, 0.22834748, 0.16799749, 0.10179330, 0.04938495, 0.01918356,
         0.00596654],
        [0.05295845, 0.12570546, 0.20882063, 0.24276887, 0.19752085, 0.11246912, 0.04481815,
         0.01249899, 0.00243948],
        [0.01114527, 0.04357944, 0.11529373, 0.20637765, 0.24994974, 0.20482157, 0.11356165,
         0.04260110, 0.01081291, 0.00185694],
        [0.00174577, 0.01045157, 0.04204031, 0.11361625, 0.20630281, 0.25168658, 0.20630281,
         0.11361625, 0.04204031, 0.01045157, 0.00174577],
    ],
}  # fmt: skip


@pytest.mark.parametrize("dv", list(R_PTABLE))
def test_perturbation_table_equals_r_ptable(dv: tuple[int, float]) -> None:
    """Our maximum-entropy table is R ptable's (to its 8 printed digits; ptable solves with
    nloptr's SLSQP to 7 digits): the same probabilities give the same noise for the same cell
    key, as cellKey's lookup (the first noise whose cumulative probability exceeds the key)."""
    d, v = dv
    pt = PerturbationTable.build(d, v)
    for i, expected in enumerate(R_PTABLE[dv], start=1):
        row = pt.row(i)[pt.noise >= -i]
        assert row == pytest.approx(expected, abs=2e-7), i
    # counts of D and more share the symmetric row (cellKey: ptab row i = max(i))
    assert np.array_equal(pt.row(d + 1), pt.row(d))
