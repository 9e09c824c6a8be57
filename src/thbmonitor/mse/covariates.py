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

import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from thbmonitor.errors import EstimationError
from thbmonitor.mse.existence import lp_exists
from thbmonitor.mse.loglinear import (
    Term,
    history_matrix,
    inverse_information,
    poisson_irls,
    poisson_loglik,
    term_name,
)
from thbmonitor.mse.selection import StepRecord, select_model, step_terms
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["CovariateFit", "fit_covariate_model", "search_covariate_model"]


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
            try:
                numeric = values.astype(float)
            except ValueError:
                raise EstimationError(f"A trend needs numeric values of '{v}'.") from None
            scores = _orthopoly(numeric, trend[v])
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


# ---- model search with the covariates in the model (Cruyff's ``model_search``) -------------

SEARCH_METHODS = ("stepwise", "bic", "aic", "main")
_MAX_ROWS = 200_000  # cells of the full table (combinations x observable histories)


@dataclass(frozen=True)
class _CovModel:
    """One fitted covariate model on the grid (extended MLE: empty-margin columns at -inf)."""

    terms: tuple[Term, ...]
    coef: np.ndarray
    covm: np.ndarray
    loglik: float
    n_params: int
    cols: np.ndarray  # indices into the grid's columns of the finite parameters
    neginf: np.ndarray  # indices of the parameters at minus infinity
    converged: bool


def _full_rank(x: np.ndarray) -> bool:
    """Full column rank, from the eigenvalues of the small Gram matrix (cheaper than an SVD
    of the tall design; the designs are 0/1 or orthonormal scores, so well scaled)."""
    ev = np.linalg.eigvalsh(x.T @ x)
    return bool(ev[0] > max(ev[-1], 1.0) * 1e-10)


