"""Heterogeneity models as a sensitivity check next to the log-linear MSE results.

* :func:`chao_lower_bound`: Chao (1987) moment lower bound for model Mh,
  ``N = n + (t-1)/t * f1^2 / (2 f2)`` (bias-corrected ``f1 (f1 - 1) / 2`` if f2 = 0), with
  Chao's log-transformed interval.
* :func:`heterogeneity_model`: Rcapture's log-linear Mh/Mth models (``closedp.t``): list main
  effects (Mth) or the number of captures (Mh), plus heterogeneity columns of the number of
  captures s: Chao's lower bound ``(s - j + 1)+`` for j = 3..t (negative eta set to zero, as
  Rcapture's ``neg = TRUE``), Darroch ``s^2 / 2`` or Poisson ``2^s - 1``. Profile-likelihood
  interval as Rcapture ``closedpCI.t``.
* :func:`sensitivity_table`: the estimates side by side.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from thbmonitor.errors import EstimationError
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.intervals import Interval, profile_interval
from thbmonitor.mse.loglinear import LoglinearFit, history_matrix, poisson_irls, poisson_loglik
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["HeterogeneityResult", "chao_lower_bound", "heterogeneity_model", "sensitivity_table"]


@dataclass(frozen=True)
class HeterogeneityResult:
    """A heterogeneity estimate of the total population with its interval."""

    method: str
    estimate: float
    observed: int
    interval: Interval


def chao_lower_bound(table: CaptureTable, level: float = 0.95) -> HeterogeneityResult:
    """Chao (1987) lower bound under Mh from f1, f2 (people on exactly one / two lists)."""
    tab = table.collapse()
    t = tab.n_lists
    s = tab.histories.sum(axis=1)
    f1 = float(tab.counts[s == 1].sum())
    f2 = float(tab.counts[s == 2].sum())
    n = float(tab.observed)
    c = (t - 1) / t
    if f2 > 0:
        hidden = c * f1**2 / (2.0 * f2)
        r = f1 / f2
        var = f2 * (c**2 * r**4 / 4.0 + c**2 * r**3 + c * r**2 / 2.0)
    else:
        hidden = c * f1 * (f1 - 1.0) / 2.0
        var = c * f1 * (f1 - 1.0) / 2.0 + c**2 * f1 * (2.0 * f1 - 1.0) ** 2 / 4.0
    if hidden <= 0:
        iv = Interval("Chao (1987) log-transformed", level, n, n)
        return HeterogeneityResult("Chao lower bound (Mh)", n, int(n), iv)
    z = norm.ppf(0.5 + level / 2.0)
    k = math.exp(z * math.sqrt(math.log(1.0 + var / hidden**2)))
    iv = Interval("Chao (1987) log-transformed", level, n + hidden / k, n + hidden * k)
    return HeterogeneityResult("Chao lower bound (Mh)", n + hidden, int(n), iv)


def _het_columns(s: np.ndarray, t: int, kind: str) -> np.ndarray:
    if kind == "chao":
        cols = [np.maximum(s - j + 1, 0.0) for j in range(3, t + 1)]
        return np.column_stack(cols) if cols else np.zeros((s.size, 0))
    if kind == "darroch":
        return (s**2 / 2.0)[:, None]
    if kind == "poisson":
        return (2.0**s - 1.0)[:, None]
    raise EstimationError(f"Unknown heterogeneity form '{kind}'; use chao, darroch or poisson.")


def heterogeneity_model(
    table: CaptureTable,
    kind: str = "chao",
    time_effects: bool = True,
    level: float = 0.95,
    neg: bool = True,
) -> HeterogeneityResult:
    """Rcapture ``closedp.t`` model Mth (``time_effects``) or Mh with heterogeneity ``kind``;
    ``neg`` sets negative eta of Chao's model to zero one by one (Rcapture's default)."""
    tab = table.collapse()
    tab.check_estimable()
    t = tab.n_lists
    full = tab.full_counts()
    cells = np.arange(1, 1 << t)
    h = history_matrix(t)[cells]
    s = h.sum(axis=1)
    base = h if time_effects else s[:, None]
    het = _het_columns(s, t, kind)
    y = full[cells]
    keep = list(range(het.shape[1]))
    while True:
        x = np.column_stack([np.ones(cells.size), base, het[:, keep]])
        coef, fisher, mu, dev, conv = poisson_irls(x, y)
        eta = coef[1 + base.shape[1] :]
        if kind != "chao" or not neg or not (eta < 0).any():
            break
        keep.pop(int(np.flatnonzero(eta < 0)[0]))  # Rcapture neg=TRUE: first negative eta to 0
    if not conv:
        log.warning("heterogeneity model %s did not converge", kind)
    fit = LoglinearFit(
        terms=(),
        neginf_terms=(),
        cells=cells,
        x_design=x,
        y=y,
        mu=mu,
        coef=coef,
        fisher=fisher,
        deviance=dev,
        df_resid=int(cells.size - x.shape[1]),
        loglik=poisson_loglik(y, mu),
        n_params=x.shape[1],
        observed=tab.observed,
        converged=conv,
    )
    name = {"chao": "Chao (LB)", "darroch": "Darroch", "poisson": "Poisson2"}[kind]
    label = f"{'Mth' if time_effects else 'Mh'} {name}"
    return HeterogeneityResult(label, fit.estimate, tab.observed, profile_interval(fit, level))


def sensitivity_table(
    table: CaptureTable,
    maxorder: int = 2,
    pthresh: float = 0.02,
    level: float = 0.95,
    bootstrap: int = 0,
    seed: int | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Main effects, stepwise, BIC, AIC and heterogeneity models side by side."""
    rows: list[dict[str, object]] = []
    for method in ("main", "stepwise", "bic", "aic"):
        try:
            est = MultipleSystemsEstimator(
                method=method,
                maxorder=maxorder,
                pthresh=pthresh,
                level=level,
                bootstrap=bootstrap if method == "stepwise" else 0,
                seed=seed,
                n_jobs=n_jobs,
            ).fit(table)
        except EstimationError as exc:
            rows.append({"method": method, "model": "", "note": str(exc)})
            continue
        rows.append(
            {
                "method": method,
                "model": " + ".join(est.model_) or "main effects",
                "estimate": est.estimate_,
                "lower": est.interval_.lower,
                "upper": est.interval_.upper,
                "interval_method": est.interval_.method,
                "note": "",
            }
        )
    het = [lambda: chao_lower_bound(table, level)]
    het += [
        lambda kind=kind: heterogeneity_model(table, kind, True, level)  # type: ignore[misc]
        for kind in ("chao", "darroch")
    ]
    for make in het:
        try:
            res = make()
        except EstimationError as exc:
            rows.append({"method": "heterogeneity", "model": "", "note": str(exc)})
            continue
        rows.append(
            {
                "method": "heterogeneity",
                "model": res.method,
                "estimate": res.estimate,
                "lower": res.interval.lower,
                "upper": res.interval.upper,
                "interval_method": res.interval.method,
                "note": "",
            }
        )
    out = pd.DataFrame(rows)
    out.insert(1, "observed", table.observed)
    return out
