"""Bootstrap reproducibility and the BCa ingredients."""

from __future__ import annotations

import numpy as np
import pytest

from thbmonitor.mse import MultipleSystemsEstimator
from thbmonitor.mse.bootstrap import Selector, run_bootstrap
from thbmonitor.mse.intervals import bca_interval, jackknife_acceleration


def test_same_replicates_whatever_the_number_of_workers(load) -> None:  # type: ignore[no-untyped-def]
    tab = load("Western")
    one = run_bootstrap(tab.histories, tab.counts, Selector(), 60, seed=7, n_jobs=1)
    two = run_bootstrap(tab.histories, tab.counts, Selector(), 60, seed=7, n_jobs=2)
    assert np.array_equal(one.replicates, two.replicates)
    assert np.array_equal(one.jackknife, two.jackknife)
    other = run_bootstrap(tab.histories, tab.counts, Selector(), 60, seed=8, n_jobs=1)
    assert not np.array_equal(one.replicates, other.replicates)


def test_r_type8_quantile() -> None:
    """R ``quantile(1:10, c(0.1, 0.5, 0.975), type = 8)`` = 1.366667, 5.5, 10 (Hyndman & Fan
    definition 8: h = (n + 1/3) p + 1/3); SparseMSE ``bcaconfvalues`` uses type 8."""
    got = np.quantile(np.arange(1, 11), [0.1, 0.5, 0.975], method="median_unbiased")
    assert got == pytest.approx([1.3666667, 5.5, 10.0], abs=1e-6)


def test_bca_reduces_to_percentiles_without_bias_or_acceleration() -> None:
    reps = np.arange(1, 1001, dtype=float)
    iv = bca_interval(reps, 500.5, 0.0, 0.9)  # half the replicates below: z0 = 0
    assert iv.lower == pytest.approx(np.quantile(reps, 0.05, method="median_unbiased"), rel=1e-3)
    assert iv.upper == pytest.approx(np.quantile(reps, 0.95, method="median_unbiased"), rel=1e-3)


def test_jackknife_acceleration_weights_rows_by_count() -> None:
    """SparseMSE: ahat = sum(n_j d_j^3) / (6 (sum n_j d_j^2)^1.5), d_j = mean - jack_j."""
    jack = np.array([10.0, 12.0, 15.0])
    w = np.array([3.0, 1.0, 2.0])
    mean = (w * jack).sum() / w.sum()
    d = mean - jack
    expected = (w * d**3).sum() / (6 * (w * d**2).sum() ** 1.5)
    assert jackknife_acceleration(jack, w) == pytest.approx(expected)


def test_bic_bootstrap_runs_on_top_models(load) -> None:  # type: ignore[no-untyped-def]
    """BIC with bootstrap restricts reselection to the top models (MultipleSystemsEstimation
    ``ntopmodels``: 20 for four lists)."""
    est = MultipleSystemsEstimator(method="bic", maxorder=2, bootstrap=100, seed=1, n_jobs=1)
    est.fit(load("Kosovo"))
    assert est.interval_.lower < est.estimate_ < est.interval_.upper
    assert est.bootstrap_ is not None and np.isfinite(est.bootstrap_.replicates).all()


def test_bca_failure_falls_back_to_the_conditional_interval(load, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """When BCa is undefined the estimator keeps the profile interval and says so."""
    import thbmonitor.mse.estimator as estimator_module
    from thbmonitor.errors import EstimationError

    def undefined(*_args: object, **_kw: object) -> None:
        raise EstimationError("All bootstrap replicates fall on one side of the estimate.")

    monkeypatch.setattr(estimator_module, "bca_interval", undefined)
    est = MultipleSystemsEstimator(bootstrap=20, seed=1, n_jobs=1).fit(load("Western"))
    assert est.interval_.method.endswith("BCa unavailable")
    assert est.interval_.lower == est.conditional_interval_.lower
    assert est.interval_.upper == est.conditional_interval_.upper
