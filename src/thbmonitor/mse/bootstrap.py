"""Nonparametric bootstrap with model selection repeated in every replicate, and the jackknife.

As in SparseMSE ``estimatepopulation`` (Chan, Silverman & Vincent 2021) and
MultipleSystemsEstimation ``bootstrapcal``: each replicate draws the rows' counts from a
multinomial with the observed total and the observed proportions, reselects the model and
re-estimates N. The acceleration comes from deleting one person of each distinct row.

Replicate ``i`` uses its own generator, ``SeedSequence(seed).spawn(B)[i]``, so the replicates
are identical whatever the number of worker processes.

Progress: ``run_bootstrap(..., progress=f)`` calls ``f(done, total)`` as replicates and jackknife
rows finish (total = B + rows). Callers that reach the bootstrap through
:class:`~thbmonitor.mse.estimator.MultipleSystemsEstimator` wrap the fit in
``with bootstrap_progress(f):`` instead; an explicit ``progress`` argument takes precedence.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.loglinear import Term
from thbmonitor.mse.selection import select_exhaustive, select_model

log = logging.getLogger(__name__)

__all__ = ["BootstrapResult", "Progress", "Selector", "bootstrap_progress", "run_bootstrap"]

Progress = Callable[[int, int], None]
"""A progress callback: ``f(done, total)``."""

_PROGRESS: ContextVar[Progress | None] = ContextVar("bootstrap_progress", default=None)


@contextlib.contextmanager
def bootstrap_progress(progress: Progress | None) -> Iterator[None]:
    """Report the progress of every :func:`run_bootstrap` call inside this block to
    ``progress`` (for callers that cannot pass the argument through an estimator)."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


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
    progress: Progress | None = None,
) -> BootstrapResult:
    """Bootstrap and jackknife estimates; ``n_jobs=None`` uses every core, 1 runs inline.

    ``progress(done, total)`` is called as work finishes (replicates plus jackknife rows);
    without it, the callback set by :func:`bootstrap_progress` (if any) is used.
    """
    import time

    start = time.perf_counter()
    report = progress if progress is not None else _PROGRESS.get()
    k = histories.shape[1]
    codes = histories @ (1 << np.arange(k))
    counts = np.asarray(counts, dtype=np.int64)
    seeds = np.random.SeedSequence(seed).spawn(n_boot)
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    jobs = max(1, jobs)
    rows = list(range(counts.size))
    total = n_boot + len(rows)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if report is not None:
            report(done, total)

    if report is not None:
        report(0, total)
    n_chunks = jobs * 4 if jobs > 1 else (min(n_boot, 20) if report is not None else 1)
    boot_chunks = [ch for ch in _split(seeds, n_chunks) if ch]
    n_jack = jobs if jobs > 1 else (min(len(rows), 10) if report is not None else 1)
    jack_chunks = [ch for ch in _split(rows, n_jack) if ch]
    boot_args: list[Any] = [(selector, codes, counts, k, ch) for ch in boot_chunks]
    jack_args: list[Any] = [(selector, codes, counts, k, ch) for ch in jack_chunks]
    boot_parts: list[np.ndarray] = []
    jack_parts: list[np.ndarray] = []
    if jobs == 1:
        for b_arg in boot_args:
            boot_parts.append(_boot_chunk(b_arg))
            advance(len(b_arg[4]))
        for j_arg in jack_args:
            jack_parts.append(_jack_chunk(j_arg))
            advance(len(j_arg[4]))
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for b_arg, part in zip(boot_args, pool.map(_boot_chunk, boot_args), strict=True):
                boot_parts.append(part)
                advance(len(b_arg[4]))
            for j_arg, jpart in zip(jack_args, pool.map(_jack_chunk, jack_args), strict=True):
                jack_parts.append(jpart)
                advance(len(j_arg[4]))
    boot = np.concatenate(boot_parts) if boot_parts else np.empty(0)
    jack = np.concatenate(jack_parts) if jack_parts else np.zeros(0)
    bad = int(np.sum(~np.isfinite(boot)))
    if bad:
        log.warning("%d of %d bootstrap replicates gave no estimate and are left out", bad, n_boot)
    return BootstrapResult(boot, jack, time.perf_counter() - start)
