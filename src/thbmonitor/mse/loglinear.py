"""Poisson log-linear models for capture histories, with the extended MLE for empty margins.

A model is a set of interaction *terms*, each a sorted tuple of list indices (``(0, 2)`` is the
two-list effect of the first and third list); the intercept and all main effects are always in.
A term whose margin is empty (no person is on all the lists it names) has its parameter at minus
infinity: as in SparseMSE's ``buildmodel``/``modelfit`` (Chan, Silverman & Vincent 2021), the
term is dropped and the cells containing it are removed before fitting, instead of letting a GLM
diverge. The fit is a hand-rolled Newton/IRLS in numpy (the tables have at most 2^k - 1 cells;
statsmodels' GLM gives the same fits, but importing it costs more than a whole stepwise search).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.tails import log_factorial

__all__ = [
    "LoglinearFit",
    "Term",
    "canonical",
    "fit_loglinear",
    "fit_loglinear_many",
    "inverse_information",
    "parse_terms",
    "poisson_irls",
    "term_name",
]

Term = tuple[int, ...]


def canonical(terms: Iterable[Sequence[int]]) -> tuple[Term, ...]:
    """Sorted, de-duplicated terms: by order, then lexicographically."""
    uniq = {tuple(sorted(int(i) for i in t)) for t in terms}
    return tuple(sorted((t for t in uniq if len(t) >= 2), key=lambda t: (len(t), t)))


def term_name(term: Term, lists: Sequence[str]) -> str:
    """``"LA:NG"``: list names joined by ``:`` in column order."""
    return ":".join(lists[i] for i in term)


def parse_terms(names: Iterable[str], lists: Sequence[str]) -> tuple[Term, ...]:
    """The inverse of :func:`term_name` for several terms."""
    index = {name: i for i, name in enumerate(lists)}
    out = []
    for name in names:
        parts = name.split(":")
        unknown = [p for p in parts if p not in index]
        if unknown or len(parts) < 2:
            raise EstimationError(f"Term '{name}' does not name two or more known lists.")
        out.append(tuple(index[p] for p in parts))
    return canonical(out)


@lru_cache(maxsize=32)
def history_matrix(k: int) -> np.ndarray:
    """(2^k, k) 0/1 matrix; row c is the history with bit code c (bit i = list i)."""
    codes = np.arange(1 << k)
    return ((codes[:, None] >> np.arange(k)) & 1).astype(float)


@lru_cache(maxsize=4096)
def term_mask(term: Term) -> int:
    return sum(1 << i for i in term)


@dataclass(frozen=True)
class LoglinearFit:
    """One fitted model. ``estimate`` is the total population, observed plus hidden."""

    terms: tuple[Term, ...]  # every interaction term of the model, including -inf ones
    neginf_terms: tuple[Term, ...]  # terms whose margin is empty: parameter = -infinity
    cells: np.ndarray  # bit codes of the cells kept in the fit
    x_design: np.ndarray  # design of the kept cells: intercept, main effects, finite terms
    y: np.ndarray
    mu: np.ndarray
    coef: np.ndarray  # intercept, main effects, finite interaction terms
    fisher: np.ndarray  # Fisher information X'WX at the fit
    deviance: float
    df_resid: int
    loglik: float  # Poisson log-likelihood of the observed cells (R: logLik(glm))
    n_params: int  # parameters including those at -infinity
    observed: int
    converged: bool

    @property
    def cov(self) -> np.ndarray:
        """Inverse Fisher information (R: ``summary(glm)$cov.unscaled``)."""
        return inverse_information(self.fisher)

    @property
    def hidden(self) -> float:
        return float(math.exp(self.coef[0]))

    @property
    def estimate(self) -> float:
        return self.observed + self.hidden

    @property
    def aic(self) -> float:
        """R's glm AIC plus 2 per -inf parameter (SparseMSE ``modelfit``)."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """-2 log-likelihood + log(observed) per parameter (Rcapture ``closedpMS.t``)."""
        return -2.0 * self.loglik + math.log(max(self.observed, 1)) * self.n_params

    @property
    def df(self) -> int:
        """Residual degrees of freedom of the fit (R: ``glm(...)$df.residual``)."""
        return self.df_resid


@lru_cache(maxsize=8192)
def _term_column(k: int, term: Term) -> np.ndarray:
    """Indicator over all 2^k bit codes of the cells containing every list of ``term``."""
    m = term_mask(term)
    codes = np.arange(1 << k)
    col = ((codes & m) == m).astype(float)
    col.flags.writeable = False
    return col


