"""Linkage error in the follow-up: the cohort repeated over link sets drawn from the scores.

The police linkage keeps, for every register event, each person scoring at least 0.1
(``person_police_candidates``). A draw gives each event at most one owner: person j with
probability ``p_j / max(1, sum p)`` over the event's candidates, nobody with the rest (an event
whose candidates score 0.97 and 0.3 goes to the first 74.6%, to the second 23.1%, to nobody
2.3%). Judged pairs of the clerical review are fixed: an event judged a match belongs to that
person in every draw, a pair judged a non-match never links. Each draw is one plausible link
set; the cohort and the estimators are run on each, and the draws are combined by Rubin's
rules (Rubin 1987; as in multiple imputation of links, Goldstein, Harron & Wade 2012) on the
logit scale (:func:`thbmonitor.imputation.pool`; the within-draw variance by the delta method
from each estimator's own variance). The interval therefore widens by what the
linkage leaves uncertain. Events whose identifiers score below 0.1 for their person are never
drawn. With ``miss_rate`` ``m`` (the share of a person's events the linkage misses so,
:func:`thbmonitor.linkage.missrate.police_miss_rate`) each draw's estimate is corrected for
them: if every event is missed independently with probability ``m``, a person whose events
up to ``t`` are all missed was seen with exactly one event with probability about ``m / (1 -
m)`` times as often as they were lost, so ``F(t) = F1(t) + m / (1 - m) * (F1(t) - F2(t))``
with ``F1`` the estimator on the first drawn event and ``F2`` on the second (``F1 - F2`` is the
share seen with exactly one event by ``t``); what is left is of the order ``m**2``. The
correction is applied to each estimator with its own ``F2`` (Aalen-Johansen with the same
competing events, Kaplan-Meier, the crude share), the variance as ``(1 + k)**2 V1 + k**2 V2``
with ``k = m / (1 - m)`` (the covariance of ``F1`` and ``F2``, positive, left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError
from thbmonitor.followup.breakdown import COLUMNS
from thbmonitor.followup.cohort import DAYS_PER_YEAR, EVENT_CODES, CohortRule, build_cohort
from thbmonitor.followup.curves import aalen_johansen, crude_share, kaplan_meier
from thbmonitor.imputation import delta_variance, pool

__all__ = ["LinkDraws", "draw_links", "followup_over_draws", "later_events"]

ESTIMATORS: tuple[str, ...] = ("crude", "kaplan_meier", "aalen_johansen")


def draw_links(candidates: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One link set: the rows of ``candidates`` (``person_id``, ``event_id``,
    ``match_probability``, ...) drawn as links, at most one per event."""
    if candidates.empty:
        return candidates
    frame = candidates.sort_values(["event_id", "person_id"], kind="stable")
    p = frame["match_probability"].to_numpy(dtype=float)
    codes, _ = pd.factorize(frame["event_id"], sort=False)
    total = np.bincount(codes, weights=p)
    q = p / np.maximum(total, 1.0)[codes]
    # one uniform per event; the owner is the candidate whose cumulative share passes it
    u = rng.random(len(total))[codes]
    upper = np.cumsum(q) - np.concatenate(([0.0], np.cumsum(np.bincount(codes, weights=q))))[codes]
    lower = upper - q
    chosen = (u >= lower) & (u < upper)
    return frame.loc[chosen]


def later_events(cohort: pd.DataFrame, events: pd.DataFrame, rule: CohortRule) -> pd.DataFrame:
    """``events`` without the event each person's follow-up ended on (``cohort`` from
    :func:`~thbmonitor.followup.cohort.build_cohort` on them): the cohort built on the rest ends
    on each person's second counted event."""
    hit = cohort[cohort["event"] == EVENT_CODES["event"]]
    days = np.rint(hit["duration"].to_numpy(dtype=float) * DAYS_PER_YEAR)
    first = pd.DataFrame(
        {
            "person_id": hit["person_id"].to_numpy(),
            "event_date": (
                pd.to_datetime(hit["entry_date"]).dt.normalize() + pd.to_timedelta(days, unit="D")
            ).to_numpy(),
            "crime_type": hit["first_crime_type"].astype(str).to_numpy(),
        }
    )
    frame = events.reset_index(drop=True)
    keys = pd.DataFrame(
        {
            "row": np.arange(len(frame)),
            "person_id": frame["person_id"].to_numpy(),
            "event_date": pd.to_datetime(frame["event_date"]).dt.normalize().to_numpy(),
            "crime_type": frame["crime_type"].astype(str).to_numpy(),
        }
    )[(frame["role"] == rule.role).to_numpy()]
    ended = keys.merge(first, on=["person_id", "event_date", "crime_type"])
    return frame.drop(index=ended.groupby("person_id")["row"].min().tolist())


def _corrected(
    first: dict[str, pd.DataFrame], second: dict[str, pd.DataFrame], miss_rate: float
) -> dict[str, pd.DataFrame]:
    """Each estimator's first-event estimate corrected for events missed with ``miss_rate``."""
    k = miss_rate / (1 - miss_rate)
    out = {}
    for name, frame in first.items():
        f1, v1 = frame["estimate"].to_numpy(dtype=float), frame["variance"].to_numpy(dtype=float)
        f2 = second[name]["estimate"].to_numpy(dtype=float)
        v2 = second[name]["variance"].to_numpy(dtype=float)
        out[name] = frame.assign(
            estimate=f1 + k * (f1 - f2),
            variance=(1 + k) ** 2 * v1 + k**2 * v2,
        )
    return out


