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
from functools import lru_cache

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
    """A model after the extended-MLE reduction: the cells and columns actually fitted."""

    terms: tuple[Term, ...]
    cells: np.ndarray
    finite: tuple[Term, ...]
    neginf: tuple[Term, ...]
    x: np.ndarray
    y: np.ndarray


def reduce_terms(full: np.ndarray, k: int, terms: tuple[Term, ...]) -> Reduced:
    """Drop empty-margin terms and the cells containing them; ``terms`` must be canonical.

    Lists with no registration at all are handled the same way (main effect at -infinity).
    """
    margin = _superset_sums(full.tobytes(), k)  # margin[m]: people on every list of mask m
    masks = _masks(terms)
    empty = margin[masks] == 0
    empty_lists = [i for i in range(k) if margin[1 << i] == 0]
    if empty.any() or empty_lists:
        finite = tuple(t for t, e in zip(terms, empty, strict=True) if not e)
        neginf = tuple(t for t, e in zip(terms, empty, strict=True) if e)
        codes = np.arange(1 << k)
        keep = codes > 0
        for m in masks[empty]:
            keep &= (codes & m) != m
        for i in empty_lists:
            keep &= (codes >> i) & 1 == 0
        cells = np.flatnonzero(keep)
    else:  # the common case: every cell but the unobserved one
        finite, neginf, cells = terms, (), _observable(k)
    fm = masks[~empty]
    x = _main_design(k)[cells]
    if fm.size:
        x = np.hstack([x, ((cells[:, None] & fm) == fm).astype(float)])
    if empty_lists:
        x = np.delete(x, [1 + i for i in empty_lists], axis=1)
    return Reduced(terms, cells, finite, neginf, x, full[cells])


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
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogmu = np.where(y > 0, y * np.log(mu), 0.0)
    return float(np.sum(ylogmu - mu - log_factorial(y)))


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
            n_base = rs[0].x.shape[1] - len(rs[0].finite)  # intercept and main effects
            union = canonical(t for r in rs for t in r.finite)
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
                m = mask[b]
                out[i] = LoglinearFit(
                    terms=r.terms,
                    neginf_terms=r.neginf,
                    cells=cells,
                    x_design=r.x,
                    y=r.y,
                    mu=mu[b],
                    coef=coef[b, m],
                    fisher=fisher[b][np.ix_(m, m)],
                    deviance=float(dev[b]),
                    df_resid=int(cells.size - r.x.shape[1]),
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
    for _ in range(maxit):
        if active.size == 0:
            break
        m_a, e_a, off = mu[active], eta[active], ~mask[active]
        z = e_a + (y - m_a) / m_a
        xtwx = (m_a @ outer).reshape(-1, p, p)
        rhs = (m_a * z) @ x
        xtwx[off[:, :, None] | off[:, None, :]] = 0.0  # unused columns: identity, coef 0
        xtwx[:, diag, diag] = np.where(off, 1.0, xtwx[:, diag, diag])
        rhs[off] = 0.0
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
