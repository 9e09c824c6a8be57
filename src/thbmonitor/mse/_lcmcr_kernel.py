"""The compiled Gibbs sampler of :mod:`thbmonitor.mse.lcmcr` (LCMCR 0.4.14's
``CNPLCM_CR_Basic_Freq``, step for step). Imported only when the latent class model runs.

State (arrays, updated in place): ``log_lam[j, k, x]`` = log P(list j = x | class k) and
``lam`` the same in linear scale; ``log_nu[k]`` log class weights; ``cz[m, k]`` observed persons
of history m in class k; ``c0[k]`` unobserved persons in class k; ``par = [alpha, a_alpha,
b_alpha]``; ``ipar = [n0]``. The random numbers come from a ``numpy.random.Generator`` (PCG64,
seeded by :func:`initialise`) that the state carries between calls: its ziggurat gamma is about
2.5 times as fast in numba as the legacy ``np.random.gamma`` (Marsaglia-Tsang on a polar normal).

Same draws as LCMCR, fewer transcendental functions: ``lambda ~ Beta(1 + ones, 1 + zeros)`` is
drawn as ``G1 / (G1 + G2)`` from two gammas whose shapes are at least 1 (no underflow, so no log
space); the class probabilities of the observed histories are products in linear scale (falling
back to log space for a history whose every class product underflows). The stick-breaking
weights, whose gamma shapes go below 1 once the classes are empty, stay in log space as LCMCR's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TINY = 1e-280  # below this the linear-scale class weights of a history are redone in log space


@njit(cache=True)
def _log_gamma(rng, a: float) -> float:
    """log of a Gamma(a, 1) variate, safe for small shapes (LCMCR's ``dan_log_gamma_1``)."""
    if a < 1.0:
        return math.log(rng.standard_gamma(a + 1.0)) + math.log(rng.random()) / a
    return math.log(rng.standard_gamma(a))


@njit(cache=True)
def _log_sum(a: float, b: float) -> float:
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True)
def _multinomial(rng, n: int, w: np.ndarray, out: np.ndarray) -> None:
    """Multinomial(n, w / sum(w)) into out, by conditional binomials."""
    total = 0.0
    for k in range(w.shape[0]):
        total += w[k]
    left = n
    for k in range(w.shape[0]):
        if left == 0 or total <= 0.0:
            out[k] = 0
            continue
        p = w[k] / total
        if p >= 1.0:
            x = left
        elif p <= 0.0:
            x = 0
        else:
            x = rng.binomial(left, p)
        out[k] = x
        left -= x
        total -= w[k]
    if left > 0:  # rounding left mass: give it to the last class with weight
        for k in range(w.shape[0] - 1, -1, -1):
            if w[k] > 0.0:
                out[k] += left
                break


@njit(cache=True)
def _sweep(
    rng, cells, freq, log_lam, lam, log_nu, nu, cz, c0, par, ipar, w, aux, count_k, update_alpha
):
    m_cells, n_lists = cells.shape
    k_cls = log_nu.shape[0]
    n = 0
    for m in range(m_cells):
        n += freq[m]
    # 1. classes of the observed persons, per history: nu[k] prod_j lambda[j, k, x_mj]
    for k in range(k_cls):
        nu[k] = math.exp(log_nu[k])
    for m in range(m_cells):
        total = 0.0
        for k in range(k_cls):
            p = nu[k]
            for j in range(n_lists):
                p *= lam[j, k, cells[m, j]]
            w[k] = p
            total += p
        if total < TINY:  # every class product underflowed: the same weights in log space
            top = -np.inf
            for k in range(k_cls):
                lp = log_nu[k]
                for j in range(n_lists):
                    lp += log_lam[j, k, cells[m, j]]
                w[k] = lp
                if lp > top:
                    top = lp
            for k in range(k_cls):
                w[k] = math.exp(w[k] - top)
        _multinomial(rng, freq[m], w, cz[m])
    # 2. lambda | classes (observed + unobserved), Beta(1 + ones, 1 + zeros) = G1 / (G1 + G2)
    aux[:] = 0
    for m in range(m_cells):
        for k in range(k_cls):
            c = cz[m, k]
            if c:
                for j in range(n_lists):
                    aux[j, k, cells[m, j]] += c
    for j in range(n_lists):
        for k in range(k_cls):
            aux[j, k, 0] += c0[k]
            g1 = rng.standard_gamma(1.0 + aux[j, k, 1])
            g0 = rng.standard_gamma(1.0 + aux[j, k, 0])
            s = g1 + g0
            lam[j, k, 1] = g1 / s
            lam[j, k, 0] = g0 / s
            log_lam[j, k, 1] = math.log(lam[j, k, 1])
            log_lam[j, k, 0] = math.log(lam[j, k, 0])
    # 3. stick-breaking weights
    for k in range(k_cls):
        count_k[k] = c0[k]
        for m in range(m_cells):
            count_k[k] += cz[m, k]
    occupied = 0
    for k in range(k_cls):
        if count_k[k] > 0:
            occupied += 1
    acc = 0
    lacc = 0.0
    alpha = par[0]
    n0 = ipar[0]
    for k in range(k_cls - 1):
        acc += count_k[k]
        g1 = _log_gamma(rng, 1.0 + count_k[k])
        g2 = _log_gamma(rng, alpha + (n0 + n - acc))
        gs = _log_sum(g1, g2)
        log_nu[k] = g1 - gs + lacc
        lacc += g2 - gs
    log_nu[k_cls - 1] = lacc
    # 4. probability of not being registered, and n0 ~ NegBin(n, 1 - p0), below 20 n
    p0 = 0.0
    for k in range(k_cls):
        lp = log_nu[k]
        for j in range(n_lists):
            lp += log_lam[j, k, 0]
        w[k] = lp
        p0 += math.exp(lp)
    p0 = min(p0, 1.0 - 1e-12)
    while True:
        n0 = rng.negative_binomial(n, 1.0 - p0)
        if n0 <= 20 * n:
            break
    ipar[0] = n0
    # 5. classes of the unobserved
    if n0 == 0:
        c0[:] = 0
    else:
        top = -np.inf
        for k in range(k_cls):
            if w[k] > top:
                top = w[k]
        for k in range(k_cls):
            w[k] = math.exp(w[k] - top)
        _multinomial(rng, n0, w, c0)
    # 6. concentration alpha
    if update_alpha:
        par[0] = rng.standard_gamma(par[1] + k_cls - 1.0) / (par[2] - log_nu[k_cls - 1])
    return n + n0, occupied


