"""Secondary suppression by a heuristic, and the cost of hiding each cell.

The optimiser (:mod:`thbmonitor.disclosure.optimal`) finds the cheapest safe pattern; this
heuristic is its fallback when the time runs out. It follows the hypercube idea of tau-Argus
GH (Repsilber; Giessing): a hidden cell is protected by a 2^m "cube" of hidden cells, one
alternative category per additive dimension, because moving the cube's corners by +d/-d keeps
every margin of the table. For each cell at risk the cheapest cube (see :func:`cell_costs`)
that gives it the required room is hidden; then the whole release is audited jointly and cells
that are still too narrow (linked tables, earlier releases) get further cubes until the audit
passes.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from thbmonitor.disclosure.audit import LinearSystem
from thbmonitor.disclosure.auditor import Auditor
from thbmonitor.disclosure.primary import GroupRisk
from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.table import Grid
from thbmonitor.errors import DisclosureError

__all__ = ["Need", "Pattern", "cell_costs", "heuristic_pattern"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """What a cube must give a target: a minimum width, or a group share it must break."""

    width: int = 1
    group_total: float | None = None  # true total of the group the target dominates
    share: float = 1.0


class Pattern:
    """The suppression pattern of a release, with per-table arrays for cube search."""

    def __init__(
        self,
        grids: Sequence[Grid],
        status: dict[str, CellStatus],
        rules: DisclosureRules,
        frozen: set[str] | None = None,
    ) -> None:
        self.grids = list(grids)
        self.status = status
        self.rules = rules
        t = float(rules.threshold)
        self.positions: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.usable: list[np.ndarray] = []
        self.hidden: list[np.ndarray] = []
        frozen = frozen or set()
        for gi, g in enumerate(self.grids):
            for idx in itertools.product(*(range(n) for n in g.shape)):
                self.positions[str(g.keys[idx])].append((gi, idx))
        costs = cell_costs(self.grids, rules)
        # a cell on many lines (a margin shared by linked tables) needs a complement on each
        # of them once hidden: the greedy cubes see that only through its cost
        lines = LinearSystem(self.grids).by_key
        costs = {k: c * max(1.0, len(lines.get(k, ())) / 2) for k, c in costs.items()}
        for g in self.grids:
            v = g.values
            nan = np.isnan(v)
            vv = np.where(nan, 0.0, v)
            self.lo.append(np.where(vv < t, np.minimum(vv, float(rules.small_lower)), t))
            self.hi.append(np.where(vv < t, t - 1.0, np.inf))
            self.cost.append(np.vectorize(lambda k: costs[k], otypes=[float])(g.keys))
            frozen_mask = np.vectorize(lambda k: k in frozen, otypes=[bool])(g.keys)
            self.usable.append(~nan & (vv >= t) & ~frozen_mask)
            self.hidden.append(
                np.vectorize(lambda k: self.status[k].suppressed, otypes=[bool])(g.keys)
            )

    def hide(self, key: str, status: CellStatus = CellStatus.SECONDARY) -> bool:
        """Hide a cell everywhere it appears; False if it was hidden already."""
        if self.status[key].suppressed:
            return False
        self.status[key] = status
        for gi, idx in self.positions[key]:
            self.hidden[gi][idx] = True
        return True

    def unhide(self, key: str) -> None:
        """Show a complementary cell again."""
        self.status[key] = CellStatus.PUBLISHED
        for gi, idx in self.positions[key]:
            self.hidden[gi][idx] = False

    def key_cost(self, key: str) -> float:
        """The cost of hiding a cell (see :func:`cell_costs`)."""
        gi, idx = self.positions[key][0]
        return float(self.cost[gi][idx])

    def can_hide(self, key: str) -> bool:
        return all(self.usable[gi][idx] for gi, idx in self.positions[key])

    def cube(self, gi: int, idx: tuple[int, ...], need: Need) -> tuple[list[str], float, bool]:
        """The keys a cheapest sufficient cube around ``idx`` in table ``gi`` would newly hide,
        their cost, and whether the cube suffices (else it is the roomiest to grow from)."""
        g = self.grids[gi]
        add = [d for d, tp in enumerate(g.total_pos) if tp is not None and g.shape[d] > 1]
        if not add:
            return [], 0.0, False
        alts = [np.array([j for j in range(g.shape[d]) if j != idx[d]]) for d in add]
        signs = []
        for d, alt in zip(add, alts, strict=True):
            tp = g.total_pos[d]
            s = np.where((alt != tp) & (idx[d] != tp), -1.0, 1.0)
            shape = [1] * len(g.shape)
            shape[d] = len(alt)
            signs.append(s.reshape(shape))
        full = [len(alts[add.index(d)]) if d in add else 1 for d in range(len(g.shape))]
        up = np.full(full, np.inf)
        down = np.full(full, np.inf)
        cost = np.zeros(full)
        new = np.zeros(full)
        valid = np.ones(full, dtype=bool)
        v, lo, hi = g.values, self.lo[gi], self.hi[gi]
        hid, use, cst = self.hidden[gi], self.usable[gi], self.cost[gi]
        for pattern in itertools.product((0, 1), repeat=len(add)):
            lists: list[np.ndarray] = [np.array([i]) for i in idx]
            sign: np.ndarray | float = 1.0
            for flip, d, alt, s in zip(pattern, add, alts, signs, strict=True):
                if flip:
                    lists[d] = alt
                    sign = sign * s
            ix = np.ix_(*lists)
            cv, clo, chi, ch = v[ix], lo[ix], hi[ix], hid[ix]
            ok = ch | use[ix]
            sgn = np.broadcast_to(sign, cv.shape)
            r_up = np.where(sgn > 0, chi - cv, cv - clo)
            r_down = np.where(sgn > 0, cv - clo, chi - cv)
            up = np.minimum(up, r_up)
            down = np.minimum(down, r_down)
            valid &= ok
            cost = cost + np.where(ch, 0.0, cst[ix])
            new = new + (~ch)
        v0 = float(v[idx])
        if need.group_total is not None:
            enough = v0 - down < need.share * need.group_total - 1e-9
            enough &= up + down >= need.width
        else:
            enough = up + down >= need.width
        cand = valid & enough
        sufficient = bool(cand.any())
        if sufficient:
            flat = np.where(cand, cost, np.inf).ravel()
            best = int(np.argmin(flat))
            if new.ravel()[best] == 0:
                return [], 0.0, True
        else:
            grow = valid & (new > 0)
            if not grow.any():
                return [], 0.0, False
            room = np.where(grow, np.minimum(up + down, 1e9), -np.inf).ravel()
            top = room.max()
            flat = np.where(room >= top, cost.ravel(), np.inf)
            best = int(np.argmin(flat))
        at = np.unravel_index(best, full)
        keys = []
        for pattern in itertools.product((0, 1), repeat=len(add)):
            corner = list(idx)
            for flip, d, alt in zip(pattern, add, alts, strict=True):
                if flip:
                    corner[d] = int(alt[at[d]])
            c = tuple(corner)
            if not hid[c]:
                keys.append(str(g.keys[c]))
        return keys, float(cost.ravel()[best]), sufficient

    def protect(self, key: str, need: Need) -> int:
        """Hide cubes around ``key`` in every table that holds it; returns cells newly hidden."""
        added = 0
        for gi, idx in self.positions[key]:
            for k in self.cube(gi, idx, need)[0]:
                added += self.hide(k)
        return added

    def widen(self, key: str) -> int:
        """Fallback: hide every hideable cell on the lines through ``key``."""
        added = 0
        for gi, idx in self.positions[key]:
            g = self.grids[gi]
            for d, tp in enumerate(g.total_pos):
                if tp is None:
                    continue
                for j in range(g.shape[d]):
                    c = (*idx[:d], j, *idx[d + 1 :])
                    k = str(g.keys[c])
                    if not self.hidden[gi][c] and self.can_hide(k):
                        added += self.hide(k)
        return added


def cell_costs(grids: Sequence[Grid], rules: DisclosureRules) -> dict[str, float]:
    """The cost of hiding each cell as a complement, by cell key.

    A base by ``rules.cost`` (``"value"``: the count plus one, as tau-Argus's cost by cell
    value; ``"cells"``: 1 per cell, tau-Argus's unity; ``"log"``: ``1 + ln(1 + count)``,
    tau-Argus's lambda-transformation toward unity, so that fewer cells are hidden but a small
    one is still preferred to a large one), times ``1 + margin_weight`` per Total coordinate
    (the most over the tables that hold the cell), times the tables' cost weights (the largest
    a table with weights gives the cell: one table that wants it kept keeps it expensive).
    """
    margins: dict[str, int] = {}
    weight: dict[str, float] = {}
    value: dict[str, float] = {}
    for g in grids:
        m = np.zeros(g.shape, dtype=int)
        for d, tp in enumerate(g.total_pos):
            if tp is not None:
                sl: list[slice] = [slice(None)] * len(g.shape)
                sl[d] = slice(tp, tp + 1)
                m[tuple(sl)] += 1
        ws = g.weights.ravel() if g.weights is not None else None
        for i, (k, v, mi) in enumerate(
            zip(g.keys.ravel(), g.values.ravel(), m.ravel(), strict=True)
        ):
            key = str(k)
            margins[key] = max(margins.get(key, 0), int(mi))
            value[key] = 0.0 if np.isnan(v) else float(v)
            if ws is not None:
                weight[key] = max(weight.get(key, 0.0), float(ws[i]))
    out = {}
    for key, v in value.items():
        if rules.cost == "value":
            base = v + 1.0
        elif rules.cost == "log":
            base = 1.0 + math.log1p(v)
        else:
            base = 1.0
        out[key] = base * (1.0 + rules.margin_weight * margins[key]) * weight.get(key, 1.0)
    return out


def heuristic_pattern(
    auditor: Auditor,
    grids: Sequence[Grid],
    status: dict[str, CellStatus],
    risks: Sequence[GroupRisk],
    rules: DisclosureRules,
    unusable: set[str],
    max_rounds: int = 60,
    prune_limit: int = 60,
    start: Mapping[str, CellStatus] | None = None,
) -> dict[str, CellStatus]:
    """Hypercubes around every hidden cell, then more until the joint audit passes, then
    prune: complementary cells are shown again, the most costly first, where the audit still
    passes without them (in components of at most ``prune_limit`` hidden cells, to bound the
    time). ``unusable`` cells are never hidden. With ``start`` (a pattern that is not safe
    yet, e.g. the optimiser's last) the search grows from it instead of from cubes.
    Raises :class:`DisclosureError` if no pattern is found."""
    status = dict(start if start is not None else status)
    pattern = Pattern(grids, status, rules, frozen=unusable)
    group_need = {
        r.cell: Need(1, auditor.values[r.total], r.share)
        for r in risks
        if status[r.cell].suppressed
    }
    first = sorted((k for k, s in status.items() if s.suppressed), key=lambda k: -auditor.values[k])
    for k in first if start is None else ():
        width = auditor.required(k, status[k])
        if width > 0 or k in group_need:
            pattern.protect(k, group_need.get(k, Need(width)))
    for rnd in range(max_rounds):
        result = auditor.audit(status, risks, exact=False)
        if result.passed:
            log.info("disclosure: heuristic pattern after %d audit round(s)", rnd + 1)
            _prune(auditor, pattern, risks, prune_limit)
            return status
        added = 0
        for c in result.failures:
            a = 0
            if c.key in status:
                need = group_need.get(c.key, Need(c.required_width))
                a = pattern.protect(c.key, Need(c.required_width, need.group_total, need.share))
                a = a or pattern.widen(c.key)
            added += a or _grow(auditor, pattern, c.key)
        for g in result.groups:
            if not g.ok:
                a = pattern.protect(g.risk.cell, group_need.get(g.risk.cell, Need(1)))
                added += a or _grow(auditor, pattern, g.risk.cell)
        if added == 0:
            bad_groups = [g.risk.table for g in result.groups if not g.ok]
            where = [c.table for c in result.failures] + bad_groups
            raise DisclosureError(
                f"no safe suppression pattern found: {len(result.failures)} hidden cell(s) "
                f"and {len(bad_groups)} group(s) stay disclosed although every cell around "
                f"them that may be hidden is hidden; merge categories, e.g. in table "
                f"'{where[0]}'"
            )
    raise DisclosureError(f"no safe suppression pattern within {max_rounds} audit rounds")


def _prune(auditor: Auditor, pattern: Pattern, risks: Sequence[GroupRisk], limit: int) -> None:
    """Show again every complementary cell the pattern does not need (costliest first)."""
    secondary = [k for k, s in pattern.status.items() if s == CellStatus.SECONDARY]
    for k in sorted(secondary, key=lambda k: (-pattern.key_cost(k), k)):
        comp = auditor.component(k, pattern.status, limit)
        if len(comp) > limit:
            continue
        pattern.unhide(k)
        rest: set[str] = set()
        for n in comp - {k}:
            if n not in rest:
                rest |= auditor.component(n, pattern.status)
        if rest and not auditor.audit(pattern.status, risks, exact=False, only=rest).passed:
            pattern.hide(k)


def _grow(auditor: Auditor, pattern: Pattern, key: str) -> int:
    """Fallback: hide the cheapest shown cell (cost weights included) that shares an equation
    with the hidden cells connected to ``key`` (its component), and protect it with a cube."""
    seen, todo, cands = {key}, [key], set()
    while todo:
        k0 = todo.pop()
        for r in auditor.system.by_key.get(k0, ()):
            for k, _ in auditor.system.rows[r]:
                if k in seen:
                    continue
                s = pattern.status.get(k)
                if s is None or s.suppressed or s == CellStatus.NOT_AVAILABLE:
                    seen.add(k)
                    todo.append(k)
                elif pattern.can_hide(k):
                    cands.add(k)
    for k in sorted(cands, key=lambda k: (pattern.key_cost(k), k)):
        pattern.hide(k)
        return 1 + pattern.protect(k, Need(1))
    return 0