@lru_cache(maxsize=32)
def _main_design(k: int) -> np.ndarray:
    x = np.hstack([np.ones((1 << k, 1)), history_matrix(k)])
    x.flags.writeable = False
    return x


def design(k: int, cells: np.ndarray, terms: Sequence[Term]) -> np.ndarray:
    """Design matrix: intercept, k main effects, one column per term."""
    base = _main_design(k)[cells]
    if not terms:
        return base
    extra = np.stack([_term_column(k, t) for t in terms], axis=1)[cells]
    return np.hstack([base, extra])


@dataclass(frozen=True)
class Reduced:
    """A model after the extended-MLE reduction: the cells and columns actually fitted.

    The design ``x`` is built when first asked for: an exhaustive search reduces thousands of
    models whose existence and rank follow from a larger model's, and fits them on a shared
    design (:func:`fit_loglinear_many`)."""

    terms: tuple[Term, ...]
    cells: np.ndarray
    finite: tuple[Term, ...]
    neginf: tuple[Term, ...]
    y: np.ndarray
    k: int
    empty_lists: tuple[int, ...] = ()

    @property
    def n_columns(self) -> int:
        """Columns of ``x``: intercept, the main effects of non-empty lists, finite terms."""
        return 1 + self.k - len(self.empty_lists) + len(self.finite)

    @cached_property
    def x(self) -> np.ndarray:
        x = _main_design(self.k)[self.cells]
        if self.finite:
            fm = _masks(self.finite)
            x = np.hstack([x, ((self.cells[:, None] & fm) == fm).astype(float)])
        if self.empty_lists:
            x = np.delete(x, [1 + i for i in self.empty_lists], axis=1)
        return x


def reduce_terms(full: np.ndarray, k: int, terms: tuple[Term, ...]) -> Reduced:
    """Drop empty-margin terms and the cells containing them; ``terms`` must be canonical.

    Lists with no registration at all are handled the same way (main effect at -infinity).
    """
    full = np.asarray(full, dtype=float)
    key = full.tobytes()
    zero, empty_list, y_observable = _empty_margins(key, k)
    if not empty_list and not (zero and any(term_mask(t) in zero for t in terms)):
        # the common case: no empty margin among the terms, every cell but the unobserved one
        return Reduced(terms, _observable(k), terms, (), y_observable, k)
    finite = tuple(t for t in terms if term_mask(t) not in zero)
    neginf = tuple(t for t in terms if term_mask(t) in zero)
    empty_lists = tuple(i for i in range(k) if 1 << i in zero)
    cells = _kept_cells(k, tuple(term_mask(t) for t in neginf), empty_lists)
    return Reduced(terms, cells, finite, neginf, full[cells], k, empty_lists)


@lru_cache(maxsize=16384)
def _masks(terms: tuple[Term, ...]) -> np.ndarray:
    out = np.array([term_mask(t) for t in terms], dtype=np.int64)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=32)
def _observable(k: int) -> np.ndarray:
    out = np.arange(1, 1 << k)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=4096)
def _kept_cells(k: int, empty_masks: tuple[int, ...], empty_lists: tuple[int, ...]) -> np.ndarray:
    """The cells that contain no empty margin and no list without registrations."""
    codes = np.arange(1 << k)
    keep = codes > 0
    for m in empty_masks:
        keep &= (codes & m) != m
    for i in empty_lists:
        keep &= (codes >> i) & 1 == 0
    out = np.flatnonzero(keep)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def _empty_margins(full: bytes, k: int) -> tuple[frozenset[int], bool, np.ndarray]:
    """The masks of the empty margins, whether a list has no registration, and the counts of
    the observable cells (read-only, shared by the models without empty margins)."""
    margin = _superset_sums(full, k)
    zero = frozenset(int(m) for m in np.flatnonzero(margin == 0))
    empty_list = any(1 << i in zero for i in range(k))
    y = np.frombuffer(full, dtype=float)[1:].copy()
    y.flags.writeable = False
    return zero, empty_list, y


