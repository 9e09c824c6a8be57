"""Victim-offender overlap and police-register coverage, as tidy tables with Wilson intervals.

The overlap counts persons registered as suspect before entry, after entry, both or neither.
"After" here is a plain share over whatever follow-up each person had; for a share within
t years that accounts for censoring use the suspect cohort
(``build_cohort(..., rule=CohortRule(role="suspect"))``) with the incidence estimators.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError
from thbmonitor.followup.cohort import _NONE, _days, day_number, match_events
from thbmonitor.followup.curves import ShareMethod, proportion_interval

logger = logging.getLogger(__name__)

__all__ = ["coverage_table", "offender_overlap", "suspect_flags"]

OVERLAP_CATEGORIES = ("neither", "before_only", "after_only", "both", "any_before", "any_after")


def suspect_flags(
    persons: pd.DataFrame,
    events: pd.DataFrame,
    end_of_data: str | pd.Timestamp,
    *,
    role: str = "suspect",
) -> pd.DataFrame:
    """Per person: ``suspect_before`` (a suspect registration on or before the entry date) and
    ``suspect_after`` (after the entry date, up to death, emigration or the end of the data).
    """
    for column in ("person_id", "entry_date"):
        if column not in persons.columns:
            raise EstimationError(f"the persons frame lacks the column '{column}'.")
    for column in ("person_id", "event_date", "role"):
        if column not in events.columns:
            raise EstimationError(f"the events frame lacks the column '{column}'.")
    entry = _days(persons["entry_date"], "entry_date", required=True)
    end = day_number(end_of_data)
    stop = np.full(len(persons), end, dtype=np.int64)
    for column in ("death_date", "emigration_date"):
        if column in persons.columns:
            stop = np.minimum(stop, _days(persons[column], column, required=False))
    selected = np.flatnonzero((events["role"] == role).to_numpy())
    matched, position = match_events(persons["person_id"], events["person_id"].iloc[selected])
    rows = selected[matched]
    day = _days(events["event_date"].iloc[rows], "event_date", required=True, rows=rows)
    before = np.zeros(len(persons), dtype=bool)
    after = np.zeros(len(persons), dtype=bool)
    before[position[day <= entry[position]]] = True
    is_after = (day > entry[position]) & (day <= stop[position]) & (day != _NONE)
    after[position[is_after]] = True
    out = persons.reset_index(drop=True).copy()
    out["suspect_before"] = before
    out["suspect_after"] = after
    return out


def _groups(frame: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, str, pd.DataFrame]]:
    parts = [("all", "all", frame)]
    for column in by:
        if column not in frame.columns:
            raise EstimationError(f"the frame lacks the breakdown column '{column}'.")
        labels = frame[column].astype("string").fillna("missing")
        for label, sub in frame.groupby(labels, sort=True):
            parts.append((column, str(label), sub))
    return parts


def offender_overlap(
    flags: pd.DataFrame,
    *,
    before: str = "suspect_before",
    after: str = "suspect_after",
    by: Sequence[str] = (),
    alpha: float = 0.05,
    method: ShareMethod = "wilson",
) -> pd.DataFrame:
    """Counts and shares of persons registered as suspect before entry, after, both or neither.

    Columns: breakdown, group, category, count, total, share, lower, upper.
    """
    for column in (before, after):
        if column not in flags.columns:
            raise EstimationError(f"the frame lacks the flag column '{column}'.")
    rows = []
    for breakdown, group, sub in _groups(flags, by):
        b = sub[before].fillna(False).astype(bool).to_numpy()
        a = sub[after].fillna(False).astype(bool).to_numpy()
        counts = {
            "neither": int((~b & ~a).sum()),
            "before_only": int((b & ~a).sum()),
            "after_only": int((~b & a).sum()),
            "both": int((b & a).sum()),
            "any_before": int(b.sum()),
            "any_after": int(a.sum()),
        }
        for category in OVERLAP_CATEGORIES:
            rows.append((breakdown, group, category, counts[category], len(sub)))
    table = pd.DataFrame(rows, columns=["breakdown", "group", "category", "count", "total"])
    return _with_shares(table, "count", "total", alpha, method)


def coverage_table(
    persons: pd.DataFrame,
    *,
    linked: str = "linked",
    by: Sequence[str] = ("nationality_group", "residence_status"),
    alpha: float = 0.05,
    method: ShareMethod = "wilson",
) -> pd.DataFrame:
    """Share of persons found in the police register, overall and by each ``by`` column.

    Columns: breakdown, group, n_linked, n_persons, share, lower, upper.
    """
    if linked not in persons.columns:
        raise EstimationError(f"the persons frame lacks the column '{linked}'.")
    rows = []
    for breakdown, group, sub in _groups(persons, by):
        flag = sub[linked].fillna(False).astype(bool).to_numpy()
        rows.append((breakdown, group, int(flag.sum()), len(sub)))
    table = pd.DataFrame(rows, columns=["breakdown", "group", "n_linked", "n_persons"])
    return _with_shares(table, "n_linked", "n_persons", alpha, method)


def _with_shares(
    table: pd.DataFrame, count: str, total: str, alpha: float, method: ShareMethod
) -> pd.DataFrame:
    k = table[count].to_numpy(dtype=float)
    m = table[total].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = np.where(m > 0, k / m, np.nan)
    table["lower"], table["upper"] = proportion_interval(k, m, alpha, method)
    return table
