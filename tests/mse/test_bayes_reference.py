"""LCMCR and dga against R (LCMCR 0.4.14 and dga 2.0.2 built from their CRAN sources with
Debian's R 4.2.2 and GSL 2.7 on this machine, 2026-12-07). The R script is
``tests/mse/r/bayes_reference.R``; the values below are its output, quoted line by line.

dga is deterministic: medians and limits must agree exactly and the weights to rounding.
LCMCR is Monte Carlo: R was run with five seeds (K = 10, a_alpha = b_alpha = 0.25, 10,000
burn-in, 5,000 draws thinned by 20); the tolerance is four standard errors of the difference
between our run's median and the mean of R's five medians (R's error from the spread of its
seeds, ours from the chain's effective sample size and the posterior density at the median).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from thbmonitor.mse.dga import decomposable_graphs, fit_dga
from thbmonitor.mse.lcmcr import fit_lcmcr

# Rscript tests/mse/r/bayes_reference.R (dga part):
#   dga Korea: n=123 graphs=8 median=159 lower=123 upper=422 mean=196.1903
#     top_weights=0.647515,0.162535,0.157549
#   dga Kosovo: n=4400 graphs=61 median=12595 lower=9827 upper=16544 mean=12749.3446
#     top_weights=0.985513,0.010780,0.003705
#   dga UKdat_5: n=2744 graphs=822 median=22990 lower=10387 upper=33508 mean=21281.6083
#     top_weights=0.443440,0.150722,0.112198
#   dga Western: n=345 graphs=822 median=2132 lower=1343 upper=3848 mean=2248.2703
#     top_weights=0.113163,0.105827,0.056154
DGA_R = {
    "Korea": (8, 159, 123, 422, 196.1903, (0.647515, 0.162535, 0.157549)),
    "Kosovo": (61, 12595, 9827, 16544, 12749.3446, (0.985513, 0.010780, 0.003705)),
    "UKdat_5": (822, 22990, 10387, 33508, 21281.6083, (0.443440, 0.150722, 0.112198)),
    "Western": (822, 2132, 1343, 3848, 2248.2703, (0.113163, 0.105827, 0.056154)),
}


def test_decomposable_graph_counts() -> None:
    """dga ships graphs3/4/5 with 8, 61 and 822 graphs (the labelled chordal graphs, OEIS
    A058862: 1, 2, 8, 61, 822)."""
    assert [len(decomposable_graphs(k)) for k in (1, 2, 3, 4, 5)] == [1, 2, 8, 61, 822]
    g = decomposable_graphs(4)
    # the three 4-cycles are not chordal: of the 15 graphs with 4 edges, 12 remain
    assert sum(len(x.edges) == 4 for x in g) == 15 - 3
    chain = next(x for x in g if x.edges == ((0, 1), (1, 2), (2, 3)))
    assert chain.cliques == ((0, 1), (1, 2), (2, 3))
    assert chain.separators == ((1,), (2,))


@pytest.mark.parametrize("name", list(DGA_R))
def test_dga_matches_r(load, name: str) -> None:  # type: ignore[no-untyped-def]
    n_graphs, median, lower, upper, mean, weights = DGA_R[name]
    res = fit_dga(load(name))
    out = res.to_dict()
    assert out["posterior"]["graphs"] == n_graphs
    assert out["estimate"] == median
    assert (out["interval"]["lower"], out["interval"]["upper"]) == (lower, upper)
    assert out["interval"]["method"] == "posterior"
    assert out["posterior"]["mean"] == pytest.approx(mean, abs=1e-3)
    assert [m["weight"] for m in out["models"][:3]] == pytest.approx(weights, abs=2e-6)
    assert res.posterior.sum() == pytest.approx(1.0)
    assert res.model_weights.sum() == pytest.approx(1.0)


def test_dga_refuses_two_and_six_lists(load) -> None:  # type: ignore[no-untyped-def]
    from thbmonitor.errors import EstimationError

    with pytest.raises(EstimationError, match="3 to 5 lists"):
        fit_dga(load("UKdat"))


# Rscript tests/mse/r/bayes_reference.R (LCMCR part), five seeds each:
#   lcmcr Korea   medians 137.0 137.0 138.0 139.0 138.0; 2.5%: 124 (all five);
#                 97.5%: 194.0 197.0 208.0 214.0 204.0
#   lcmcr Western medians 1842.5 1830.0 1820.0 1820.0 1838.0;
#                 2.5%: 1322.0 1313.0 1307.0 1304.0 1305.0;
#                 97.5%: 3024.0 3019.0 2957.0 2928.0 3047.0
#   lcmcr Kosovo  medians 10598.0 10405.0 10429.5 10499.0 10432.0 (bench_mse_bayes.py)
LCMCR_R = {
    "Korea": ((137.0, 137.0, 138.0, 139.0, 138.0), 124.0, (194.0, 197.0, 208.0, 214.0, 204.0)),
    "Western": (
        (1842.5, 1830.0, 1820.0, 1820.0, 1838.0),
        statistics.mean((1322.0, 1313.0, 1307.0, 1304.0, 1305.0)),
        (3024.0, 3019.0, 2957.0, 2928.0, 3047.0),
    ),
}


def _median_se(draws: np.ndarray, ess: float) -> float:
    """Monte Carlo standard error of a sample median: sqrt(1/4 / ESS) / density at the median,
    the density from the draws between the 40% and 60% quantiles."""
    lo, hi = np.quantile(draws, [0.4, 0.6])
    density = 0.2 / max(hi - lo, 1.0)
    return math.sqrt(0.25 / ess) / density


@pytest.mark.parametrize("name", list(LCMCR_R))
def test_lcmcr_matches_r(load, name: str) -> None:  # type: ignore[no-untyped-def]
    medians, lower, uppers = LCMCR_R[name]
    res = fit_lcmcr(load(name), classes=10, samples=5000, burnin=10000, thin=20, seed=11)
    se_r = statistics.stdev(medians) / math.sqrt(len(medians))
    se_ours = _median_se(res.draws, res.diagnostics["ess"])
    assert abs(res.estimate - statistics.mean(medians)) <= 4 * math.hypot(se_r, se_ours)
    # the limits, with R's settings: within a few percent (R's own 2.5% limits vary by about
    # 1% between its seeds and its 97.5% limits by 5-10%)
    assert res.interval.lower == pytest.approx(lower, rel=0.02)
    assert res.interval.upper == pytest.approx(statistics.mean(uppers), rel=0.10)
    assert res.diagnostics["ess"] > 200
    assert res.warning is None
