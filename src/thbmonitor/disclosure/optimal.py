"""Optimal secondary suppression: the mixed-integer model of Fischetti and Salazar-González.

One binary ``y_j`` per cell that may be hidden as a complement (a shown count of at least the
threshold that no earlier release fixed and that is not a cell to keep). Minimise the cost of
the hidden cells subject to what the audit requires: every hidden cell keeps its interval
width, every dominant category stays unprovable. Each requirement is a linear program of the
intruder (the min and max of a cell over the release's linear system); by LP duality, a
requirement that fails at a pattern ``y*`` yields a linear inequality in ``y`` that every safe
pattern satisfies and ``y*`` violates (a capacity constraint: how much room each further
hidden cell would give). The master problem starts from the cheap necessary conditions (no
hidden cell alone on a line of shown cells) and is solved with HiGHS (``highspy``,
as the audit's LPs); the pattern is audited, the failures give cuts, and this repeats
until the audit passes (the pattern is then optimal for the costs) or the time runs out.

Fischetti, M. and Salazar-González, J.J. (1999) Models and algorithms for the 2-dimensional
cell suppression problem in statistical disclosure control. Mathematical Programming 84(2);
(2001) Solving the cell suppression problem on tabular data with linear constraints.
Management Science 47(7). tau-Argus's OPT method implements the same model.

The cuts, for a target cell ``t`` of the pattern ``y*``: with row duals ``u`` of the intruder's
LP ``min c x`` (``c = +-e_t``), reduced costs ``d = c - A^T u`` bound the optimum from below
for ANY bounds: ``min c x >= sum_i d_i^+ l_i - d_i^- h_i`` (weak duality; the system is
homogeneous). A candidate cell has ``l = h = a`` when shown and the bounds of an ``x`` cell when
hidden, so the bound is ``K - sum_j g_j y_j``; adding the two sides bounds the width:
``width(y) <= -K_min - K_max + sum_j G_j y_j``, which must reach the required width.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import highspy
import numpy as np
from scipy.sparse import csr_array

from thbmonitor.disclosure.audit import EPS, AuditResult, GroupCheck
from thbmonitor.disclosure.auditor import UNKNOWN, Auditor
from thbmonitor.disclosure.lp import LinearProgram, new_highs
from thbmonitor.disclosure.primary import GroupRisk
from thbmonitor.disclosure.rules import CellStatus

__all__ = ["KeyCut", "Outcome", "optimal_pattern"]

log = logging.getLogger(__name__)

TOL = 1e-7
MAX_ROUNDS = 150  # rounds of cuts (the work limit, with MAX_NODES per master MILP)
MAX_NODES = 5000
GROUP_MARGIN = 1e-5  # a dominant share must be refutable by at least this much
LOCAL_STEPS = 8  # further patterns tried per failing requirement in one round (_add_cuts)
REPAIR_ROUNDS = 6  # audits of one repair of the master's pattern (_repair)
# rounds of cuts with repair (a tied joint system: each round costs a repair too); the work
# limit stops the search before the time guard on this 2-core machine under load, so that
# the pattern (the best repaired one, if not proven optimal) is the same on any machine
REPAIR_MAX_ROUNDS = 8


@dataclass(frozen=True)
class Outcome:
    """What the optimiser found: a safe pattern (or None), and whether it is proven optimal
    or no safe pattern exists at all (some cell can only be protected by hiding a kept one)."""

    status: dict[str, CellStatus] | None
    optimal: bool
    infeasible: bool
    rounds: int
    seconds: float
    cost: float
    last: dict[str, CellStatus] | None = None  # the last (unsafe) pattern, to start from
    # stopped by the wall-clock guard rather than the work limit: the pattern may then
    # depend on the machine's speed
    timed_out: bool = False
    # the master's cuts by cell key: valid for any system that holds this one's equations
    # and more (see optimal_pattern's ``cuts``)
    cuts: tuple[KeyCut, ...] = ()


Cut = tuple[dict[int, float], float]  # sum(coef[j] * y[j]) >= rhs
KeyCut = tuple[dict[str, float], float]  # the same by cell key (y of a key: 1 if hidden)
# a requirement at a pattern (status, y): the cut it violates (None: none found), and
# whether the requirement is met there
Check = Callable[[Mapping[str, CellStatus], np.ndarray], tuple[Cut | None, bool]]


class _Master:
    """The master MILP: binary y per candidate, cost, and the cuts gathered so far."""

    def __init__(self, costs: np.ndarray) -> None:
        self.costs = costs
        self.cuts: list[Cut] = []
        self.seen: set[tuple[tuple[tuple[int, float], ...], float]] = set()

    def key_cuts(self, cand: Sequence[str]) -> tuple[KeyCut, ...]:
        return tuple(({cand[j]: c for j, c in coefs.items()}, rhs) for coefs, rhs in self.cuts)

    def add(self, cut: Cut) -> bool:
        coefs, rhs = cut
        sig = (tuple(sorted((j, round(c, 6)) for j, c in coefs.items())), round(rhs, 6))
        if sig in self.seen:
            return False
        self.seen.add(sig)
        self.cuts.append(cut)
        return True

    def solve(
        self, time_limit: float, max_nodes: int
    ) -> tuple[np.ndarray | None, bool, bool, float]:
        """(y, proven optimal, infeasible, lower bound on the cost of any safe pattern); y is
        None if nothing was found within ``max_nodes`` branch-and-bound nodes (or
        ``time_limit`` seconds, a guard)."""
        n = len(self.costs)
        if n == 0:
            infeasible = any(rhs > TOL for _, rhs in self.cuts)
            return (None if infeasible else np.zeros(0, dtype=bool)), True, infeasible, 0.0
        data, ri, ci = [], [], []
        for i, (coefs, _) in enumerate(self.cuts):
            for j, c in coefs.items():
                data.append(c)
                ri.append(i)
                ci.append(j)
        a = csr_array((data, (ri, ci)), shape=(len(self.cuts), n)).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(self.cuts)
        lp.col_cost_ = np.asarray(self.costs, dtype=float)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_ = np.array([rhs for _, rhs in self.cuts], dtype=float)
        lp.row_upper_ = np.full(len(self.cuts), highspy.kHighsInf)
        mat = lp.a_matrix_
        mat.format_ = highspy.MatrixFormat.kColwise
        mat.start_, mat.index_, mat.value_ = a.indptr, a.indices, a.data.astype(float)
        mat.num_col_, mat.num_row_ = n, len(self.cuts)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        h = new_highs()
        h.setOptionValue("time_limit", max(time_limit, 0.1))
        h.setOptionValue("mip_rel_gap", 1e-6)
        # a work limit, not a clock: the same tables give the same pattern on any machine
        h.setOptionValue("mip_max_nodes", int(max_nodes))
        h.setOptionValue("random_seed", 0)
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, True, True, math.inf
        info = h.getInfo()
        bound = float(info.mip_dual_bound)
        if info.primal_solution_status != highspy.kSolutionStatusFeasible:
            return None, False, False, bound
        y = np.round(np.asarray(h.getSolution().col_value)) > 0.5
        return y, status == highspy.HighsModelStatus.kOptimal, False, bound


def optimal_pattern(
    auditor: Auditor,
    status: Mapping[str, CellStatus],
    risks: Sequence[GroupRisk],
    costs: Mapping[str, float],
    time_limit: float,
    max_rounds: int | None = None,
    max_nodes: int | None = None,
    cuts: Sequence[KeyCut] = (),
    repair: bool = False,
) -> Outcome:
    """The cheapest safe pattern for the candidates in ``costs`` (keys that may be hidden
    as complements, with the cost of hiding each), within a work limit: ``max_rounds``
    rounds of cuts, each master MILP solved within ``max_nodes`` branch-and-bound nodes
    (default :data:`MAX_ROUNDS`, with ``repair`` :data:`REPAIR_MAX_ROUNDS`; :data:`MAX_NODES`).
    The work limit makes the search reproducible (same tables, same pattern, on any
    machine); ``time_limit`` seconds is a guard against a slow machine only, and an outcome
    stopped by it says so (``timed_out``).

    ``cuts``: cuts found on a part of this system (tables without the relations that tie
    them to others, see :func:`thbmonitor.disclosure.release.protect_release`), to start
    from. They hold here: adding equations and cells to an intruder's system only narrows
    the intervals of the part's cells, so whatever the part's audit requires the whole's
    requires too. A cell that may not be hidden here counts as shown (y = 0).
    The outcome gives the master's cuts in the same form (``Outcome.cuts``).

    ``repair``: each round, also grow the master's pattern into a safe one (see
    :func:`_repair`; its cuts join the master). The cheapest safe pattern so found is
    returned when the master proves that none is cheaper (then optimal) or when the work
    limit or the time guard stops the search (then not proven optimal): on a large joint
    system the master may need more rounds than the guard allows."""
    start = time.monotonic()
    if max_rounds is None:
        max_rounds = REPAIR_MAX_ROUNDS if repair else MAX_ROUNDS
    max_nodes = MAX_NODES if max_nodes is None else max_nodes
    cand = sorted(costs)
    index = {k: j for j, k in enumerate(cand)}
    master = _Master(np.array([costs[k] for k in cand], dtype=float))
    base = dict(status)
    infeasible = _necessary(auditor, base, risks, index, master)
    for coefs, rhs in cuts:
        mapped = {index[k]: c for k, c in coefs.items() if k in index}
        if rhs > TOL and sum(c for c in mapped.values() if c > 0) < rhs - 1e-6:
            infeasible = True  # the part has no safe pattern with the cells allowed here
        master.add((mapped, rhs))
    if infeasible:
        return Outcome(None, False, True, 0, time.monotonic() - start, math.inf)
    rounds = 0
    last: dict[str, CellStatus] | None = None
    best: tuple[dict[str, CellStatus], float] | None = None
    timed_out = False
    while rounds < max_rounds:
        rounds += 1
        left = time_limit - (time.monotonic() - start)
        if left <= 0:
            timed_out = True
            break
        y, proven, none_exists, bound = master.solve(left, max_nodes)
        timed_out = time.monotonic() - start >= time_limit
        if none_exists:
            return Outcome(None, False, True, rounds, time.monotonic() - start, math.inf)
        if y is None:
            break
        trial = dict(base)
        for k in (cand[j] for j in np.flatnonzero(y)):
            trial[k] = CellStatus.SECONDARY
        last = trial
        result = auditor.audit(trial, risks, exact=False)
        if result.passed:
            cost = float(master.costs[y].sum())
            seconds = time.monotonic() - start
            log.info(
                "disclosure: optimal pattern after %d round(s), %.1f s, %d cut(s), cost %.1f%s",
                rounds, seconds, len(master.cuts), cost, "" if proven else " (not proven)",
            )  # fmt: skip
            return Outcome(
                trial, proven, False, rounds, seconds, cost, None, timed_out,
                master.key_cuts(cand),
            )  # fmt: skip
        added, grown = _add_cuts(auditor, trial, risks, result, index, y, master)
        log.debug("disclosure: optimiser round %d: %d cut(s) added", rounds, added)
        if repair:
            found = _repair(auditor, trial, risks, result, index, y, master, grown)
            if found is not None and (best is None or found[1] < best[1] - 1e-9):
                best = found
                log.debug("disclosure: round %d: a safe pattern of cost %.1f", rounds, found[1])
            if best is not None and bound >= best[1] - 1e-6 * max(1.0, best[1]):
                seconds = time.monotonic() - start
                log.info(
                    "disclosure: optimal pattern (repaired) after %d round(s), %.1f s, cost %.1f",
                    rounds, seconds, best[1],
                )  # fmt: skip
                return Outcome(best[0], True, False, rounds, seconds, best[1], None, timed_out,
                               master.key_cuts(cand))  # fmt: skip
        if added == 0:  # pragma: no cover - every failure yields a cut or a no-good
            break
    if best is not None:
        seconds = time.monotonic() - start
        log.info(
            "disclosure: safe pattern by repair after %d round(s), %.1f s, cost %.1f (the master's "
            "bound: %.1f)", rounds, seconds, best[1], bound,
        )  # fmt: skip
        return Outcome(best[0], False, False, rounds, seconds, best[1], None, timed_out,
                       master.key_cuts(cand))  # fmt: skip
    log.info("disclosure: optimiser stopped after %d round(s) without a safe pattern", rounds)
    if timed_out:
        log.warning(
            "disclosure: the optimiser hit its time limit (%.0f s) before its work limit; the "
            "pattern may differ on a faster machine (raise disclosure_time_limit)",
            time_limit,
        )
    return Outcome(None, False, False, rounds, time.monotonic() - start, math.inf, last,
                   timed_out, master.key_cuts(cand))  # fmt: skip


def _fixed_free(auditor: Auditor, status: Mapping[str, CellStatus], key: str) -> bool:
    """Whether a cell is free (not pinned) whatever the pattern: hidden or unknown now, or a
    cell of an earlier release that this one does not show."""
    s = status.get(key)
    if s is None:
        lo, hi = auditor.bounds(key, None)
        return lo < hi
    return s in UNKNOWN


def _necessary(
    auditor: Auditor,
    status: Mapping[str, CellStatus],
    risks: Sequence[GroupRisk],
    index: Mapping[str, int],
    master: _Master,
) -> bool:
    """The cheap necessary conditions: a hidden cell needing width is not the only free cell
    of any of its lines, and neither is a complementary cell. True if some primary cell sits
    on a line where no other cell can be hidden (no safe pattern exists)."""
    system = auditor.system
    targets = {
        k
        for k, s in status.items()
        if s in (CellStatus.PRIMARY, CellStatus.GROUP) and auditor.required(k, s) > 0
    }
    targets |= {r.cell for r in risks}
    for key in sorted(targets):
        for r in system.by_key.get(key, ()):
            others = [k for k, _ in system.rows[r] if k != key]
            if any(_fixed_free(auditor, status, k) for k in others):
                continue
            coefs = {index[k]: 1.0 for k in others if k in index}
            if not coefs:
                return True
            master.add((coefs, 1.0))
    for key, j in index.items():
        for r in system.by_key.get(key, ()):
            others = [k for k, _ in system.rows[r] if k != key]
            if any(_fixed_free(auditor, status, k) for k in others):
                continue
            coefs = {index[k]: 1.0 for k in others if k in index}
            coefs[j] = -1.0
            master.add((coefs, 0.0))
    return False


def _add_cuts(
    auditor: Auditor,
    status: Mapping[str, CellStatus],
    risks: Sequence[GroupRisk],
    result: AuditResult,
    index: Mapping[str, int],
    y: np.ndarray,
    master: _Master,
) -> tuple[int, set[int]]:
    """Cuts for every failing requirement of the pattern ``y``; for each, also the cuts at up
    to :data:`LOCAL_STEPS` patterns that the master would likely try next (``y`` plus the
    cheapest cell each cut offers, in turn), until the requirement is met there. One LP of
    the failing cell's region per step, instead of a master MILP and a whole audit per round:
    the cuts of the joint system's ties converge in far fewer rounds. Every cut holds
    wherever it was found (a cut is valid for every pattern). Returns the cuts added and the
    cells those steps hid (candidates' indices)."""
    cand = {j: k for k, j in index.items()}
    checks: list[tuple[list[str], Check]] = [
        ([c.key], partial(_width_check, auditor, c.key, c.required_width, index))
        for c in result.failures
    ]
    checks += [
        ([g.risk.cell, g.risk.total], partial(_group_check, auditor, g, index))
        for g in result.groups
        if not g.ok
    ]
    added = 0
    grown: set[int] = set()
    for keys, check in checks:
        trial, yy = status, y
        for step in range(LOCAL_STEPS + 1):
            cut, met = check(trial, yy)
            if step == 0 and cut is None:  # the LP width suffices, the integer one does not
                cut = _no_good(auditor, status, keys, index, y)
            elif met or cut is None:
                break
            added += _add_cut(master, cut)
            j = _cheapest(cut, yy, master.costs)
            if j is None:
                break
            yy = yy.copy()
            yy[j] = True
            grown.add(j)
            trial = {**trial, cand[j]: CellStatus.SECONDARY}
    return added, grown


def _repair(
    auditor: Auditor,
    status: Mapping[str, CellStatus],
    risks: Sequence[GroupRisk],
    result: AuditResult,
    index: Mapping[str, int],
    y: np.ndarray,
    master: _Master,
    grown: set[int],
) -> tuple[dict[str, CellStatus], float] | None:
    """A safe pattern grown from the master's ``y``: hide the cells that the cuts' local
    steps hid (``grown``), audit the whole, and repeat on what still fails (at most
    :data:`REPAIR_ROUNDS` times). Greedy, so not optimal; the master's later rounds may find
    a cheaper one. Returns (pattern, cost) or None."""
    cand = {j: k for k, j in index.items()}
    trial, yy = dict(status), y.copy()
    for _ in range(REPAIR_ROUNDS):
        if not grown - set(np.flatnonzero(yy)):
            return None
        for j in grown:
            yy[j] = True
            trial[cand[j]] = CellStatus.SECONDARY
        result = auditor.audit(trial, risks, exact=False)
        if result.passed:
            return trial, float(master.costs[yy].sum())
        _, grown = _add_cuts(auditor, trial, risks, result, index, yy, master)
    return None


def _add_cut(master: _Master, cut: Cut) -> int:
    added = master.add(cut)
    card = _cardinality(cut)
    if card is not None:
        master.add(card)
    return added


def _cheapest(cut: Cut, y: np.ndarray, costs: np.ndarray) -> int | None:
    """The shown cell that buys the most of a cut per unit of cost."""
    coefs, rhs = cut
    need = rhs if rhs > 0 else -min(coefs.values())
    best, score = None, math.inf
    for j, c in coefs.items():
        if c > 0 and not y[j] and costs[j] / min(c, need) < score:
            best, score = j, costs[j] / min(c, need)
    return best


def _cardinality(cut: Cut) -> Cut | None:
    """The count implied by a capacity cut: if no k-1 of its coefficients reach the
    right-hand side, at least k of its cells must be hidden (valid for 0/1 y; it tightens
    the LP relaxation of the master a lot)."""
    coefs, rhs = cut
    own = [j for j, c in coefs.items() if c < 0]
    need = rhs if not own else -coefs[own[0]]
    pos = sorted((c for c in coefs.values() if c > 0), reverse=True)
    k = int(np.searchsorted(np.cumsum(pos), need - 1e-9)) + 1 if pos else 0
    if k < 2 or k > len(pos):
        return None
    card = {j: 1.0 for j, c in coefs.items() if c > 0}
    if own:
        card[own[0]] = -float(k)
        return card, 0.0
    return card, float(k)


def _region(auditor: Auditor, status: Mapping[str, CellStatus], keys: Sequence[str]) -> list[int]:
    """The rows of the system that touch the free cells connected to ``keys``."""
    comp: set[str] = set()
    for k in keys:
        if k not in comp:
            comp |= auditor.component(k, status)
    rows: set[int] = set()
    for k in comp:
        if _fixed_free(auditor, status, k) or k in keys:
            rows.update(auditor.system.by_key.get(k, ()))
    return sorted(rows)


class _Dual:
    """The intruder's LP over a region, and the dual bound of ``min c x`` as a function of y."""

    def __init__(
        self,
        auditor: Auditor,
        status: Mapping[str, CellStatus],
        rows: Sequence[int],
        extra: Sequence[str],
        index: Mapping[str, int],
    ) -> None:
        system = auditor.system
        keys = sorted({k for r in rows for k, _ in system.rows[r]} | set(extra))
        self.col = {k: j for j, k in enumerate(keys)}
        data, ri, ci = [], [], []
        for i, r in enumerate(rows):
            for k, c in system.rows[r]:
                data.append(c)
                ri.append(i)
                ci.append(self.col[k])
        self.a = csr_array((data, (ri, ci)), shape=(len(rows), len(keys)))
        self.lo = np.empty(len(keys))
        self.hi = np.empty(len(keys))
        # per column: bounds when shown and when hidden, for the candidates
        self.cand = np.full(len(keys), -1)
        self.shown_lo = np.empty(len(keys))
        self.shown_hi = np.empty(len(keys))
        self.hid_lo = np.empty(len(keys))
        self.hid_hi = np.empty(len(keys))
        for k, j in self.col.items():
            self.lo[j], self.hi[j] = auditor.bounds(k, status.get(k))
            if k in index:
                self.cand[j] = index[k]
                self.shown_lo[j], self.shown_hi[j] = auditor.bounds(k, CellStatus.PUBLISHED)
                self.hid_lo[j], self.hid_hi[j] = auditor.bounds(k, CellStatus.SECONDARY)
        self.lp = LinearProgram(self.a, np.zeros(len(rows)), self.lo, self.hi)

    def bound(self, cost: Mapping[str, float]) -> tuple[float, dict[int, float], float] | None:
        """(K, g, m): ``min c x >= K - sum_j g[j] y[j]`` for every pattern, and ``m`` the
        minimum at this pattern; None if unbounded."""
        c = np.zeros(len(self.col))
        for k, v in cost.items():
            c[self.col[k]] = v
        sol = self.lp.minimize({self.col[k]: v for k, v in cost.items()})
        if sol.duals is None:
            return None
        d = c - self.a.T @ sol.duals
        dp, dm = np.maximum(d, 0.0), np.maximum(-d, 0.0)
        dp[dp < TOL] = 0.0
        dm[dm < TOL] = 0.0
        k_const = 0.0
        g: dict[int, float] = {}
        for j in range(len(d)):
            if dp[j] == 0.0 and dm[j] == 0.0:
                continue
            if self.cand[j] >= 0:
                k_const += dp[j] * self.shown_lo[j] - dm[j] * self.shown_hi[j]
                gain = dp[j] * (self.shown_lo[j] - self.hid_lo[j]) if dp[j] else 0.0
                if dm[j]:
                    gain += dm[j] * (self.hid_hi[j] - self.shown_hi[j])  # inf: no upper bound
                if gain > TOL:
                    g[int(self.cand[j])] = gain
            else:
                lo, hi = self.lo[j], self.hi[j]
                k_const += (dp[j] * lo if dp[j] else 0.0) - (dm[j] * hi if dm[j] else 0.0)
        return k_const, g, sol.value


def _finish(g: Mapping[int, float], rhs: float, own: int | None, y: np.ndarray) -> Cut | None:
    """``sum g y >= rhs`` (when ``y[own]`` = 1 if own is given), with coefficients capped at
    the right-hand side; None if it holds at ``y``."""
    if rhs <= TOL:
        return None
    coefs = {j: min(v, rhs) for j, v in g.items() if j != own and not math.isnan(v)}
    if sum(v for j, v in coefs.items() if y[j]) >= rhs - 1e-6:
        return None
    if own is not None:
        coefs[own] = -rhs
        return coefs, 0.0
    return coefs, rhs


def _no_good(
    auditor: Auditor, status: Mapping[str, CellStatus], keys: Sequence[str],
    index: Mapping[str, int], y: np.ndarray,
) -> Cut:  # fmt: skip
    """Hide at least one more candidate next to the failing cells: showing fewer cells never
    widens an interval, and hiding cells elsewhere leaves this part of the system unchanged."""
    rows = _region(auditor, status, keys)
    near = {index[k] for r in rows for k, _ in auditor.system.rows[r] if k in index}
    return {j: 1.0 for j in near if not y[j]}, 1.0


def _width_check(
    auditor: Auditor,
    key: str,
    required: int,
    index: Mapping[str, int],
    status: Mapping[str, CellStatus],
    y: np.ndarray,
) -> tuple[Cut | None, bool]:
    """(cut, met) for the width a hidden cell needs at the pattern ``y`` (``status``): met if
    its integer interval is wide enough; else the capacity cut that ``y`` violates, or None
    if the LP width suffices but the integer width does not (or no dual bound exists)."""
    dual = _Dual(auditor, status, _region(auditor, status, [key]), [key], index)
    low = dual.bound({key: 1.0})
    high = dual.bound({key: -1.0})
    if low is not None and high is not None:
        lower, upper = math.ceil(low[2] - EPS), math.floor(-high[2] + EPS)
        if upper - lower >= required:
            return None, True
        g = {j: low[1].get(j, 0.0) + high[1].get(j, 0.0) for j in {*low[1], *high[1]}}
        own = index.get(key) if status.get(key) == CellStatus.SECONDARY else None
        rhs = required + low[0] + high[0]
        if own is not None:
            rhs -= g.get(own, 0.0)
        return _finish(g, rhs, own, y), False
    return None, low is None or high is None  # unbounded: no upper bound, wide enough


def _group_check(
    auditor: Auditor,
    check: GroupCheck,
    index: Mapping[str, int],
    status: Mapping[str, CellStatus],
    y: np.ndarray,
) -> tuple[Cut | None, bool]:
    """(cut, met) for a dominant category at the pattern ``y``, as :func:`_width_check`."""
    r = check.risk
    keys = [r.cell, r.total]
    dual = _Dual(auditor, status, _region(auditor, status, keys), keys, index)
    low = dual.bound({r.cell: 1.0, r.total: -r.share})
    if low is None:
        return None, True  # unbounded below: the share is refuted
    if low[2] < -EPS:
        return None, True
    return _finish(low[1], low[0] + GROUP_MARGIN, None, y), False
