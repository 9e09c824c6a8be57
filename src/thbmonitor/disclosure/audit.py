"""The linear-programming audit of a release: what can an intruder infer of hidden cells?

All tables of a release (and the tables of earlier releases kept in a ledger) form ONE system:
every cell is a variable identified by its canonical key, every margin line an equality.
Shown counts are fixed; a hidden cell is bounded by what its marker says (``<T``: 1..T-1, or
0..T-1 when zeros can be hidden too; ``x``: at least T, because every count 1..T-1 is shown as
``<T``). Each hidden cell is minimised and maximised
with HiGHS (:mod:`thbmonitor.disclosure.lp`); the system is split into independent
components first, and a component with one equation is solved in closed form.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_array

from thbmonitor.disclosure.lp import INFEASIBLE, LinearProgram
from thbmonitor.disclosure.primary import GroupRisk, describe_key
from thbmonitor.disclosure.rules import CellStatus
from thbmonitor.disclosure.table import Grid
from thbmonitor.errors import DisclosureError

__all__ = ["AuditResult", "CellInterval", "GroupCheck"]

log = logging.getLogger(__name__)

INF = math.inf
EPS = 1e-7


@dataclass(frozen=True)
class CellInterval:
    """The integer interval an intruder can derive for one hidden cell."""

    key: str
    table: str
    status: CellStatus
    lower: float
    upper: float
    required_width: int

    @property
    def width(self) -> float:
        return self.upper - self.lower

    @property
    def exact(self) -> bool:
        """Pinned to one value although it needs protection."""
        return self.width < 1 <= self.required_width

    @property
    def ok(self) -> bool:
        return self.width >= self.required_width


@dataclass(frozen=True)
class GroupCheck:
    """Can an intruder prove that one category holds at least ``share`` of its group?"""

    risk: GroupRisk
    min_excess: float  # min over the feasible set of cell - share * total

    @property
    def ok(self) -> bool:
        return self.min_excess < -EPS


@dataclass(frozen=True)
class AuditResult:
    """Intervals of every hidden cell of a release and the group-disclosure checks."""

    intervals: tuple[CellInterval, ...]
    groups: tuple[GroupCheck, ...]
    unsafe_shown: tuple[str, ...] = ()  # keys of shown counts below the threshold

    @property
    def passed(self) -> bool:
        return (
            not self.unsafe_shown
            and all(c.ok for c in self.intervals)
            and all(g.ok for g in self.groups)
        )

    @property
    def failures(self) -> tuple[CellInterval, ...]:
        return tuple(c for c in self.intervals if not c.ok)

    @property
    def exact_disclosures(self) -> tuple[CellInterval, ...]:
        return tuple(c for c in self.intervals if c.exact)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per hidden cell: table, cell, status, lower, upper, required width, ok."""
        return pd.DataFrame(
            {
                "table": [c.table for c in self.intervals],
                "cell": [describe_key(c.key) for c in self.intervals],
                "status": [str(c.status) for c in self.intervals],
                "lower": [c.lower for c in self.intervals],
                "upper": [c.upper for c in self.intervals],
                "required_width": [c.required_width for c in self.intervals],
                "ok": [c.ok for c in self.intervals],
            }
        )

    def raise_if_disclosive(self) -> None:
        """Raise :class:`DisclosureError` unless every hidden cell is protected."""
        bad = self.failures
        groups = [g for g in self.groups if not g.ok]
        if self.unsafe_shown:
            raise DisclosureError(
                f"the release shows {len(self.unsafe_shown)} count(s) below the threshold, "
                f"e.g. {describe_key(self.unsafe_shown[0])}; nothing is published. Protect "
                "the tables with thbmonitor.disclosure.protect_release"
            )
        if not bad and not groups:
            return
        shown = "; ".join(
            f"table '{c.table}', {describe_key(c.key)}: interval width "
            f"{c.width:g} < {c.required_width}"
            for c in bad[:10]
        )
        exact = len(self.exact_disclosures)
        raise DisclosureError(
            f"the release would disclose {len(bad)} hidden cell(s) ({exact} exactly) and "
            f"{len(groups)} group(s); nothing is published. {shown}. Suppress more cells "
            "(thbmonitor.disclosure.protect_release) or collapse categories."
        )

    check = raise_if_disclosive


@dataclass
class Target:
    """A hidden cell the audit must check."""

    key: str
    table: str
    status: CellStatus
    required_width: int


