"""The follow-up cohort from the monitoring store: persons, their register events, coverage.

Entry (setting ``followup_entry``): ``first`` — each distinct victim enters at the date of their
first registration, with the attributes of that registration; ``episode`` — each registration
is an entry of its own (id ``<person_id>/<registration_id>``), all sharing the person's events.

A person is *covered* (``linked``) when they were linked to a record of the population register
(as a resident, or their death or emigration): only then can the absence of police events be
read as "no new crime", as when the Dutch monitor links through the personal records database.
Where the store holds no population register at all, a person counts as covered when any
police-register event was linked to them (which overstates re-victimisation: persons without
any police record drop out; the chapter says so). Uncovered victims are not dropped silently:
they are reported as coverage by nationality group and residence status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.profiles import load_profile

log = logging.getLogger(__name__)

ATTRIBUTES = (
    "age_band",
    "sex",
    "nationality_group",
    "residence_status",
    "monitor_group",
)

_PERSONS_SQL = """
WITH reg AS (
    SELECT rp.person_id, r.registration_id, r.registration_date, r.age_band, r.sex,
           r.nationality_group, r.residence_status, r.monitor_group,
           row_number() OVER (
               PARTITION BY rp.person_id ORDER BY r.registration_date, r.registration_id
           ) AS episode
    FROM registrations r JOIN registration_person rp USING (registration_id)
),
linked AS (
    SELECT DISTINCT person_id FROM person_population WHERE ?
    UNION
    SELECT DISTINCT person_id FROM person_police WHERE NOT ?
),
ended AS (
    SELECT pp.person_id,
           min(CASE WHEN e.event_type = 'death' THEN e.event_date END) AS death_date,
           min(CASE WHEN e.event_type = 'emigration' THEN e.event_date END) AS emigration_date
    FROM person_population pp JOIN population_events e USING (event_id)
    GROUP BY pp.person_id
)
SELECT reg.person_id, reg.registration_id, reg.episode,
       reg.registration_date AS entry_date, reg.age_band, reg.sex, reg.nationality_group,
       reg.residence_status, reg.monitor_group,
       (linked.person_id IS NOT NULL) AS linked,
       ended.death_date, ended.emigration_date
FROM reg
LEFT JOIN linked USING (person_id)
LEFT JOIN ended USING (person_id)
WHERE reg.episode = 1 OR ?
ORDER BY reg.person_id, reg.episode
"""

_EVENTS_SQL = """
SELECT pp.person_id, e.event_date, e.role, e.crime_type
FROM person_police pp JOIN police_events e USING (event_id)
"""


# every candidate owner of a police event (person_police_candidates), with the clerical
# review's judgements fixed: an event judged a match belongs to that person only (probability
# 1), a pair judged a non-match is no candidate
_CANDIDATES_SQL = """
WITH judged AS (
    SELECT left_id AS person_id, right_id AS event_id, label FROM review_labels
    WHERE pair_kind = 'police'
),
pairs AS (
    SELECT c.person_id, c.event_id, c.match_probability FROM person_police_candidates c
    WHERE NOT EXISTS (SELECT 1 FROM judged j WHERE j.event_id = c.event_id
                      AND (j.label = 'match' OR j.person_id = c.person_id))
    UNION ALL
    SELECT person_id, event_id, 1.0 FROM judged
    WHERE label = 'match' AND person_id IN (SELECT person_id FROM registration_person)
)
SELECT p.person_id, p.event_id, p.match_probability, e.event_date, e.role, e.crime_type
FROM pairs p JOIN police_events e USING (event_id)
"""


def _by_entry(events: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Events of persons as events of their entries (``episode`` entry: ids person/registration)."""
    entries = pd.DataFrame({"person_id": persons["person"], "entry_id": persons["person_id"]})
    events = events.merge(entries, on="person_id")
    return events.drop(columns="person_id").rename(columns={"entry_id": "person_id"})


def candidate_events(store: Store, persons: pd.DataFrame) -> pd.DataFrame:
    """Candidate person-event links with their probabilities and the events' columns, for the
    follow-up over link draws (:mod:`thbmonitor.followup.linkdraws`); ``persons`` as
    :func:`cohort_source` returns them (entries map events in ``episode`` mode)."""
    frame = store.df(_CANDIDATES_SQL)
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    if "person" in persons.columns:
        frame = _by_entry(frame, persons)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class CohortSource:
    """What the store holds for the follow-up: one row per entry, and the linked events."""

    persons: pd.DataFrame  # person_id, entry_date, attributes, linked, death/emigration dates
    events: pd.DataFrame  # person_id, event_date, role, crime_type


def population_register_present(store: Store) -> bool:
    """Whether coverage is measured against the population register (else the police one)."""
    return bool(store.scalar("SELECT count(*) > 0 FROM population_events"))


def cohort_source(store: Store, settings: Settings) -> CohortSource:
    """Entries and linked police-register events, as the cohort builder takes them."""
    episodes = settings.followup_entry == "episode"
    register = population_register_present(store)
    persons = store.df(_PERSONS_SQL, [register, register, episodes])
    events = store.df(_EVENTS_SQL)
    for column in ("entry_date", "death_date", "emigration_date"):
        persons[column] = pd.to_datetime(persons[column])
    for column in ("death_date", "emigration_date"):
        # a death or emigration before entry can only be a false link: it does not end follow-up
        early = persons[column] < persons["entry_date"]
        if early.any():
            log.warning("%d %s(s) before entry ignored (false links)", int(early.sum()), column)
            persons.loc[early, column] = pd.NaT
    events["event_date"] = pd.to_datetime(events["event_date"])
    # the follow-up's age covariate: minor, adult or unknown (the profile's first band is the
    # minors')
    bands = load_profile(settings.profile).age_bands
    persons["minor"] = persons["age_band"].map(
        lambda band: (
            "minor" if band == bands.minor else "unknown" if band == bands.unknown else "adult"
        )
    )
    if episodes:
        entry = persons["person_id"] + "/" + persons["registration_id"]
        persons = persons.assign(person=persons["person_id"], person_id=entry)
        events = _by_entry(events, persons)
    return CohortSource(persons.reset_index(drop=True), events.reset_index(drop=True))
