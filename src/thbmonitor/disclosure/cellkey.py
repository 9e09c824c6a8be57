"""The cell-key method (CKM): each published count gets a small, bounded noise read from a key.

Every record carries a random record key, uniform on [0, 1), assigned once at ingest and stored
(:mod:`thbmonitor.ingest`). A cell's key is the sum of its records' keys modulo 1, so the same
set of records (the same cell, wherever it appears) always has the same key and so the same
noise. The noise is read from a perturbation table (Thompson, Broadfoot and Elazar, ABS 2013;
Giessing 2016 "Computational issues in the design of transition probabilities and disclosure
risk estimation for additive noise", PSD 2016; the R package ``ptable``): for an original
count ``i`` (rows ``0 .. D + 1``, larger counts use the last row) a distribution over the
noise ``j`` in ``-D .. D`` with mean 0 and variance ``V`` (at most ``V`` in a row of a small
count where more entropy lies below it), of maximum entropy, with the monotony condition of
``ptable`` (on the negative side the probability does not fall toward 0); a count never
becomes negative, and zeros stay zero. (Small counts are not blocked: a count of 1 may be
published as 0, 1 or more, which is the method's protection of small cells.)
Margins are cells of their own (perturbed with their own key), so a table need not add up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.table import CountTable, cell_key
from thbmonitor.errors import ConfigError, InputError

__all__ = ["KEY_SCALE", "PerturbationTable", "cell_keys", "perturb_table"]

# Record keys are summed as whole numbers of 2**-40 (exact in SQL and in float64 for up to
# 2**13 cells per margin), so that the same records give bit for bit the same cell key
# whichever table, and whichever order of summation, they are added up in.
KEY_SCALE = 2**40


@dataclass(frozen=True)
class PerturbationTable:
    """Transition probabilities from an original count to a published one.

    ``probabilities[i, k]`` is the probability that a cell of original count ``i`` (the last
    row stands for every larger count) gets the noise ``noise[k]``.
    """

    max_deviation: int
    variance: float
    probabilities: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))

    @property
    def noise(self) -> np.ndarray:
        return np.arange(-self.max_deviation, self.max_deviation + 1)

    @classmethod
    def build(cls, max_deviation: int = 3, variance: float = 1.0) -> PerturbationTable:
        """The maximum-entropy table with mean 0 and variance ``variance`` in every row
        but the zero row (at most ``variance`` in small rows, as the R package ``ptable``'s
        ``create_cnt_ptable(D, V, js = 0)``, whose probabilities it reproduces). Needs
        ``1 <= max_deviation`` and ``0 < variance < max_deviation``
        (a count of 1 can move down by 1 only: its largest variance with mean 0 is D)."""
        d = int(max_deviation)
        if d < 1:
            raise ConfigError("the cell-key method's maximum deviation D must be at least 1")
        if not 0 < variance < d:
            raise ConfigError(
                f"the cell-key method's variance V must lie above 0 and below D = {d}"
            )
        noise = np.arange(-d, d + 1)
        rows = d + 2
        probs = np.zeros((rows, len(noise)))
        probs[0, d] = 1.0  # zeros stay zero
        for i in range(1, rows):
            allowed = i + noise >= 0
            probs[i] = _max_entropy(noise, allowed, variance)
        return cls(d, float(variance), probs)

    def row(self, count: int) -> np.ndarray:
        return self.probabilities[min(int(count), len(self.probabilities) - 1)]

    def noise_of(self, count: int, key: float) -> int:
        """The noise of a cell with this original count and cell key (in [0, 1))."""
        cum = np.cumsum(self.row(count))
        k = int(np.searchsorted(cum, key, side="right"))
        return int(self.noise[min(k, len(self.noise) - 1)])

    def describe(self) -> pd.DataFrame:
        """The table as published: one row per original count, its noise probabilities."""
        out = pd.DataFrame(self.probabilities, columns=[f"{j:+d}" for j in self.noise])
        labels = [str(i) for i in range(len(out))]
        labels[-1] = f">={len(out) - 1}"
        out.insert(0, "count", labels)
        return out


def _max_entropy(noise: np.ndarray, allowed: np.ndarray, variance: float) -> np.ndarray:
    """The maximum-entropy distribution on the allowed noise with mean 0 and the given
    variance, under the monotony condition of the R package ``ptable`` (``mono = TRUE``):
    on the negative side the probability does not fall toward 0 (a count of 1 is not more
    likely to become 0 than to stay 1).

    Without the condition the solution is p(j) proportional to exp(a j + b j^2) (the dual of
    the maximum-entropy problem, a smooth convex function of (a, b)). Where the condition
    binds, neighbouring values share one probability: their exponents are pooled (the mean
    of a j + b j^2 over the block; the Lagrange condition of p(j) = p(j + 1)), blocks merged
    one violation at a time, as pool-adjacent-violators does."""
    j = noise[allowed].astype(float)
    if len(j) == 1:
        raise ConfigError("the perturbation table has a row with one allowed value; raise D")
    block = np.arange(len(j))  # block id per value; a block's values share one probability
    while True:
        p = _pooled(j, block, variance)
        bad = [k for k in range(len(j) - 1) if j[k] < 0 and p[k] > p[k + 1] + 1e-12]
        if not bad:
            break
        k = bad[-1]  # the violation next to zero first
        block[block == block[k]] = block[k + 1]
    out = np.zeros(len(noise))
    out[allowed] = p
    return out


def _pooled(j: np.ndarray, block: np.ndarray, variance: float) -> np.ndarray:
    ids = np.unique(block, return_inverse=True)[1]
    size = np.bincount(ids)

    def pool(x: np.ndarray) -> np.ndarray:
        return (np.bincount(ids, weights=x) / size)[ids]

    f1, f2 = pool(j), pool(j**2)

    def dual(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = x[0] * f1 + x[1] * f2
        top = z.max()
        w = np.exp(z - top)
        total = w.sum()
        q = w / total
        value = top + np.log(total) - x[1] * variance
        return float(value), np.array([q @ j, q @ j**2 - variance])

    def hess(x: np.ndarray) -> np.ndarray:
        z = x[0] * f1 + x[1] * f2
        q = np.exp(z - z.max())
        q /= q.sum()
        phi = np.vstack([f1, f2])
        mean = phi @ q
        return np.asarray((phi * q) @ phi.T - np.outer(mean, mean))

    res = minimize(
        dual, np.zeros(2), jac=True, hess=hess, method="trust-exact", options={"gtol": 1e-12}
    )
    x = res.x
    if np.abs(dual(x)[1]).max() > 1e-7 or x[1] > 0:
        # the variance is at most V (as in ptable): where the entropy is larger below V (the
        # multiplier b would be positive, or V is out of reach), only the mean is held
        one = minimize(
            lambda a: dual(np.array([a[0], 0.0]))[0] + 0.0,
            np.zeros(1),
            jac=lambda a: dual(np.array([a[0], 0.0]))[1][:1],
            method="BFGS",
            options={"gtol": 1e-12},
        )
        x = np.array([one.x[0], 0.0])
    z = x[0] * f1 + x[1] * f2
    p = np.exp(z - z.max())
    p /= p.sum()
    if not (abs(p @ j) <= 1e-6 and p @ j**2 <= variance + 1e-6):
        raise ConfigError(
            f"no perturbation with mean 0 and variance {variance} for small counts; "
            "choose a smaller variance or a larger maximum deviation"
        )
    return p


def cell_keys(table: CountTable, key_sums: pd.DataFrame) -> dict[str, float]:
    """The cell key of every cell of ``table`` (by canonical cell key): the sum of its
    records' keys modulo 1.

    ``key_sums`` has the table's dimensions and ``key_sum`` for inner cells: the sum of the
    record keys of the cell's records, in whole units of ``1 / KEY_SCALE`` (any multiple of
    ``KEY_SCALE`` may be taken off); margins are summed here like the counts."""
    dims = list(table.dims)
    missing = [c for c in [*dims, "key_sum"] if c not in key_sums.columns]
    if missing:
        raise InputError(f"table '{table.name}': key sums lack column(s) {missing}")
    grid = table.grid()
    total = table.total_label
    margins = [d for d, tp in zip(grid.dims, grid.total_pos, strict=True) if tp is not None]
    cats = {d: [c for c in grid.categories[k] if str(c) != total] for k, d in enumerate(dims)}
    sums = CountTable.from_cells(
        table.name,
        key_sums.rename(columns={"key_sum": "count"})[[*dims, "count"]],
        dims,
        margins=margins,
        categories=cats,
        universe=table.universe,
        total_label=total,
    ).frame
    return {
        cell_key(table.universe, dict(zip(dims, row[:-1], strict=True)), total): float(
            int(row[-1]) % KEY_SCALE
        )
        / KEY_SCALE
        for row in sums[[*dims, "count"]].itertuples(index=False, name=None)
    }


def perturb_table(
    table: CountTable,
    keys: Mapping[str, float],
    ptable: PerturbationTable,
    rules: DisclosureRules,
) -> pd.DataFrame:
    """The frame of a perturbed table, in the table's array order (as
    :meth:`ProtectedTable.from_status`): dimensions, ``count`` (the published, perturbed
    count), ``true_count`` (in memory only, for the information loss), ``status`` and
    ``display`` (a number, or the zero and not-available markers)."""
    grid = table.grid()
    idx = np.array(list(np.ndindex(*grid.shape)))
    out = pd.DataFrame(
        {d: [grid.categories[k][i] for i in idx[:, k]] for k, d in enumerate(grid.dims)}
    )
    published: list[int | None] = []
    true: list[int | None] = []
    for n, k in zip(grid.values.ravel(), grid.keys.ravel(), strict=True):
        if np.isnan(n):
            published.append(None)
            true.append(None)
            continue
        true.append(int(n))
        published.append(int(n) + ptable.noise_of(int(n), keys.get(str(k), 0.0)))
    out["count"] = pd.array(published, dtype="Int64")
    out["true_count"] = pd.array(true, dtype="Int64")
    status = [
        CellStatus.NOT_AVAILABLE if p is None else CellStatus.ZERO if p == 0
        else CellStatus.PUBLISHED
        for p in published
    ]  # fmt: skip
    out["status"] = [str(s) for s in status]
    out["display"] = pd.Series(
        [p if s == CellStatus.PUBLISHED else rules.marker(s) for s, p in zip(status, published,
                                                                              strict=True)],
        dtype=object,
    )  # fmt: skip
    return out


def mean_absolute_deviation(frames: Sequence[pd.DataFrame]) -> float:
    """Mean |published - true| over the cells of perturbed frames."""
    diffs = [
        (f["count"].astype("Float64") - f["true_count"].astype("Float64")).abs().dropna()
        for f in frames
    ]
    allcells = pd.concat(diffs) if diffs else pd.Series(dtype=float)
    return float(allcells.mean()) if len(allcells) else 0.0


def audit_cell_key(
    tables: Sequence[tuple[CountTable, pd.DataFrame]], ptable: PerturbationTable
) -> list[str]:
    """The audit's view of a perturbed release (tables with their perturbed frames): what is
    wrong with it, if anything. Every cell is shown (no marker but zero and not available),
    within D of its true count, a true zero stays zero, no count is negative, and the same
    cell (canonical key) has the same published value in every table."""
    problems: list[str] = []
    seen: dict[str, tuple[str, int | None]] = {}
    for table, frame in tables:
        keys = [str(k) for k in table.grid().keys.ravel()]
        for k, (p, t, s) in zip(
            keys, frame[["count", "true_count", "status"]].itertuples(index=False), strict=True
        ):
            p = None if pd.isna(p) else int(p)
            t = None if pd.isna(t) else int(t)
            where = f"table '{table.name}'"
            if s not in (CellStatus.PUBLISHED, CellStatus.ZERO, CellStatus.NOT_AVAILABLE):
                problems.append(f"{where}: a cell is hidden ({s})")
            if (p is None) != (t is None):
                problems.append(f"{where}: a cell is not available in one count only")
            elif (
                p is not None
                and t is not None
                and not (abs(p - t) <= ptable.max_deviation and p >= 0 and (t > 0 or p == 0))
            ):
                problems.append(f"{where}: a perturbation outside the table's range")
            if k in seen and seen[k][1] != p:
                problems.append(f"tables '{seen[k][0]}' and '{table.name}' show one cell apart")
            seen.setdefault(k, (table.name, p))
    return problems