@lru_cache(maxsize=64)
def _superset_sums(full: bytes, k: int) -> np.ndarray:
    """For every bit mask m, the total count of the cells containing all lists of m (the zeta
    transform over supersets)."""
    out = np.frombuffer(full, dtype=float).copy()
    codes = np.arange(1 << k)
    for i in range(k):
        low = codes[(codes >> i) & 1 == 0]
        out[low] += out[low | (1 << i)]
    out.flags.writeable = False
    return out


def reduce_model(
    full: np.ndarray, k: int, terms: Sequence[Term]
) -> tuple[np.ndarray, tuple[Term, ...], tuple[Term, ...], np.ndarray]:
    """(cells kept, finite terms, -inf terms, design) for any term list."""
    r = reduce_terms(full, k, canonical(terms))
    return r.cells, r.finite, r.neginf, r.x


def poisson_irls(
    x: np.ndarray,
    y: np.ndarray,
    eta0: np.ndarray | None = None,
    tol: float = 1e-10,
    maxit: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    """Poisson GLM with log link by IRLS, started as R's glm (mu = y + 0.1).

    Returns (coef, fisher information X'WX at the fit, mu, deviance, converged); the
    covariance of the coefficients (R: ``cov.unscaled``) is the inverse of the information.
    """
    eta = np.log(y + 0.1) if eta0 is None else eta0.copy()
    mu = np.exp(eta)
    pos = y > 0
    ylogy = float(np.sum(y[pos] * np.log(y[pos])))
    ysum = float(y.sum())
    dev_old = np.inf
    dev = np.inf
    coef = np.zeros(x.shape[1])
    converged = False
    for _ in range(maxit):
        z = eta + (y - mu) / mu
        xw = x * mu[:, None]
        xtwx = x.T @ xw
        try:
            coef = np.linalg.solve(xtwx, xw.T @ z)
        except np.linalg.LinAlgError:
            coef = np.linalg.lstsq(xtwx, xw.T @ z, rcond=None)[0]
        eta = np.minimum(x @ coef, 700.0)
        mu = np.exp(eta)
        dev = 2.0 * (ylogy - float(y @ eta) - ysum + float(mu.sum()))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    fisher = x.T @ (x * mu[:, None])
    return coef, fisher, mu, max(dev, 0.0), converged


def inverse_information(fisher: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(fisher)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(fisher)


def poisson_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    pos = y > 0
    m = mu[pos]
    ylogmu = float(y[pos] @ np.log(m)) if (m > 0).all() else -math.inf  # y log 0 = -inf
    return ylogmu - float(mu.sum()) - _sum_log_factorial(y.tobytes())


@lru_cache(maxsize=256)
def _sum_log_factorial(y: bytes) -> float:
    """``sum(log(y!))`` of a table's counts (the same table is fitted by many models)."""
    return float(log_factorial(np.frombuffer(y, dtype=float)).sum())


def fit_loglinear(
    full: np.ndarray, k: int, terms: Sequence[Term], reduced: Reduced | None = None
) -> LoglinearFit:
    """Fit main effects plus ``terms`` to full counts (indexed by bit code, cell 0 unused)."""
    r = reduced if reduced is not None else reduce_terms(full, k, canonical(terms))
    coef, fisher, mu, dev, conv = poisson_irls(r.x, r.y)
    return LoglinearFit(
        terms=r.terms,
        neginf_terms=r.neginf,
        cells=r.cells,
        x_design=r.x,
        y=r.y,
        mu=mu,
        coef=coef,
        fisher=fisher,
        deviance=dev,
        df_resid=int(r.cells.size - r.x.shape[1]),
        loglik=poisson_loglik(r.y, mu),
        n_params=1 + k + len(r.finite) + len(r.neginf),
        observed=round(full.sum()),
        converged=conv,
    )


#: models fitted together in one batched IRLS (memory: BATCH x cells x parameters floats)
BATCH = 1024


def fit_loglinear_many(full: np.ndarray, k: int, reduced: Sequence[Reduced]) -> list[LoglinearFit]:
    """:func:`fit_loglinear` for many models, the same fits found faster (exhaustive AIC/BIC).

    Models fitted on the same cells share their data, so they are fitted together: one
    batched IRLS over the union of their columns, each model's missing columns held at zero
    (an identity block in its normal equations). Each model stops at the iteration where
    :func:`poisson_irls` would stop it, so the fits agree with one-at-a-time fitting to
    rounding.
    """
    out: list[LoglinearFit | None] = [None] * len(reduced)
    groups: dict[bytes, list[int]] = {}
    for i, r in enumerate(reduced):
        groups.setdefault(r.cells.tobytes(), []).append(i)
    observed = round(full.sum())
    for members in groups.values():
        for start in range(0, len(members), BATCH):
            idx = members[start : start + BATCH]
            rs = [reduced[i] for i in idx]
            cells, y = rs[0].cells, rs[0].y
            n_base = rs[0].n_columns - len(rs[0].finite)  # intercept and main effects
            # the finite terms are canonical already: their union in canonical order
            union = sorted(set().union(*(r.finite for r in rs)), key=lambda t: (len(t), t))
            x = rs[0].x[:, :n_base]
            if union:
                x = np.hstack([x, np.stack([_term_column(k, t) for t in union], axis=1)[cells]])
            column = {t: n_base + j for j, t in enumerate(union)}
            mask = np.zeros((len(rs), x.shape[1]), dtype=bool)
            mask[:, :n_base] = True
            for b, r in enumerate(rs):
                mask[b, [column[t] for t in r.finite]] = True
            coef, fisher, mu, dev, conv = _poisson_irls_batch(x, y, mask)
            with np.errstate(divide="ignore", invalid="ignore"):
                ylogmu = np.where(y > 0, y * np.log(mu), 0.0).sum(axis=1)
            loglik = ylogmu - mu.sum(axis=1) - float(log_factorial(y).sum())
            for b, (i, r) in enumerate(zip(idx, rs, strict=True)):
                cols = np.flatnonzero(mask[b])  # the model's columns of x, in its own order
                out[i] = LoglinearFit(
                    terms=r.terms,
                    neginf_terms=r.neginf,
                    cells=cells,
                    x_design=x[:, cols],
                    y=r.y,
                    mu=mu[b],
                    coef=coef[b, cols],
                    fisher=fisher[b][cols[:, None], cols],
                    deviance=float(dev[b]),
                    df_resid=int(cells.size - r.n_columns),
                    loglik=float(loglik[b]),
                    n_params=1 + k + len(r.finite) + len(r.neginf),
                    observed=observed,
                    converged=bool(conv[b]),
                )
    return [f for f in out if f is not None]


def _poisson_irls_batch(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, tol: float = 1e-10, maxit: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`poisson_irls` for several models on one design ``x``: model b uses the columns
    where ``mask[b]``. Returns coef (B, p; zero off the mask), Fisher information (B, p, p),
    mu (B, n), deviance (B,) and converged (B,)."""
    n_models, p = mask.shape
    eta = np.tile(np.log(y + 0.1), (n_models, 1))
    mu = np.exp(eta)
    pos = y > 0
    ylogy = float(np.sum(y[pos] * np.log(y[pos])))
    ysum = float(y.sum())
    coef = np.zeros((n_models, p))
    dev = np.full(n_models, np.inf)
    dev_old = np.full(n_models, np.inf)
    converged = np.zeros(n_models, dtype=bool)
    active = np.arange(n_models)
    diag = np.arange(p)
    outer = (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], p * p)  # X'WX = w @ outer
    on = mask.astype(float)
    keep = (on[:, :, None] * on[:, None, :]).reshape(n_models, p * p)  # used rows and columns
    for _ in range(maxit):
        if active.size == 0:
            break
        every = active.size == n_models
        m_a, e_a = (mu, eta) if every else (mu[active], eta[active])
        z = e_a + (y - m_a) / m_a
        xtwx = (m_a @ outer) * (keep if every else keep[active])
        xtwx = xtwx.reshape(-1, p, p)
        xtwx[:, diag, diag] += 1.0 - (on if every else on[active])  # unused columns: identity
        rhs = ((m_a * z) @ x) * (on if every else on[active])  # ... and coefficient 0
        try:
            c = np.linalg.solve(xtwx, rhs[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            c = np.array(
                [np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(xtwx, rhs, strict=True)]
            )
        coef[active] = c
        eta[active] = np.minimum(c @ x.T, 700.0)
        mu[active] = np.exp(eta[active])
        d = 2.0 * (ylogy - eta[active] @ y - ysum + mu[active].sum(axis=1))
        dev[active] = d
        done = np.abs(d - dev_old[active]) / (np.abs(d) + 0.1) < tol
        converged[active[done]] = True
        dev_old[active] = d
        active = active[~done]
    fisher = (mu @ outer).reshape(n_models, p, p)
    return coef, fisher, mu, np.maximum(dev, 0.0), converged
