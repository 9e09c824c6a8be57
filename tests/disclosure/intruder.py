"""An intruder's view of a release, built ONLY from the published display frames.

Independent of thbmonitor.disclosure's own audit: it re-derives cells and margin equations
from the shown tables and the legend ("<T" = 0..T-1, "x" = at least T because every 1..T-1
is shown as "<T", "–" = 0), and solves INTEGER programs (scipy.optimize.milp) for the exact
integer range of every hidden cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from thbmonitor.disclosure import ProtectedTable


def _cell(universe: str, row: dict[str, object], dims: Sequence[str], total: str) -> tuple:
    return (universe, frozenset((d, str(row[d])) for d in dims if str(row[d]) != total))


def _matrix(rows: Sequence[dict[int, float]], n: int) -> csr_array:
    data, ri, ci = [], [], []
    for i, row in enumerate(rows):
        for j, coef in row.items():
            data.append(coef)
            ri.append(i)
            ci.append(j)
    return csr_array((data, (ri, ci)), shape=(len(rows), n))  # duplicates are summed


def intruder_ranges(
    tables: Sequence[ProtectedTable],
    threshold: int = 10,
    total: str = "Total",
    small_only: bool = False,
    extra: Sequence[dict[tuple, float]] = (),
    at_least: Sequence[dict[tuple, float]] = (),
    integer: bool = True,
) -> dict[tuple, tuple[int, int, str]]:
    """Integer (min, max, marker) of every hidden cell (or only the '<T' ones), from what
    is shown only, and from ``extra`` equations the intruder knows (cell -> coefficient,
    summing to zero; a cell is (universe, frozenset of (dimension, category))) and
    ``at_least`` inequalities (cell -> coefficient, summing to at least zero)."""
    index: dict[tuple, int] = {}
    shown: dict[tuple, str] = {}
    equations: list[dict[int, float]] = []
    for t in tables:
        f = t.display_frame()
        dims = list(t.dims)
        rows = f.to_dict("records")
        for r in rows:
            c = _cell(t.table.universe, r, dims, total)
            index.setdefault(c, len(index))
            val = str(r["value"])
            if c not in shown or val.isdigit() or val == "–":
                shown[c] = val
        by_coords = {tuple(str(r[d]) for d in dims): r for r in rows}
        for k, d in enumerate(dims):
            cats = sorted({str(r[d]) for r in rows})
            if total not in cats:
                continue
            others = [sorted({str(r[e]) for r in rows}) for e in dims if e != d]
            for rest in itertools.product(*others):
                coords = [(*rest[:k], v, *rest[k:]) for v in cats]
                cells = {
                    v: _cell(t.table.universe, by_coords[c], dims, total)
                    for v, c in zip(cats, coords, strict=True)
                }
                eq: dict[int, float] = {index[cells[total]]: 1.0}
                for v in cats:
                    if v != total:
                        j = index[cells[v]]
                        eq[j] = eq.get(j, 0.0) - 1.0
                equations.append(eq)
    for eq in extra:
        equations.append({index.setdefault(c, len(index)): coef for c, coef in eq.items()})
    inequalities = [
        {index.setdefault(c, len(index)): coef for c, coef in ie.items()} for ie in at_least
    ]
    n = len(index)
    lo, hi = np.zeros(n), np.full(n, 1e6)
    for c, j in index.items():
        val = shown.get(c, "latent")
        if val.isdigit():
            lo[j] = hi[j] = int(val)
        elif val == "–":
            lo[j] = hi[j] = 0
        elif val.startswith("<"):
            hi[j] = threshold - 1
        elif val == "x":
            lo[j] = threshold
    cons = [LinearConstraint(_matrix(equations, n), 0, 0)]
    if inequalities:
        cons.append(LinearConstraint(_matrix(inequalities, n), 0, np.inf))
    out = {}
    kind = np.ones(n) if integer else np.zeros(n)
    for c, j in index.items():
        mark = shown.get(c, "latent")
        if mark.startswith("<") or (mark == "x" and not small_only):
            ends = []
            for sign in (1.0, -1.0):
                obj = np.zeros(n)
                obj[j] = sign
                res = milp(obj, constraints=cons, integrality=kind, bounds=Bounds(lo, hi))
                assert res.status == 0, res.message
                end = sign * res.fun
                # LP bounds: the integer range within them
                ends.append(
                    round(end)
                    if integer
                    else (np.ceil(end - 1e-7) if sign > 0 else np.floor(end + 1e-7))
                )
            out[c] = (int(ends[0]), int(ends[1]), mark)
    return out
