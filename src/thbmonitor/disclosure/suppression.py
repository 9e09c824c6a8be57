"""Secondary suppression: hide complementary cells, as cheaply as possible, until the audit passes.

The heuristic follows the hypercube idea of tau-Argus GH (Repsilber; Giessing): a hidden cell
is protected by a 2^m "cube" of hidden cells, one alternative category per additive dimension,
because moving the cube's corners by +d/-d keeps every margin of the table. For each cell at
risk the cheapest cube (suppressed value, margins weighted up, times the tables' cost
weights) that gives it the required room is hidden; then the whole release is audited
jointly and cells that are still too narrow (linked tables, earlier releases) get further
cubes until the audit passes.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.table import Grid

__all__ = ["Need", "Pattern"]

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
        weight = self._key_weights()
        for g in self.grids:
            v = g.values
            nan = np.isnan(v)
            vv = np.where(nan, 0.0, v)
            self.lo.append(np.where(vv < t, np.minimum(vv, float(rules.small_lower)), t))
            self.hi.append(np.where(vv < t, t - 1.0, np.inf))
            margins = np.zeros(g.shape)
            for d, tp in enumerate(g.total_pos):
                if tp is not None:
                    sl = [slice(None)] * len(g.shape)
                    sl[d] = slice(tp, tp + 1)
                    margins[tuple(sl)] += 1
            base = vv + 1.0 if rules.cost == "value" else np.ones(g.shape)
            w = np.vectorize(lambda k: weight.get(k, 1.0), otypes=[float])(g.keys)
            self.cost.append(base * (1.0 + rules.margin_weight * margins) * w)
            frozen_mask = np.vectorize(lambda k: k in frozen, otypes=[bool])(g.keys)
            self.usable.append(~nan & (vv >= t) & ~frozen_mask)
            self.hidden.append(
                np.vectorize(lambda k: self.status[k].suppressed, otypes=[bool])(g.keys)
            )

    def _key_weights(self) -> dict[str, float]:
        """Cost factor per cell key: the largest that a table with weights gives it (a cell
        one table wants kept stays expensive in every table; tables without weights abstain)."""
        out: dict[str, float] = {}
        for g in self.grids:
            if g.weights is None:
                continue
            for k, w in zip(g.keys.ravel(), g.weights.ravel(), strict=True):
                out[str(k)] = max(out.get(str(k), 0.0), float(w))
        return out

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
        """The cost of hiding a cell (its highest cost over the tables that hold it)."""
        return max(float(self.cost[gi][idx]) for gi, idx in self.positions[key])

    def can_hide(self, key: str) -> bool:
        return all(self.usable[gi][idx] for gi, idx in self.positions[key])

    def cube(self, gi: int, idx: tuple[int, ...], need: Need) -> list[str]:
        """The keys a cheapest sufficient cube around ``idx`` in table ``gi`` would hide."""
        g = self.grids[gi]
        add = [d for d, tp in enumerate(g.total_pos) if tp is not None and g.shape[d] > 1]
        if not add:
            return []
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
        if cand.any():
            flat = np.where(cand, cost, np.inf).ravel()
            best = int(np.argmin(flat))
            if new.ravel()[best] == 0:
                return []
        else:
            grow = valid & (new > 0)
            if not grow.any():
                return []
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
        return keys

    def protect(self, key: str, need: Need) -> int:
        """Hide cubes around ``key`` in every table that holds it; returns cells newly hidden."""
        added = 0
        for gi, idx in self.positions[key]:
            for k in self.cube(gi, idx, need):
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
