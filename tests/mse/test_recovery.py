"""Recovery of a known population simulated from a log-linear model (seeded)."""

from __future__ import annotations

import numpy as np

from thbmonitor.mse import CaptureTable, MultipleSystemsEstimator, fit_loglinear
from thbmonitor.mse.intervals import profile_interval

LISTS = ["Police", "KMar", "LabourInspectorate", "NGOCare", "Other"]


def _simulate(rng: np.random.Generator, n_true: int) -> CaptureTable:
    """Independent lists except that Police raises the chance of NGO care: given Police all
    lists are independent, so this is exactly a log-linear model whose only interaction is
    Police:NGOCare."""
    p = np.array([0.25, 0.08, 0.05, 0.15, 0.10])
    caught = rng.random((n_true, 5)) < p
    # dependence: people caught by Police are more often referred to NGO care
    extra = (rng.random(n_true) < 0.25) & caught[:, 0]
    caught[:, 3] |= extra
    seen = caught.any(axis=1)
    hist = caught[seen].astype(int)
    codes, counts = np.unique(hist @ (1 << np.arange(5)), return_counts=True)
    h = (codes[:, None] >> np.arange(5)) & 1
    return CaptureTable.from_arrays(h, counts, LISTS)


def test_profile_interval_coverage_for_the_true_model() -> None:
    """95% profile intervals of a correctly specified model cover N in about 95% of seeded
    replications; with 60 replications the count is Binomial(60, 0.95): at least 51 of 60
    (3 standard deviations below the mean of 57)."""
    rng = np.random.default_rng(16_2_2)
    n_true = 4000
    covered = 0
    for _ in range(60):
        tab = _simulate(rng, n_true)
        fit = fit_loglinear(tab.full_counts(), 5, [(0, 3)])
        iv = profile_interval(fit, 0.95)
        covered += iv.lower <= n_true <= iv.upper
    assert covered >= 51


def test_stepwise_bca_covers_the_truth_and_finds_the_dependence() -> None:
    rng = np.random.default_rng(2024)
    n_true = 4000
    tab = _simulate(rng, n_true)
    est = MultipleSystemsEstimator(bootstrap=300, seed=5, n_jobs=1).fit(tab)
    assert "Police:NGOCare" in est.model_
    assert est.interval_.lower <= n_true <= est.interval_.upper
