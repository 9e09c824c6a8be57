"""Recovery of the synthetic Netherlands' true re-victimisation (``thbmonitor.synth``).

The world is generated at the default scale (11,248 registered persons, data end
2023-12-31). The link from police events to persons is taken from the truth files, so the
test isolates the follow-up estimation from record linkage. The truth is the world's
calibrated cumulative incidence among registered persons with death and emigration as
competing events (``revictim_any_5y`` = 0.45 and ``revictim_any_7y`` = 0.50, the published
Victims Monitor 2016-2020 figures), i.e. what Aalen-Johansen estimates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thbmonitor.followup import CohortRule, build_cohort, incidence_table


@pytest.fixture(scope="module")
def synth_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    from thbmonitor.synth.params import WorldParams
    from thbmonitor.synth.world import generate

    out = Path(tmp_path_factory.mktemp("synth"))
    generate(WorldParams(), out)
    truth = out / "truth"
    params = json.loads((truth / "params.json").read_text())
    people = pd.read_csv(truth / "persons.csv")
    people = people[people["registered"] == 1]
    exit_date = pd.to_datetime(people["exit_date"])
    persons = pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(),
            "entry_date": pd.to_datetime(people["first_registration_date"]).to_numpy(),
            "death_date": exit_date.where(people["exit_reason"] == "death").to_numpy(),
            "emigration_date": exit_date.where(people["exit_reason"] == "emigration").to_numpy(),
            "minor": people["minor_at_entry"].to_numpy(),
            "linked": people["linkable"].to_numpy().astype(bool),
            "first_victim_date": pd.to_datetime(people["first_victim_date"]).to_numpy(),
        }
    )
    register = pd.read_parquet(
        out / "police_register.parquet", columns=["event_id", "event_date", "role", "crime_type"]
    )
    owner = pd.read_csv(truth / "police_event_person.csv")
    events = register.merge(owner, on="event_id", how="inner")
    events["event_date"] = pd.to_datetime(events["event_date"])
    return persons, events[["person_id", "event_date", "role", "crime_type"]], params


def test_recovers_the_worlds_true_revictimisation(synth_world) -> None:
    """Aalen-Johansen 95% intervals at 5 and 7 years cover the world's truth.

    Persons the world made unlinkable have no police events and leave the cohort (they are
    the coverage figure). The world places the index case (a trafficking victim event) on or
    before the entry date, so with ``exclusion_days=0`` the cohort's first event must be the
    world's latent ``first_victim_date`` exactly, wherever it falls before the data end and
    before death or emigration; the default 30-day rule changes the estimate very little.
    """
    persons, events, params = synth_world
    end = pd.Timestamp(params["censor_date"])
    cohort = build_cohort(persons, events, end, CohortRule(exclusion_days=0))
    assert len(cohort) == int(persons["linked"].sum())
    latent = pd.to_datetime(cohort["first_victim_date"])
    visible = latent.notna() & (latent <= end)
    assert ((cohort["event"] == 1) == visible).all()
    first_day = cohort["entry_date"] + pd.to_timedelta(
        np.round(cohort["duration"] * 365.25), unit="D"
    )
    assert (first_day[visible] == latent[visible]).all()
    # the finite-sample truth: latent first events among the linked, ignoring the data end
    years = (latent - cohort["entry_date"]).dt.days / 365.25
    table = incidence_table(cohort, times=[5.0, 7.0], estimators=["aalen_johansen"])
    for t, key in ((5.0, "revictim_any_5y"), (7.0, "revictim_any_7y")):
        row = table[table["t"] == t].iloc[0]
        assert row["lower"] <= params[key] <= row["upper"], t
        assert row["lower"] <= float(np.mean(years <= t)) <= row["upper"], t
    # the default rule (trafficking within 30 days is the index case) moves few events
    default = build_cohort(persons, events, end)
    moved = incidence_table(default, times=[5.0, 7.0], estimators=["aalen_johansen"])
    np.testing.assert_allclose(moved["estimate"], table["estimate"], atol=0.005)


def test_crude_share_recovers_the_truth_of_its_own_population(synth_world) -> None:
    """The crude share estimates the incidence among persons who entered at least t years
    before the data end (2012-2018 for t = 5), whose make-up (minors, nationalities, hence
    emigration) differs from later years; so its truth is that of those persons."""
    persons, events, params = synth_world
    end = pd.Timestamp(params["censor_date"])
    cohort = build_cohort(persons, events, end, CohortRule(exclusion_days=0))
    latent = pd.to_datetime(cohort["first_victim_date"])
    years = (latent - cohort["entry_date"]).dt.days / 365.25
    table = incidence_table(cohort, times=[5.0, 7.0], estimators=["crude"])
    for t in (5.0, 7.0):
        row = table[table["t"] == t].iloc[0]
        early = cohort["max_followup"] >= t
        assert row["n_at_risk"] == int(early.sum())
        truth = float(np.mean(years[early] <= t))
        assert row["lower"] <= truth <= row["upper"], t