class _Grid:
    """Every covariate combination crossed with every observed history, and the columns of
    every variable and two-way term (variables: lists 0..k-1, then the covariates)."""

    def __init__(self, table: CaptureTable, covariates: Sequence[str], trend: Mapping[str, int]):
        self.k = k = table.n_lists
        self.covariates = list(covariates)
        self.names = [*table.lists, *covariates]
        cov = table.covariates[self.covariates].astype(str)
        order = {v: (float if v in trend else str) for v in covariates}
        self.levels = [sorted(pd.unique(cov[v]), key=order[v]) for v in covariates]
        groups = pd.MultiIndex.from_product(self.levels, names=self.covariates).to_frame(
            index=False
        )
        self.groups = groups
        g_of_row = pd.MultiIndex.from_frame(groups).get_indexer(pd.MultiIndex.from_frame(cov))
        self.g_of_row = g_of_row
        codes = table.histories @ (1 << np.arange(k))
        n_cells = (1 << k) - 1
        n_groups = groups.shape[0]
        if n_groups * n_cells > _MAX_ROWS:
            raise EstimationError(
                f"The covariates cross into {n_groups:,} combinations, too many for one model "
                f"({n_groups * n_cells:,} cells). Merge levels or use fewer covariates."
            )
        y = np.zeros(n_groups * n_cells)
        np.add.at(y, g_of_row * n_cells + (codes - 1), table.counts.astype(float))
        self.y = y
        self.n = float(y.sum())
        self.obs_g = np.bincount(g_of_row, weights=table.counts, minlength=n_groups)
        g_idx = np.repeat(np.arange(n_groups), n_cells)
        hh = np.tile(history_matrix(k)[1:], (n_groups, 1))
        # per variable: (columns on the observed rows, on the hidden rows, 0/1?, labels)
        self.var: list[tuple[np.ndarray, np.ndarray, list[str]]] = []
        for i in range(k):
            self.var.append((hh[:, [i]], np.zeros((n_groups, 1)), [table.lists[i]]))
        self.poly: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for j, v in enumerate(covariates):
            values = groups[v].to_numpy()
            dummies = np.column_stack(
                [(values == lev).astype(float) for lev in self.levels[j][1:]]
            ).reshape(n_groups, -1)
            labels = [f"{v}={lev}" for lev in self.levels[j][1:]]
            self.var.append((dummies[g_idx], dummies, labels))
            if v in trend:
                try:
                    numeric = values.astype(float)
                except ValueError:
                    raise EstimationError(f"A trend needs numeric values of '{v}'.") from None
                scores = _orthopoly(numeric, trend[v])
                self.poly[k + j] = (scores[g_idx], scores)
        base = [np.ones((y.size, 1))] + [c for c, _h, _l in self.var]
        base0 = [np.ones((n_groups, 1))] + [h for _c, h, _l in self.var]
        self.base = np.hstack(base)
        self.base0 = np.hstack(base0)
        self.base_labels = ["(intercept)"] + [lab for _c, _h, ls in self.var for lab in ls]
        self._blocks: dict[Term, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._fits: dict[tuple[Term, ...], _CovModel | None] = {}
        self._eta: dict[tuple[Term, ...], np.ndarray] = {}  # warm starts for the IRLS

    def term_name(self, t: Term) -> str:
        return ":".join(self.names[i] for i in t)

    def block(self, t: Term) -> tuple[np.ndarray, np.ndarray, bool]:
        """Columns of the two-way term ``t`` on observed and hidden rows, and whether 0/1."""
        if t not in self._blocks:
            a, b = t
            (ca, ha, _la), (cb, hb, _lb) = self.var[a], self.var[b]
            dummy = True
            if a < self.k and b in self.poly:  # list x trend: orthogonal polynomial scores
                cb, hb = self.poly[b]
                dummy = False
            obs = (ca[:, :, None] * cb[:, None, :]).reshape(ca.shape[0], -1)
            hid = (ha[:, :, None] * hb[:, None, :]).reshape(ha.shape[0], -1)
            self._blocks[t] = (obs, hid, dummy)
        return self._blocks[t]

    def design(self, terms: tuple[Term, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(columns on observed rows, on hidden rows, 0/1 flag per column) of a model."""
        obs, hid, flag = [self.base], [self.base0], [np.zeros(self.base.shape[1], dtype=bool)]
        flag[0][1 : 1 + self.k] = True  # a list nobody is on: main effect at -inf
        for t in terms:
            o, h, dummy = self.block(t)
            obs.append(o)
            hid.append(h)
            flag.append(np.full(o.shape[1], dummy))
        return np.hstack(obs), np.hstack(hid), np.concatenate(flag)

    def fit(self, terms: tuple[Term, ...]) -> _CovModel | None:
        """Fit main effects plus ``terms``; None if the MLE does not exist or is not identified."""
        if terms in self._fits:
            return self._fits[terms]
        x, _x0, flag = self.design(terms)
        margins = self.y @ x
        neginf = np.flatnonzero(flag & (margins == 0))
        keep_rows = ~np.any(x[:, neginf] != 0, axis=1)
        cols = np.setdiff1d(np.arange(x.shape[1]), neginf)
        xr, yr = x[keep_rows][:, cols], self.y[keep_rows]
        out: _CovModel | None = None
        if _full_rank(xr) and lp_exists(xr, yr):
            eta0 = None
            for t in terms:  # start from the fit of the model without one of the terms
                parent = self._eta.get(tuple(u for u in terms if u != t))
                if parent is not None:
                    eta0 = np.where(np.isnan(parent), np.log(self.y + 0.1), parent)[keep_rows]
                    break
            coef, fisher, mu, _dev, conv = poisson_irls(xr, yr, eta0)
            eta = np.full(self.y.size, np.nan)
            eta[keep_rows] = np.log(np.maximum(mu, 1e-300))
            self._eta[terms] = eta
            out = _CovModel(
                terms,
                coef,
                inverse_information(fisher),
                poisson_loglik(yr, mu),
                x.shape[1],
                cols,
                neginf,
                conv,
            )
        self._fits[terms] = out
        return out

    def hidden(self, m: _CovModel) -> tuple[np.ndarray, np.ndarray]:
        """Hidden number per combination and the hidden rows' design (finite columns)."""
        _x, x0, _flag = self.design(m.terms)
        gone = np.any(x0[:, m.neginf] != 0, axis=1)  # combinations at -inf: nobody hidden
        x0f = np.where(gone[:, None], 0.0, x0[:, m.cols])
        return np.where(gone, 0.0, np.exp(x0[:, m.cols] @ m.coef)), x0f


def _path_frame(grid: _Grid, records: Sequence[tuple[str, StepRecord]]) -> pd.DataFrame:
    rows = []
    log_n = math.log(max(grid.n, 1.0))
    for stage, rec in records:
        m = grid.fit(rec.terms)
        if m is None:  # cannot happen: the path only holds models that passed the checks
            continue
        hid, _x0 = grid.hidden(m)
        rows.append(
            {
                "stage": stage,
                "step": rec.change,
                "terms": [grid.term_name(t) for t in rec.terms],
                "n_params": m.n_params,
                "loglik": m.loglik,
                "AIC": -2.0 * m.loglik + 2.0 * m.n_params,
                "BIC": -2.0 * m.loglik + log_n * m.n_params,
                "estimate": grid.n + float(hid.sum()),
            }
        )
    return pd.DataFrame(rows)


def search_covariate_model(
    table: CaptureTable,
    covariates: Sequence[str] | None = None,
    method: str = "stepwise",
    level: float = 0.95,
    trend: Mapping[str, int] | None = None,
) -> CovariateFit:
    """Select the covariate model with the covariates in it, as Cruyff's ``model_search``.

    Source: MaartenCruyff/mse ``R/functions.R`` (commit 7b3e06c), ``model_search(x, lists,
    min_model = Freq ~ ., max_model = Freq ~ .^2)``: the full table of every covariate
    combination crossed with every observed history (zeros included) is fitted with
    ``glm(poisson)``; ``step()`` runs from the main effects of lists and covariates within all
    two-way terms (list:list, list:covariate, covariate:covariate) with penalty ``k = log(n)``
    (BIC, n = people observed), then continues from that model by AIC (``k = 2``, lower bound
    the BIC model). ``boot_mse`` takes the model with the lowest BIC on that path by default.

    ``method``: ``"bic"`` the BIC step's model; ``"aic"`` the model where the AIC continuation
    stops; ``"stepwise"`` the whole path, choosing the lowest BIC as ``boot_mse`` does;
    ``"main"`` main effects only (``Freq ~ .``, no search). Unlike ``glm``, terms whose margin is
    empty get the extended MLE (parameter at minus infinity, counted in the criterion as in
    SparseMSE) and models failing the existence or identifiability checks are skipped.
    Cruyff's third continuation (``k = 1``) only lists models and is not run.
    """
    if method not in SEARCH_METHODS:
        raise EstimationError(f"Unknown method '{method}'; use one of {', '.join(SEARCH_METHODS)}.")
    trend = dict(trend or {})
    covariates = _checked_covariates(table, covariates)
    table.collapse().check_estimable()
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        return _search(table, covariates, method, level, trend)


def _search(
    table: CaptureTable,
    covariates: list[str],
    method: str,
    level: float,
    trend: dict[str, int],
) -> CovariateFit:
    grid = _Grid(table, covariates, trend)
    log_n = math.log(max(grid.n, 1.0))

    def criterion(penalty: float) -> Callable[[tuple[Term, ...]], float | None]:
        def score(terms: tuple[Term, ...]) -> float | None:
            m = grid.fit(terms)
            return None if m is None else -2.0 * m.loglik + penalty * m.n_params

        return score

    scope = list(itertools.combinations(range(len(grid.names)), 2))
    records: list[tuple[str, StepRecord]] = []
    if method == "main":
        if grid.fit(()) is None:
            raise EstimationError(_NO_MLE)
        records.append(("main", StepRecord((), "start", 0.0)))
        chosen: tuple[Term, ...] = ()
    else:
        try:
            bic_path = step_terms(criterion(log_n), (), scope, (), grid.term_name)
        except EstimationError:
            raise EstimationError(_NO_MLE) from None
        m_bic = bic_path[-1].terms
        records += [("BIC", r) for r in bic_path]
        chosen = m_bic
        if method in ("aic", "stepwise"):
            aic_path = step_terms(criterion(2.0), m_bic, scope, m_bic, grid.term_name)
            records += [("AIC", r) for r in aic_path[1:]]
            if method == "aic":
                chosen = aic_path[-1].terms
    path = _path_frame(grid, records)
    if method == "stepwise":
        chosen = records[int(np.argmin(path["BIC"].to_numpy()))][1].terms
    path["selected"] = [rec.terms == chosen for _s, rec in records]
    model = grid.fit(chosen)
    assert model is not None  # every model on the path passed the checks
    if not model.converged:
        log.warning("the covariate model did not converge; treat the estimates with care")
    return _level_estimates(grid, model, method, path, level)


_NO_MLE = (
    "The maximum-likelihood estimate of the covariate main-effects model does not exist on these "
    "data (sparse covariate combinations). Merge levels or use fewer covariates."
)


def _level_estimates(
    grid: _Grid, m: _CovModel, method: str, path: pd.DataFrame, level: float
) -> CovariateFit:
    hidden_g, x0 = grid.hidden(m)
    levels_of = [(v, list(grid.levels[j])) for j, v in enumerate(grid.covariates)]
    rows, (obs, hid, lo, hi) = _by_level(
        hidden_g, x0, m.covm, grid.obs_g, grid.groups, levels_of, level
    )
    k = grid.k
    return CovariateFit(
        levels=rows,
        estimate=obs + hid,
        observed=int(obs),
        lower=lo,
        upper=hi,
        model=tuple(grid.term_name(t) for t in m.terms if t[1] < k),
        covariates=tuple(grid.covariates),
        level=level,
        terms=tuple(grid.term_name(t) for t in m.terms),
        selection=_SELECTION[method],
        path=path,
    )


_SELECTION = {
    "bic": "step() from main effects within all two-way terms, penalty log(n) (BIC)",
    "aic": "step() by BIC, continued by AIC (model_search's AIC model)",
    "stepwise": "step() by BIC then AIC (model_search); lowest BIC on the path (boot_mse)",
    "main": "main effects of lists and covariates (Freq ~ .)",
}
