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
    keep = np.ones(1 << k, dtype=bool)
    keep[0] = False
    finite: list[Term] = []
    neginf: list[Term] = []
    for t in terms:
        col = _term_column(k, t)
        if full @ col == 0:
            neginf.append(t)
            keep &= col == 0
        else:
            finite.append(t)
    hm = history_matrix(k)
    on_list = full @ hm
    empty_lists = [i for i in range(k) if on_list[i] == 0]
    for i in empty_lists:
        keep &= hm[:, i] == 0
    cells = np.flatnonzero(keep)
    x = design(k, cells, finite)
    if empty_lists:
        x = np.delete(x, [1 + i for i in empty_lists], axis=1)
    return Reduced(terms, cells, tuple(finite), tuple(neginf), x, full[cells])


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
