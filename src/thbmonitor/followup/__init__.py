"""Follow-up of presumed victims: re-victimisation and suspect registration within 1..7 years.

Estimators take a cohort frame with one row per person: ``duration`` (years) and ``event``
(0 censored, 1 event of interest, 2.. competing events such as death or emigration).
No engine is imported here; build the frame with :func:`build_cohort` or from the store.
"""

from __future__ import annotations

from thbmonitor.followup.analysis import (
    CRIME_TYPES,
    FollowUpResult,
    analyse_followup,
    results_section,
)
from thbmonitor.followup.breakdown import (
    ESTIMATORS,
    YEARS,
    incidence_by_crime_type,
    incidence_by_first_crime_type,
    incidence_table,
)
from thbmonitor.followup.cohort import EVENT_CODES, CohortRule, build_cohort, build_cohorts_by_type
from thbmonitor.followup.competing_risk import FineGrayModel
from thbmonitor.followup.curves import (
    CrudeShare,
    IncidenceCurve,
    aalen_johansen,
    crude_share,
    kaplan_meier,
    proportion_interval,
)
from thbmonitor.followup.overlap import coverage_table, offender_overlap, suspect_flags
from thbmonitor.followup.risk import RiskModel

__all__ = [
    "CRIME_TYPES",
    "ESTIMATORS",
    "EVENT_CODES",
    "YEARS",
    "CohortRule",
    "CrudeShare",
    "FineGrayModel",
    "FollowUpResult",
    "IncidenceCurve",
    "RiskModel",
    "aalen_johansen",
    "analyse_followup",
    "build_cohort",
    "build_cohorts_by_type",
    "coverage_table",
    "crude_share",
    "incidence_by_crime_type",
    "incidence_by_first_crime_type",
    "incidence_table",
    "kaplan_meier",
    "offender_overlap",
    "proportion_interval",
    "results_section",
    "suspect_flags",
]
