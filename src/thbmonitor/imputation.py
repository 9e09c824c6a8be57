"""Rubin's rules: one estimate and interval from estimates repeated over imputed data sets.

Both places that repeat an estimate over link sets drawn from the linkage's match
probabilities use this: the follow-up's cumulative incidences (proportions, pooled on the
logit scale) and the hidden number (a population size, pooled on the log scale). On the
transformed scale ``g``, with ``M`` draws, the pooled estimate is the mean of ``g(estimate)``;
the total variance is the mean within-draw variance ``W`` plus ``(1 + 1/M)`` times the variance
``B`` between the draws (Rubin 1987, *Multiple Imputation for Nonresponse in Surveys*, ch. 3;
van Buuren, *Flexible Imputation of Missing Data*, 2nd ed., 2.3.2); the interval uses Student's
t with Rubin's degrees of freedom ``(M - 1) (1 + W / ((1 + 1/M) B))^2`` (the normal quantile
when ``B = 0``) and is transformed back. A within-draw variance may differ on the two sides of
the estimate (a profile-likelihood interval): the interval then uses each side's own, and the
degrees of freedom their mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Pooled", "Transform", "delta_variance", "pool"]

Transform = Literal["log", "logit"]
_EPS = 1e-9


@dataclass(frozen=True)
class Pooled:
    """Rubin's rules' result, on the original scale."""

    estimate: float
    lower: float
    upper: float
    draws: int
    between_share: float  # (1 + 1/M) B / total variance: what the draws add
    dof: float  # degrees of freedom of the t quantile (inf: normal)


def _forward(x: np.ndarray, transform: Transform) -> np.ndarray:
    if transform == "logit":
        x = np.clip(x, _EPS, 1 - _EPS)
        return np.log(x / (1 - x))
    return np.log(x)


def _inverse(y: float, transform: Transform) -> float:
    return 1 / (1 + math.exp(-y)) if transform == "logit" else math.exp(y)


def delta_variance(
    estimates: np.ndarray, variances: np.ndarray, transform: Transform
) -> np.ndarray:
    """The variance of ``g(estimate)`` by the delta method, ``variance * g'(estimate)^2``."""
    x = np.asarray(estimates, dtype=float)
    v = np.maximum(np.asarray(variances, dtype=float), 0.0)
    if transform == "logit":
        x = np.clip(x, _EPS, 1 - _EPS)
        return v / (x * (1 - x)) ** 2
    return v / x**2


def pool(
    estimates: np.ndarray,
    within: np.ndarray,
    *,
    transform: Transform,
    level: float = 0.95,
    within_upper: np.ndarray | None = None,
) -> Pooled:
    """Pool ``estimates`` (original scale, one per draw) by Rubin's rules on ``transform``.

    ``within`` is each draw's variance of the transformed estimate (see
    :func:`delta_variance`); with ``within_upper`` it is the variance below the estimate and
    ``within_upper`` the variance above. Without draws, or with a missing estimate, every
    figure is NaN.
    """
    x = np.asarray(estimates, dtype=float)
    m = len(x)
    if m == 0 or np.isnan(x).any():
        return Pooled(math.nan, math.nan, math.nan, m, math.nan, math.nan)
    y = _forward(x, transform)
    w_low = float(np.mean(np.maximum(np.asarray(within, dtype=float), 0.0)))
    w_high = (
        w_low
        if within_upper is None
        else float(np.mean(np.maximum(np.asarray(within_upper, dtype=float), 0.0)))
    )
    w = (w_low + w_high) / 2
    between = float(np.var(y, ddof=1)) if m > 1 else 0.0
    extra = (1 + 1 / m) * between
    q = float(np.mean(y))
    total = w + extra
    point = _inverse(q, transform)
    if total <= 0:
        return Pooled(point, point, point, m, 0.0, math.inf)
    from scipy import stats  # imported here: the mse package keeps scipy off its start-up

    dof = (m - 1) * (1 + w / extra) ** 2 if extra > 0 else math.inf
    crit = float(
        stats.t.ppf(0.5 + level / 2, dof) if math.isfinite(dof) else stats.norm.ppf(0.5 + level / 2)
    )
    return Pooled(
        estimate=point,
        lower=_inverse(q - crit * math.sqrt(w_low + extra), transform),
        upper=_inverse(q + crit * math.sqrt(w_high + extra), transform),
        draws=m,
        between_share=extra / total,
        dof=dof,
    )
