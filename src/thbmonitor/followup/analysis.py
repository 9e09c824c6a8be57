"""The whole follow-up chapter in one call: cohorts, estimators, breakdowns, risk, overlap.

:func:`analyse_followup` takes the linked persons and their police-register events as plain
frames (the store's SQL selects them) and returns a frozen :class:`FollowUpResult` whose
tables feed the report and the disclosure control, and whose :meth:`~FollowUpResult.results`
gives the ``results.json`` sections ``revictimisation`` and ``suspect_registration``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError
from thbmonitor.followup.breakdown import YEARS, incidence_by_crime_type, incidence_table
from thbmonitor.followup.cohort import CohortRule, build_cohort, build_cohorts_by_type
from thbmonitor.followup.competing_risk import FineGrayModel
from thbmonitor.followup.overlap import coverage_table, offender_overlap, suspect_flags
from thbmonitor.followup.risk import RiskModel

logger = logging.getLogger(__name__)

__all__ = ["CRIME_TYPES", "FollowUpResult", "analyse_followup", "results_section"]

CRIME_TYPES: tuple[str, ...] = ("property", "violence", "sexual", "trafficking", "other")


@dataclass(frozen=True)
class FollowUpResult:
    """Tidy tables of the follow-up chapter (unprotected: run disclosure control before release).

    ``revictimisation`` and ``suspect_registration`` have the columns of
    :func:`~thbmonitor.followup.breakdown.incidence_table`; ``risk`` is
    :attr:`RiskModel.summary` (cause-specific hazard ratios) and ``risk_competing`` is
    :attr:`FineGrayModel.summary` (subdistribution hazard ratios); both are empty when no risk
    factors were given. ``risk_competing_failure`` says why Fine-Gray could not be fitted
    (empty when it was, or was not asked for); ``risk_competing_dropped`` is the model's
    ``dropped_levels_`` (covariate -> levels and persons left out for having no events), and
    ``risk_dropped`` the Cox model's.
    """

    revictimisation: pd.DataFrame
    by_crime_type: pd.DataFrame
    suspect_registration: pd.DataFrame
    risk: pd.DataFrame
    concordance: float
    overlap: pd.DataFrame
    coverage: pd.DataFrame
    n_persons: int
    n_cohort: int
    risk_competing: pd.DataFrame = field(default_factory=pd.DataFrame)
    risk_competing_failure: str = ""
    risk_competing_dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    risk_dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    min_level: int = 0  # levels of fewer persons are left out of the risk models

    def results(self) -> dict[str, Any]:
        """The ``results.json`` sections: per estimator, the incidence at 1..7 years."""
        return {
            "revictimisation": results_section(self.revictimisation),
            "suspect_registration": results_section(self.suspect_registration),
        }


def results_section(table: pd.DataFrame) -> dict[str, Any]:
    """Overall rows of an incidence table as ``{estimator: {t, estimate, lower, upper, ...}}``.

    NaN (nobody followed that long) becomes ``None`` so that the JSON stays valid.
    """
    overall = table[table["breakdown"] == "all"]
    out: dict[str, Any] = {}
    for estimator, rows in overall.groupby("estimator", sort=False):
        rows = rows.sort_values("t")
        out[str(estimator)] = {
            column: [None if pd.isna(v) else float(v) for v in rows[column]]
            for column in ("t", "estimate", "lower", "upper")
        } | {
            "n_at_risk": [int(v) for v in rows["n_at_risk"]],
            "n_events": [int(v) for v in rows["n_events"]],
        }
    return out


def analyse_followup(
    persons: pd.DataFrame,
    events: pd.DataFrame,
    end_of_data: str | pd.Timestamp,
    *,
    by: Sequence[str] = (),
    risk_factors: Sequence[str] = (),
    coverage_by: Sequence[str] = (),
    crime_types: Sequence[str] = CRIME_TYPES,
    rule: CohortRule | None = None,
    times: Sequence[float] = YEARS,
    alpha: float = 0.05,
    min_level: int = 0,
) -> FollowUpResult:
    """Build the victim and suspect cohorts and run every estimator and breakdown.

    ``persons`` and ``events`` are as in :func:`~thbmonitor.followup.cohort.build_cohort`;
    ``by`` are subgroup columns of ``persons`` (each broken down on its own), ``risk_factors``
    the covariates of the Cox model, ``coverage_by`` the columns of the coverage table.
    """
    rule = rule or CohortRule()
    # one pass over the register: keep the events of these persons (drop the background)
    own = pd.Index(persons["person_id"]).get_indexer(events["person_id"]) >= 0
    events = events.loc[own]
    victim = build_cohort(persons, events, end_of_data, rule)
    suspect_rule = CohortRule(
        role="suspect",
        exclusion_days=rule.exclusion_days,
        exclusion_types=rule.exclusion_types,
    )
    suspect = build_cohort(persons, events, end_of_data, suspect_rule)
    revictimisation = incidence_table(victim, by=by, times=times, alpha=alpha)
    suspect_table = incidence_table(suspect, by=by, times=times, alpha=alpha)
    cohorts = build_cohorts_by_type(persons, events, end_of_data, tuple(crime_types), rule)
    by_type = incidence_by_crime_type(cohorts, times=times, alpha=alpha)
    competing_failure = ""
    competing_dropped: dict[str, dict[str, int]] = {}
    risk_dropped: dict[str, dict[str, int]] = {}
    if risk_factors:
        model = RiskModel(alpha=alpha, min_level=min_level).fit(victim, risk_factors)
        risk, concordance = model.summary, model.concordance_
        risk_dropped = dict(model.dropped_levels_)
        competing = FineGrayModel(alpha=alpha, min_level=min_level)
        try:
            risk_competing = competing.fit(victim, risk_factors).summary
        except EstimationError as exc:  # e.g. a covariate separates; the Cox view still stands
            logger.warning("Fine-Gray model not reported: %s", exc)
            risk_competing = pd.DataFrame()
            competing_failure = str(exc)
        competing_dropped = dict(getattr(competing, "dropped_levels_", {}))
    else:
        risk, concordance = pd.DataFrame(), float("nan")
        risk_competing = pd.DataFrame()
    linked = (
        persons.loc[persons["linked"].fillna(False).astype(bool)]
        if "linked" in persons.columns
        else persons
    )
    flags = suspect_flags(linked, events, end_of_data)
    overlap = offender_overlap(flags, by=by, alpha=alpha)
    coverage = (
        coverage_table(persons, by=coverage_by, alpha=alpha)
        if "linked" in persons.columns
        else pd.DataFrame()
    )
    logger.info(
        "follow-up: %d persons, %d in the cohort, %d with a new victim event",
        len(persons),
        len(victim),
        int(np.count_nonzero(victim["event"].to_numpy() == 1)),
    )
    return FollowUpResult(
        revictimisation=revictimisation,
        by_crime_type=by_type,
        suspect_registration=suspect_table,
        risk=risk,
        concordance=concordance,
        overlap=overlap,
        coverage=coverage,
        n_persons=len(persons),
        n_cohort=len(victim),
        risk_competing=risk_competing,
        risk_competing_failure=competing_failure,
        risk_competing_dropped=competing_dropped,
        risk_dropped=risk_dropped,
        min_level=min_level,
    )
