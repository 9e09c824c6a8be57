"""Tidy tables of the three estimators side by side, overall, by subgroup and by crime type.

Every table has the columns ``breakdown`` (the variable, or ``"all"``), ``group`` (its value as
text), ``estimator`` (``crude``, ``kaplan_meier``, ``aalen_johansen``), ``t``, ``estimate``,
``lower``, ``upper``, ``n_at_risk`` (persons still followed at ``t``; for the crude share, the
persons counted) and ``n_events`` (events of interest by ``t``). These rows are what the report
and the disclosure control consume; no figure is suppressed here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError
from thbmonitor.followup.curves import (
    ShareMethod,
    aalen_johansen,
    crude_share,
    kaplan_meier,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ESTIMATORS",
    "YEARS",
    "incidence_by_crime_type",
    "incidence_by_first_crime_type",
    "incidence_table",
]

YEARS: tuple[float, ...] = (1, 2, 3, 4, 5, 6, 7)
ESTIMATORS: tuple[str, ...] = ("crude", "kaplan_meier", "aalen_johansen")
COLUMNS = [
    "breakdown",
    "group",
    "estimator",
    "t",
    "estimate",
    "lower",
    "upper",
    "n_at_risk",
    "n_events",
]


def _estimates(
    duration: np.ndarray,
    event: np.ndarray,
    potential: np.ndarray | None,
    times: Sequence[float],
    estimators: Sequence[str],
    event_of_interest: int,
    alpha: float,
    share_method: ShareMethod,
) -> list[pd.DataFrame]:
    out = []
    for name in estimators:
        if name == "crude":
            if potential is None:
                raise EstimationError(
                    "the crude share needs each person's potential follow-up (column "
                    "'max_followup', years from entry to the end of the data); add it or "
                    "leave 'crude' out of the estimators."
                )
            frame = crude_share(
                duration,
                event,
                potential,
                times,
                event_of_interest=event_of_interest,
                alpha=alpha,
                method=share_method,
            ).to_frame()
        elif name == "kaplan_meier":
            frame = kaplan_meier(
                duration, event, event_of_interest=event_of_interest, alpha=alpha
            ).at(times)
        elif name == "aalen_johansen":
            frame = aalen_johansen(
                duration, event, event_of_interest=event_of_interest, alpha=alpha
            ).at(times)
        else:
            raise EstimationError(
                f"unknown estimator {name!r}; choose from {', '.join(ESTIMATORS)}."
            )
        frame.insert(0, "estimator", name)
        out.append(frame)
    return out


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise EstimationError(
            f"the cohort frame lacks column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, frame.columns))}."
        )


def incidence_table(
    cohort: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    times: Sequence[float] = YEARS,
    duration: str = "duration",
    event: str = "event",
    max_followup: str = "max_followup",
    event_of_interest: int = 1,
    estimators: Sequence[str] = ESTIMATORS,
    alpha: float = 0.05,
    share_method: ShareMethod = "wilson",
) -> pd.DataFrame:
    """The estimators at ``times`` for the whole cohort and for each value of each ``by`` column.

    The crude share needs the column ``max_followup`` (years from entry to the end of the data,
    as :func:`~thbmonitor.followup.cohort.build_cohort` adds).
    Each ``by`` column is broken down on its own (margins, not crossings). Rows with a missing
    value in a ``by`` column form the group ``"missing"``: never silently dropped.
    """
    _require(cohort, [duration, event, *by])
    d_all = cohort[duration].to_numpy(dtype=float)
    e_all = cohort[event].to_numpy()
    p_all = cohort[max_followup].to_numpy(dtype=float) if max_followup in cohort.columns else None
    parts: list[pd.DataFrame] = []
    for frame in _estimates(
        d_all, e_all, p_all, times, estimators, event_of_interest, alpha, share_method
    ):
        frame.insert(0, "group", "all")
        frame.insert(0, "breakdown", "all")
        parts.append(frame)
    for column in by:
        labels = cohort[column].astype("string").fillna("missing").to_numpy()
        codes, uniques = pd.factorize(labels, sort=True)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        for k, label in enumerate(uniques):
            rows = order[bounds[k] : bounds[k + 1]]
            for frame in _estimates(
                d_all[rows],
                e_all[rows],
                None if p_all is None else p_all[rows],
                times,
                estimators,
                event_of_interest,
                alpha,
                share_method,
            ):
                frame.insert(0, "group", str(label))
                frame.insert(0, "breakdown", column)
                parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    return table[COLUMNS]


def incidence_by_crime_type(
    cohorts: Mapping[str, pd.DataFrame],
    *,
    times: Sequence[float] = YEARS,
    duration: str = "duration",
    event: str = "event",
    max_followup: str = "max_followup",
    estimators: Sequence[str] = ESTIMATORS,
    alpha: float = 0.05,
    share_method: ShareMethod = "wilson",
) -> pd.DataFrame:
    """Incidence of 'any new event of type X within t years', one outcome per crime type.

    ``cohorts`` maps each crime type to a cohort frame in which the event of interest (code 1)
    is the first event *of that type* (see :func:`thbmonitor.followup.cohort.build_cohort`
    with ``crime_type``). Events of other types do not end follow-up, since a person can have
    several types; so the shares of the types can add up to more than the share with any
    event, as in the published monitor (property 33%, assault 25%, ... against 45% any).
    """
    parts = []
    for crime_type, cohort in cohorts.items():
        table = incidence_table(
            cohort,
            times=times,
            duration=duration,
            event=event,
            max_followup=max_followup,
            estimators=estimators,
            alpha=alpha,
            share_method=share_method,
        )
        table["breakdown"] = "crime_type"
        table["group"] = str(crime_type)
        parts.append(table)
    if not parts:
        raise EstimationError("no crime types were given; pass one cohort frame per type.")
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def incidence_by_first_crime_type(
    cohort: pd.DataFrame,
    *,
    times: Sequence[float] = YEARS,
    duration: str = "duration",
    event: str = "event",
    crime_type: str = "first_crime_type",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Aalen-Johansen incidence of 'the first new event is of type X', one row set per type.

    Here the types of the first event compete with each other (and with death and
    emigration), so the incidences of the types add up to the incidence of any new event:
    the complement of :func:`incidence_by_crime_type`, where each type is its own outcome.
    """
    _require(cohort, [duration, event, crime_type])
    is_event = cohort[event].to_numpy() == 1
    labels = cohort[crime_type].astype("string").fillna("unknown").to_numpy()
    types = sorted(set(labels[is_event].tolist()))
    if not types:
        raise EstimationError("no new events in the cohort; there is no crime type to break down.")
    d = cohort[duration].to_numpy(dtype=float)
    base = np.where(is_event, 0, cohort[event].to_numpy())
    # competing codes: 2.. for death/emigration, shifted above the type codes
    base = np.where(base > 0, base + len(types), 0)
    parts = []
    for k, name in enumerate(types, start=1):
        codes = base.copy()
        for j, other in enumerate(types, start=1):
            codes[is_event & (labels == other)] = j
        frame = aalen_johansen(d, codes, event_of_interest=k, alpha=alpha).at(times)
        frame.insert(0, "estimator", "aalen_johansen")
        frame.insert(0, "group", name)
        frame.insert(0, "breakdown", "first_crime_type")
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)[COLUMNS]
