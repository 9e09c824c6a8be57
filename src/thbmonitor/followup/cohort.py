"""From per-person dates and police-register events to the cohort frame the estimators take.

A pure function on pandas frames (the SQL that selects events from the store lives elsewhere):

* ``persons``: one row per person with ``person_id`` and ``entry_date`` (or one row per
  registration episode, with a unique ``episode_id``; a person's events then count for each
  of their episodes, and episodes of one person are not independent, which the intervals
  ignore), optionally ``death_date`` and ``emigration_date`` (missing = none), optionally
  a boolean ``linked`` (was the person found in the police register at all), plus any covariates.
* ``events``: police-register events with ``person_id``, ``event_date``, ``role`` (``victim``
  or ``suspect``) and ``crime_type``. Events of persons not in ``persons`` (the register's
  background population) are ignored.

The result is ``persons`` with ``duration`` (years = days / 365.25 from entry to the first
qualifying event or the end of follow-up), ``event`` (0 censored at the end of the data,
1 event, 2 death, 3 emigration), ``max_followup`` (years from entry to the end of the data,
for the crude share) and ``first_crime_type`` (type of the first event, else missing).

Index-case rule (:class:`CohortRule`): an event counts when it falls at least one day after
entry, and it is not the index case, i.e. not an event of an ``exclusion_types`` type within
``exclusion_days`` days of entry (default: trafficking events within 30 days, which usually
record the same exploitation). On the same day an event counts before death or emigration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from thbmonitor.errors import EstimationError

logger = logging.getLogger(__name__)

__all__ = [
    "DAYS_PER_YEAR",
    "EVENT_CODES",
    "CohortRule",
    "build_cohort",
    "build_cohorts_by_type",
    "match_events",
]

DAYS_PER_YEAR = 365.25
EVENT_CODES: dict[str, int] = {"censored": 0, "event": 1, "death": 2, "emigration": 3}
_NONE = np.iinfo(np.int64).max


@dataclass(frozen=True)
class CohortRule:
    """Which police-register events count as a new event after entry.

    ``exclusion_types=None`` excludes events of every type within ``exclusion_days``.
    ``crime_types`` limits the outcome to those types (None = any type).
    """

    role: str = "victim"
    exclusion_days: int = 30
    exclusion_types: tuple[str, ...] | None = ("trafficking",)
    crime_types: tuple[str, ...] | None = None


def _days(
    values: pd.Series,
    name: str,
    required: bool,
    rows: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Dates as whole days since 1970 (int64); missing -> a sentinel far in the future.

    ``rows`` gives the 0-based row of each value in the caller's frame (for messages).
    """
    dates = pd.to_datetime(values, errors="coerce")
    bad = dates.isna() & values.notna()

    def row_of(i: int) -> int:
        return int(rows[i] if rows is not None else i) + 1

    if bad.any():
        first = row_of(int(np.flatnonzero(bad.to_numpy())[0]))
        raise EstimationError(
            f"field '{name}' holds {int(bad.sum())} value(s) that are not dates, first at row "
            f"{first}. Correct them before building the cohort."
        )
    if required and dates.isna().any():
        first = row_of(int(np.flatnonzero(dates.isna().to_numpy())[0]))
        raise EstimationError(f"field '{name}' is missing at row {first}; it is required.")
    days = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(dates.isna().to_numpy(), _NONE, days)


def day_number(date: str | pd.Timestamp) -> np.int64:
    """A date as whole days since 1970-01-01."""
    return np.int64(pd.Timestamp(date).to_datetime64().astype("datetime64[D]").astype(np.int64))


