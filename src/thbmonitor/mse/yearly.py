"""Hidden numbers per year from one model over all years with list-by-covariate interactions.

Catchability differs between strata (form of exploitation, age, nationality), so a model fitted
to histories pooled over strata is biased (heterogeneity). The model here, fitted to the
histories of all years at once, is

    log mu[g, h] = alpha[g] + sum_i h_i (lambda_i + sum_v lambda_i[v = level of g in v])
                   + sum_(i,j) h_i h_j lambda_ij

for every combination ``g`` of year and covariate levels and every capture history ``h``:

* ``alpha[g]`` is free for every combination (the covariates' joint distribution is not
  modelled); combinations in which nobody was registered therefore hold no hidden persons;
* every list has an effect per year and per covariate level (list x year, list x covariate),
  so capture probabilities differ between years and strata, additively on the log scale;
* the list-list interactions (two lists at a time) are common to all years and strata and are
  chosen by forward selection on this model (Poisson p-value test as SparseMSE ``stepwisefit``,
  or by AIC / BIC as Cruyff's ``model_search``).

The free ``alpha[g]`` are profiled out: the fit maximises the conditional (multinomial)
likelihood of the histories given each combination's registered count, which gives the same
estimates and covariance as the Poisson model. The hidden number of ``g`` is
``n_g / sum_h exp(eta[g, h])``; intervals for sums over combinations are log-normal from the
delta method with the joint covariance (``Var = sum_g hidden_g^2 / n_g + d' I^-1 d``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, poisson
from threadpoolctl import threadpool_limits

from thbmonitor.errors import EstimationError
from thbmonitor.mse.existence import lp_exists
from thbmonitor.mse.loglinear import Term, history_matrix, term_name
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["YearlyFit", "estimate_yearly"]

METHODS = ("stepwise", "bic", "aic", "main")
_DIVERGED = 25.0  # |coefficient| beyond which the estimate is taken not to exist


@dataclass(frozen=True)
class _Design:
    """The conditional model's design: combinations x histories x parameters."""

    x: np.ndarray  # (G, H, p)
    y: np.ndarray  # (G, H) counts
    live: np.ndarray  # (G, H) bool: cells not fixed at zero (empty margins of product terms)
    names: list[str]


@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    info: np.ndarray
    prob: np.ndarray  # (G, H) conditional probabilities of the histories
    loglik: float
    converged: bool


@dataclass(frozen=True)
class YearlyFit:
    """The fitted model over all years and its estimates (``by_year``, :meth:`total`)."""

    by_year: pd.DataFrame  # year, observed, hidden, estimate, lower, upper
    model: tuple[str, ...]  # list-list terms
    covariates: tuple[str, ...]
    path: pd.DataFrame  # selection path: step, added, loglik, n_params, aic, bic, p_value
    combinations: pd.DataFrame  # year, covariates, observed, hidden (one row per combination)
    cov_hidden: np.ndarray  # covariance of the combinations' hidden numbers (delta method)
    method: str
    shared_levels: tuple[str, ...] = ()  # "covariate=level" without list effects of their own
    interval_method: str = "log-normal delta method (model-conditional)"
    level: float = 0.95

    def total(self, where: Mapping[str, Sequence[object]] | None = None) -> dict[str, float]:
        """Observed, estimate and interval summed over the combinations matching ``where``
        (covariate -> allowed levels, compared as strings); the joint covariance is used."""
        mask = np.ones(len(self.combinations), dtype=bool)
        for col, allowed in (where or {}).items():
            mask &= self.combinations[col].astype(str).isin([str(a) for a in allowed]).to_numpy()
        return _summary(self.combinations, self.cov_hidden, mask, self.level)


def _summary(
    combos: pd.DataFrame, cov: np.ndarray, mask: np.ndarray, level: float
) -> dict[str, float]:
    obs = float(combos["observed"].to_numpy()[mask].sum())
    hid = float(combos["hidden"].to_numpy()[mask].sum())
    if hid <= 0:
        return {"observed": obs, "hidden": 0.0, "estimate": obs, "lower": obs, "upper": obs}
    se = math.sqrt(max(float(cov[np.ix_(mask, mask)].sum()), 0.0))
    z = norm.ppf(0.5 + level / 2.0)
    f = math.exp(min(z * se / hid, 700.0))
    return {
        "observed": obs,
        "hidden": hid,
        "estimate": obs + hid,
        "lower": obs + hid / f,
        "upper": obs + hid * f,
    }