def _draw_estimates(
    cohort: pd.DataFrame, times: Sequence[float], alpha: float
) -> dict[str, pd.DataFrame]:
    """Per estimator: t, estimate, variance, n_at_risk, n_events at ``times``."""
    d = cohort["duration"].to_numpy(dtype=float)
    e = cohort["event"].to_numpy()
    out = {}
    for name in ESTIMATORS:
        if name == "crude":
            share = crude_share(d, e, cohort["max_followup"].to_numpy(dtype=float), times)
            frame = share.to_frame()
            n = frame["n_at_risk"].to_numpy(dtype=float)
            p = frame["estimate"].to_numpy(dtype=float)
            frame["variance"] = np.where(n > 0, p * (1 - p) / np.maximum(n, 1), np.nan)
        else:
            estimator = kaplan_meier if name == "kaplan_meier" else aalen_johansen
            curve = estimator(d, e, event_of_interest=1, alpha=alpha)
            frame = curve.at(times)
            idx = np.clip(np.searchsorted(curve.timeline, frame["t"], side="right") - 1, 0, None)
            frame["variance"] = curve.variance[idx]
        out[name] = frame
    return out


@dataclass(frozen=True)
class LinkDraws:
    """The follow-up over ``draws`` link sets: ``table`` has the columns of
    :func:`~thbmonitor.followup.breakdown.incidence_table` (overall rows; ``n_at_risk`` and
    ``n_events`` are the rounded means over the draws) plus ``between_share`` (share of the
    variance due to the linkage)."""

    table: pd.DataFrame
    draws: int
    candidates: int
    mean_links: float
    miss_rate: float = 0.0

    def results(self) -> dict[str, object]:
        """``results.json`` ``followup_linkage`` for one cohort: per estimator, per year."""
        out: dict[str, object] = {
            "draws": self.draws,
            "candidate_links": self.candidates,
            "mean_links_per_draw": round(self.mean_links, 1),
            "miss_rate": round(self.miss_rate, 4),
        }
        for name, rows in self.table.groupby("estimator", sort=False):
            rows = rows.sort_values("t")
            out[str(name)] = {
                column: [None if pd.isna(v) else float(v) for v in rows[column]]
                for column in ("t", "estimate", "lower", "upper", "between_share")
            }
        return out


def followup_over_draws(
    persons: pd.DataFrame,
    candidates: pd.DataFrame,
    end_of_data: str | pd.Timestamp,
    *,
    rule: CohortRule,
    times: Sequence[float],
    draws: int,
    seed: int,
    alpha: float = 0.05,
    covered_by_police: bool = False,
    miss_rate: float = 0.0,
) -> LinkDraws:
    """Run the cohort over ``draws`` link sets drawn from ``candidates`` (``person_id``,
    ``event_id``, ``match_probability``, ``event_date``, ``role``, ``crime_type``) and combine.

    With ``covered_by_police`` (no population register) a person is covered in a draw when any
    drawn event is theirs, as :func:`~thbmonitor.followup.source.cohort_source` does.
    With ``miss_rate`` > 0 each draw's estimates are corrected for the events the linkage
    misses (see the module's text).
    """
    if draws < 2:
        raise EstimationError("the follow-up over link draws needs at least 2 draws")
    if not 0 <= miss_rate < 0.5:
        raise EstimationError("the miss rate of the linkage must be at least 0 and below 0.5")
    rng = np.random.default_rng(seed)
    per_draw: dict[str, list[pd.DataFrame]] = {name: [] for name in ESTIMATORS}
    sizes = []
    for _ in range(draws):
        links = draw_links(candidates, rng)
        sizes.append(len(links))
        who = persons
        if covered_by_police:
            who = persons.assign(linked=persons["person_id"].isin(set(links["person_id"])))
        cohort = build_cohort(who, links, end_of_data, rule)
        found = _draw_estimates(cohort, times, alpha)
        if miss_rate > 0:
            second = build_cohort(who, later_events(cohort, links, rule), end_of_data, rule)
            found = _corrected(found, _draw_estimates(second, times, alpha), miss_rate)
        for name, frame in found.items():
            per_draw[name].append(frame)
    rows = []
    for name, frames in per_draw.items():
        stacked = pd.concat(frames, keys=range(draws), names=["draw", "row"])
        for t, sub in stacked.groupby("t", sort=True):
            t = float(t)  # type: ignore[arg-type]
            estimates = sub["estimate"].to_numpy(dtype=float)
            pooled = pool(
                estimates,
                delta_variance(estimates, sub["variance"].to_numpy(dtype=float), "logit"),
                transform="logit",
                level=1 - alpha,
            )
            rows.append(
                {
                    "breakdown": "all",
                    "group": "all",
                    "estimator": name,
                    "t": t,
                    "estimate": pooled.estimate,
                    "lower": pooled.lower,
                    "upper": pooled.upper,
                    "n_at_risk": round(float(sub["n_at_risk"].mean())),
                    "n_events": round(float(sub["n_events"].mean())),
                    "between_share": pooled.between_share,
                }
            )
    table = pd.DataFrame(rows, columns=[*COLUMNS, "between_share"])
    return LinkDraws(table, draws, len(candidates), float(np.mean(sizes)), miss_rate)
