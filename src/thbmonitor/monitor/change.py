"""Change over time: two yearly counts, a trend over the window, two shares.

Plain functions returning frozen results (value, interval, method):

* :func:`compare_counts` — year-on-year change of a count. Under equal Poisson rates the later
  count given the sum is Binomial(n, 1/2); the p-value is the exact two-sided binomial test and
  the rate ratio's interval is the Clopper-Pearson interval for ``p`` mapped by ``p / (1 - p)``
  (what R's ``poisson.test(c(x_later, x_earlier))`` reports). The difference gets a Wald
  interval ``d ± z sqrt(x1 + x2)``.
* :func:`count_trend` — Poisson regression of count on year (statsmodels GLM, log link), the
  rate ratio per year with a Wald interval; overdispersion is tested with the Pearson statistic
  (``X² ~ χ²(df)``) and, when significant, the model is refitted as quasi-Poisson (dispersion
  ``X²/df``, t-based interval and test, as R's ``summary.glm`` does for ``quasipoisson``).
* :func:`compare_shares` — change of a share between two years: the difference with Newcombe's
  hybrid score interval (Newcombe 1998, method 10, from two Wilson intervals) and the
  two-proportion z-test with pooled variance (R ``prop.test(correct = FALSE)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "CountComparison",
    "ShareComparison",
    "Trend",
    "compare_counts",
    "compare_shares",
    "count_trend",
    "wilson_interval",
]

DISPERSION_ALPHA = 0.05  # level of the Pearson overdispersion test that switches to quasi-Poisson


@dataclass(frozen=True)
class CountComparison:
    """Change from an earlier to a later count (e.g. 1,334 -> 984)."""

    earlier: int
    later: int
    difference: int  # later - earlier
    difference_lower: float
    difference_upper: float
    ratio: float  # later / earlier (inf if earlier is 0, nan if both are)
    ratio_lower: float
    ratio_upper: float
    p_value: float
    confidence: float
    method: str = "exact conditional binomial test; Clopper-Pearson rate-ratio interval"

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence


@dataclass(frozen=True)
class Trend:
    """Trend of yearly counts over the window: rate ratio per year from a (quasi-)Poisson GLM."""

    years: tuple[int, ...]
    counts: tuple[int, ...]
    rate_ratio: float
    lower: float
    upper: float
    p_value: float
    dispersion: float  # Pearson X² / df (nan if df = 0)
    dispersion_p_value: float  # P(χ²(df) >= X²) under the Poisson model (nan if df = 0)
    method: str  # "poisson" or "quasi-poisson"
    confidence: float

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence


@dataclass(frozen=True)
class ShareComparison:
    """Change of a share ``x / n`` from an earlier to a later year (e.g. labour 17% -> 43%)."""

    earlier_count: int
    earlier_total: int
    later_count: int
    later_total: int
    earlier_share: float
    later_share: float
    difference: float  # later share - earlier share
    lower: float
    upper: float
    p_value: float
    confidence: float
    method: str = "Newcombe hybrid score interval; two-proportion z-test (pooled)"

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")


def compare_counts(earlier: int, later: int, confidence: float = 0.95) -> CountComparison:
    """Compare two yearly counts as Poisson counts with equal exposure."""
    _check_confidence(confidence)
    if earlier < 0 or later < 0:
        raise ValueError("counts must be non-negative")
    n = earlier + later
    diff = later - earlier
    half = _z(confidence) * math.sqrt(n)
    if n == 0:
        return CountComparison(
            earlier, later, 0, 0.0, 0.0, math.nan, math.nan, math.nan, 1.0, confidence
        )
    test = stats.binomtest(later, n, 0.5, alternative="two-sided")
    ci = test.proportion_ci(confidence_level=confidence, method="exact")
    ratio = later / earlier if earlier else math.inf
    return CountComparison(
        earlier=earlier,
        later=later,
        difference=diff,
        difference_lower=diff - half,
        difference_upper=diff + half,
        ratio=ratio,
        ratio_lower=_odds(ci.low),
        ratio_upper=_odds(ci.high),
        p_value=float(test.pvalue),
        confidence=confidence,
    )


def _odds(p: float) -> float:
    return math.inf if p >= 1.0 else float(p / (1.0 - p))


def count_trend(
    years: Sequence[int], counts: Sequence[int], confidence: float = 0.95
) -> Trend | None:
    """The trend of yearly counts: rate ratio per year; ``None`` if it cannot be estimated.

    At least two years with a positive total are needed. With three or more years the Pearson
    statistic tests the Poisson variance; if ``P(χ²(df) >= X²) < 0.05`` the rate ratio is
    reported from the quasi-Poisson model instead (``method`` says which).
    """
    import statsmodels.api as sm

    _check_confidence(confidence)
    if len(years) != len(counts):
        raise ValueError("years and counts must have the same length")
    y = np.asarray(counts, dtype=float)
    x = np.asarray(years, dtype=float)
    if len(y) < 2 or y.sum() <= 0 or len(np.unique(x)) < 2 or (y < 0).any():
        return None
    centre = float((x * y).sum() / y.sum())
    if not x.min() < centre < x.max():
        return None  # all counts in the first or last year: the slope's MLE is infinite
    design = sm.add_constant(x - x.mean())
    model = sm.GLM(y, design, family=sm.families.Poisson())
    fit = model.fit()
    df = int(fit.df_resid)
    if df > 0:
        pearson = float(fit.pearson_chi2)
        dispersion = pearson / df
        dispersion_p = float(stats.chi2.sf(pearson, df))
    else:
        dispersion, dispersion_p = math.nan, math.nan
    method = "poisson"
    beta, se = float(fit.params[1]), float(fit.bse[1])
    quantile = _z(confidence)
    p_value = float(2 * stats.norm.sf(abs(beta / se)))
    if df > 0 and dispersion_p < DISPERSION_ALPHA:
        method = "quasi-poisson"
        se = se * math.sqrt(dispersion)
        quantile = float(stats.t.ppf(0.5 + confidence / 2, df))
        p_value = float(2 * stats.t.sf(abs(beta / se), df))
    return Trend(
        years=tuple(int(v) for v in years),
        counts=tuple(int(v) for v in counts),
        rate_ratio=math.exp(beta),
        lower=math.exp(beta - quantile * se),
        upper=math.exp(beta + quantile * se),
        p_value=p_value,
        dispersion=dispersion,
        dispersion_p_value=dispersion_p,
        method=method,
        confidence=confidence,
    )


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (R ``prop.test(x, n, correct = FALSE)``)."""
    _check_confidence(confidence)
    if n <= 0 or not 0 <= x <= n:
        raise ValueError("need 0 <= x <= n and n > 0")
    z = _z(confidence)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def compare_shares(
    earlier_count: int,
    earlier_total: int,
    later_count: int,
    later_total: int,
    confidence: float = 0.95,
) -> ShareComparison:
    """Compare two shares: Newcombe hybrid score interval for the difference and a z-test."""
    _check_confidence(confidence)
    p1 = earlier_count / earlier_total if earlier_total > 0 else math.nan
    p2 = later_count / later_total if later_total > 0 else math.nan
    if earlier_total <= 0 or later_total <= 0:
        return ShareComparison(
            earlier_count, earlier_total, later_count, later_total,
            p1, p2, math.nan, math.nan, math.nan, math.nan, confidence,
        )  # fmt: skip
    l1, u1 = wilson_interval(earlier_count, earlier_total, confidence)
    l2, u2 = wilson_interval(later_count, later_total, confidence)
    d = p2 - p1
    lower = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    pooled = (earlier_count + later_count) / (earlier_total + later_total)
    var = pooled * (1 - pooled) * (1 / earlier_total + 1 / later_total)
    p_value = 1.0 if var == 0 else float(2 * stats.norm.sf(abs(d) / math.sqrt(var)))
    return ShareComparison(
        earlier_count=earlier_count,
        earlier_total=earlier_total,
        later_count=later_count,
        later_total=later_total,
        earlier_share=p1,
        later_share=p2,
        difference=d,
        lower=lower,
        upper=upper,
        p_value=p_value,
        confidence=confidence,
    )