def _design(
    table: CaptureTable, own: Mapping[str, Sequence[str]], terms: Sequence[Term]
) -> tuple[_Design, pd.DataFrame]:
    """``own`` maps each factor to the levels with list effects of their own (the others share
    the reference level's)."""
    factors = list(own)
    k = table.n_lists
    cov = table.covariates[factors].astype(str)
    combos = cov.drop_duplicates().sort_values(factors).reset_index(drop=True)
    g_of_row = pd.MultiIndex.from_frame(combos).get_indexer(pd.MultiIndex.from_frame(cov))
    codes = table.histories @ (1 << np.arange(k))
    hist = history_matrix(k)[1:].astype(float)
    n_groups, n_cells = len(combos), hist.shape[0]
    y = np.zeros((n_groups, n_cells))
    np.add.at(y, (g_of_row, codes - 1), table.counts.astype(float))
    cols: list[np.ndarray] = []
    names: list[str] = []
    for i in range(k):
        cols.append(np.broadcast_to(hist[:, i], (n_groups, n_cells)))
        names.append(table.lists[i])
    for t in terms:
        cols.append(np.broadcast_to(np.prod(hist[:, list(t)], axis=1), (n_groups, n_cells)))
        names.append(term_name(t, table.lists))
    for v in factors:
        values = combos[v].to_numpy()
        for lev in own[v]:
            at = (values == lev).astype(float)[:, None]
            for i in range(k):
                cols.append(at * hist[None, :, i])
                names.append(f"{table.lists[i]}:{v}={lev}")
    x = np.stack(cols, axis=2)
    live = np.ones((n_groups, n_cells), dtype=bool)
    keep = np.ones(x.shape[2], dtype=bool)
    for j in range(k, len(names)):
        if not (x[..., j] * y).any():  # empty margin: parameter at -inf
            live &= x[..., j] == 0
            keep[j] = False
    for i in range(k):  # a list without anybody: its cells are fixed at zero
        if not (x[..., i] * y).any():
            live &= x[..., i] == 0
            keep[i] = False
    combos = combos.assign(observed=y.sum(axis=1))
    kept = [n for n, kk in zip(names, keep, strict=True) if kk]
    return _Design(np.ascontiguousarray(x[..., keep]), y, live, kept), combos


