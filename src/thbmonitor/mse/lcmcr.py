"""Bayesian non-parametric latent class model for capture-recapture (R's LCMCR).

Manrique-Vallier (2016, Biometrics, "Bayesian population size estimation using Dirichlet process
mixtures"): every person belongs to one of K latent classes (a stick-breaking prior truncated at
K, concentration ``alpha ~ Gamma(a_alpha, b_alpha)``, LCMCR's ``0.25, 0.25``); within a class the
lists register independently with probabilities ``lambda[j, k] ~ Beta(1, 1)``; the prior on N is
``p(N) ~ 1/N``. Classes of different catchability (a minor in care, an undocumented worker) are
what log-linear models with list interactions capture only in part.

The Gibbs sampler is the one of LCMCR 0.4.14 (``src/NPLCM_CR_Basic_Freq.cpp``), on the table of
observed histories: per iteration, the class counts of each observed history (multinomial), the
``lambda`` (Beta, drawn in log space as LCMCR does), the stick-breaking weights, the number of
unobserved persons ``n0 ~ NegBin(n, 1 - P(unobserved))`` (redrawn above ``20 n``, as LCMCR),
their classes, then ``alpha``. Before the burn-in come LCMCR's 500 warm-up iterations (with
``alpha = 0.3 / K`` fixed) and its reordering of the classes by decreasing weight. The kernel is
compiled with numba (cached on disk after the first run).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.intervals import Interval
from thbmonitor.mse.table import CaptureTable

__all__ = ["LcmcrResult", "convergence", "fit_lcmcr"]

WARMUP = 500  # LCMCR's CNPLCM_CR_Basic_Freq::Initializes
CHUNK = 2000  # kept draws per kernel call (the progress bar's step)


def _kernels() -> tuple[Any, Any]:
    """Compile (or load from numba's cache) the sampler; imported lazily: numba is slow to load."""
    from thbmonitor.mse import _lcmcr_kernel

    return _lcmcr_kernel.initialise, _lcmcr_kernel.run


@dataclass(frozen=True)
class LcmcrResult:
    """Posterior draws of N and their summaries."""

    lists: tuple[str, ...]
    observed: int
    draws: np.ndarray  # kept draws of N, in order
    occupied: np.ndarray  # number of occupied classes per kept draw
    classes: int
    samples: int
    burnin: int
    thin: int
    seed: int
    a_alpha: float
    b_alpha: float
    level: float = 0.95
    diagnostics: dict[str, float] = field(default_factory=dict)

    @property
    def estimate(self) -> float:
        return float(np.median(self.draws))

    @property
    def hidden(self) -> float:
        return self.estimate - self.observed

    @property
    def interval(self) -> Interval:
        tail = (1.0 - self.level) / 2.0
        lo, hi = np.quantile(self.draws, [tail, 1.0 - tail])
        return Interval("posterior", self.level, float(lo), float(hi))

    @property
    def warning(self) -> str | None:
        d = self.diagnostics
        problems = []
        if d["ess"] < 100:
            problems.append(f"effective sample size of N is {d['ess']:.0f} (below 100)")
        if d["split_rhat"] > 1.05:
            problems.append(f"split R-hat of N is {d['split_rhat']:.3f} (above 1.05)")
        if not problems:
            return None
        return (
            "the sampler may not have converged: "
            + "; ".join(problems)
            + ". Run longer (--burnin, --samples, --thin)."
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``thbmonitor mse --method lcmcr --json``."""
        q = np.quantile(self.draws, [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975])
        return {
            "estimate": self.estimate,
            "observed": self.observed,
            "hidden": self.hidden,
            "method": "lcmcr",
            "model": [],
            "interval": self.interval.to_dict(),
            "models": [],
            "samples": {
                "n": len(self.draws),
                "mean": float(self.draws.mean()),
                "sd": float(self.draws.std(ddof=1)) if len(self.draws) > 1 else 0.0,
                "min": float(self.draws.min()),
                "max": float(self.draws.max()),
                "quantiles": {
                    k: float(v)
                    for k, v in zip(
                        ("2.5%", "5%", "25%", "50%", "75%", "95%", "97.5%"), q, strict=True
                    )
                },
                "occupied_classes_median": float(np.median(self.occupied)),
            },
            "convergence": {**self.diagnostics, "warning": self.warning},
            "settings": {
                "classes": self.classes,
                "samples": self.samples,
                "burnin": self.burnin,
                "thin": self.thin,
                "seed": self.seed,
                "a_alpha": self.a_alpha,
                "b_alpha": self.b_alpha,
            },
        }


def fit_lcmcr(
    table: CaptureTable,
    classes: int = 10,
    samples: int = 1000,
    burnin: int = 10000,
    thin: int = 10,
    seed: int | None = None,
    a_alpha: float = 0.25,
    b_alpha: float = 0.25,
    level: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
) -> LcmcrResult:
    """Run the latent class Gibbs sampler on a capture-history table (LCMCR's ``lcmCR`` then
    ``lcmCR_PostSampl(burnin, samples, thinning)``). ``seed=None`` draws one, reported in the
    result so that the run can be repeated."""
    if classes < 1:
        raise EstimationError("--classes (the truncation K) must be at least 1.")
    if samples < 2:
        raise EstimationError("--samples must be at least 2.")
    if burnin < 0 or thin < 1:
        raise EstimationError("--burnin cannot be negative and --thin must be at least 1.")
    if a_alpha <= 0 or b_alpha <= 0:
        raise EstimationError("a_alpha and b_alpha must be positive.")
    tab = table.collapse()
    tab.check_estimable()
    keep = tab.counts > 0
    cells = np.ascontiguousarray(tab.histories[keep], dtype=np.int64)
    freq = np.ascontiguousarray(tab.counts[keep], dtype=np.int64)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31 - 1))  # type: ignore[operator]
    initialise, run = _kernels()
    state = initialise(cells, freq, classes, a_alpha, b_alpha, WARMUP, seed)
    total_iter = burnin + samples * thin
    done = 0
    if progress:
        progress(0, total_iter)
    while done < burnin:  # burn-in in chunks, for the progress bar
        step = min(burnin - done, CHUNK * thin)
        run(cells, freq, state, step, 0, 1)
        done += step
        if progress:
            progress(done, total_iter)
    draws = np.empty(samples, dtype=np.float64)
    occupied = np.empty(samples, dtype=np.float64)
    kept = 0
    while kept < samples:
        m = min(samples - kept, CHUNK)
        n_out, k_out = run(cells, freq, state, 0, m, thin)
        draws[kept : kept + m] = n_out
        occupied[kept : kept + m] = k_out
        kept += m
        done += m * thin
        if progress:
            progress(done, total_iter)
    return LcmcrResult(
        lists=tab.lists,
        observed=tab.observed,
        draws=draws,
        occupied=occupied,
        classes=classes,
        samples=samples,
        burnin=burnin,
        thin=thin,
        seed=int(seed),
        a_alpha=a_alpha,
        b_alpha=b_alpha,
        level=level,
        diagnostics=convergence(draws),
    )


# ---------------------------------------------------------------------- diagnostics
def _autocorr(x: np.ndarray) -> np.ndarray:
    n = len(x)
    y = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(y, size)
    ac = np.fft.irfft(f * np.conj(f), size)[:n]
    return ac / ac[0] if ac[0] > 0 else np.zeros(n)


def effective_sample_size(x: np.ndarray) -> float:
    """ESS by Geyer's initial monotone sequence (as in Stan and R's mcmcse/coda family)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 4 or np.ptp(x) == 0:
        return float(n)
    rho = _autocorr(x)
    pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)  # Gamma_m = rho_2m + rho_2m+1
    positive = np.flatnonzero(pairs <= 0)
    m = positive[0] if len(positive) else len(pairs)
    gam = np.minimum.accumulate(pairs[:m])
    tau = -1.0 + 2.0 * gam.sum()
    return float(min(n / max(tau, 1e-12), n * math.log10(n)))


def _spectrum0(x: np.ndarray) -> float:
    """Variance of the mean times n: the spectral density at zero from the autocorrelations."""
    n = len(x)
    ess = effective_sample_size(x)
    return float(np.var(x, ddof=1) * n / ess) if n > 1 else 0.0


def convergence(draws: np.ndarray) -> dict[str, float]:
    """ESS, Geweke's z (first 10% against last 50%) and split R-hat of a chain of N."""
    x = np.asarray(draws, dtype=float)
    n = len(x)
    ess = effective_sample_size(x)
    a, b = x[: max(n // 10, 2)], x[-max(n // 2, 2) :]
    va = _spectrum0(a) / len(a)
    vb = _spectrum0(b) / len(b)
    geweke = (a.mean() - b.mean()) / math.sqrt(va + vb) if va + vb > 0 else 0.0
    half = n // 2
    chains = np.vstack([x[:half], x[half : 2 * half]])
    w = chains.var(axis=1, ddof=1).mean()
    bvar = half * chains.mean(axis=1).var(ddof=1)
    rhat = math.sqrt(((half - 1) / half * w + bvar / half) / w) if w > 0 else 1.0
    return {"ess": ess, "geweke_z": float(geweke), "split_rhat": float(rhat)}
