"""Estimates per stratum (year, form of exploitation, ...) and rates per 100,000.

:func:`estimate_by_stratum` fits the estimator separately in every level of one or more
covariates and never lets one sparse stratum stop the run: each row carries a ``status``:

* ``"ok"``: the requested method was fitted;
* ``"fallback"``: the requested method failed, main effects were fitted instead (``note``
  says why);
* ``"not estimable"``: too few people, a single list, or no overlap; the estimate is missing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError, InputError
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.table import CaptureTable

log = logging.getLogger(__name__)

__all__ = ["estimate_by_stratum", "rates_per_100k", "remove_noninformative_lists"]


def _as_table(
    data: CaptureTable | pd.DataFrame, lists: Sequence[str] | None, by: list[str]
) -> CaptureTable:
    if isinstance(data, CaptureTable):
        missing = [b for b in by if b not in data.covariates.columns]
        if missing:
            raise InputError(f"Stratum column(s) {missing} are not covariates of the table.")
        return data
    if lists is None:
        raise InputError("Give the list columns (lists=[...]) when passing a data frame.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # empty lists are reported per stratum
        return CaptureTable.from_frame(data, lists=lists, covariates=by)


def estimate_by_stratum(
    data: CaptureTable | pd.DataFrame,
    by: str | Sequence[str],
    lists: Sequence[str] | None = None,
    method: str = "stepwise",
    maxorder: int = 2,
    pthresh: float = 0.02,
    bootstrap: int = 0,
    seed: int | None = None,
    level: float = 0.95,
    min_observed: int = 10,
    n_jobs: int | None = 1,
) -> pd.DataFrame:
    """One row per stratum: stratum columns, observed, estimate, lower, upper, interval_method,
    model, status, note. Lists with nobody in a stratum are dropped for that stratum."""
    by = [by] if isinstance(by, str) else list(by)
    table = _as_table(data, lists, by)
    keys = table.covariates[by]
    strata = keys.drop_duplicates().sort_values(by).reset_index(drop=True)
    rows: list[dict[str, Any]] = []
    seeds = np.random.SeedSequence(seed).spawn(len(strata)) if seed is not None else None
    for i, (_, stratum) in enumerate(strata.iterrows()):
        mask = np.ones(len(keys), dtype=bool)
        for b in by:
            mask &= (keys[b] == stratum[b]).to_numpy()
        sub = table.subset(mask).collapse()
        row: dict[str, Any] = {b: stratum[b] for b in by}
        sub_seed = int(seeds[i].generate_state(1)[0]) if seeds is not None else None
        row.update(
            _fit_one(
                sub, method, maxorder, pthresh, bootstrap, sub_seed, level, min_observed, n_jobs
            )
        )
        rows.append(row)
    return pd.DataFrame(rows)


def remove_noninformative_lists(table: CaptureTable) -> tuple[CaptureTable, list[str]]:
    """SparseMSE ``removenoninformativelists``: drop lists that hold nobody, that hold everyone
    observed, or that repeat an earlier list exactly. Returns the table and the dropped names."""
    tab = table.collapse()
    pos = tab.counts > 0
    hist, counts = tab.histories[pos], tab.counts[pos]
    on_list = hist.T @ counts
    total = counts.sum()
    keep: list[int] = []
    for i in range(tab.n_lists):
        if on_list[i] == 0 or on_list[i] == total:
            continue
        if any(np.array_equal(hist[:, i], hist[:, j]) for j in keep):
            continue
        keep.append(i)
    dropped = [n for i, n in enumerate(tab.lists) if i not in keep]
    if not dropped:
        return tab, []
    h = hist[:, keep]
    nonzero = h.sum(axis=1) > 0
    reduced = CaptureTable(tuple(tab.lists[i] for i in keep), h[nonzero], counts[nonzero])
    return reduced.collapse(), dropped


def _fit_one(
    sub: CaptureTable,
    method: str,
    maxorder: int,
    pthresh: float,
    bootstrap: int,
    seed: int | None,
    level: float,
    min_observed: int,
    n_jobs: int | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "observed": sub.observed,
        "estimate": np.nan,
        "lower": np.nan,
        "upper": np.nan,
        "interval_method": "",
        "model": "",
        "status": "not estimable",
        "note": "",
    }
    if sub.observed < min_observed:
        out["note"] = f"fewer than {min_observed} people registered"
        return out
    sub, dropped = remove_noninformative_lists(sub)
    if sub.n_lists < 2:
        out["note"] = "fewer than two informative lists"
        return out
    if dropped:
        out["note"] = f"lists dropped (empty, holding everyone or duplicated): {dropped}; "
    attempts = [method] if method == "main" else [method, "main"]
    for attempt in attempts:
        est = MultipleSystemsEstimator(
            method=attempt,
            maxorder=maxorder,
            pthresh=pthresh,
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            n_jobs=n_jobs,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                est.fit(sub)
        except (EstimationError, RuntimeWarning, np.linalg.LinAlgError, ValueError) as exc:
            reason = exc.args[0] if isinstance(exc, EstimationError) else type(exc).__name__
            out["note"] += f"{attempt} failed: {reason}; "
            log.warning("stratum estimate with %s failed (%s)", attempt, type(exc).__name__)
            continue
        if not np.isfinite(est.estimate_) or not est.fit_.converged:
            out["note"] += f"{attempt} did not converge; "
            continue
        out.update(
            estimate=est.estimate_,
            lower=est.interval_.lower,
            upper=est.interval_.upper,
            interval_method=est.interval_.method,
            model=" + ".join(est.model_) or "main effects",
            status="ok" if attempt == method else "fallback",
        )
        break
    out["note"] = out["note"].strip().rstrip(";")
    return out


def rates_per_100k(
    estimates: pd.DataFrame,
    denominators: Mapping[Any, float] | pd.DataFrame,
    on: str | Sequence[str] | None = None,
    population: str = "population",
) -> pd.DataFrame:
    """Add ``rate``, ``rate_lower``, ``rate_upper`` per 100,000 inhabitants.

    ``denominators`` is a mapping from stratum value to population (one stratum column) or a
    frame with the stratum columns and a ``population`` column. Strata without a denominator
    get missing rates.
    """
    out = estimates.copy()
    if isinstance(denominators, pd.DataFrame):
        keys = [on] if isinstance(on, str) else list(on or [])
        if not keys:
            keys = [c for c in denominators.columns if c != population]
        out = out.merge(denominators[[*keys, population]], on=keys, how="left")
    else:
        if on is None or not isinstance(on, str):
            raise InputError("With a mapping of denominators, name the one stratum column (on=).")
        out[population] = out[on].map(denominators)
    pop = pd.to_numeric(out[population], errors="coerce").astype(float)
    bad = pop <= 0
    if bad.any():
        raise InputError(f"Population denominators must be positive; {int(bad.sum())} are not.")
    for col, name in (("estimate", "rate"), ("lower", "rate_lower"), ("upper", "rate_upper")):
        out[name] = out[col] / pop * 1e5
    return out
