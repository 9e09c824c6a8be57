"""Existence and identifiability of the (extended) maximum-likelihood estimate.

After dropping the terms with empty margins (see :mod:`thbmonitor.mse.loglinear`), the MLE of
the remaining model exists iff the observed margins ``t = A'y`` lie in the relative interior of
the marginal cone, i.e. iff some strictly positive table has the same margins. This is the linear
program of Fienberg & Rinaldo (2012), as coded in SparseMSE's ``checkident``::

    maximise s  subject to  A'x = t,  x_i >= s,  x >= 0,  s >= 0

and the MLE does not exist iff the optimum is s = 0. The model is identifiable iff the reduced
design matrix has full column rank. Error codes follow ``checkident``: 0 fine, 1 the MLE does not
exist, 2 not identifiable, 3 both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thbmonitor.mse.loglinear import Term, canonical, reduce_model

__all__ = ["ExistenceResult", "check_model", "has_empty_list", "lp_exists", "lp_exists_full"]

_LP_TOL = 1e-7


@dataclass(frozen=True)
class ExistenceResult:
    """Outcome of the checks for one model on one table."""

    terms: tuple[Term, ...]
    exists: bool
    identifiable: bool
    neginf_terms: tuple[Term, ...]

    @property
    def ierr(self) -> int:
        """SparseMSE ``checkident`` code: 0 ok, 1 no MLE, 2 not identifiable, 3 both."""
        return int(not self.exists) + 2 * int(not self.identifiable)

    @property
    def ok(self) -> bool:
        return self.exists and self.identifiable


def lp_exists_full(x: np.ndarray, y: np.ndarray) -> bool:
    """The Fienberg-Rinaldo LP as in SparseMSE ``checkident``: is the optimum s > 0?"""
    n_cells, n_par = x.shape
    t = x.T @ y
    c = np.zeros(n_cells + 1)
    c[-1] = -1.0
    a_eq = np.hstack([x.T, np.zeros((n_par, 1))])
    a_ub = np.hstack([-np.eye(n_cells), np.ones((n_cells, 1))])
    from scipy.optimize import linprog

    res = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(n_cells), A_eq=a_eq, b_eq=t, bounds=(0, None), method="highs"
    )
    if res.status != 0:  # infeasible cannot happen (x = y is feasible); be conservative
        return False
    return bool(-res.fun > _LP_TOL)


def lp_exists(x: np.ndarray, y: np.ndarray) -> bool:
    """Does a strictly positive table share the margins ``x'y``? (Same answer as the LP.)

    By Farkas' lemma the LP optimum is 0 iff there is a direction c with ``x c <= 0``,
    ``x c = 0`` on the cells with positive counts and ``x c != 0`` (the log-likelihood then
    keeps increasing along c; Haberman 1974, Fienberg & Rinaldo 2012). Such c lie in the null
    space of the positive cells' rows, which is small, so the LP shrinks to a few variables.
    """
    pos = y > 0
    if np.all(pos):
        return True  # y itself is a strictly positive table
    xp = x[pos]
    # the full V is needed; the full U only costs time (it is never used)
    _u, sv, vt = np.linalg.svd(xp, full_matrices=xp.shape[0] < xp.shape[1])
    tol = max(xp.shape) * np.finfo(float).eps * (sv[0] if sv.size else 1.0)
    rank = int(np.sum(sv > tol))
    null = vt[rank:].T  # (p, r) basis of directions with x c = 0 on positive cells
    if null.shape[1] == 0:
        return True
    b = x[~pos] @ null
    scale = np.abs(b).max()
    if scale <= 1e-9:
        return True  # only non-identifiable directions: the fit still exists
    b = b / scale
    if null.shape[1] == 1:
        v = b[:, 0]
        return bool((v > 1e-9).any() and (v < -1e-9).any())
    # maximise sum(-b u) subject to -1 <= b u <= 0, u free
    m = b.shape[0]
    from scipy.optimize import linprog

    res = linprog(
        b.sum(axis=0),
        A_ub=np.vstack([b, -b]),
        b_ub=np.concatenate([np.zeros(m), np.ones(m)]),
        bounds=(None, None),
        method="highs",
    )
    if res.status != 0:
        return lp_exists_full(x, y)
    return bool(res.fun > -1e-7)


def has_empty_list(full: np.ndarray, k: int) -> bool:
    """A list with no registration forces its cells to zero: the LP optimum is then s = 0."""
    codes = np.arange(1, 1 << k)
    return any(full[codes[(codes >> i) & 1 == 1]].sum() == 0 for i in range(k))


def check_model(full: np.ndarray, k: int, terms: Sequence[Term]) -> ExistenceResult:
    """Check existence (LP) and identifiability (rank) of main effects plus ``terms``."""
    cells, _finite, neginf, x = reduce_model(full, k, terms)
    y = full[cells]
    if cells.size == (1 << k) - 1 and x.shape[1] < (1 << k):
        # no cell removed: the observable cells' design has a one-dimensional kernel with no
        # zero entry (Moebius), so any non-saturated model has full column rank
        identifiable = True
    else:
        identifiable = bool(np.linalg.matrix_rank(x) == x.shape[1])
    exists = (not has_empty_list(full, k)) and lp_exists(x, y)
    return ExistenceResult(canonical(terms), exists, identifiable, neginf)
