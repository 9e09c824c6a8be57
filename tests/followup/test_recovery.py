"""Recovery of a synthetic world's known truth, and interval coverage over repeated worlds.

The truth is analytic (piecewise-constant hazards, see ``world.py``), not estimated; the
seeds are fixed, so these tests are deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from thbmonitor.followup import (
    aalen_johansen,
    build_cohort,
    crude_share,
    incidence_table,
    kaplan_meier,
)

from . import world


@pytest.fixture(scope="module")
def cohort():
    w = world.simulate_world(seed=2026)
    return build_cohort(w.persons, w.events, world.END)


def _net_population(t: float) -> float:
    return world.SHARE_MINOR * world.true_net_incidence(t, world.HR_MINOR) + (
        1 - world.SHARE_MINOR
    ) * world.true_net_incidence(t)


def test_truth_is_the_published_scale() -> None:
    """The world's adult hazard is calibrated to the Victims Monitor 2016-2020 headline
    (45% within 5 years, 50% within 7; NRM news 2022-01-06)."""
    assert world.true_incidence(5) == pytest.approx(0.45, abs=0.005)
    assert world.true_incidence(7) == pytest.approx(0.50, abs=0.005)


@pytest.mark.parametrize("t", [5.0, 7.0])
def test_recovers_true_revictimisation_at_default_scale(cohort, t: float) -> None:
    """At the default scale (11,411 registered persons 2012-2021, 95% linked, data end
    2023-12-31) the 95% intervals cover the truth: Aalen-Johansen and the crude share the
    cumulative incidence with competing death/emigration, Kaplan-Meier the net incidence."""
    table = incidence_table(cohort, by=["minor"], times=[t])
    truths = {
        ("all", "aalen_johansen"): world.true_population_incidence(t),
        ("all", "crude"): world.true_population_incidence(t),
        ("all", "kaplan_meier"): _net_population(t),
        ("0", "aalen_johansen"): world.true_incidence(t),
        ("1", "aalen_johansen"): world.true_incidence(t, world.HR_MINOR),
        ("0", "kaplan_meier"): world.true_net_incidence(t),
        ("1", "kaplan_meier"): world.true_net_incidence(t, world.HR_MINOR),
    }
    for (group, estimator), truth in truths.items():
        row = table[(table["group"] == group) & (table["estimator"] == estimator)].iloc[0]
        assert row["lower"] <= truth <= row["upper"], (group, estimator, truth)
    # minors are at higher risk, as the monitor reports
    aj = table[table["estimator"] == "aalen_johansen"].set_index("group")["estimate"]
    assert aj["1"] > aj["0"]


def _replicate(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    hr = np.where(rng.random(n) < world.SHARE_MINOR, world.HR_MINOR, 1.0)
    t1 = world._piecewise_time(rng, hr)
    tc = rng.exponential(1 / world.RATE_COMPETING, n)
    potential = rng.uniform(2.0, 12.0, n)  # entry spread over ten years before the data end
    duration = np.minimum(np.minimum(t1, tc), potential)
    event = np.where(duration == t1, 1, np.where(duration == tc, 2, 0))
    return duration, event, potential


def test_interval_coverage_is_about_95_percent() -> None:
    """Over 1,000 worlds of 2,000 persons, each 95% interval at 5 years covers the truth in
    93%-97% of worlds (binomial sd of the coverage is 0.7 points)."""
    rng = np.random.default_rng(7)
    t = 5.0
    truth_cif = world.true_population_incidence(t)
    truth_net = _net_population(t)
    hits = {"aalen_johansen": 0, "kaplan_meier": 0, "crude": 0}
    reps = 1000
    for _ in range(reps):
        duration, event, potential = _replicate(rng, 2000)
        aj = aalen_johansen(duration, event).at([t]).iloc[0]
        km = kaplan_meier(duration, event).at([t]).iloc[0]
        cr = crude_share(duration, event, potential, [t])
        hits["aalen_johansen"] += aj["lower"] <= truth_cif <= aj["upper"]
        hits["kaplan_meier"] += km["lower"] <= truth_net <= km["upper"]
        hits["crude"] += cr.lower[0] <= truth_cif <= cr.upper[0]
    for name, count in hits.items():
        assert 0.93 <= count / reps <= 0.97, (name, count / reps)