class LinearSystem:
    """The additive structure of all tables, and further relations: equations over cell keys
    (each a tuple of (key, coefficient) whose weighted sum is zero)."""

    def __init__(
        self, grids: Iterable[Grid], equations: Iterable[tuple[tuple[str, float], ...]] = ()
    ) -> None:
        seen: set[tuple[tuple[str, float], ...]] = set()
        self.rows: list[tuple[tuple[str, float], ...]] = []
        self.by_key: dict[str, list[int]] = defaultdict(list)

        def add(terms: Mapping[str, float]) -> None:
            row = tuple(sorted((k, c) for k, c in terms.items() if c != 0))
            if row and row not in seen:
                seen.add(row)
                for k, _ in row:
                    self.by_key[k].append(len(self.rows))
                self.rows.append(row)

        for g in grids:
            for total, inner in g.lines():
                terms: dict[str, float] = defaultdict(float)
                terms[str(g.keys[total])] += 1.0
                for i in inner:
                    terms[str(g.keys[i])] -= 1.0
                add(terms)
        for eq in equations:
            sums: dict[str, float] = defaultdict(float)
            for k, c in eq:
                sums[k] += float(c)
            add(sums)


def solve_intervals(
    system: LinearSystem,
    bounds: Mapping[str, tuple[float, float]],
    targets: Sequence[Target],
    risks: Sequence[GroupRisk] = (),
    cache: dict[frozenset[str], dict[str, tuple[float, float]]] | None = None,
    exact: bool = True,
    only: set[str] | None = None,
) -> AuditResult:
    """Minimise and maximise every target over the system with the given bounds.

    ``bounds`` maps every key to (lower, upper); lower == upper means the value is shown.
    ``cache`` (optional) keeps the intervals of components already solved. With
    ``exact=False`` a target whose requirement is already met by feasible points seen in
    earlier solutions is not solved: its interval is then only an inner bound (enough for a
    pass/fail decision, used while searching a pattern).
    """
    if only is None:
        free = [k for k, (lo, hi) in bounds.items() if lo < hi]
    else:  # a part of the system closed under its equations (see _Auditor.component)
        free = [k for k in sorted(only) if bounds[k][0] < bounds[k][1]]
    parent = {k: k for k in free}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    rows_used: set[int] = set()
    for k in free:
        rows_used.update(system.by_key.get(k, ()))
    for r in rows_used:
        ks = [k for k, _ in system.rows[r] if k in parent]
        for k in ks[1:]:
            a, b = find(ks[0]), find(k)
            if a != b:
                parent[b] = a
    members: dict[str, list[str]] = defaultdict(list)
    for k in free:
        members[find(k)].append(k)
    comp_rows: dict[str, list[int]] = defaultdict(list)
    for r in sorted(rows_used):
        first = next(k for k, _ in system.rows[r] if k in parent)
        comp_rows[find(first)].append(r)

    wanted = {t.key for t in targets} | {k for g in risks for k in (g.cell, g.total)}
    need = {t.key: float(t.required_width) for t in targets}
    for g in risks:
        need[g.cell] = need[g.total] = INF  # group checks use exact bounds
    interval: dict[str, tuple[float, float]] = {}
    comp_of: dict[str, str] = {}
    for root, keys in members.items():
        for k in keys:
            comp_of[k] = root
        if not wanted.intersection(keys):
            continue
        sig = frozenset(keys)
        if cache is not None and sig in cache:
            interval.update(cache[sig])
            continue
        res = _solve_component(
            system, bounds, keys, comp_rows[root], wanted, None if exact else need
        )
        if cache is not None:
            cache[sig] = res
        interval.update(res)

    out = []
    for t in targets:
        lo, hi = interval.get(t.key, bounds[t.key])
        lower = math.ceil(lo - EPS)
        upper = math.floor(hi + EPS) if hi < INF else INF
        out.append(CellInterval(t.key, t.table, t.status, lower, upper, t.required_width))
    checks = []
    for g in risks:
        checks.append(GroupCheck(g, _group_excess(system, bounds, g, comp_of, comp_rows, interval)))
    return AuditResult(tuple(out), tuple(checks))


def _component_lp(
    system: LinearSystem,
    bounds: Mapping[str, tuple[float, float]],
    keys: Sequence[str],
    rows: Sequence[int],
) -> tuple[dict[str, int], csr_array, np.ndarray, np.ndarray, np.ndarray]:
    """The LP of one component: its free cells as columns, shown cells moved to the right."""
    col = {k: j for j, k in enumerate(keys)}
    data, ri, ci = [], [], []
    b = np.zeros(len(rows))
    for i, r in enumerate(rows):
        for k, c in system.rows[r]:
            j = col.get(k)
            if j is None:
                b[i] -= c * bounds[k][0]
            else:
                data.append(c)
                ri.append(i)
                ci.append(j)
    a = csr_array((data, (ri, ci)), shape=(len(rows), len(keys)))
    lo = np.array([bounds[k][0] for k in keys], dtype=float)
    hi = np.array([bounds[k][1] for k in keys], dtype=float)
    return col, a, b, lo, hi


