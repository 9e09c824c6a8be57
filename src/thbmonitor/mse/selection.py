"""Model selection: forward stepwise by Poisson p-value, exhaustive AIC/BIC, main effects.

Stepwise follows SparseMSE ``stepwisefit`` exactly: start from main effects; for every two-list
term not yet in, the statistic is the number of people on both lists, whose null distribution is
Poisson with the mean fitted by the current model; the one-sided p-value is
``min(P(X <= n), P(X >= n))``. The term with the smallest p-value (ties: first in column order)
is added if that p-value is below ``pthresh`` and the enlarged model passes the existence and
identifiability checks (candidates that fail get p = 1). Stop when no candidate qualifies.

Exhaustive selection fits every hierarchical model whose interactions have order at most
``maxorder``, drops those failing the checks and ranks the rest by AIC or BIC.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.existence import ExistenceResult, check_model, has_empty_list, lp_exists
from thbmonitor.mse.loglinear import (
    LoglinearFit,
    Reduced,
    Term,
    canonical,
    fit_loglinear,
    fit_loglinear_many,
    reduce_terms,
    term_mask,
    term_name,
)
from thbmonitor.mse.tails import poisson_tails

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "SelectionResult",
    "StepRecord",
    "hierarchical_models",
    "model_rows",
    "models_table",
    "select_exhaustive",
    "select_main",
    "select_model",
    "select_stepwise",
    "step_terms",
]

METHODS = ("stepwise", "bic", "aic", "main")


@dataclass(frozen=True)
class SelectionResult:
    """The selected fit and every model looked at (the stepwise path or the enumeration)."""

    method: str
    fit: LoglinearFit
    candidates: tuple[tuple[LoglinearFit | None, ExistenceResult], ...]


def select_main(full: np.ndarray, k: int) -> SelectionResult:
    fit = fit_loglinear(full, k, ())
    return SelectionResult("main", fit, ((fit, ExistenceResult((), True, True, ())),))


def _pairs(k: int) -> list[Term]:
    return [(i, j) for i in range(k - 1) for j in range(i + 1, k)]


@lru_cache(maxsize=16)
def _pair_cells(k: int) -> np.ndarray:
    codes = np.arange(1 << k)
    masks = np.array([term_mask(p) for p in _pairs(k)])
    out = ((codes[:, None] & masks) == masks).astype(float)
    out.flags.writeable = False
    return out


def select_stepwise(full: np.ndarray, k: int, pthresh: float = 0.02) -> SelectionResult:
    """SparseMSE ``stepwisefit(zdat, pthresh)``."""
    if pthresh == 0:
        fit = fit_loglinear(full, k, ())
        return SelectionResult("stepwise", fit, ((fit, ExistenceResult((), True, True, ())),))
    pairs = _pairs(k)
    if pthresh >= 1:
        chk = check_model(full, k, pairs)
        if chk.ok:
            fit = fit_loglinear(full, k, pairs)
            return SelectionResult("stepwise", fit, ((fit, chk),))
    both = _pair_cells(k)  # (cells, pairs): 1 where the cell is on both lists of the pair
    nstar = full @ both
    fit = fit_loglinear(full, k, ())
    path: list[tuple[LoglinearFit | None, ExistenceResult]] = [
        (fit, ExistenceResult((), True, True, ()))
    ]
    included: list[Term] = []
    for _cycle in range(len(pairs)):
        pstar = fit.mu @ both[fit.cells]
        # R: pmin(ppois(n*, p*), ppois(n* - 1, p*, lower.tail = FALSE))
        pvals = np.minimum(*poisson_tails(nstar, pstar))
        pvals[[pairs.index(p) for p in included]] = 1.0
        chosen = None
        for j in sorted(range(len(pairs)), key=lambda j: (pvals[j], j)):
            if pvals[j] >= pthresh or pairs[j] in included:
                break
            chk = check_model(full, k, [*included, pairs[j]])
            if chk.ok:
                chosen = j
                break
        if chosen is None:
            break
        included.append(pairs[chosen])
        fit = fit_loglinear(full, k, included)
        path.append((fit, ExistenceResult(canonical(included), True, True, fit.neginf_terms)))
    return SelectionResult("stepwise", fit, tuple(path))


def check_enumerable(k: int, maxorder: int) -> None:
    """Refuse searches that cannot finish, as MultipleSystemsEstimation does: at most six
    lists, and order at most 2 for six (32,768 models; order 3 would be 3,702,013)."""
    if k > 6 or (k == 6 and maxorder > 2):
        raise EstimationError(
            f"Exhaustive AIC/BIC over hierarchical models is limited to five lists, or six lists "
            f"with maxorder 2 (got {k} lists, maxorder {maxorder}). Use method 'stepwise', or "
            "merge lists."
        )


def hierarchical_models(k: int, maxorder: int) -> list[tuple[Term, ...]]:
    """Every hierarchical set of interactions of order 2..maxorder (main effects implied)."""
    maxorder = max(1, min(maxorder, k))
    terms: list[Term] = [
        t for r in range(2, maxorder + 1) for t in itertools.combinations(range(k), r)
    ]
    index = {t: i for i, t in enumerate(terms)}
    subs = [
        [index[s] for s in itertools.combinations(t, len(t) - 1)] if len(t) > 2 else []
        for t in terms
    ]
    out: list[tuple[Term, ...]] = []
    chosen = [False] * len(terms)

    def rec(i: int) -> None:
        if i == len(terms):
            out.append(tuple(t for t, c in zip(terms, chosen, strict=True) if c))
            return
        rec(i + 1)
        if all(chosen[s] for s in subs[i]):
            chosen[i] = True
            rec(i + 1)
            chosen[i] = False

    rec(0)
    return out


class _ExistenceCache:
    """Existence (LP) and identifiability (rank) checks with reuse. Models that drop the same
    empty-margin terms are fitted on the same cells; on those cells both properties pass to
    sub-models (fewer margin constraints; fewer columns of a full-rank matrix), so a model
    contained in one already known to pass needs no LP and no rank computation."""

    def __init__(self, full: np.ndarray, k: int) -> None:
        self.full, self.k = full, k
        self.empty_list = has_empty_list(full, k)
        self.known: dict[tuple[Term, ...], list[frozenset[Term]]] = {}
        self.known_rank: dict[tuple[Term, ...], list[frozenset[Term]]] = {}

    def check(self, terms: tuple[Term, ...]) -> tuple[ExistenceResult, Reduced]:
        r = reduce_terms(self.full, self.k, terms)
        fs = frozenset(r.finite)
        ranked = self.known_rank.setdefault(r.neginf, [])
        if r.cells.size == (1 << self.k) - 1 and r.n_columns < (1 << self.k):
            # No cell removed: the cell-by-term matrix of the 2^k - 1 observable cells has a
            # one-dimensional kernel with no zero entry (Moebius), so any non-saturated model
            # has full column rank.
            identifiable = True
        elif any(fs <= other for other in ranked):
            identifiable = True
        else:
            identifiable = bool(np.linalg.matrix_rank(r.x) == r.x.shape[1])
            if identifiable:
                ranked.append(fs)
        bucket = self.known.setdefault(r.neginf, [])
        if self.empty_list:
            exists = False
        elif any(fs <= other for other in bucket):
            exists = True
        else:
            exists = lp_exists(r.x, r.y)
            if exists:
                bucket.append(fs)
        return ExistenceResult(terms, exists, identifiable, r.neginf), r


def select_exhaustive(
    full: np.ndarray,
    k: int,
    criterion: str = "bic",
    maxorder: int = 2,
    models: Sequence[tuple[Term, ...]] | None = None,
) -> SelectionResult:
    """Fit every hierarchical model (or the given ones); pick the lowest AIC or BIC."""
    if criterion not in ("aic", "bic"):
        raise EstimationError(f"Unknown criterion '{criterion}'; use 'aic' or 'bic'.")
    if models is None:
        check_enumerable(k, maxorder)
    cand = hierarchical_models(k, maxorder) if models is None else [canonical(m) for m in models]
    cand.sort(key=len, reverse=True)  # big models first: their existence covers sub-models
    cache = _ExistenceCache(full, k)
    checks = [cache.check(terms) for terms in cand]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        fits = iter(fit_loglinear_many(full, k, [red for chk, red in checks if chk.ok]))
    results: list[tuple[LoglinearFit | None, ExistenceResult]] = []
    best: LoglinearFit | None = None
    best_key: tuple[float, int, tuple[Term, ...]] | None = None
    for terms, (chk, _red) in zip(cand, checks, strict=True):
        if not chk.ok:
            results.append((None, chk))
            continue
        fit = next(fits)
        results.append((fit, chk))
        key = (fit.bic if criterion == "bic" else fit.aic, len(terms), terms)
        if best_key is None or key < best_key:
            best, best_key = fit, key
    if best is None:
        raise EstimationError("No model passes the existence and identifiability checks.")
    return SelectionResult(criterion, best, tuple(results))


def select_model(
    full: np.ndarray, k: int, method: str = "stepwise", maxorder: int = 2, pthresh: float = 0.02
) -> SelectionResult:
    if method == "stepwise":
        return select_stepwise(full, k, pthresh)
    if method in ("bic", "aic"):
        return select_exhaustive(full, k, method, maxorder)
    if method == "main":
        return select_main(full, k)
    raise EstimationError(f"Unknown method '{method}'; use one of {', '.join(METHODS)}.")


def model_rows(sel: SelectionResult, lists: Sequence[str]) -> list[dict[str, Any]]:
    """Models side by side: terms, df, deviance, AIC, BIC, estimate, check results; for
    AIC/BIC ordered by the criterion (models that failed the checks last), then by size."""
    nan = float("nan")
    known: dict[Term, str] = {}

    def name(t: Term) -> str:
        if t not in known:
            known[t] = term_name(t, lists)
        return known[t]

    rows = []
    for fit, chk in sel.candidates:
        names = [name(t) for t in chk.terms]
        rows.append(
            {
                "model": " + ".join(names) if names else "main effects",
                "terms": names,
                "n_terms": len(names),
                "df": fit.df if fit is not None else nan,
                "deviance": fit.deviance if fit is not None else nan,
                "AIC": fit.aic if fit is not None else nan,
                "BIC": fit.bic if fit is not None else nan,
                "estimate": fit.estimate if fit is not None else nan,
                "exists": chk.exists,
                "identifiable": chk.identifiable,
                "minus_infinity": [name(t) for t in chk.neginf_terms],
                "selected": fit is sel.fit,
            }
        )
    if sel.method in ("aic", "bic"):
        crit = "BIC" if sel.method == "bic" else "AIC"
        rows.sort(
            key=lambda r: (r[crit] != r[crit], r[crit] if r[crit] == r[crit] else 0.0, r["n_terms"])
        )
    return rows


def models_table(sel: SelectionResult, lists: Sequence[str]) -> pd.DataFrame:
    """:func:`model_rows` as a data frame."""
    import pandas as pd

    return pd.DataFrame(model_rows(sel, lists))


@dataclass(frozen=True)
class StepRecord:
    """One model on a ``step()`` path: its terms, the move that led to it and its criterion."""

    terms: tuple[Term, ...]
    change: str  # "start", "+ a:b" or "- a:b" (R's ``step()$anova$Step``)
    criterion: float


def step_terms(
    score: Callable[[tuple[Term, ...]], float | None],
    start: Sequence[Term],
    scope: Sequence[Term],
    lower: Sequence[Term] = (),
    name: Callable[[Term], str] = lambda t: ":".join(map(str, t)),
) -> list[StepRecord]:
    """Greedy search in both directions, as R's ``step(direction = "both")``.

    From ``start``, every term of ``scope`` not in the model may be added and every term not in
    ``lower`` may be dropped; the move with the lowest ``score`` is taken while it improves on
    the current model by more than 1e-7 (R: ``if (bAIC >= AIC + 1e-07) break``). ``score``
    returns the criterion (e.g. ``-2 logLik + k * edf``) or None for models that fail the
    existence or identifiability checks; those are skipped. Ties go to the first move in R's
    order: drops before adds, each in term order. Returns the path, the start first.
    """
    current = canonical(start)
    crit = score(current)
    if crit is None:
        raise EstimationError("The starting model fails the existence or identifiability checks.")
    path = [StepRecord(current, "start", crit)]
    floor = set(canonical(lower))
    ordered_scope = canonical(scope)
    while True:
        moves: list[tuple[str, tuple[Term, ...]]] = []
        for t in current:
            if t not in floor:
                moves.append((f"- {name(t)}", tuple(u for u in current if u != t)))
        for t in ordered_scope:
            if t not in current:
                moves.append((f"+ {name(t)}", canonical([*current, t])))
        best: tuple[float, str, tuple[Term, ...]] | None = None
        for change, terms in moves:
            value = score(terms)
            if value is not None and (best is None or value < best[0]):
                best = (value, change, terms)
        if best is None or best[0] >= crit - 1e-7:
            return path
        crit, change, current = best
        path.append(StepRecord(current, change, crit))
