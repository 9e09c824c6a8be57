"""The cohort builder: a worked example by hand, and a row-by-row oracle on a random world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thbmonitor.errors import EstimationError
from thbmonitor.followup import CohortRule, build_cohort

from . import world


def _persons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5],
            "entry_date": pd.to_datetime(
                ["2015-01-01", "2015-01-01", "2016-06-01", "2020-01-01", "2018-03-01"]
            ),
            "death_date": pd.to_datetime([None, "2017-01-01", None, None, None]),
            "emigration_date": pd.to_datetime([None, None, "2019-06-01", None, None]),
            "linked": [True, True, True, True, False],
        }
    )


def _events() -> pd.DataFrame:
    rows = [
        (1, "2015-01-20", "victim", "trafficking"),  # index case: inside the 30-day window
        (1, "2015-01-10", "victim", "property"),  # counts: other type, day 9
        (1, "2014-05-01", "victim", "violence"),  # before entry
        (2, "2017-06-01", "victim", "property"),  # after death: never seen
        (3, "2019-06-01", "victim", "sexual"),  # same day as emigration: the event counts
        (4, "2020-01-01", "victim", "property"),  # entry day itself: not after entry
        (4, "2020-03-01", "suspect", "property"),  # suspect role: not a victim event
        (5, "2018-05-01", "victim", "violence"),  # person not linked
        (99, "2018-05-01", "victim", "violence"),  # background person
    ]
    frame = pd.DataFrame(rows, columns=["person_id", "event_date", "role", "crime_type"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


def test_worked_example() -> None:
    """Durations in days / 365.25 and event codes, worked out by hand for each rule."""
    cohort = build_cohort(_persons(), _events(), "2023-12-31")
    assert cohort["person_id"].tolist() == [1, 2, 3, 4]  # person 5 is not linked
    assert cohort["event"].tolist() == [1, 2, 1, 0]
    expected_days = [9, 731, 1095, 1460]
    np.testing.assert_allclose(cohort["duration"], np.array(expected_days) / 365.25)
    assert cohort["first_crime_type"].tolist()[0] == "property"
    assert cohort["first_crime_type"].tolist()[2] == "sexual"
    assert cohort["first_crime_type"].isna().tolist() == [False, True, False, True]
    np.testing.assert_allclose(cohort["max_followup"], np.array([3286, 3286, 2769, 1460]) / 365.25)


def test_exclusion_rule_is_configurable() -> None:
    """Without an index window the trafficking event on day 19 is not special, yet the
    property event on day 9 is still the first; excluding every type within 30 days moves
    person 1 to censoring (no later event)."""
    persons, events = _persons(), _events()
    none = build_cohort(persons, events, "2023-12-31", CohortRule(exclusion_days=0))
    assert none["duration"].iloc[0] == pytest.approx(9 / 365.25)
    every = build_cohort(
        persons, events, "2023-12-31", CohortRule(exclusion_days=30, exclusion_types=None)
    )
    assert every["event"].iloc[0] == 0
    suspect = build_cohort(persons, events, "2023-12-31", CohortRule(role="suspect"))
    assert suspect["event"].tolist() == [0, 2, 3, 1]


def _oracle(persons: pd.DataFrame, events: pd.DataFrame, rule: CohortRule) -> pd.DataFrame:
    """The same rule, one person at a time, in plain pandas."""
    end = pd.Timestamp("2023-12-31")
    rows = []
    by_person = dict(tuple(events.groupby("person_id")))
    for p in persons.itertuples():
        if not p.linked:
            continue
        ev = by_person.get(p.person_id, events.iloc[:0])
        ev = ev[ev["role"] == rule.role]
        if rule.crime_types is not None:
            ev = ev[ev["crime_type"].isin(rule.crime_types)]
        days = (ev["event_date"] - p.entry_date).dt.days
        index_case = (days <= rule.exclusion_days) & ev["crime_type"].isin(
            rule.exclusion_types or ev["crime_type"].unique()
        )
        days = days[(days >= 1) & ~index_case]
        stops = {"censor": (end - p.entry_date).days}
        if pd.notna(p.emigration_date):
            stops["emigration"] = (p.emigration_date - p.entry_date).days
        if pd.notna(p.death_date):
            stops["death"] = (p.death_date - p.entry_date).days
        exit_day = min(stops.values())
        if len(days) and days.min() <= exit_day:
            rows.append((p.person_id, days.min(), 1))
            continue
        if stops.get("death", 10**9) == exit_day:
            code = 2
        elif stops.get("emigration", 10**9) == exit_day:
            code = 3
        else:
            code = 0
        rows.append((p.person_id, exit_day, code))
    return pd.DataFrame(rows, columns=["person_id", "days", "event"])


@pytest.mark.parametrize(
    "rule",
    [CohortRule(), CohortRule(role="suspect"), CohortRule(crime_types=("property", "violence"))],
)
def test_matches_a_person_by_person_oracle(rule: CohortRule) -> None:
    """The vectorised builder equals a plain loop over persons on a random world."""
    w = world.simulate_world(seed=5, scale=0.05, background=2000)
    ours = build_cohort(w.persons, w.events, world.END, rule)
    oracle = _oracle(w.persons, w.events, rule)
    assert ours["person_id"].tolist() == oracle["person_id"].tolist()
    assert ours["event"].tolist() == oracle["event"].tolist()
    np.testing.assert_allclose(ours["duration"] * 365.25, oracle["days"], atol=1e-6)


def test_bad_dates_are_reported_by_row_and_field_only() -> None:
    persons = _persons()
    persons["death_date"] = persons["death_date"].astype(object)
    persons.loc[2, "death_date"] = "not a date 1985-07-03"
    with pytest.raises(EstimationError) as info:
        build_cohort(persons, _events(), "2023-12-31")
    message = str(info.value)
    assert "death_date" in message and "row 3" in message
    assert "1985" not in message


def test_death_before_entry_is_refused() -> None:
    persons = _persons()
    persons.loc[0, "death_date"] = pd.Timestamp("2010-01-01")
    with pytest.raises(EstimationError, match="death_date' is before entry_date"):
        build_cohort(persons, _events(), "2023-12-31")


def test_duplicate_person_ids_are_refused() -> None:
    persons = pd.concat([_persons(), _persons().iloc[:1]])
    with pytest.raises(EstimationError, match="not unique"):
        build_cohort(persons, _events(), "2023-12-31")


def test_episodes_each_get_follow_up() -> None:
    """One row per registration episode: person 1's second episode (entry 2018-01-01) is
    followed from its own entry, and the events of person 1 count for both episodes."""
    persons = pd.DataFrame(
        {
            "episode_id": ["1a", "1b", "2a"],
            "person_id": [1, 1, 2],
            "entry_date": pd.to_datetime(["2015-01-01", "2018-01-01", "2016-01-01"]),
        }
    )
    events = pd.DataFrame(
        {
            "person_id": [1, 1, 2],
            "event_date": pd.to_datetime(["2016-01-01", "2019-01-01", "2015-06-01"]),
            "role": ["victim", "victim", "victim"],
            "crime_type": ["property", "violence", "property"],
        }
    )
    cohort = build_cohort(persons, events, "2023-12-31")
    assert cohort["episode_id"].tolist() == ["1a", "1b", "2a"]
    assert cohort["event"].tolist() == [1, 1, 0]
    np.testing.assert_allclose(cohort["duration"][:2] * 365.25, [365, 365])
    assert cohort["first_crime_type"].tolist()[:2] == ["property", "violence"]
    with pytest.raises(EstimationError, match="episode_id is not unique"):
        build_cohort(persons.assign(episode_id="x"), events, "2023-12-31")


def test_bad_event_dates_are_reported_at_their_own_row() -> None:
    """The row number in the message is the row of the events frame, not of a subset."""
    events = _events()
    events["event_date"] = events["event_date"].astype(object)
    events.loc[6, "event_date"] = "garbled"
    events.loc[4, "event_date"] = None
    with pytest.raises(EstimationError, match="field 'event_date' is missing at row 5"):
        build_cohort(_persons(), events, "2023-12-31")
