"""Rubin's rules (thbmonitor.imputation), worked by hand from Rubin (1987), ch. 3."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from thbmonitor.imputation import delta_variance, pool


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_without_between_variance_is_the_logit_delta_interval() -> None:
    """Identical draws: T = W (Rubin 1987, eq. 3.1.5 with B = 0), a normal interval on the logit
    scale with se = sqrt(var) / (F (1 - F))."""
    f = np.full(5, 0.4)
    pooled = pool(f, delta_variance(f, np.full(5, 0.0004), "logit"), transform="logit")
    se = 0.02 / (0.4 * 0.6)
    logit = math.log(0.4 / 0.6)
    z = stats.norm.ppf(0.975)
    assert pooled.estimate == pytest.approx(0.4)
    assert pooled.lower == pytest.approx(_expit(logit - z * se))
    assert pooled.upper == pytest.approx(_expit(logit + z * se))
    assert pooled.between_share == 0.0
    assert pooled.dof == math.inf


def test_between_variance_on_the_logit_scale_by_hand() -> None:
    """Three draws 0.40, 0.44, 0.42 with variance 0.0001 each, worked by hand on the logit
    scale: W = mean(var / (F(1-F))^2), B = sample variance of the logits, T = W + (4/3) B
    (eq. 3.1.9), nu = 2 (1 + W / ((4/3) B))^2 (eq. 3.1.10), interval Qbar +- t_nu sqrt(T)."""
    f = np.array([0.40, 0.44, 0.42])
    logits = np.log(f / (1 - f))  # -0.405465, -0.241162, -0.322773
    w = np.mean(0.0001 / (f * (1 - f)) ** 2)
    b = np.var(logits, ddof=1)
    total = w + 4 / 3 * b
    nu = 2 * (1 + w / (4 / 3 * b)) ** 2
    q = logits.mean()
    half = stats.t.ppf(0.975, nu) * math.sqrt(total)
    pooled = pool(f, delta_variance(f, np.full(3, 0.0001), "logit"), transform="logit")
    assert pooled.estimate == pytest.approx(_expit(q))
    assert pooled.lower == pytest.approx(_expit(q - half))
    assert pooled.upper == pytest.approx(_expit(q + half))
    assert pooled.between_share == pytest.approx(4 / 3 * b / total)
    assert pooled.dof == pytest.approx(nu)


def test_log_scale_with_a_variance_for_each_side() -> None:
    """Population sizes 1000, 1100, 1050 with profile intervals whose log-scale half-widths
    differ below (se 0.05) and above (se 0.08): each side uses its own W plus (4/3) B; the
    degrees of freedom use the mean W. A single draw without between variance gives back the
    draw's own asymmetric interval."""
    n = np.array([1000.0, 1100.0, 1050.0])
    low, high = np.full(3, 0.05**2), np.full(3, 0.08**2)
    logs = np.log(n)
    b = np.var(logs, ddof=1)
    w = (0.05**2 + 0.08**2) / 2
    nu = 2 * (1 + w / (4 / 3 * b)) ** 2
    t = stats.t.ppf(0.975, nu)
    q = logs.mean()
    pooled = pool(n, low, transform="log", within_upper=high)
    assert pooled.estimate == pytest.approx(math.exp(q))
    assert pooled.lower == pytest.approx(math.exp(q - t * math.sqrt(0.05**2 + 4 / 3 * b)))
    assert pooled.upper == pytest.approx(math.exp(q + t * math.sqrt(0.08**2 + 4 / 3 * b)))
    one = pool(np.array([1000.0]), np.array([0.05**2]), transform="log", within_upper=high[:1])
    z = stats.norm.ppf(0.975)
    assert one.lower == pytest.approx(1000 * math.exp(-z * 0.05))
    assert one.upper == pytest.approx(1000 * math.exp(z * 0.08))


def test_delta_variance_on_the_log_scale() -> None:
    """var(log N) ~ var(N) / N^2."""
    assert delta_variance(np.array([200.0]), np.array([400.0]), "log")[0] == pytest.approx(0.01)


def test_no_draws_or_a_missing_estimate_gives_nan() -> None:
    assert math.isnan(pool(np.array([]), np.array([]), transform="log").estimate)
    missing = pool(np.array([0.3, np.nan]), np.array([0.1, 0.1]), transform="logit")
    assert math.isnan(missing.lower) and missing.draws == 2
