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

from thbmonitor.disclosure import ProtectedTable


def _cell(universe: str, row: dict[str, object], dims: Sequence[str], total: str) -> tuple:
    return (universe, frozenset((d, str(row[d])) for d in dims if str(row[d]) != total))


def intruder_ranges(
    tables: Sequence[ProtectedTable],
    threshold: int = 10,
    total: str = "Total",
    small_only: bool = False,
    extra: Sequence[dict[tuple, float]] = (),
) -> dict[tuple, tuple[int, int, str]]:
    """Integer (min, max, marker) of every hidden cell (or only the '<T' ones), from what
    is shown only, and from ``extra`` equations the intruder knows (cell -> coefficient,
    summing to zero; a cell is (universe, frozenset of (dimension, category)))."""
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
        for c in eq:
            if c not in index:  # a count never published (a latent cell): only >= 0 known
                index[c] = len(index)
                shown[c] = "?"
        equations.append({index[c]: coef for c, coef in eq.items()})
    n = len(index)
    lo, hi = np.zeros(n), np.full(n, 1e6)
    for c, j in index.items():
        val = shown[c]
        if val.isdigit():
            lo[j] = hi[j] = int(val)
        elif val == "–":
            lo[j] = hi[j] = 0
        elif val.startswith("<"):
            hi[j] = threshold - 1
        elif val == "x":
            lo[j] = threshold
    a = np.zeros((len(equations), n))
    for i, eq in enumerate(equations):
        for j, coef in eq.items():
            a[i, j] = coef
    cons = LinearConstraint(a, 0, 0)
    out = {}
    for c, j in index.items():
        if shown[c].startswith("<") or (shown[c] == "x" and not small_only):
            ends = []
            for sign in (1.0, -1.0):
                obj = np.zeros(n)
                obj[j] = sign
                res = milp(obj, constraints=cons, integrality=np.ones(n), bounds=Bounds(lo, hi))
                assert res.status == 0, res.message
                ends.append(round(sign * res.fun))
            out[c] = (ends[0], ends[1], shown[c])
    return out
