"""Intervals for the population size: log-normal (Wald), profile likelihood and BCa.

* :func:`lognormal_interval` is SparseMSE ``estimatepopulation.0``: the hidden number is
  ``exp(b0)`` with ``b0`` the intercept, taken as normal with its model-based standard error.
* :func:`profile_interval` is Rcapture ``closedpCI.t``/``profileCI``: the multinomial profile
  log-likelihood of N, computed from a Poisson fit of the table completed with the all-zero cell
  set to ``N - n``, plus the correction ``log(n0^n0 N! / (N^N n0!))`` (here with exact
  log-gamma instead of Rcapture's Stirling form, and root finding instead of a grid).
* :func:`bca_interval` is SparseMSE/MultipleSystemsEstimation ``bcaconfvalues``: BCa limits
  from bootstrap replicates, a bias correction ``qnorm(mean(boot < est))`` and a jackknife
  acceleration; quantiles of R's ``type = 8`` (numpy ``median_unbiased``).
All three are conditional on the data; only the bootstrap redoes the model selection.

The profile interval's maximum and roots are found by golden-section search and Brent's method
(:func:`_maximise`, :func:`_root`; the algorithms of scipy's ``minimize_scalar(method="bounded")``
and ``brentq``, written out here because importing ``scipy.optimize`` takes longer than the whole
``thbmonitor mse`` run; checked against Rcapture's intervals in ``tests/mse/test_reference.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.loglinear import LoglinearFit, poisson_irls
from thbmonitor.mse.tails import normal_cdf, normal_quantile

__all__ = [
    "Interval",
    "bca_interval",
    "jackknife_acceleration",
    "lognormal_interval",
    "profile_interval",
]


@dataclass(frozen=True)
class Interval:
    """An interval for the total population (observed plus hidden)."""

    method: str
    level: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float | str]:
        return {
            "method": self.method,
            "level": self.level,
            "lower": self.lower,
            "upper": self.upper,
        }


def lognormal_interval(fit: LoglinearFit, level: float = 0.95) -> Interval:
    """SparseMSE ``estimatepopulation.0``: observed + exp(N(b0, se(b0)^2)) quantiles."""
    b0 = float(fit.coef[0])
    se = math.sqrt(max(float(fit.cov[0, 0]), 0.0))
    z = float(normal_quantile(0.5 + level / 2.0))
    return Interval(
        "log-normal (model-conditional)",
        level,
        fit.observed + math.exp(b0 - z * se),
        fit.observed + math.exp(b0 + z * se),
    )


def _profile_loglik_factory(fit: LoglinearFit) -> Callable[[float], float]:
    x = np.vstack([fit.x_design, np.eye(1, fit.x_design.shape[1])])
    n = float(fit.observed)
    start = np.concatenate([np.log(fit.mu), [0.0]])

    def loglik(n0: float) -> float:
        n0 = max(n0, 0.0)
        y = np.concatenate([fit.y, [n0]])
        eta0 = start.copy()
        eta0[-1] = math.log(n0 + 0.1)
        _coef, _cov, _mu, dev, conv = poisson_irls(x, y, eta0=eta0)
        if not conv:  # fall back to R's glm start
            _coef, _cov, _mu, dev, conv = poisson_irls(x, y)
        big_n = n + n0
        ct = (n0 * math.log(n0) if n0 > 0 else 0.0) + math.lgamma(big_n + 1.0)
        ct -= big_n * math.log(big_n) + math.lgamma(n0 + 1.0)
        return -(dev - 2.0 * ct) / 2.0

    return loglik


def profile_interval(fit: LoglinearFit, level: float = 0.95) -> Interval:
    """Rcapture-style profile-likelihood interval for N, conditional on the model."""
    loglik = _profile_loglik_factory(fit)
    hidden = fit.hidden
    upper_search = max(10.0 * hidden, 100.0)
    n0_hat, lmax = _maximise(loglik, 0.0, upper_search, 1e-6 * max(hidden, 1.0))
    target = lmax - float(normal_quantile(0.5 + level / 2.0)) ** 2 / 2.0  # chi-square(1) / 2

    def g(v: float) -> float:
        return loglik(v) - target

    xtol = 1e-8 * max(hidden, 1.0)
    lower_n0 = 0.0 if g(0.0) > 0 else _root(g, 0.0, n0_hat, xtol)
    hi = max(2.0 * n0_hat, 10.0)
    for _ in range(60):
        if g(hi) < 0:
            break
        hi *= 2.0
    else:
        raise EstimationError("The profile likelihood does not fall off: no upper limit.")
    upper_n0 = _root(g, n0_hat, hi, xtol)
    n = float(fit.observed)
    return Interval("profile likelihood (model-conditional)", level, n + lower_n0, n + upper_n0)


def _maximise(f: Callable[[float], float], a: float, b: float, xtol: float) -> tuple[float, float]:
    """Golden-section search for the maximum of a unimodal ``f`` on [a, b]: (argmax, max)."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > xtol:
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (c, fc) if fc >= fd else (d, fd)


def _root(f: Callable[[float], float], a: float, b: float, xtol: float) -> float:
    """Brent's method for a root of ``f`` in [a, b], where ``f(a)`` and ``f(b)`` differ in
    sign (Brent 1973, ch. 4, as scipy's ``brentq``)."""
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0) == (fb > 0):
        raise EstimationError("The profile likelihood does not cross its cut-off in the range.")
    c, fc = a, fa
    d = e = b - a
    for _ in range(200):
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * 4.0 * np.finfo(float).eps * abs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2.0 * m * s, 1.0 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = f(b)
    return b


def jackknife_acceleration(jack: np.ndarray, weights: np.ndarray) -> float:
    """SparseMSE ``estimatepopulation``: acceleration from delete-one estimates, each counted
    as many times as its capture history occurs."""
    w = np.asarray(weights, dtype=float)
    pos = w > 0
    j = np.where(pos, jack, 0.0)
    mean = float(np.sum(w * j) / np.sum(w))
    d = mean - j
    denom = float(np.sum(w * d**2))
    if not denom > 0:
        return 0.0
    return float(np.sum(w * d**3) / (6.0 * denom**1.5))


def bca_interval(boot: np.ndarray, estimate: float, ahat: float, level: float = 0.95) -> Interval:
    """SparseMSE ``bcaconfvalues`` for the two limits of a central ``level`` interval."""
    reps = np.asarray(boot, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size < 2:
        raise EstimationError("Too few usable bootstrap replicates for a BCa interval.")
    alpha = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    z0 = float(normal_quantile(np.mean(reps < estimate)))
    if not np.isfinite(z0):
        raise EstimationError(
            "All bootstrap replicates fall on one side of the estimate; BCa is undefined."
        )
    za = normal_quantile(alpha)
    za0 = za + z0
    zq = normal_cdf(z0 + za0 / (1.0 - ahat * za0))
    lo, hi = np.quantile(reps, zq, method="median_unbiased")
    return Interval("BCa bootstrap (model selection repeated)", level, float(lo), float(hi))
