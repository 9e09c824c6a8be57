"""The linear programs of disclosure control, solved by HiGHS through ``highspy``.

``highspy`` is the Python interface that the HiGHS authors maintain (public and versioned,
unlike the binding bundled inside scipy). One :class:`LinearProgram` holds one system
``A x = b`` with box bounds; its objective is changed between solves, and HiGHS re-solves
from the last basis (warm start), which is what makes the audit fast: every hidden cell of a
component is minimised and maximised over the same system.

Besides the optimum, a solve gives the row duals ``y`` (reduced costs ``c - A^T y``), which
the suppression optimiser turns into cuts (:mod:`thbmonitor.disclosure.optimal`).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import csr_array

from thbmonitor.errors import DisclosureError

__all__ = ["INFEASIBLE", "LinearProgram", "Solve"]

INF = math.inf
INFEASIBLE = (
    "the hidden cells of this release have no values consistent with the shown figures and "
    "the ledger (were published figures revised?); re-audit against the revised releases"
)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: HiGHS prints its banner from C once per process,
    before any option can be set (ERGO-Code/HiGHS issue 2749)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no stdout at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_BANNER_SHOWN = [False]  # the banner is printed by the first Highs object of a process


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance (no banner, no log)."""
    if _BANNER_SHOWN[0]:
        h = highspy.Highs()
    else:
        with _quiet_stdout():
            h = highspy.Highs()
        _BANNER_SHOWN[0] = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True)
class Solve:
    """One optimum: its value (-inf if unbounded), the primal point and the row duals
    (``None`` when unbounded)."""

    value: float
    x: np.ndarray | None
    duals: np.ndarray | None


class LinearProgram:
    """``min c x  s.t.  A x = b,  lower <= x <= upper`` for objectives ``c`` given per solve."""

    def __init__(self, a: csr_array, b: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        self.n = int(a.shape[1])
        self.m = int(a.shape[0])
        csc = a.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, self.m
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.asarray(lower, dtype=float)
        lp.col_upper_ = np.where(np.isinf(upper), highspy.kHighsInf, upper).astype(float)
        lp.row_lower_ = np.asarray(b, dtype=float)
        lp.row_upper_ = np.asarray(b, dtype=float)
        mat = lp.a_matrix_
        mat.format_ = highspy.MatrixFormat.kColwise
        mat.start_, mat.index_ = csc.indptr, csc.indices
        mat.value_ = csc.data.astype(float)
        mat.num_col_, mat.num_row_ = self.n, self.m
        self.highs = new_highs()
        self.highs.passModel(lp)

    def minimize(self, cost: Mapping[int, float]) -> Solve:
        """The minimum of ``sum(cost[j] * x[j])``; raises :class:`DisclosureError` if the
        system has no solution."""
        h = self.highs
        for j, v in cost.items():
            h.changeColCost(j, v)
        try:
            h.run()
            status = h.getModelStatus()
            if status not in (highspy.HighsModelStatus.kOptimal,
                              highspy.HighsModelStatus.kUnbounded,
                              highspy.HighsModelStatus.kInfeasible):  # fmt: skip
                # e.g. unbounded-or-infeasible after presolve: solve again from scratch
                h.clearSolver()
                h.setOptionValue("presolve", "off")
                h.run()
                h.setOptionValue("presolve", "choose")
                status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                raise DisclosureError(INFEASIBLE)
            if status == highspy.HighsModelStatus.kUnbounded:
                return Solve(-INF, None, None)
            if status != highspy.HighsModelStatus.kOptimal:
                raise DisclosureError(
                    f"the LP audit failed to solve ({h.modelStatusToString(status)}); "
                    "nothing is published"
                )
            sol = h.getSolution()
            value = float(h.getInfo().objective_function_value)
            return Solve(value, np.asarray(sol.col_value), np.asarray(sol.row_dual))
        finally:
            for j in cost:
                h.changeColCost(j, 0.0)
