"""Breakdown tables: each row equals the estimator run on that subgroup alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter
from numpy.testing import assert_allclose

from thbmonitor.errors import EstimationError
from thbmonitor.followup import (
    ESTIMATORS,
    aalen_johansen,
    build_cohorts_by_type,
    crude_share,
    incidence_by_crime_type,
    incidence_table,
    kaplan_meier,
)
from thbmonitor.followup.breakdown import COLUMNS

from . import world


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 3000
    potential = rng.uniform(0.5, 12.0, n)
    time = rng.exponential(5.0, n)
    cause = rng.choice([1, 2, 3], size=n, p=[0.85, 0.1, 0.05])
    frame = pd.DataFrame(
        {
            "duration": np.minimum(time, potential),
            "event": np.where(time <= potential, cause, 0),
            "max_followup": potential,
            "sex": rng.choice(["female", "male"], n),
            "form": rng.choice(["sexual", "labour", "criminal", None], n),
        }
    )
    return frame


def test_table_shape_and_groups(cohort: pd.DataFrame) -> None:
    table = incidence_table(cohort, by=["sex", "form"])
    assert list(table.columns) == COLUMNS
    groups = set(zip(table["breakdown"], table["group"], strict=True))
    assert groups == {
        ("all", "all"),
        ("sex", "female"),
        ("sex", "male"),
        ("form", "criminal"),
        ("form", "labour"),
        ("form", "sexual"),
        ("form", "missing"),
    }
    assert len(table) == len(groups) * len(ESTIMATORS) * 7
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()


def test_rows_equal_the_estimators_on_the_subgroup(cohort: pd.DataFrame) -> None:
    """Each subgroup row is the estimator on that subgroup, and the Aalen-Johansen rows also
    equal lifelines' AalenJohansenFitter on the subgroup (continuous times, no ties)."""
    table = incidence_table(cohort, by=["sex"])
    sub = cohort[cohort["sex"] == "male"]
    years = list(range(1, 8))
    rows = table[(table["breakdown"] == "sex") & (table["group"] == "male")].set_index("estimator")
    aj = aalen_johansen(sub["duration"], sub["event"]).at(years)
    km = kaplan_meier(sub["duration"], sub["event"]).at(years)
    crude = crude_share(sub["duration"], sub["event"], sub["max_followup"], years).to_frame()
    for name, expected in (("aalen_johansen", aj), ("kaplan_meier", km), ("crude", crude)):
        got = rows.loc[name]
        for column in ("estimate", "lower", "upper", "n_at_risk", "n_events"):
            assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float))
    ref = AalenJohansenFitter().fit(sub["duration"], sub["event"], event_of_interest=1)
    cif = ref.cumulative_density_.iloc[:, 0]
    assert_allclose(
        rows.loc["aalen_johansen", "estimate"].to_numpy(float),
        [cif[cif.index <= t].iloc[-1] for t in years],
        atol=1e-8,
    )


def test_crude_needs_potential_follow_up(cohort: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="max_followup"):
        incidence_table(cohort.drop(columns="max_followup"))
    table = incidence_table(
        cohort.drop(columns="max_followup"), estimators=["kaplan_meier", "aalen_johansen"]
    )
    assert set(table["estimator"]) == {"kaplan_meier", "aalen_johansen"}


def test_missing_column_is_named(cohort: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="'nationality'"):
        incidence_table(cohort, by=["nationality"])


def test_by_crime_type_types_overlap() -> None:
    """Each type is its own outcome: a person with a property and a later violence event
    counts in both, so the types add up to more than 'any type' (as the published monitor:
    property 33% + assault 25% + ... against 45% any)."""
    w = world.simulate_world(seed=3, scale=0.3, background=1000)
    from thbmonitor.followup import build_cohort

    any_type = build_cohort(w.persons, w.events, world.END)
    cohorts = build_cohorts_by_type(w.persons, w.events, world.END, tuple(world.TYPES))
    table = incidence_by_crime_type(cohorts, times=[5.0], estimators=["aalen_johansen"])
    assert list(table.columns) == COLUMNS
    assert set(table["group"]) == set(world.TYPES)
    total = table["estimate"].sum()
    overall = incidence_table(any_type, times=[5.0], estimators=["aalen_johansen"])
    assert total > overall["estimate"].iloc[0]
    # every type's first event is at or after the first event of any type
    for crime_type, c in cohorts.items():
        hit = c["event"] == 1
        assert (c.loc[hit, "duration"] >= any_type.loc[hit, "duration"] - 1e-12).all()
        assert (c.loc[hit, "first_crime_type"] == crime_type).all()


def test_first_crime_type_shares_add_up_to_any_type() -> None:
    """With the types of the first event competing, the Aalen-Johansen incidences of the types
    add up to the incidence of any new event (an identity of the estimator)."""
    from thbmonitor.followup import build_cohort, incidence_by_first_crime_type

    w = world.simulate_world(seed=6, scale=0.3, background=500)
    cohort = build_cohort(w.persons, w.events, world.END)
    table = incidence_by_first_crime_type(cohort, times=[1.0, 5.0, 7.0])
    assert list(table.columns) == COLUMNS
    total = table.groupby("t")["estimate"].sum().to_numpy()
    overall = aalen_johansen(cohort["duration"], cohort["event"]).at([1.0, 5.0, 7.0])
    assert_allclose(total, overall["estimate"], atol=1e-12)
    assert set(table["group"]) <= set(world.TYPES)
