"""Change over time, checked against R 4.2.2 (run here) and statsmodels/scipy.

The R values below were produced with ``Rscript`` (r-base-core 4.2.2 from Debian) with
``options(digits = 10)``; the call is quoted next to each value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.proportion import confint_proportions_2indep

from thbmonitor.monitor.change import compare_counts, compare_shares, count_trend, wilson_interval

# NRM registrations of presumed victims 2016-2020 (shared/reference/nl_published_figures.yaml)
NRM_YEARS = [2016, 2017, 2018, 2019, 2020]
NRM_COUNTS = [952, 958, 668, 1334, 984]


def test_count_change_matches_r_poisson_test() -> None:
    """1,334 (2019) -> 984 (2020).

    R: ``poisson.test(c(984, 1334))`` -> rate ratio 0.7376311844, 95% CI
    [0.6786217607, 0.8015605009], p-value 3.803179628e-13. The CI is the Clopper-Pearson
    interval of p = 984/2318 mapped by p/(1-p); the p-value is ``binom.test(984, 2318)``.
    """
    c = compare_counts(1334, 984)
    assert c.difference == -350
    assert c.ratio == pytest.approx(0.7376311844, rel=1e-9)
    assert c.ratio_lower == pytest.approx(0.6786217607, rel=1e-8)
    assert c.ratio_upper == pytest.approx(0.8015605009, rel=1e-8)
    assert c.p_value == pytest.approx(3.803179628e-13, rel=1e-6)
    assert c.significant


def test_count_change_second_r_value() -> None:
    """Domestic sexual exploitation 263 (2017) -> 132 (2018), as 132 vs 263 reversed.

    R: ``poisson.test(c(263, 132))`` -> rate ratio 1.992424242, CI [1.610474390, 2.474761767],
    p-value 4.082357479e-11; our ``compare_counts(132, 263)`` is the same comparison.
    """
    c = compare_counts(132, 263)
    assert c.ratio == pytest.approx(1.992424242, rel=1e-9)
    assert (c.ratio_lower, c.ratio_upper) == pytest.approx((1.610474390, 2.474761767), rel=1e-8)
    assert c.p_value == pytest.approx(4.082357479e-11, rel=1e-6)


def test_count_change_small_counts_match_r_and_statsmodels() -> None:
    """R: ``poisson.test(c(12, 3))`` -> CI [1.079472732, 22.088286898], p = 0.03515625.

    statsmodels ``test_poisson_2indep(12, 1, 3, 1, method="exact-cond")`` is the same
    conditional test (an independent implementation).
    """
    c = compare_counts(3, 12)
    assert (c.ratio_lower, c.ratio_upper) == pytest.approx((1.079472732, 22.088286898), rel=1e-8)
    assert c.p_value == pytest.approx(0.03515625, rel=1e-9)
    sm_test = sm_rates.test_poisson_2indep(12, 1, 3, 1, method="exact-cond")
    assert c.p_value == pytest.approx(sm_test.pvalue, rel=1e-9)


def test_count_difference_wald_interval_matches_statsmodels() -> None:
    """The difference's Wald interval equals statsmodels' ``confint_poisson_2indep`` 'wald'."""
    c = compare_counts(1334, 984)
    lo, hi = sm_rates.confint_poisson_2indep(984, 1, 1334, 1, method="wald", compare="diff")
    assert (c.difference_lower, c.difference_upper) == pytest.approx((lo, hi), rel=1e-12)


def test_count_change_edge_cases() -> None:
    both_zero = compare_counts(0, 0)
    assert math.isnan(both_zero.ratio) and both_zero.p_value == 1.0
    from_zero = compare_counts(0, 7)
    assert from_zero.ratio == math.inf and from_zero.ratio_upper == math.inf
    assert from_zero.p_value == pytest.approx(2 * 0.5**7)
    with pytest.raises(ValueError):
        compare_counts(-1, 3)


def test_trend_falls_back_to_quasi_poisson_as_r() -> None:
    """NRM registrations 2016-2020 (952, 958, 668, 1334, 984) are overdispersed.

    R: ``f <- glm(y ~ yr, family = poisson)``: Pearson X² = 204.241254 on 3 df
    (``pchisq(204.241254, 3, lower.tail = FALSE)`` = 5.113261285e-44), so the quasi-Poisson
    model is used. R: ``q <- glm(y ~ yr, family = quasipoisson)``: slope 0.04497401218,
    SE 0.08349221638, dispersion 68.08042081, p (t, 3 df) 0.6275240105;
    ``exp(b + c(-1, 1) * qt(0.975, 3) * se)`` = [0.8019287758, 1.3643573443].
    """
    t = count_trend(NRM_YEARS, NRM_COUNTS)
    assert t is not None
    assert t.method == "quasi-poisson"
    assert t.dispersion == pytest.approx(68.08042081, rel=1e-7)
    assert t.dispersion_p_value == pytest.approx(5.113261285e-44, rel=1e-5)
    assert t.rate_ratio == pytest.approx(math.exp(0.04497401218), rel=1e-9)
    assert (t.lower, t.upper) == pytest.approx((0.8019287758, 1.3643573443), rel=1e-7)
    assert t.p_value == pytest.approx(0.6275240105, rel=1e-6)
    assert not t.significant


def test_trend_poisson_when_not_overdispersed() -> None:
    """R: ``glm(c(100, 110, 125, 130, 150) ~ yr, family = poisson)``: slope 0.097966085,
    SE 0.02869113913, p 0.0006389763668 (``coef(summary(f))``); Pearson X² 0.2486019249
    (3 df: no overdispersion);
    ``exp(b + c(-1, 1) * qnorm(0.975) * se)`` = [1.042615527, 1.166723840].
    """
    t = count_trend(NRM_YEARS, [100, 110, 125, 130, 150])
    assert t is not None and t.method == "poisson"
    assert t.dispersion * 3 == pytest.approx(0.2486019249, rel=1e-6)
    assert t.rate_ratio == pytest.approx(math.exp(0.097966085), rel=1e-8)
    assert (t.lower, t.upper) == pytest.approx((1.042615527, 1.166723840), rel=1e-7)
    # R's glm stops IRLS at a relative deviance change of 1e-8: agreement to ~1e-5
    assert t.p_value == pytest.approx(0.0006389763668, rel=1e-4)


def test_trend_slope_matches_statsmodels_discrete_poisson() -> None:
    """Independent check of the Poisson fit: statsmodels' discrete Poisson (not GLM)."""
    x = np.asarray(NRM_YEARS, float)
    fit = sm.Poisson(np.asarray(NRM_COUNTS, float), sm.add_constant(x - x.mean())).fit(disp=0)
    t = count_trend(NRM_YEARS, NRM_COUNTS)
    assert t is not None
    assert math.log(t.rate_ratio) == pytest.approx(float(fit.params[1]), rel=1e-6)


