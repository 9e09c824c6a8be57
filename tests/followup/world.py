"""A small synthetic follow-up world with a known truth, for recovery and coverage tests.

Persons enter 2012-2021 in the numbers of shared/reference/synthetic-world.md (11,411 at the
default scale); data end 2023-12-31. The hazard of a new victim registration is piecewise
constant (``RATE_EARLY`` in years 0-5, ``RATE_LATE`` after), times ``HR_MINOR`` for minors;
death/emigration compete at ``RATE_COMPETING``. The rates give about 45% within 5 years and
50% within 7 (the published Dutch figures). The register also holds index-case trafficking
events within 30 days of entry, events before entry, later events and background persons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ENTRIES = {
    2012: 1711,
    2013: 1437,
    2014: 1255,
    2015: 1321,
    2016: 952,
    2017: 958,
    2018: 668,
    2019: 1334,
    2020: 984,
    2021: 791,
}
END = pd.Timestamp("2023-12-31")
RATE_EARLY = 0.1235
RATE_LATE = 0.05
RATE_COMPETING = 0.01
HR_MINOR = 1.5
SHARE_MINOR = 0.2
TYPES = np.array(["property", "violence", "sexual", "trafficking", "other"])


def true_incidence(t: float, hr: float = 1.0) -> float:
    """Aalen-Johansen truth: P(event of interest by t) with competing death/emigration."""
    a, b, c = RATE_EARLY * hr, RATE_LATE * hr, RATE_COMPETING
    early = min(t, 5.0)
    value = a / (a + c) * (1 - np.exp(-(a + c) * early))
    if t > 5.0:
        value += np.exp(-(a + c) * 5.0) * b / (b + c) * (1 - np.exp(-(b + c) * (t - 5.0)))
    return float(value)


def true_net_incidence(t: float, hr: float = 1.0) -> float:
    """Kaplan-Meier truth: 1 - exp(-cumulative hazard), the world without competing events."""
    cum = RATE_EARLY * hr * min(t, 5.0) + RATE_LATE * hr * max(t - 5.0, 0.0)
    return float(1 - np.exp(-cum))


def true_population_incidence(t: float) -> float:
    """Truth for the whole cohort: the mixture of minors and adults."""
    return SHARE_MINOR * true_incidence(t, HR_MINOR) + (1 - SHARE_MINOR) * true_incidence(t)


@dataclass(frozen=True)
class World:
    persons: pd.DataFrame
    events: pd.DataFrame


def _piecewise_time(rng: np.random.Generator, hr: np.ndarray) -> np.ndarray:
    """Event times of a piecewise-exponential hazard (years)."""
    u = rng.exponential(1.0, hr.size)  # cumulative hazard at the event
    early_cap = RATE_EARLY * hr * 5.0
    return np.where(u <= early_cap, u / (RATE_EARLY * hr), 5.0 + (u - early_cap) / (RATE_LATE * hr))


def simulate_world(seed: int, scale: float = 1.0, background: int = 20_000) -> World:
    rng = np.random.default_rng(seed)
    years = np.repeat(list(ENTRIES), [round(n * scale) for n in ENTRIES.values()])
    n = years.size
    entry = pd.to_datetime(years.astype(str)) + pd.to_timedelta(rng.integers(0, 365, n), "D")
    minor = rng.random(n) < SHARE_MINOR
    hr = np.where(minor, HR_MINOR, 1.0)
    t_event = _piecewise_time(rng, hr)
    t_exit = rng.exponential(1 / RATE_COMPETING, n)
    dies = rng.random(n) < 0.4  # the rest emigrate
    days_event = np.ceil(np.minimum(t_event, 40.0) * 365.25).astype(np.int64)
    days_exit = np.ceil(np.minimum(t_exit, 40.0) * 365.25).astype(np.int64)
    first_type = rng.choice(TYPES, n)
    # a trafficking event inside the index window would be taken for the index case
    first_type[(first_type == "trafficking") & (days_event <= 30)] = "other"
    exit_date = entry + pd.to_timedelta(days_exit, "D")
    persons = pd.DataFrame(
        {
            "person_id": np.arange(n) + 1_000_000,
            "entry_date": entry,
            "death_date": pd.Series(exit_date).where(dies),
            "emigration_date": pd.Series(exit_date).where(~dies),
            "minor": minor.astype(int),
            "sex": rng.choice(["female", "male"], n, p=[0.75, 0.25]),
            "linked": rng.random(n) < 0.95,
            "nationality_group": rng.choice(["NL", "EU", "non-EU"], n, p=[0.4, 0.3, 0.3]),
        }
    )
    ids = persons["person_id"].to_numpy()
    parts = [
        # the first new event (type drawn at random), as the truth defines it
        (ids, entry + pd.to_timedelta(days_event, "D"), "victim", first_type),
        # later events after the first
        (
            ids,
            entry + pd.to_timedelta(days_event + rng.integers(1, 2000, n), "D"),
            "victim",
            rng.choice(TYPES, n),
        ),
        # the index case: trafficking within 30 days of entry (must be excluded)
        (ids, entry + pd.to_timedelta(rng.integers(0, 31, n), "D"), "victim", "trafficking"),
        # events before entry (never count)
        (ids, entry - pd.to_timedelta(rng.integers(1, 3000, n), "D"), "victim", "property"),
        # suspect registrations before and after entry
        (ids, entry - pd.to_timedelta(rng.integers(1, 3000, n), "D"), "suspect", "property"),
        (ids, entry + pd.to_timedelta(rng.integers(31, 4000, n), "D"), "suspect", "other"),
        # the background population of the register
        (
            rng.integers(1, 999_999, background),
            pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 6900, background), "D"),
            "victim",
            rng.choice(TYPES, background),
        ),
    ]
    events = pd.concat(
        [
            pd.DataFrame({"person_id": p, "event_date": d, "role": r, "crime_type": c})
            for p, d, r, c in parts
        ],
        ignore_index=True,
    )
    # half the suspect registrations (both kinds) did not happen
    keep = ~((events["role"] == "suspect").to_numpy() & (rng.random(len(events)) < 0.5))
    events = events.loc[keep].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return World(persons=persons, events=events)