@njit(cache=True)
def _initialise(rng, cells, freq, k_cls, a_alpha, b_alpha, warmup):
    m_cells, n_lists = cells.shape
    n = 0
    for m in range(m_cells):
        n += freq[m]
    log_lam = np.empty((n_lists, k_cls, 2))
    for j in range(n_lists):
        s = 0
        for m in range(m_cells):
            if cells[m, j] == 1:
                s += freq[m]
        p = s / n
        for k in range(k_cls):
            log_lam[j, k, 1] = math.log(p) if p > 0 else -700.0
            log_lam[j, k, 0] = math.log1p(-p) if p < 1 else -700.0
    lam = np.exp(log_lam)
    log_nu = np.empty(k_cls)
    lacc = 0.0
    for k in range(k_cls - 1):
        g1 = _log_gamma(rng, 1.0)
        g2 = _log_gamma(rng, 1.0)
        gs = _log_sum(g1, g2)
        log_nu[k] = g1 - gs + lacc
        lacc += g2 - gs
    log_nu[k_cls - 1] = lacc
    nu = np.empty(k_cls)
    cz = np.zeros((m_cells, k_cls), dtype=np.int64)
    c0 = np.zeros(k_cls, dtype=np.int64)
    par = np.array([0.3 / k_cls, a_alpha, b_alpha])
    ipar = np.zeros(1, dtype=np.int64)
    w = np.empty(k_cls)
    aux = np.zeros((n_lists, k_cls, 2), dtype=np.int64)
    count_k = np.zeros(k_cls, dtype=np.int64)
    for _ in range(warmup):
        _sweep(
            rng, cells, freq, log_lam, lam, log_nu, nu, cz, c0, par, ipar, w, aux, count_k, False
        )
    # LCMCR's permute_latent_classes_by_nu: classes by decreasing weight
    order = np.argsort(-log_nu, kind="mergesort")
    log_lam = log_lam[:, order, :].copy()
    lam = lam[:, order, :].copy()
    log_nu = log_nu[order].copy()
    cz = cz[:, order].copy()
    c0 = c0[order].copy()
    return log_lam, lam, log_nu, nu, cz, c0, par, ipar, w, aux, count_k


def initialise(cells, freq, k_cls, a_alpha, b_alpha, warmup, seed):
    """The state after LCMCR's warm-up: a generator seeded by ``seed``, then the arrays."""
    rng = np.random.default_rng(seed)
    arrays = _initialise(rng, cells, freq, k_cls, float(a_alpha), float(b_alpha), warmup)
    return (rng, *arrays)


@njit(cache=True)
def _run(
    rng,
    cells,
    freq,
    log_lam,
    lam,
    log_nu,
    nu,
    cz,
    c0,
    par,
    ipar,
    w,
    aux,
    count_k,
    burnin,
    keep,
    thin,
):
    for _ in range(burnin):
        _sweep(rng, cells, freq, log_lam, lam, log_nu, nu, cz, c0, par, ipar, w, aux, count_k, True)
    n_out = np.empty(keep)
    k_out = np.empty(keep)
    tot, occ = 0, 0
    for i in range(keep):
        for _ in range(thin):
            tot, occ = _sweep(
                rng,
                cells,
                freq,
                log_lam,
                lam,
                log_nu,
                nu,
                cz,
                c0,
                par,
                ipar,
                w,
                aux,
                count_k,
                True,
            )
        n_out[i] = tot
        k_out[i] = occ
    return n_out, k_out


def run(cells, freq, state, burnin, keep, thin):
    """``burnin`` sweeps, then ``keep`` draws of (N, occupied classes) one every ``thin``."""
    rng, *arrays = state
    return _run(rng, cells, freq, *arrays, burnin, keep, thin)  # type: ignore[call-arg]
