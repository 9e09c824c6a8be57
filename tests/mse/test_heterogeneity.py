"""Heterogeneity sensitivity models against closed forms."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.mse import CaptureTable
from thbmonitor.mse.heterogeneity import chao_lower_bound, heterogeneity_model, sensitivity_table


@pytest.mark.parametrize("name", ["Korea", "Kosovo", "UKdat_5", "HIV_Rcapture"])
def test_chao_formula_equals_rcapture_loglinear_mh_chao(load, name: str) -> None:  # type: ignore[no-untyped-def]
    """Rivest & Baillargeon (Rcapture ``closedp.t`` "Mh Chao (LB)", neg = FALSE): the log-linear
    model with columns s and (s - j + 1)+, j = 3..t, is saturated in f_1..f_t, and its hidden
    number is Chao's (1987) lower bound (t-1)/t f1^2 / (2 f2)."""
    tab = load(name)
    s = tab.histories.sum(axis=1)
    f1 = tab.counts[s == 1].sum()
    f2 = tab.counts[s == 2].sum()
    t = tab.n_lists
    expected = tab.observed + (t - 1) / t * f1**2 / (2 * f2)
    assert chao_lower_bound(tab).estimate == pytest.approx(expected, rel=1e-12)
    model = heterogeneity_model(tab, "chao", time_effects=False, neg=False)
    assert model.estimate == pytest.approx(expected, rel=1e-8)
    assert model.interval.lower < model.estimate < model.interval.upper


def test_two_list_mth_is_lincoln_petersen() -> None:
    """With t = 2 Chao's Mth has no heterogeneity column: it is the independence model,
    N = n + n10 n01 / n11."""
    df = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [30, 20, 10]})
    res = heterogeneity_model(CaptureTable.from_frame(df), "chao")
    assert res.estimate == pytest.approx(60 + 30 * 20 / 10)


def test_sensitivity_table(load) -> None:  # type: ignore[no-untyped-def]
    out = sensitivity_table(load("Western"))
    assert list(out.method[:4]) == ["main", "stepwise", "bic", "aic"]
    assert (out.method == "heterogeneity").sum() == 3
    stepwise = out[out.method == "stepwise"].iloc[0]
    assert stepwise.model == "A:E"
    assert stepwise.estimate == pytest.approx(2483.38, abs=0.5)  # SparseMSE, README
    assert (out.lower <= out.estimate).all() and (out.estimate <= out.upper).all()