def _solve_component(
    system: LinearSystem,
    bounds: Mapping[str, tuple[float, float]],
    keys: Sequence[str],
    rows: Sequence[int],
    wanted: set[str],
    need: Mapping[str, float] | None = None,
) -> dict[str, tuple[float, float]]:
    if not rows:
        return {k: bounds[k] for k in keys if k in wanted}
    col, a, b, lo, hi = _component_lp(system, bounds, keys, rows)
    if len(rows) == 1:
        return _single_equation(a.toarray()[0], b[0], keys, lo, hi, wanted)
    lp = LinearProgram(a, b, lo, hi)
    res: dict[str, tuple[float, float]] = {}
    # every solution is a feasible point: it widens the seen range of all variables, and a
    # variable seen at its own bound has that bound as its exact minimum (maximum)
    seen_lo = np.full(len(keys), INF)
    seen_hi = np.full(len(keys), -INF)
    for k in keys:
        if k not in wanted:
            continue
        j = col[k]
        spread = (
            math.floor(seen_hi[j] + EPS) - math.ceil(seen_lo[j] - EPS)
            if seen_hi[j] > -INF
            else -INF
        )
        if need is not None and spread >= need.get(k, INF):
            res[k] = (seen_lo[j], seen_hi[j])  # feasible points already span the need
            continue
        ends = []
        for sign in (1.0, -1.0):
            if sign > 0 and seen_lo[j] <= lo[j] + 1e-9:
                ends.append(lo[j])
                continue
            if sign < 0 and seen_hi[j] >= hi[j] - 1e-9:
                ends.append(hi[j])
                continue
            sol = lp.minimize({j: sign})
            ends.append(sign * sol.value)
            if sol.x is not None:
                np.minimum(seen_lo, sol.x, out=seen_lo)
                np.maximum(seen_hi, sol.x, out=seen_hi)
        res[k] = (ends[0], ends[1])
    return res


def _single_equation(
    coef: np.ndarray,
    rhs: float,
    keys: Sequence[str],
    lo: np.ndarray,
    hi: np.ndarray,
    wanted: set[str],
) -> dict[str, tuple[float, float]]:
    """Exact range of each variable of ``coef @ x = rhs`` with box bounds."""
    with np.errstate(invalid="ignore"):
        tlo = np.where(coef > 0, coef * lo, coef * hi)
        thi = np.where(coef > 0, coef * hi, coef * lo)
    lo_inf, hi_inf = np.isinf(tlo), np.isinf(thi)
    lo_fin, hi_fin = float(tlo[~lo_inf].sum()), float(thi[~hi_inf].sum())
    slo = -INF if lo_inf.any() else lo_fin
    shi = INF if hi_inf.any() else hi_fin
    if slo > rhs + 1e-6 or shi < rhs - 1e-6:
        raise DisclosureError(INFEASIBLE)
    res = {}
    for j, k in enumerate(keys):
        if k not in wanted:
            continue
        if coef[j] == 0:
            res[k] = (lo[j], hi[j])
            continue
        rest_lo = -INF if lo_inf.sum() - lo_inf[j] > 0 else lo_fin - (0 if lo_inf[j] else tlo[j])
        rest_hi = INF if hi_inf.sum() - hi_inf[j] > 0 else hi_fin - (0 if hi_inf[j] else thi[j])
        # coef[j] * x = rhs - rest, with rest in [rest_lo, rest_hi]
        a, b = (rhs - rest_hi) / coef[j], (rhs - rest_lo) / coef[j]
        res[k] = (max(lo[j], min(a, b)), min(hi[j], max(a, b)))
    return res


def _group_excess(
    system: LinearSystem,
    bounds: Mapping[str, tuple[float, float]],
    g: GroupRisk,
    comp_of: Mapping[str, str],
    comp_rows: Mapping[str, list[int]],
    interval: Mapping[str, tuple[float, float]],
) -> float:
    cd, ct = comp_of.get(g.cell), comp_of.get(g.total)
    if cd is not None and cd == ct:
        keys = [k for k, r in comp_of.items() if r == cd]
        col, a, b, lo, hi = _component_lp(system, bounds, keys, comp_rows[cd])
        lp = LinearProgram(a, b, lo, hi)
        return lp.minimize({col[g.cell]: 1.0, col[g.total]: -g.share}).value
    d_lo = interval.get(g.cell, bounds[g.cell])[0]
    t_hi = interval.get(g.total, bounds[g.total])[1]
    return d_lo - g.share * t_hi
