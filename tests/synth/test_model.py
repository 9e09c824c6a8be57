"""The world's building blocks: raking, rounding, the list model and the hazard calibration."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from thbmonitor.synth import capture, composition, followup
from thbmonitor.synth.params import LISTS, WorldParams

PARAMS = WorldParams()


def test_raked_composition_meets_every_margin() -> None:
    """IPF: the 2017 cell shares sum to each margin given in the parameters."""
    cells = composition.cells()
    w = composition.year_shares(PARAMS, 2017)
    assert w.sum() == pytest.approx(1.0)
    for g, share in PARAMS.group_shares[2017].items():
        assert w[(cells["monitor_group"] == g).to_numpy()].sum() == pytest.approx(share, abs=1e-9)
    for n, share in PARAMS.nat_shares[2017].items():
        assert w[(cells["nationality_group"] == n).to_numpy()].sum() == pytest.approx(
            share, abs=1e-9
        )
    # structural zeros: domestic sexual victims are Dutch, cross-border ones are not
    dom = (cells["monitor_group"] == "domestic_sexual") & (cells["nationality_group"] != "NL")
    cb = (cells["monitor_group"] == "cross_border_sexual") & (cells["nationality_group"] == "NL")
    assert w[dom.to_numpy()].sum() == 0 and w[cb.to_numpy()].sum() == 0


def test_largest_remainder_is_exact() -> None:
    """Hamilton's method: integers summing exactly to the total, each within 1 of its quota."""
    rng = np.random.default_rng(3)
    w = rng.random(90)
    got = composition.largest_remainder(w, 1711)
    assert got.sum() == 1711
    assert np.all(np.abs(got - w / w.sum() * 1711) < 1)


@pytest.fixture(scope="module")
def one_cell() -> tuple[np.ndarray, capture.Offsets, dict[str, float]]:
    cells = composition.cells()
    logits = capture.cell_logits(PARAMS, cells)
    w = composition.year_shares(PARAMS, 2017)
    off = capture.calibrate(PARAMS, 2017, logits, w)
    row = cells.index[
        (cells["monitor_group"] == "cross_border_sexual")
        & (cells["sex"] == "F")
        & (cells["age_band"] == "23+")
        & (cells["nationality_group"] == "non_EU")
    ][0]
    return logits[row], off, dict(PARAMS.dependence)


def test_capture_probabilities_match_simulation(one_cell) -> None:
    """The closed-form P(captured) and list marginals equal the simulated ones (4 SE)."""
    lg, off, dep = one_cell
    n = 200_000
    h = capture.draw(np.tile(lg, (n, 1)), off, dep, np.random.default_rng(7))
    pi, marg = capture.cell_probabilities(lg[None, :], off, dep)
    for est, p in [(h.any(axis=1).mean(), pi[0]), *zip(h.mean(axis=0), marg[0], strict=True)]:
        assert abs(est - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_log_linear_model_with_the_true_interactions_recovers_the_hidden(one_cell) -> None:
    """Within a stratum the lists follow a log-linear model with the interactions
    KMar:Police, Police:NGOCare and NGOCare:Other. Fitted on the observed histories only
    (statsmodels Poisson GLM, the standard MSE model of Cormack 1989), it recovers the
    dependence parameters and the unobserved count within 3 standard errors."""
    import statsmodels.api as sm

    lg, off, dep = one_cell
    n = 400_000
    h = capture.draw(np.tile(lg, (n, 1)), off, dep, np.random.default_rng(11))
    hl = pd.DataFrame(h[:, capture.TO_LISTS].astype(int), columns=list(LISTS))
    counts = hl.value_counts().rename("count").reset_index()
    full = pd.DataFrame(list(itertools.product([0, 1], repeat=5)), columns=list(LISTS))
    full = full.merge(counts, how="left", on=list(LISTS)).fillna({"count": 0})
    zero = int(full.loc[full[list(LISTS)].sum(axis=1) == 0, "count"].iloc[0])
    obs = full[full[list(LISTS)].sum(axis=1) > 0]
    x = obs[list(LISTS)].copy()
    pairs = {
        "KMar->Police": ("KMar", "Police"),
        "Police->NGOCare": ("Police", "NGOCare"),
        "NGOCare->Other": ("NGOCare", "Other"),
    }
    for key, (a, b) in pairs.items():
        x[key] = x[a] * x[b]
    fit = sm.GLM(obs["count"], sm.add_constant(x), family=sm.families.Poisson()).fit()
    for key in pairs:
        assert abs(fit.params[key] - dep[key]) < 3 * fit.bse[key], key
    assert abs(fit.params["const"] - np.log(zero)) < 3 * fit.bse["const"]


def test_exact_registered_counts_per_cell() -> None:
    """draw_exact captures exactly the requested number of persons in every cell."""
    cells = composition.cells()
    logits = capture.cell_logits(PARAMS, cells)
    off = capture.Offsets(-1.0, 0.0, 0.0)
    rng = np.random.default_rng(5)
    cell = np.repeat(np.arange(3), [500, 800, 300])
    want = np.array([60, 200, 299])
    h = capture.draw_exact(logits[cell], cell, want, off, dict(PARAMS.dependence), rng)
    got = np.bincount(cell[h.any(axis=1)], minlength=3)
    assert got.tolist() == want.tolist()


def test_hazard_calibration_matches_simulation() -> None:
    """The analytic cumulative incidence (gamma frailty, competing exits) equals the share
    of simulated persons with a first event within 5 years (3 binomial SE)."""
    rng = np.random.default_rng(2)
    n = 40_000
    minor = rng.random(n) < 0.2
    ng = np.where(rng.random(n) < 0.5, "NL", "non_EU")
    mu = np.array([PARAMS.death_rate + PARAMS.emigration_rate[g] for g in ng])
    hz = followup.calibrate(PARAMS, minor, mu)
    hr = np.where(minor, hz.minor_multiplier, 1.0)
    exit_t, _ = followup.exit_times(ng, PARAMS, rng)
    entry = np.full(n, np.datetime64("2012-06-01"))
    _, first = followup.after_entry(entry, hr, exit_t, hz, PARAMS, rng)
    for key, target in [("property", 0.33), ("violence", 0.25), ("suspect", 0.20)]:
        days = (first[key] - entry).astype("timedelta64[D]").astype(float)
        hit = ~np.isnat(first[key]) & (days <= 5 * 365.25)
        assert abs(hit.mean() - target) < 3 * np.sqrt(target * (1 - target) / n), key
