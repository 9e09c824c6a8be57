"""Poisson tail probabilities, log-factorials and normal quantiles in numpy and the standard
library.

``thbmonitor mse`` on a plain table needs only these few special functions; importing
``scipy.special`` for them would cost more than the whole estimate (issue 13: the command should
start in well under a second). They are checked against ``scipy.special`` (``pdtr``, ``pdtrc``,
``gammaln``, ``ndtr``, ``ndtri``) in ``tests/mse/test_tails.py``.

* :func:`poisson_cdf` and :func:`poisson_sf` sum the probability mass function in log space over
  the window of terms that can matter (12 standard deviations plus 30 terms either side of the
  largest term; every term outside it is below ``exp(-70)`` times the largest). Results underflow
  to 0 where scipy's and R's ``ppois`` do, so ties between tiny p-values stay ties.
* :func:`log_factorial` is a table of exact values (``math.lgamma``) for whole numbers, grown on
  demand up to 2^20, and Stirling's series beyond (relative error below 1e-15).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "log_factorial",
    "normal_cdf",
    "normal_quantile",
    "poisson_cdf",
    "poisson_sf",
    "poisson_tails",
]

_TABLE = 256
_LOG_FACT = np.array([math.lgamma(i + 1.0) for i in range(_TABLE)])
#: whole numbers up to this get exact values from a table grown on demand (8 MiB at most)
_TABLE_MAX = 1 << 20
_grown = [_LOG_FACT]


def _log_fact_table(upto: int) -> np.ndarray:
    """Exact ``log(i!)`` for ``i < upto`` at least (``upto <= _TABLE_MAX``)."""
    table = _grown[0]
    if upto > table.size:
        size = 1 << (upto - 1).bit_length()
        more = np.array([math.lgamma(i + 1.0) for i in range(table.size, size)])
        table = _grown[0] = np.concatenate([table, more])
    return table


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Wichura (1988), Algorithm AS241 PPND16, Applied Statistics 37(3): 477-484: the normal quantile
# to about 1e-16 (as Python's statistics.NormalDist, without importing that module and its
# decimal, fractions and random: about 10 ms of a 0.2 s command). Coefficients highest first.
_AS241_CENTRAL = (
    (
        2509.0809287301226727,
        33430.575583588128105,
        67265.770927008700853,
        45921.953931549871457,
        13731.693765509461125,
        1971.5909503065514427,
        133.14166789178437745,
        3.387132872796366608,
    ),
    (
        5226.495278852854561,
        28729.085735721942674,
        39307.89580009271061,
        21213.794301586595867,
        5394.1960214247511077,
        687.1870074920579083,
        42.313330701600911252,
        1.0,
    ),
)
_AS241_NEAR = (
    (
        7.7454501427834140764e-4,
        0.0227238449892691845833,
        0.24178072517745061177,
        1.27045825245236838258,
        3.64784832476320460504,
        5.7694972214606914055,
        4.6303378461565452959,
        1.42343711074968357734,
    ),
    (
        1.05075007164441684324e-9,
        5.475938084995344946e-4,
        0.0151986665636164571966,
        0.14810397642748007459,
        0.68976733498510000455,
        1.6763848301838038494,
        2.05319162663775882187,
        1.0,
    ),
)
_AS241_TAIL = (
    (
        2.01033439929228813265e-7,
        2.71155556874348757815e-5,
        0.0012426609473880784386,
        0.026532189526576123093,
        0.29656057182850489123,
        1.7848265399172913358,
        5.4637849111641143699,
        6.6579046435011037772,
    ),
    (
        2.04426310338993978564e-15,
        1.4215117583164458887e-7,
        1.8463183175100546818e-5,
        7.868691311456132591e-4,
        0.0148753612908506148525,
        0.13692988092273580531,
        0.59983220655588793769,
        1.0,
    ),
)


def _ratio(coefs: tuple[tuple[float, ...], tuple[float, ...]], r: float) -> float:
    num = den = 0.0
    for a, b in zip(*coefs, strict=True):
        num = num * r + a
        den = den * r + b
    return num / den


def _as241(p: float) -> float:
    q = p - 0.5
    if abs(q) <= 0.425:
        return q * _ratio(_AS241_CENTRAL, 0.180625 - q * q)
    r = math.sqrt(-math.log(p if q <= 0.0 else 1.0 - p))
    x = _ratio(_AS241_NEAR, r - 1.6) if r <= 5.0 else _ratio(_AS241_TAIL, r - 5.0)
    return -x if q < 0.0 else x


def log_factorial(n: np.ndarray | float) -> np.ndarray:
    """``log(n!) = lgamma(n + 1)`` for ``n >= 0`` (elementwise; exact table for whole
    ``n < 256``, Stirling's series from 256, ``math.lgamma`` for other values below)."""
    x = np.asarray(n, dtype=float)
    if x.size <= 64:  # a table's cells: a loop beats the masks below
        return np.array([math.lgamma(v + 1.0) for v in x.ravel()]).reshape(x.shape)
    top = float(x.max())
    if top < _TABLE_MAX and float(x.min()) >= 0 and (x == np.floor(x)).all():
        return _log_fact_table(int(top) + 1)[x.astype(np.int64)]  # whole numbers: exact
    out = np.empty(x.shape)
    big = x >= _TABLE
    table = ~big & (x == np.floor(x)) & (x >= 0)
    out[table] = _LOG_FACT[x[table].astype(np.int64)]
    other = ~big & ~table
    if other.any():
        out[other] = [math.lgamma(v + 1.0) for v in x[other]]
    z = x[big] + 1.0  # lgamma(z) by Stirling's series
    inv = 1.0 / z
    inv2 = inv * inv
    out[big] = (
        (z - 0.5) * np.log(z)
        - z
        + _HALF_LOG_2PI
        + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))
    )
    return out


