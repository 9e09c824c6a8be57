"""The ``hidden_number`` block of results.json: overall estimate, series per stratum, sensitivity.

One call for the pipeline: :func:`hidden_number_results` takes the linked persons' capture
histories (a count table with list columns, covariates and ``count``) and returns plain,
JSON-ready data. Nothing here prints or writes files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.heterogeneity import sensitivity_table
from thbmonitor.mse.strata import estimate_by_stratum, rates_per_100k
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["hidden_number_results", "records"]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with plain Python values; NaN becomes None."""
    out = []
    for row in df.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not np.isfinite(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


def hidden_number_results(
    data: CaptureTable | pd.DataFrame,
    lists: Sequence[str] | None = None,
    strata: Sequence[str] = ("year",),
    method: str = "stepwise",
    maxorder: int = 2,
    pthresh: float = 0.02,
    bootstrap: int = 1000,
    seed: int | None = None,
    level: float = 0.95,
    denominators: Mapping[str, pd.DataFrame] | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Overall estimate (BCa if ``bootstrap``), one series per stratum column (profile
    intervals, each stratum with a status) and the sensitivity table.

    ``denominators`` maps a stratum column to a frame with that column and ``population``;
    the series then gets rates per 100,000.
    """
    strata = list(strata)
    if isinstance(data, CaptureTable):
        table = data
    else:
        if lists is None:
            raise EstimationError("Give the list columns (lists=[...]) with a data frame.")
        covs = [c for c in strata if c in data.columns]
        table = CaptureTable.from_frame(data, lists=lists, covariates=covs)
    collapsed = table.collapse()
    out: dict[str, Any] = {
        "lists": list(table.lists),
        "observed": collapsed.observed,
        "level": level,
    }
    try:
        est = MultipleSystemsEstimator(
            method=method,
            maxorder=maxorder,
            pthresh=pthresh,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            n_jobs=n_jobs,
        ).fit(collapsed)
        out["overall"] = est.to_dict()
    except EstimationError as exc:
        log.warning("overall hidden-number estimate failed: %s", exc)
        out["overall"] = {"error": str(exc), "observed": collapsed.observed}
    series: dict[str, Any] = {}
    for col in strata:
        if col not in table.covariates.columns:
            series[col] = {"error": f"'{col}' is not a covariate of the table"}
            continue
        df = estimate_by_stratum(
            table, col, method=method, maxorder=maxorder, pthresh=pthresh, level=level
        )
        if denominators and col in denominators:
            df = rates_per_100k(df, denominators[col], on=col)
        series[col] = records(df)
    out["series"] = series
    try:
        out["sensitivity"] = records(
            sensitivity_table(collapsed, maxorder=maxorder, pthresh=pthresh, level=level)
        )
    except EstimationError as exc:
        out["sensitivity"] = {"error": str(exc)}
    return out