def match_events(
    person_id: pd.Series, event_person_id: pd.Series
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (event row, person row) with equal ``person_id``, for unique or repeated ids.

    With one row per person each event matches at most one row; with one row per registration
    episode an event matches every episode of its person.
    """
    ids = pd.Index(pd.unique(person_id))
    person_code = ids.get_indexer(pd.Index(person_id))
    event_code = ids.get_indexer(pd.Index(event_person_id))
    event_rows = np.flatnonzero(event_code >= 0)
    event_code = event_code[event_rows]
    if len(ids) == len(person_id):  # one row per person: codes are the row numbers
        return event_rows, event_code
    order = np.argsort(person_code, kind="stable")
    starts = np.searchsorted(person_code[order], np.arange(len(ids)), side="left")
    ends = np.searchsorted(person_code[order], np.arange(len(ids)), side="right")
    counts = ends[event_code] - starts[event_code]
    repeated = np.repeat(np.arange(event_rows.size), counts)
    offsets = np.arange(repeated.size) - np.repeat(np.cumsum(counts) - counts, counts)
    person_rows = order[starts[event_code][repeated] + offsets]
    return event_rows[repeated], person_rows


def _in(values: pd.Series, allowed: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        keep = np.isin(np.asarray(values.cat.categories, dtype=object), allowed)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, keep[codes], False)
    return values.isin(allowed).to_numpy()


def build_cohort(
    persons: pd.DataFrame,
    events: pd.DataFrame,
    end_of_data: str | pd.Timestamp,
    rule: CohortRule | None = None,
) -> pd.DataFrame:
    """One row per person with ``duration`` (years), ``event`` code and ``first_crime_type``.

    Persons with ``linked`` False are dropped from the cohort: their events cannot be seen.
    Report them with :func:`thbmonitor.followup.overlap.coverage_table`; the count is logged.
    """
    rule = rule or CohortRule()
    for column in ("person_id", "entry_date"):
        if column not in persons.columns:
            raise EstimationError(f"the persons frame lacks the column '{column}'.")
    for column in ("person_id", "event_date", "role", "crime_type"):
        if column not in events.columns:
            raise EstimationError(f"the events frame lacks the column '{column}'.")
    if not persons["person_id"].is_unique and "episode_id" not in persons.columns:
        raise EstimationError(
            "person_id is not unique in the persons frame; pass one row per person, or one "
            "row per registration episode with a unique 'episode_id' column."
        )
    if "episode_id" in persons.columns and not persons["episode_id"].is_unique:
        raise EstimationError("episode_id is not unique in the persons frame.")
    if "linked" in persons.columns:
        linked = persons["linked"].fillna(False).astype(bool).to_numpy()
        if not linked.all():
            logger.info(
                "%d of %d persons are not linked to the police register and leave the cohort",
                int((~linked).sum()),
                len(linked),
            )
        persons = persons.loc[linked]
    cohort = persons.reset_index(drop=True).copy()
    entry = _days(cohort["entry_date"], "entry_date", required=True)
    end = day_number(end_of_data)
    late = np.flatnonzero(entry > end)
    if late.size:
        raise EstimationError(
            f"{late.size} person(s) enter after the end of the data, first at row "
            f"{int(late[0]) + 1}; check entry_date or end_of_data."
        )
    death = (
        _days(cohort["death_date"], "death_date", required=False)
        if "death_date" in cohort.columns
        else np.full(len(cohort), _NONE)
    )
    emigration = (
        _days(cohort["emigration_date"], "emigration_date", required=False)
        if "emigration_date" in cohort.columns
        else np.full(len(cohort), _NONE)
    )
    for name, values in (("death_date", death), ("emigration_date", emigration)):
        early = np.flatnonzero((values != _NONE) & (values < entry))
        if early.size:
            raise EstimationError(
                f"field '{name}' is before entry_date at {early.size} row(s), first at row "
                f"{int(early[0]) + 1}."
            )

    first_day, first_type = _first_events(cohort["person_id"], entry, events, rule)
    exit_day = np.minimum(np.minimum(death, emigration), end)
    code = np.where(
        death <= np.minimum(emigration, end),
        EVENT_CODES["death"],
        np.where(emigration <= end, EVENT_CODES["emigration"], EVENT_CODES["censored"]),
    ).astype(np.int64)
    has_event = first_day <= exit_day
    code[has_event] = EVENT_CODES["event"]
    stop = np.where(has_event, first_day, exit_day)
    cohort["duration"] = (stop - entry) / DAYS_PER_YEAR
    cohort["max_followup"] = (end - entry) / DAYS_PER_YEAR
    cohort["event"] = code
    cohort["first_crime_type"] = pd.Series(first_type, dtype="string").where(has_event)
    return cohort


def build_cohorts_by_type(
    persons: pd.DataFrame,
    events: pd.DataFrame,
    end_of_data: str | pd.Timestamp,
    crime_types: tuple[str, ...],
    rule: CohortRule | None = None,
) -> dict[str, pd.DataFrame]:
    """One cohort per crime type: the event is the first event *of that type*.

    Events of other types do not end follow-up (a person can have several types); feed the
    result to :func:`thbmonitor.followup.breakdown.incidence_by_crime_type`.
    """
    base = rule or CohortRule()
    return {
        crime_type: build_cohort(
            persons,
            events,
            end_of_data,
            CohortRule(
                role=base.role,
                exclusion_days=base.exclusion_days,
                exclusion_types=base.exclusion_types,
                crime_types=(crime_type,),
            ),
        )
        for crime_type in crime_types
    }


def _first_events(
    person_id: pd.Series,
    entry: npt.NDArray[np.int64],
    events: pd.DataFrame,
    rule: CohortRule,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Day of the first qualifying event per person (sentinel if none) and its crime type."""
    n = len(person_id)
    keep = _in(events["role"], (rule.role,))
    if rule.crime_types is not None:
        keep &= _in(events["crime_type"], rule.crime_types)
    selected = np.flatnonzero(keep)
    matched, position = match_events(person_id, events["person_id"].iloc[selected])
    rows = selected[matched]
    event_day = _days(events["event_date"].iloc[rows], "event_date", required=True, rows=rows)
    delta = event_day - entry[position]
    ok = delta >= 1
    if rule.exclusion_days > 0:
        in_window = delta <= rule.exclusion_days
        if rule.exclusion_types is not None:
            in_window &= _in(events["crime_type"].iloc[rows], rule.exclusion_types)
        ok &= ~in_window
    rows, position, event_day = rows[ok], position[ok], event_day[ok]
    first_day = np.full(n, _NONE, dtype=np.int64)
    first_type = np.full(n, None, dtype=object)
    if rows.size == 0:
        return first_day, first_type
    order = np.lexsort((event_day, position))
    position_sorted = position[order]
    lead = np.flatnonzero(np.r_[True, position_sorted[1:] != position_sorted[:-1]])
    chosen = order[lead]
    first_day[position[chosen]] = event_day[chosen]
    first_type[position[chosen]] = events["crime_type"].iloc[rows[chosen]].astype(object).to_numpy()
    return first_day, first_type