def test_trend_undefined_cases() -> None:
    assert count_trend([2016], [5]) is None
    assert count_trend(NRM_YEARS, [0, 0, 0, 0, 0]) is None
    assert count_trend(NRM_YEARS, [5, 0, 0, 0, 0]) is None  # slope MLE is -infinity
    mid = count_trend(NRM_YEARS, [0, 0, 5, 0, 0])  # symmetric: slope 0 exists
    assert mid is not None and mid.rate_ratio == pytest.approx(1.0)


def test_wilson_matches_r_prop_test() -> None:
    """R: ``prop.test(56, 70, correct = FALSE)$conf.int`` = [0.6918335550, 0.8769526075];
    ``prop.test(48, 80, correct = FALSE)$conf.int`` = [0.4904546501, 0.7003817240].
    """
    assert wilson_interval(56, 70) == pytest.approx((0.6918335550, 0.8769526075), rel=1e-9)
    assert wilson_interval(48, 80) == pytest.approx((0.4904546501, 0.7003817240), rel=1e-9)


def test_share_change_newcombe_matches_statsmodels_and_r() -> None:
    """Newcombe (1998) example (a): 56/70 vs 48/80.

    Method 10 combines the two Wilson intervals quoted above (R ``prop.test``):
    L = d - sqrt((p1 - l1)² + (u2 - p2)²), U = d + sqrt((u1 - p1)² + (p2 - l2)²) with
    d = 0.2, which gives [0.05243, 0.33387]; statsmodels
    ``confint_proportions_2indep(56, 70, 48, 80, method="newcomb")`` is the independent check.
    R: ``prop.test(c(56, 48), c(70, 80), correct = FALSE)$p.value`` = 0.008045081368.
    """
    s = compare_shares(48, 80, 56, 70)
    assert s.difference == pytest.approx(0.2)
    lo, hi = confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff")
    assert (s.lower, s.upper) == pytest.approx((lo, hi), rel=1e-9)
    l1, u1 = 0.6918335550, 0.8769526075
    l2, u2 = 0.4904546501, 0.7003817240
    r_lower = 0.2 - math.sqrt((0.8 - l1) ** 2 + (u2 - 0.6) ** 2)
    r_upper = 0.2 + math.sqrt((u1 - 0.8) ** 2 + (0.6 - l2) ** 2)
    assert (s.lower, s.upper) == pytest.approx((r_lower, r_upper), rel=1e-8)
    assert s.p_value == pytest.approx(0.008045081368, rel=1e-8)


def test_share_change_labour_17_to_43_percent() -> None:
    """Labour 227/1,334 (17%, 2019) -> 423/984 (43%, 2020).

    R: ``prop.test(c(227, 423), c(1334, 984), correct = FALSE)$p.value`` = 4.527655236e-43;
    the z-test equals scipy's chi-square test of the 2x2 table without correction.
    """
    s = compare_shares(227, 1334, 423, 984)
    assert s.p_value == pytest.approx(4.527655236e-43, rel=1e-6)
    chi2 = stats.chi2_contingency([[227, 1334 - 227], [423, 984 - 423]], correction=False)
    assert s.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert s.lower > 0 and s.significant
    lo, hi = confint_proportions_2indep(423, 984, 227, 1334, method="newcomb", compare="diff")
    assert (s.lower, s.upper) == pytest.approx((lo, hi), rel=1e-9)
