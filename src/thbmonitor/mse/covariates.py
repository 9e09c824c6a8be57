"""Log-linear MSE with covariates: list-by-covariate interactions as in the Dutch estimates.

The model (Cruyff's ``mse``: ``Freq ~ lists + covariates + lists:covariates (+ list:list)``) is
fitted to the table of every covariate combination crossed with every capture history:

* covariate main effects over the full cross of covariate levels (combinations that nobody
  registered still hold hidden people),
* the list main effects and the chosen list-list terms (common to all combinations),
* for every covariate, every non-reference level and every list, a list-by-level effect.

The hidden number of a combination is ``exp(intercept + its combination effect)``; per covariate
level it is summed over the combinations with that level. Empty margins of product terms are
handled as in :mod:`thbmonitor.mse.loglinear` (parameter at minus infinity, cells removed).
Intervals are log-normal from the delta method (conditional on the model).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from thbmonitor.errors import EstimationError
from thbmonitor.mse.existence import lp_exists
from thbmonitor.mse.loglinear import (
    Term,
    history_matrix,
    inverse_information,
    poisson_irls,
    term_name,
)
from thbmonitor.mse.selection import select_model
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["CovariateFit", "fit_covariate_model"]


@dataclass(frozen=True)
class CovariateFit:
    """Estimates per covariate level (tidy) and for the whole population."""

    levels: pd.DataFrame  # covariate, level, observed, hidden, estimate, lower, upper
    estimate: float
    observed: int
    lower: float
    upper: float
    model: tuple[str, ...]  # list-list terms
    covariates: tuple[str, ...]
    method: str = "log-normal delta method (model-conditional)"
    level: float = 0.95
    terms: tuple[str, ...] = ()  # every interaction of the model (search_covariate_model)
    selection: str | None = None  # how the model was chosen (search_covariate_model)
    path: pd.DataFrame | None = None  # models on the search path with AIC, BIC, estimate


def trend_scores(values: np.ndarray, name: str, degree: int) -> np.ndarray:
    """Orthogonal polynomial scores of a numeric covariate (a year) for a trend of ``degree``."""
    try:
        numeric = values.astype(float)
    except ValueError:
        raise EstimationError(f"A trend needs numeric values of '{name}'.") from None
    return _orthopoly(numeric, degree)


def _orthopoly(values: np.ndarray, degree: int) -> np.ndarray:
    """Orthonormal polynomial scores (degree 1..d) of each value, over the distinct values
    weighted equally (as R's ``poly`` on the sorted levels)."""
    levels = np.unique(values)
    if degree >= levels.size:
        raise EstimationError(
            f"A trend of degree {degree} needs more than {levels.size} distinct values."
        )
    centred = levels - levels.mean()
    vander = np.vander(centred, degree + 1, increasing=True)
    q, _r = np.linalg.qr(vander)
    basis = q[:, 1:] * np.sign(q[-1, 1:])  # sign convention: increasing at the last level
    return basis[np.searchsorted(levels, values)]


def _columns(
    k: int,
    terms: Sequence[Term],
    groups: pd.DataFrame,
    covariates: Sequence[str],
    trend: Mapping[str, int],
) -> tuple[np.ndarray, np.ndarray, list[str], list[bool]]:
    """Design over (group, history) rows; returns (x, group index per row, names, product?)."""
    h = history_matrix(k)[1:]  # histories 1..2^k-1
    n_cells = h.shape[0]
    n_groups = groups.shape[0]
    g_idx = np.repeat(np.arange(n_groups), n_cells)
    hh = np.tile(h, (n_groups, 1))
    cols: list[np.ndarray] = [np.ones(g_idx.size)]
    names = ["(intercept)"]
    product = [False]
    for v in covariates:
        values = groups[v].to_numpy()
        for lev in sorted(pd.unique(values), key=str)[1:]:
            cols.append((values == lev)[g_idx].astype(float))
            names.append(f"{v}={lev}")
            product.append(False)
    for i in range(k):
        cols.append(hh[:, i])
        names.append(f"list{i}")
        product.append(False)
    for t in terms:
        cols.append(np.prod(hh[:, list(t)], axis=1))
        names.append("term" + ":".join(map(str, t)))
        product.append(True)
    for v in covariates:
        values = groups[v].to_numpy()
        if v in trend:
            scores = trend_scores(values, v, trend[v])
            for d in range(scores.shape[1]):
                for i in range(k):
                    cols.append(scores[g_idx, d] * hh[:, i])
                    names.append(f"{v}^{d + 1}:list{i}")
                    product.append(False)
            continue
        for lev in sorted(pd.unique(values), key=str)[1:]:
            at = (values == lev)[g_idx].astype(float)
            for i in range(k):
                cols.append(at * hh[:, i])
                names.append(f"{v}={lev}:list{i}")
                product.append(True)
    return np.column_stack(cols), g_idx, names, product


def fit_covariate_model(
    table: CaptureTable,
    covariates: Sequence[str] | None = None,
    terms: Sequence[Term] | None = None,
    method: str = "stepwise",
    maxorder: int = 2,
    pthresh: float = 0.02,
    level: float = 0.95,
    trend: Mapping[str, int] | None = None,
) -> CovariateFit:
    """Fit lists x covariates; list-list terms are selected on the collapsed table unless given.

    ``trend`` maps numeric covariates (a year) to a polynomial degree: their interactions with
    the lists are then orthogonal polynomials of that degree instead of one effect per level
    (Cruyff's ``degree_year``), so capture probabilities change smoothly over the years while
    every year keeps its own population size.
    """
    trend = dict(trend or {})
    covariates = _checked_covariates(table, covariates)
    k = table.n_lists
    collapsed = table.collapse()
    collapsed.check_estimable()
    if terms is None:
        terms = select_model(collapsed.full_counts(), k, method, maxorder, pthresh).fit.terms
    terms = list(terms)
    cov = table.covariates[covariates].astype(str)
    levels = [sorted(pd.unique(cov[v]), key=float if v in trend else str) for v in covariates]
    groups = pd.MultiIndex.from_product(levels, names=covariates).to_frame(index=False)
    key = pd.MultiIndex.from_frame(groups)
    g_of_row = key.get_indexer(pd.MultiIndex.from_frame(cov))
    codes = table.histories @ (1 << np.arange(k))
    n_cells = (1 << k) - 1
    y = np.zeros(groups.shape[0] * n_cells)
    np.add.at(y, g_of_row * n_cells + (codes - 1), table.counts.astype(float))
    x, g_idx, names, product = _columns(k, terms, groups, covariates, trend)
    keep_rows = np.ones(y.size, dtype=bool)
    keep_cols = np.ones(x.shape[1], dtype=bool)
    for j in range(x.shape[1]):
        if product[j] and y @ x[:, j] == 0:
            keep_rows &= x[:, j] == 0
            keep_cols[j] = False
    for i in range(k):  # lists with no registration at all
        j = names.index(f"list{i}")
        if y @ x[:, j] == 0:
            keep_rows &= x[:, j] == 0
            keep_cols[j] = False
    xr = x[keep_rows][:, keep_cols]
    yr = y[keep_rows]
    if np.linalg.matrix_rank(xr) < xr.shape[1]:
        raise EstimationError(
            "The covariate model is not identifiable on these data (some covariate levels are "
            "too sparse). Merge levels or use fewer covariates."
        )
    if not lp_exists(xr, yr):
        raise EstimationError(
            "The maximum-likelihood estimate of the covariate model does not exist on these data "
            "(sparse covariate combinations). Merge levels or use fewer covariates."
        )
    coef, fisher, _mu, _dev, conv = poisson_irls(xr, yr)
    covm = inverse_information(fisher)
    if not conv:
        log.warning("the covariate model did not converge; treat the estimates with care")
    # hidden cell of combination g: the row of the all-zero history (no list effects)
    n_groups = groups.shape[0]
    first = np.flatnonzero(np.r_[True, g_idx[1:] != g_idx[:-1]])  # history 1 of every group
    x0 = x[first].copy()
    x0[:, [j for j, nm in enumerate(names) if "list" in nm or nm.startswith("term")]] = 0.0
    x0 = x0[:, keep_cols]
    hidden_g = np.exp(x0 @ coef)
    obs_g = np.bincount(g_of_row, weights=table.counts, minlength=n_groups)
    levels_of = [(v, sorted(pd.unique(groups[v]), key=str)) for v in covariates]
    rows, (obs, hid, lo, hi) = _by_level(hidden_g, x0, covm, obs_g, groups, levels_of, level)
    del g_idx
    return CovariateFit(
        levels=rows,
        estimate=obs + hid,
        observed=int(obs),
        lower=lo,
        upper=hi,
        model=tuple(term_name(t, table.lists) for t in terms),
        covariates=tuple(covariates),
        level=level,
    )


def _checked_covariates(table: CaptureTable, covariates: Sequence[str] | None) -> list[str]:
    """The covariates asked for (all of the table's when ``None``), each present in the table."""
    chosen = list(covariates if covariates is not None else table.covariates.columns)
    if not chosen:
        raise EstimationError("No covariates given; use MultipleSystemsEstimator instead.")
    missing = [c for c in chosen if c not in table.covariates.columns]
    if missing:
        raise EstimationError(f"Covariate(s) {missing} are not in the table.")
    return chosen


def _by_level(
    hidden_g: np.ndarray,
    x0: np.ndarray,
    covm: np.ndarray,
    obs_g: np.ndarray,
    groups: pd.DataFrame,
    levels_of: Sequence[tuple[str, Sequence[object]]],
    level: float,
) -> tuple[pd.DataFrame, tuple[float, float, float, float]]:
    """Observed, hidden and log-normal delta-method interval per covariate level and in total,
    from the hidden cell of every covariate combination (rows of ``groups``) and its design
    row ``x0`` (the gradient of the hidden count is ``hidden * x0``)."""
    z = norm.ppf(0.5 + level / 2.0)

    def summarise(mask: np.ndarray) -> tuple[float, float, float, float]:
        hid = float(hidden_g[mask].sum())
        grad = (hidden_g[mask][:, None] * x0[mask]).sum(axis=0)
        se = math.sqrt(max(float(grad @ covm @ grad), 0.0))
        obs = float(obs_g[mask].sum())
        if hid <= 0:
            return obs, 0.0, obs, obs
        f = math.exp(min(z * se / hid, 700.0))
        return obs, hid, obs + hid / f, obs + hid * f

    rows = []
    for v, levels in levels_of:
        for lev in levels:
            obs, hid, lo, hi = summarise(groups[v].to_numpy() == lev)
            rows.append(
                {
                    "covariate": v,
                    "level": lev,
                    "observed": int(obs),
                    "hidden": hid,
                    "estimate": obs + hid,
                    "lower": lo,
                    "upper": hi,
                }
            )
    return pd.DataFrame(rows), summarise(np.ones(groups.shape[0], dtype=bool))
