"""Per-stratum estimates, rates and the list-by-covariate model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thbmonitor.mse import CaptureTable, fit_loglinear
from thbmonitor.mse.covariates import fit_covariate_model
from thbmonitor.mse.strata import estimate_by_stratum, rates_per_100k


@pytest.fixture(scope="module")
def simdat(ref_path):  # type: ignore[no-untyped-def]
    df = pd.read_csv(ref_path / "simdat_covariates_Cruyff.csv")
    return CaptureTable.from_frame(
        df, lists=["R1", "R2", "R3", "R4"], covariates=["X1", "X2", "X3", "X4", "Y"]
    )


def test_covariate_model_equals_per_stratum_main_effects(simdat) -> None:  # type: ignore[no-untyped-def]
    """With one covariate and no list-list terms, lists + covariate + lists:covariate is the
    independence model fitted separately in each level (the design factorises by level)."""
    res = fit_covariate_model(simdat, ["Y"], terms=[])
    for lev in sorted(simdat.covariates["Y"].unique()):
        sub = simdat.subset((simdat.covariates["Y"] == lev).to_numpy()).collapse()
        separate = fit_loglinear(sub.full_counts(), 4, []).estimate
        row = res.levels[res.levels.level == str(lev)]
        assert row.estimate.item() == pytest.approx(separate, rel=1e-7)
        assert row.lower.item() < row.estimate.item() < row.upper.item()
    assert res.levels.observed.sum() == simdat.observed


def test_two_list_covariate_model_is_stratified_lincoln_petersen() -> None:
    """Two lists, lists x stratum: N_s = n_s + n10 n01 / n11 (Lincoln-Petersen per stratum)."""
    df = pd.DataFrame(
        {
            "A": [1, 0, 1, 1, 0, 1],
            "B": [0, 1, 1, 0, 1, 1],
            "g": ["a", "a", "a", "b", "b", "b"],
            "count": [30, 20, 10, 12, 40, 8],
        }
    )
    res = fit_covariate_model(CaptureTable.from_frame(df, covariates=["g"]), ["g"], terms=[])
    got = res.levels.set_index("level").estimate
    assert got["a"] == pytest.approx(60 + 30 * 20 / 10)
    assert got["b"] == pytest.approx(60 + 12 * 40 / 8)
    assert res.estimate == pytest.approx(got.sum())


def test_sparse_covariates_raise_a_clear_error(simdat) -> None:  # type: ignore[no-untyped-def]
    from thbmonitor.errors import EstimationError

    with pytest.raises(EstimationError, match=r"does not exist|not identifiable"):
        fit_covariate_model(simdat, ["X1", "X2", "X3", "X4", "Y"])


def test_estimate_by_stratum_statuses(simdat) -> None:  # type: ignore[no-untyped-def]
    df = simdat.to_frame()
    # a stratum with only 3 people, and one where nobody is on two lists
    tiny = pd.DataFrame(
        {
            "R1": [1, 0],
            "R2": [0, 1],
            "R3": [0, 0],
            "R4": [0, 0],
            "X1": 1,
            "X2": 1,
            "X3": 1,
            "X4": 1,
            "Y": 9,
            "count": [1, 2],
        }
    )
    apart = pd.DataFrame(
        {
            "R1": [1, 0, 0],
            "R2": [0, 1, 0],
            "R3": [0, 0, 1],
            "R4": [0, 0, 0],
            "X1": 1,
            "X2": 1,
            "X3": 1,
            "X4": 1,
            "Y": 8,
            "count": [20, 30, 25],
        }
    )
    frame = pd.concat([df, tiny, apart], ignore_index=True)
    out = estimate_by_stratum(frame, "Y", lists=["R1", "R2", "R3", "R4"])
    out = out.set_index("Y")
    assert list(out.index) == [1, 2, 3, 4, 8, 9]
    assert (out.loc[[1, 2, 3, 4], "status"] == "ok").all()
    assert out.loc[9, "status"] == "not estimable" and np.isnan(out.loc[9, "estimate"])
    assert out.loc[8, "status"] == "not estimable"
    assert "overlap" in out.loc[8, "note"]
    for y in (1, 2, 3, 4):
        assert out.loc[y, "lower"] <= out.loc[y, "estimate"] <= out.loc[y, "upper"]
        sub = simdat.subset((simdat.covariates["Y"] == y).to_numpy())
        assert out.loc[y, "observed"] == sub.observed


def test_rates_per_100k(simdat) -> None:  # type: ignore[no-untyped-def]
    est = estimate_by_stratum(simdat, "Y")
    rates = rates_per_100k(est, {1: 1e6, 2: 2e6, 3: 1e6, 4: 5e5}, on="Y")
    r2 = rates[rates.Y == 2].iloc[0]
    assert r2.rate == pytest.approx(r2.estimate / 2e6 * 1e5)
    assert r2.rate_lower <= r2.rate <= r2.rate_upper
    frame = pd.DataFrame({"Y": [1, 2, 3, 4], "population": [1e6, 2e6, 1e6, 5e5]})
    again = rates_per_100k(est, frame, on="Y")
    assert np.allclose(again.rate, rates.rate)


def test_full_degree_trend_equals_year_dummies(simdat) -> None:  # type: ignore[no-untyped-def]
    """Orthogonal polynomials of degree (levels - 1) span the same space as level dummies, so
    the trend model must reproduce the factor model exactly; a linear trend differs."""
    terms = [(0, 3), (1, 3)]
    factor = fit_covariate_model(simdat, ["Y"], terms=terms)
    cubic = fit_covariate_model(simdat, ["Y"], terms=terms, trend={"Y": 3})
    assert np.allclose(cubic.levels.estimate, factor.levels.estimate, rtol=1e-7)
    linear = fit_covariate_model(simdat, ["Y"], terms=terms, trend={"Y": 1})
    assert not np.allclose(linear.levels.estimate, factor.levels.estimate, rtol=1e-3)
    assert list(linear.levels.level) == ["1", "2", "3", "4"]
    assert (linear.levels.lower < linear.levels.estimate).all()


def test_estimator_accepts_a_frame(ref_path) -> None:  # type: ignore[no-untyped-def]
    from thbmonitor.mse import MultipleSystemsEstimator

    est = MultipleSystemsEstimator().fit(pd.read_csv(ref_path / "Western.csv"))
    assert est.model_ == ["A:E"]


def test_search_with_full_degree_trend_equals_year_factor(simdat) -> None:  # type: ignore[no-untyped-def]
    """In the covariate model search too, year x list effects as orthogonal polynomials of
    degree (levels - 1) span the same space as year dummies: same path, same estimates."""
    from thbmonitor.mse.covariate_search import search_covariate_model

    factor = search_covariate_model(simdat, ["X1", "Y"], method="bic")
    cubic = search_covariate_model(simdat, ["X1", "Y"], method="bic", trend={"Y": 3})
    assert list(cubic.path.step) == list(factor.path.step)
    assert np.allclose(cubic.path.loglik, factor.path.loglik, rtol=1e-9)
    assert np.allclose(cubic.levels.estimate, factor.levels.estimate, rtol=1e-7)
    linear = search_covariate_model(simdat, ["X1", "Y"], method="bic", trend={"Y": 1})
    added = linear.path.n_params.diff()
    year_list = linear.path.step.str.match(r"\+ R\d:Y")
    assert year_list.any() and (added[year_list] == 1).all()  # a linear trend: one parameter
