"""The scipy-free special functions of ``thbmonitor mse`` against scipy.special (the outside
reference: ``pdtr``, ``pdtrc``, ``gammaln``, ``ndtr``, ``ndtri``), and the profile interval's
root finder and maximiser against scipy.optimize."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special

from thbmonitor.mse.intervals import _maximise, _root
from thbmonitor.mse.tails import (
    log_factorial,
    normal_cdf,
    normal_quantile,
    poisson_cdf,
    poisson_sf,
)

MUS = [1e-6, 0.02, 0.7, 3.0, 12.5, 85.0, 640.0, 4321.0, 98765.0]


def _close(ours: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    tiny = ref < 1e-290  # scipy and the log-space sums underflow at slightly different points
    np.testing.assert_allclose(ours[~tiny], ref[~tiny], rtol=rtol, atol=0)
    assert np.all(ours[tiny] < 1e-280)


@pytest.mark.parametrize("mu", MUS)
def test_poisson_tails_match_scipy(mu: float) -> None:
    sd = math.sqrt(mu)
    n = np.unique(np.clip(np.round(mu + sd * np.linspace(-60, 60, 241)), 0, None).astype(float))
    n = np.concatenate([[0.0, 1.0, 2.0], n, [round(mu * 3) + 50.0]])
    m = np.full(n.shape, mu)
    # the log-space terms are of size n log(mu): relative precision about 1e-16 times that
    rtol = max(1e-12, 1e-16 * mu * math.log(mu + 1.0) * 10)
    _close(poisson_cdf(n, m), special.pdtr(n, m), rtol)
    ref_sf = np.where(n >= 1, special.pdtrc(np.maximum(n - 1, 0), m), 1.0)
    _close(poisson_sf(n, m), ref_sf, rtol)


def test_poisson_tails_edge_cases() -> None:
    assert poisson_cdf(np.array([0.0, 5.0]), np.array([0.0, 0.0])).tolist() == [1.0, 1.0]
    assert poisson_sf(np.array([0.0, 5.0]), np.array([0.0, 0.0])).tolist() == [1.0, 0.0]
    assert np.isnan(poisson_cdf(np.array([3.0]), np.array([np.nan]))[0])
    # far tails underflow to zero as scipy's do (stepwise ties between them stay ties, as in R)
    assert poisson_cdf(np.array([0.0]), np.array([1e4]))[0] == special.pdtr(0.0, 1e4) == 0.0


def test_log_factorial_matches_gammaln() -> None:
    x = np.concatenate([np.arange(0, 600), [1e3, 12345.0, 1e6, 1e9], [0.5, 2.25, 17.9]])
    np.testing.assert_allclose(log_factorial(x), special.gammaln(x + 1.0), rtol=1e-14, atol=1e-13)


def test_normal_functions_match_scipy() -> None:
    p = np.array([0.0, 1e-12, 0.001, 0.025, 0.3, 0.5, 0.975, 1 - 1e-9, 1.0])
    np.testing.assert_allclose(normal_quantile(p), special.ndtri(p), rtol=1e-12)
    z = np.array([-40.0, -8.0, -1.96, 0.0, 0.3, 1.96, 8.0])
    np.testing.assert_allclose(normal_cdf(z), special.ndtr(z), rtol=1e-13, atol=0)


def test_root_and_maximum_match_scipy_optimize() -> None:
    def g(v: float) -> float:
        return math.log1p(v) - 2.5 + 0.01 * v

    ours = _root(g, 0.0, 100.0, 1e-12)
    assert ours == pytest.approx(optimize.brentq(g, 0.0, 100.0, xtol=1e-12), abs=1e-10)

    def f(v: float) -> float:
        return -((math.log1p(v) - 2.0) ** 2) - 0.001 * v

    where, top = _maximise(f, 0.0, 50.0, 1e-9)
    ref = optimize.minimize_scalar(lambda v: -f(v), bounds=(0, 50), method="bounded")
    assert where == pytest.approx(ref.x, abs=1e-4)
    assert top == pytest.approx(-ref.fun, abs=1e-10)
