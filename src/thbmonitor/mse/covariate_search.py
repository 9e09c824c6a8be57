"""Model search with the covariates in the model, as Cruyff's ``model_search`` (R ``mse``).

From the main effects of lists and covariates (``Freq ~ .``), R's ``step()`` in both
directions over all two-way terms (list-list, list-covariate, covariate-covariate) with the
BIC penalty, then continued by AIC with the BIC model as the floor; each model on the path is
fitted by the package's IRLS with the existence and identifiability checks of
:mod:`thbmonitor.mse.covariates`, and the chosen model gives per-level estimates there.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from thbmonitor.errors import EstimationError
from thbmonitor.mse.covariates import (
    CovariateFit,
    _by_level,
    _checked_covariates,
    trend_scores,
)
from thbmonitor.mse.existence import lp_exists
from thbmonitor.mse.loglinear import (
    Term,
    history_matrix,
    inverse_information,
    poisson_irls,
    poisson_loglik,
)
from thbmonitor.mse.selection import StepRecord, step_terms
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["SEARCH_METHODS", "search_covariate_model"]


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
                scores = trend_scores(values, v, trend[v])
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
