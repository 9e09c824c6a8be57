"""Nonparametric bootstrap with model selection repeated in every replicate, and the jackknife.

As in SparseMSE ``estimatepopulation`` (Chan, Silverman & Vincent 2021) and
MultipleSystemsEstimation ``bootstrapcal``: each replicate draws the rows' counts from a
multinomial with the observed total and the observed proportions, reselects the model and
re-estimates N. The acceleration comes from deleting one person of each distinct row.

Replicate ``i`` uses its own generator, ``SeedSequence(seed).spawn(B)[i]``, so the replicates
are identical whatever the number of worker processes.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.loglinear import Term
from thbmonitor.mse.selection import select_exhaustive, select_model

log = logging.getLogger(__name__)

__all__ = ["BootstrapResult", "Selector", "run_bootstrap"]


@dataclass(frozen=True)
class Selector:
    """How a table is turned into one estimate: the selection method and its options.

    ``models`` restricts exhaustive AIC/BIC to a candidate set (the top models on the original
    data, as MultipleSystemsEstimation's ``ntopmodels``).
    """

    method: str = "stepwise"
    maxorder: int = 2
    pthresh: float = 0.02
    models: tuple[tuple[Term, ...], ...] | None = None

    def estimate(self, full: np.ndarray, k: int) -> float:
        try:
            if self.models is not None and self.method in ("aic", "bic"):
                return select_exhaustive(full, k, self.method, models=self.models).fit.estimate
            return select_model(full, k, self.method, self.maxorder, self.pthresh).fit.estimate
        except EstimationError:
            return float("nan")


@dataclass(frozen=True)
class BootstrapResult:
    replicates: np.ndarray  # one estimate per replicate (nan if no model could be fitted)
    jackknife: np.ndarray  # delete-one estimate per row of the table (0 for empty rows)
    seconds: float


def _full(codes: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(1 << k)
    np.add.at(out, codes, counts.astype(float))
    return out


def _boot_chunk(
    args: tuple[Selector, np.ndarray, np.ndarray, int, list[np.random.SeedSequence]],
) -> np.ndarray:
    selector, codes, counts, k, seeds = args
    n = int(counts.sum())
    p = counts / n
    out = np.empty(len(seeds))
    for i, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        draw = rng.multinomial(n, p)
        out[i] = selector.estimate(_full(codes, draw, k), k)
    return out


def _jack_chunk(args: tuple[Selector, np.ndarray, np.ndarray, int, list[int]]) -> np.ndarray:
    selector, codes, counts, k, rows = args
    out = np.zeros(len(rows))
    for i, j in enumerate(rows):
        if counts[j] > 0:
            c = counts.copy()
            c[j] -= 1
            out[i] = selector.estimate(_full(codes, c, k), k)
    return out


def _split(items: Sequence[object], parts: int) -> list[list[object]]:
    parts = max(1, min(parts, len(items)))
    bounds = np.linspace(0, len(items), parts + 1).astype(int)
    return [list(items[a:b]) for a, b in itertools.pairwise(bounds)]


def run_bootstrap(
    histories: np.ndarray,
    counts: np.ndarray,
    selector: Selector,
    n_boot: int,
    seed: int | None,
    n_jobs: int | None = None,
) -> BootstrapResult:
    """Bootstrap and jackknife estimates; ``n_jobs=None`` uses every core, 1 runs inline."""
    import time

    start = time.perf_counter()
    k = histories.shape[1]
    codes = histories @ (1 << np.arange(k))
    counts = np.asarray(counts, dtype=np.int64)
    seeds = np.random.SeedSequence(seed).spawn(n_boot)
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    jobs = max(1, jobs)
    rows = list(range(counts.size))
    if jobs == 1:
        boot = _boot_chunk((selector, codes, counts, k, seeds))
        jack = _jack_chunk((selector, codes, counts, k, rows))
    else:
        n_chunks = jobs * 4
        boot_args = [(selector, codes, counts, k, ch) for ch in _split(seeds, n_chunks)]
        jack_args = [(selector, codes, counts, k, ch) for ch in _split(rows, jobs)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            boot_parts = list(pool.map(_boot_chunk, boot_args))
            jack_parts = list(pool.map(_jack_chunk, jack_args))
        boot = np.concatenate(boot_parts)
        jack = np.concatenate(jack_parts)
    bad = int(np.sum(~np.isfinite(boot)))
    if bad:
        log.warning("%d of %d bootstrap replicates gave no estimate and are left out", bad, n_boot)
    return BootstrapResult(boot, jack, time.perf_counter() - start)