def _level_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _information(d: _Design, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected (= observed) information of the conditional likelihood, and the per-combination
    means of the design rows."""
    n = d.y.sum(axis=1)
    g, h, p = d.x.shape
    x2 = d.x.reshape(g * h, p)
    m = np.einsum("ghp,gh->gp", d.x, prob, optimize=True)
    w = (n[:, None] * prob).reshape(-1)
    info = (x2 * w[:, None]).T @ x2 - (m * n[:, None]).T @ m
    return info, m


def _fit(
    d: _Design,
    start: tuple[list[str], np.ndarray] | None = None,
    maxit: int = 100,
    tol: float = 1e-10,
) -> _Fit:
    """Newton-Raphson on the conditional multinomial likelihood, with step halving; ``start``
    (names, coefficients) of a smaller model warm-starts the shared parameters."""
    n = d.y.sum(axis=1)
    p = d.x.shape[2]
    xy = np.einsum("ghp,gh->p", d.x, d.y, optimize=True)

    def evaluate(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = np.where(d.live, d.x @ beta, -np.inf)
        top = eta.max(axis=1, keepdims=True)
        w = np.exp(eta - top)
        s = w.sum(axis=1, keepdims=True)
        logp = np.where(d.live, eta - top - np.log(s), 0.0)
        return float((d.y * logp).sum()), w / s

    beta = np.zeros(p)
    if start is not None:
        known = dict(zip(start[0], start[1], strict=True))
        beta = np.array([known.get(name, 0.0) for name in d.names])
    ll, prob = evaluate(beta)
    converged = False
    for _ in range(maxit):
        info, m = _information(d, prob)
        grad = xy - n @ m
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        t = 1.0
        while True:
            new = beta + t * step
            ll_new, prob_new = evaluate(new)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2.0
        change = ll_new - ll
        beta, ll, prob = new, ll_new, prob_new
        if abs(change) < tol * (abs(ll) + 1.0):
            converged = True
            break
    info, _m = _information(d, prob)
    return _Fit(beta, info, prob, ll, converged)


def _with_term(d: _Design, hist: np.ndarray, term: Term, name: str) -> _Design:
    """``d`` with one more list-list term (its cells fixed at zero if nobody is on both)."""
    col = np.broadcast_to(np.prod(hist[:, list(term)], axis=1), d.y.shape)
    if not (col * d.y).any():
        return _Design(d.x, d.y, d.live & (col == 0), d.names)
    x = np.concatenate([d.x, col[..., None]], axis=2)
    return _Design(x, d.y, d.live, [*d.names, name])


def _exists(d: _Design) -> bool:
    """Fienberg-Rinaldo check on the equivalent Poisson design (combination indicators and the
    list columns over the live cells): does a finite maximum-likelihood estimate exist?"""
    g, h, p = d.x.shape
    live = d.live.reshape(-1)
    groups = np.repeat(np.arange(g), h)[live]
    x = np.hstack([np.eye(g)[groups], d.x.reshape(g * h, p)[live]])
    return lp_exists(x, d.y.reshape(-1)[live])


def _usable(d: _Design, fit: _Fit, check: bool) -> bool:
    """Converged to finite values with a full-rank information (and, with ``check``, passes
    the existence check)."""
    if not fit.converged or np.max(np.abs(fit.coef), initial=0.0) > _DIVERGED:
        return False
    if np.linalg.matrix_rank(fit.info) < fit.info.shape[0]:
        return False
    return _exists(d) if check else True


def _hidden(d: _Design, fit: _Fit) -> tuple[np.ndarray, np.ndarray]:
    """Hidden number per combination and its covariance (delta method, joint)."""
    n = d.y.sum(axis=1)
    eta = np.where(d.live, d.x @ fit.coef, -np.inf)
    s = np.exp(eta).sum(axis=1)
    hidden = n / s
    m = np.einsum("ghp,gh->gp", d.x, fit.prob, optimize=True)
    jac = -hidden[:, None] * m  # d hidden_g / d beta
    covb = np.linalg.inv(fit.info)
    cov = jac @ covb @ jac.T + np.diag(hidden**2 / np.maximum(n, 1.0))
    return hidden, cov


def _pairs(k: int) -> list[Term]:
    return [(i, j) for i in range(k - 1) for j in range(i + 1, k)]


def estimate_yearly(
    table: CaptureTable,
    year: str = "year",
    covariates: Sequence[str] = (),
    method: str = "stepwise",
    pthresh: float = 0.02,
    terms: Sequence[Term] | None = None,
    level: float = 0.95,
    min_level: int = 50,
) -> YearlyFit:
    """Fit the model of the module docstring; ``terms`` fixes the list-list terms (no
    selection). ``method``: ``stepwise`` (p-value threshold ``pthresh``), ``aic``, ``bic``
    (forward, add the best term while the criterion falls) or ``main`` (no interactions).

    A covariate level with fewer than ``min_level`` registered persons over all years (e.g. a
    handful of unknowns) gets no list effects of its own: it shares those of the covariate's
    most frequent level, which is the reference. Years always get their own.
    """
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        return _estimate(table, year, covariates, method, pthresh, terms, level, min_level)


def _estimate(
    table: CaptureTable,
    year: str,
    covariates: Sequence[str],
    method: str,
    pthresh: float,
    terms: Sequence[Term] | None,
    level: float,
    min_level: int,
) -> YearlyFit:
    if method not in METHODS:
        raise EstimationError(f"Unknown method '{method}'; choose from {', '.join(METHODS)}.")
    factors = [year, *[c for c in covariates if c != year]]
    missing = [c for c in factors if c not in table.covariates.columns]
    if missing:
        raise EstimationError(f"Covariate(s) {missing} are not in the table.")
    table = table.subset(table.counts > 0)
    table.collapse().check_estimable()
    n_obs = int(table.counts.sum())
    included: list[Term] = list(terms) if terms is not None else []
    own, shared = _own_levels(table, year, factors, min_level)
    design, combos = _design(table, own, included)
    fit = _fit(design)
    if not _usable(design, fit, check=True):
        raise EstimationError(
            "The list-by-covariate model has no finite estimate on these data (e.g. a year or "
            "covariate level in which no person is on two lists, or a list that registers all "
            "of a level). Merge levels or use fewer covariates."
        )
    path = [_step(0, "", fit, design, n_obs, math.nan)]
    if terms is None and method != "main":
        included, design, fit, path = _select(table, own, method, pthresh, design, fit, path)
    hidden, cov = _hidden(design, fit)
    combos = combos.assign(hidden=hidden)
    rows = []
    for y in combos[year].drop_duplicates():
        mask = (combos[year] == y).to_numpy()
        rows.append({year: y, **_summary(combos, cov, mask, level)})
    by_year = pd.DataFrame(rows)
    by_year[year] = by_year[year].map(_as_number)
    combos[year] = combos[year].map(_as_number)
    log.info("yearly model over %d combinations, %d parameters", len(combos), len(fit.coef))
    return YearlyFit(
        by_year=by_year,
        model=tuple(term_name(t, table.lists) for t in included),
        covariates=tuple(c for c in factors if c != year),
        path=pd.DataFrame(path),
        combinations=combos,
        cov_hidden=cov,
        method=method if terms is None else "given",
        shared_levels=tuple(shared),
        level=level,
    )


def _own_levels(
    table: CaptureTable, year: str, factors: list[str], min_level: int
) -> tuple[dict[str, list[str]], list[str]]:
    """Per factor, the non-reference levels with list effects of their own, and the shared."""
    own: dict[str, list[str]] = {}
    shared: list[str] = []
    for v in factors:
        sizes = (
            pd.Series(table.counts, index=table.covariates[v].astype(str).to_numpy())
            .groupby(level=0)
            .sum()
        )
        levels = sorted(sizes.index, key=_level_key)
        if v == year:
            own[v] = levels[1:]
            continue
        reference = max(levels, key=lambda lev: (sizes[lev], -levels.index(lev)))
        own[v] = [lev for lev in levels if lev != reference and sizes[lev] >= min_level]
        shared += [f"{v}={lev}" for lev in levels if sizes[lev] < min_level]
    return own, shared


def _as_number(value: str) -> object:
    try:
        return int(value)
    except ValueError:
        return value


def _step(
    i: int, added: str, fit: _Fit, d: _Design, n_obs: int, p_value: float
) -> dict[str, object]:
    n_params = len(fit.coef)
    return {
        "step": i,
        "added": added,
        "loglik": fit.loglik,
        "n_params": n_params,
        "aic": -2.0 * fit.loglik + 2.0 * n_params,
        "bic": -2.0 * fit.loglik + math.log(max(n_obs, 1)) * n_params,
        "p_value": p_value,
    }


def _select(
    table: CaptureTable,
    own: Mapping[str, Sequence[str]],
    method: str,
    pthresh: float,
    design: _Design,
    fit: _Fit,
    path: list[dict[str, object]],
) -> tuple[list[Term], _Design, _Fit, list[dict[str, object]]]:
    """Forward selection of two-list terms on the covariate model. Candidates are tried in
    order (smallest p-value, or best criterion) until one passes the existence check."""
    k = table.n_lists
    n_obs = int(table.counts.sum())
    pairs = _pairs(k)
    hist = history_matrix(k)[1:]
    both = {p: hist[:, p[0]] * hist[:, p[1]] > 0 for p in pairs}
    included: list[Term] = []
    crit = "aic" if method == "aic" else "bic"
    for _cycle in range(len(pairs)):
        n = design.y.sum(axis=1)
        mu = n[:, None] * fit.prob
        candidates: list[tuple[float, int, Term]] = []
        for j, p in enumerate(pairs):
            if p in included:
                continue
            nstar = float(design.y[:, both[p]].sum())
            pstar = float(mu[:, both[p]].sum())
            pv = float(min(poisson.cdf(nstar, pstar), poisson.sf(nstar - 1, pstar)))
            candidates.append((pv, j, p))
        ranked: list[tuple[float, Term, _Design, _Fit, float]] = []
        if method == "stepwise":
            for pv, _j, p in sorted(candidates):
                if pv >= pthresh:
                    break
                d2 = _with_term(design, hist, p, term_name(p, table.lists))
                f2 = _fit(d2, (design.names, fit.coef))
                if _usable(d2, f2, check=True):
                    ranked.append((pv, p, d2, f2, pv))
                    break
        else:
            current = path[-1][crit]
            assert isinstance(current, float)
            for pv, j, p in candidates:
                d2 = _with_term(design, hist, p, term_name(p, table.lists))
                f2 = _fit(d2, (design.names, fit.coef))
                value = _step(0, "", f2, d2, n_obs, pv)[crit]
                assert isinstance(value, float)
                if value < current and _usable(d2, f2, check=False):
                    ranked.append((value + j * 1e-12, p, d2, f2, pv))
            ranked.sort(key=lambda r: r[0])
            first = next((r for r in ranked if _exists(r[2])), None)
            ranked = [first] if first is not None else []
        if not ranked:
            break
        _value, p, design, fit, pv = ranked[0]
        included.append(p)
        path.append(_step(len(included), term_name(p, table.lists), fit, design, n_obs, pv))
    return included, design, fit, path
