"""The whole chapter in one call, and the results.json sections it gives."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from thbmonitor.followup import analyse_followup, build_cohort, incidence_table

from . import world


@pytest.fixture(scope="module")
def result():
    w = world.simulate_world(seed=21, scale=0.3, background=2000)
    return w, analyse_followup(
        w.persons,
        w.events,
        world.END,
        by=["minor", "sex"],
        risk_factors=["minor", "sex"],
        coverage_by=["nationality_group"],
    )


def test_results_json_sections(result) -> None:
    """Keys ``revictimisation`` and ``suspect_registration``; per estimator the incidence at
    1..7 years with lower and upper bounds, equal to the overall rows of the table; valid
    JSON (no NaN)."""
    w, res = result
    sections = res.results()
    assert set(sections) == {"revictimisation", "suspect_registration"}
    text = json.dumps(sections, allow_nan=False)
    assert "aalen_johansen" in text
    for name in ("revictimisation", "suspect_registration"):
        section = sections[name]
        assert set(section) == {"crude", "kaplan_meier", "aalen_johansen"}
        for values in section.values():
            assert values["t"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
            assert len(values["estimate"]) == len(values["lower"]) == len(values["upper"]) == 7
    cohort = build_cohort(w.persons, w.events, world.END)
    table = incidence_table(cohort, estimators=["aalen_johansen"])
    np.testing.assert_allclose(
        sections["revictimisation"]["aalen_johansen"]["estimate"], table["estimate"]
    )


def test_tables_of_the_chapter(result) -> None:
    w, res = result
    assert res.n_persons == len(w.persons)
    assert res.n_cohort == int(w.persons["linked"].sum())
    assert set(res.by_crime_type["group"]) == {
        "property",
        "violence",
        "sexual",
        "trafficking",
        "other",
    }
    assert set(res.risk["covariate"]) == {"minor", "sex=male"}
    assert set(res.risk_competing["covariate"]) == {"minor", "sex=male"}
    assert 0.5 < res.concordance < 1
    assert set(res.coverage["breakdown"]) == {"all", "nationality_group"}
    overall = res.overlap[res.overlap["breakdown"] == "all"].set_index("category")["count"]
    assert (
        overall["neither"] + overall["before_only"] + overall["after_only"] + overall["both"]
        == res.n_cohort
    )
    assert isinstance(res.revictimisation, pd.DataFrame)