def _window_sums(lo: np.ndarray, hi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``sum_{i=lo}^{hi} P(X = i)`` for X ~ Poisson(mu), per element (``lo <= hi``)."""
    lengths = (hi - lo + 1).astype(np.int64)
    which = np.repeat(np.arange(lo.size), lengths)
    starts = np.cumsum(lengths) - lengths
    i = lo[which] + (np.arange(lengths.sum()) - starts[which])
    logp = i * np.log(mu)[which] - mu[which] - log_factorial(i)
    top = np.maximum.reduceat(logp, starts)
    total = np.add.reduceat(np.exp(logp - top[which]), starts)
    return np.exp(top + np.log(total))


def _spread(mu: np.ndarray) -> np.ndarray:
    return np.ceil(12.0 * np.sqrt(np.maximum(mu, 1.0)) + 30.0)


def poisson_tails(n: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(P(X <= n), P(X >= n))`` for X ~ Poisson(mu) (scipy's ``pdtr(n, mu)`` and
    ``pdtrc(n - 1, mu)``, R's ``ppois``), elementwise; whole ``n >= 0``."""
    n, mu = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(mu, dtype=float))
    cdf = np.ones(n.shape)
    sf = (n <= 0).astype(float)
    pos = mu > 0
    live = pos & (n > 0)
    if pos.any():
        npos, mpos, nl, ml = n[pos], mu[pos], n[live], mu[live]
        low_centre = np.minimum(npos, np.floor(mpos))
        high_centre = np.maximum(nl, np.floor(ml))
        width, width_l = _spread(mpos), _spread(ml)
        sums = _window_sums(
            np.concatenate(
                [np.maximum(0.0, low_centre - width), np.maximum(nl, high_centre - width_l)]
            ),
            np.concatenate([np.minimum(npos, low_centre + width), high_centre + width_l]),
            np.concatenate([mpos, ml]),
        )
        cdf[pos] = np.minimum(sums[: mpos.size], 1.0)
        sf[live] = np.minimum(sums[mpos.size :], 1.0)
    cdf[np.isnan(mu)] = math.nan
    sf[np.isnan(mu)] = math.nan
    return cdf, sf


def poisson_cdf(n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``P(X <= n)`` for X ~ Poisson(mu) (scipy's ``pdtr``, R's ``ppois``); whole ``n >= 0``."""
    return poisson_tails(n, mu)[0]


def poisson_sf(n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``P(X >= n)`` for X ~ Poisson(mu) (scipy's ``pdtrc(n - 1, mu)``); whole ``n >= 0``."""
    return poisson_tails(n, mu)[1]


def normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal distribution function (scipy's ``ndtr``), elementwise."""
    x = np.asarray(z, dtype=float)
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(-x / math.sqrt(2.0))


def normal_quantile(p: np.ndarray | float) -> np.ndarray:
    """Standard normal quantile (scipy's ``ndtri``), elementwise; -inf at 0 and inf at 1."""
    x = np.asarray(p, dtype=float)

    def one(v: float) -> float:
        if v <= 0.0:
            return -math.inf if v == 0.0 else math.nan
        if v >= 1.0:
            return math.inf if v == 1.0 else math.nan
        return _as241(v)

    return np.vectorize(one, otypes=[float])(x)
