"""Cumulative incidence curves: Kaplan-Meier 1 - S(t), Aalen-Johansen, and the crude share.

The input is one row per person: ``duration`` (years from entry to the first event or to the
end of follow-up, >= 0) and ``event`` (0 = censored, 1 = event of interest, 2.. = competing
events such as death or emigration). Everything is vectorised numpy: one sort and a few
cumulative sums, so 100,000 persons take milliseconds.

Methods (each result states its own in ``method``):

* **Kaplan-Meier** treats every code other than the event of interest as censoring, so with
  competing events it estimates the incidence in a world without them (an upper bound).
  Variance: Greenwood. Interval: ``"log-log"`` (default; the exponential Greenwood form of
  Kalbfleisch and Prentice, as lifelines' ``KaplanMeierFitter``) or ``"log"`` (R
  ``survfit``'s default ``conf.type="log"``).
* **Aalen-Johansen** cumulative incidence of the event of interest with all other non-zero
  codes as competing events. Variance: the Greenwood-type delta-method formula in Collett,
  *Modelling Survival Data in Medical Research* (3rd ed., p. 411), as lifelines'
  ``AalenJohansenFitter``; interval on the log(-log F) scale. Tied times of different event
  types are handled exactly (the estimator allows ties); lifelines instead jitters them.
* **Crude share** among persons who entered at least ``t`` years before the end of the data
  (see :func:`crude_share`), with a Wilson score interval (default) or exact Clopper-Pearson.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from thbmonitor.errors import EstimationError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
ConfType = Literal["log-log", "log"]
ShareMethod = Literal["wilson", "clopper-pearson"]

__all__ = [
    "CrudeShare",
    "IncidenceCurve",
    "aalen_johansen",
    "crude_share",
    "kaplan_meier",
]


@dataclass(frozen=True)
class IncidenceCurve:
    """A cumulative incidence step function with a pointwise confidence band.

    ``timeline`` starts at 0 and holds every distinct duration (event or censoring time);
    ``estimate[i]`` is the incidence at ``timeline[i]`` including events at that time
    (right-continuous). ``n_at_risk[i]`` counts persons with duration >= ``timeline[i]``;
    ``n_events[i]`` is the cumulative number of events of interest up to ``timeline[i]``.
    """

    timeline: FloatArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    variance: FloatArray
    n_at_risk: FloatArray
    n_events: FloatArray
    method: str
    alpha: float

    def at(self, times: Sequence[float] | npt.ArrayLike) -> pd.DataFrame:
        """Read the curve at ``times`` (step function, right-continuous).

        Times beyond the last observed duration give NaN: nobody was followed that long.
        ``n_at_risk`` is the number still followed at ``t`` (duration >= t).
        """
        t = np.asarray(times, dtype=float).reshape(-1)
        idx = np.searchsorted(self.timeline, t, side="right") - 1
        beyond = t > self.timeline[-1]
        idx = np.clip(idx, 0, len(self.timeline) - 1)

        def pick(values: FloatArray) -> FloatArray:
            out = values[idx].astype(float)
            out[beyond] = np.nan
            return out

        # persons still followed at t: those with duration >= t (a left limit, not the step value)
        j = np.searchsorted(self.timeline, t, side="left")
        at_risk = np.where(
            j < len(self.timeline), self.n_at_risk[np.minimum(j, len(self.timeline) - 1)], 0.0
        )
        return pd.DataFrame(
            {
                "t": t,
                "estimate": pick(self.estimate),
                "lower": pick(self.lower),
                "upper": pick(self.upper),
                "n_at_risk": at_risk.astype(np.int64),
                "n_events": self.n_events[idx].astype(np.int64),
            }
        )


@dataclass(frozen=True)
class CrudeShare:
    """Share with the event of interest within ``t`` among persons who could be followed ``t``."""

    times: FloatArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    n_followed: FloatArray
    n_events: FloatArray
    method: str
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """The shares as a tidy frame: t, estimate, lower, upper, n_at_risk, n_events."""
        return pd.DataFrame(
            {
                "t": self.times,
                "estimate": self.estimate,
                "lower": self.lower,
                "upper": self.upper,
                "n_at_risk": self.n_followed.astype(np.int64),
                "n_events": self.n_events.astype(np.int64),
            }
        )


def _check(
    duration: npt.ArrayLike, event: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    d = np.asarray(duration, dtype=float).reshape(-1)
    e_raw = np.asarray(event).reshape(-1)
    if d.shape != e_raw.shape:
        raise EstimationError(
            f"duration and event have different lengths ({d.size} and {e_raw.size}); "
            "pass one value of each per person."
        )
    if d.size == 0:
        raise EstimationError("the cohort is empty; there is nothing to estimate.")
    bad = np.flatnonzero(~np.isfinite(d) | (d < 0))
    if bad.size:
        raise EstimationError(
            f"duration must be a finite number >= 0; {bad.size} row(s) are not, "
            f"first at position {int(bad[0])}. Remove or correct those rows."
        )
    e_float = e_raw.astype(float)
    bad = np.flatnonzero(~np.isfinite(e_float) | (e_float < 0) | (e_float != np.round(e_float)))
    if bad.size:
        raise EstimationError(
            f"event must be a whole number >= 0 (0 = censored); {bad.size} row(s) are not, "
            f"first at position {int(bad[0])}."
        )
    return d, e_float.astype(np.int64)


def _event_table(
    d: FloatArray, e: npt.NDArray[np.int64], event_of_interest: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Distinct times (with 0 prepended) and, per time: at risk, all events, events of interest."""
    times, inverse = np.unique(d, return_inverse=True)
    times = times.astype(np.float64)
    removed = np.bincount(inverse, minlength=times.size).astype(np.float64)
    observed = np.bincount(inverse[e != 0], minlength=times.size).astype(np.float64)
    of_interest = np.bincount(inverse[e == event_of_interest], minlength=times.size).astype(
        np.float64
    )
    if times[0] > 0:
        times = np.concatenate(([0.0], times))
        removed = np.concatenate(([0.0], removed))
        observed = np.concatenate(([0.0], observed))
        of_interest = np.concatenate(([0.0], of_interest))
    at_risk = np.asarray(removed[::-1].cumsum()[::-1], dtype=np.float64)
    return times, at_risk, observed, of_interest


def _survival(at_risk: FloatArray, deaths: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Product-limit S(t) (via a sum of logs, as lifelines) and the Greenwood sum."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.cumsum(np.log(at_risk - deaths) - np.log(at_risk))
        term = deaths / (at_risk * (at_risk - deaths))
    # the step where everyone left at risk has the event (S drops to 0) adds nothing (lifelines)
    term = np.where(np.isfinite(term), term, 0.0)
    return np.exp(log_s), np.cumsum(term)


def kaplan_meier(
    duration: npt.ArrayLike,
    event: npt.ArrayLike,
    *,
    event_of_interest: int = 1,
    alpha: float = 0.05,
    conf_type: ConfType = "log-log",
) -> IncidenceCurve:
    """Kaplan-Meier cumulative incidence 1 - S(t); other event codes count as censored.

    ``conf_type="log-log"`` matches lifelines' ``KaplanMeierFitter`` (exponential Greenwood);
    ``"log"`` matches R ``survfit(..., conf.type="log")`` (upper bound of S capped at 1).
    """
    d, e = _check(duration, event)
    times, at_risk, _, deaths = _event_table(d, e, event_of_interest)
    surv, greenwood = _survival(at_risk, deaths)
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log-log":
            log_s = np.log(surv)
            shift = z * np.sqrt(greenwood) / log_s
            s_low = np.exp(-np.exp(np.log(-log_s) - shift))
            s_high = np.exp(-np.exp(np.log(-log_s) + shift))
        elif conf_type == "log":
            spread = np.exp(z * np.sqrt(greenwood))
            s_low = surv / spread
            s_high = np.minimum(surv * spread, 1.0)
        else:
            raise EstimationError(f"conf_type must be 'log-log' or 'log', not {conf_type!r}.")
    # S = 1 (no event yet): the band is the point; S = 0: likewise (as lifelines).
    s_low = np.where(surv >= 1.0, 1.0, np.where(surv <= 0.0, 0.0, s_low))
    s_high = np.where(surv >= 1.0, 1.0, np.where(surv <= 0.0, 0.0, s_high))
    s_low = np.nan_to_num(s_low, nan=1.0)
    s_high = np.nan_to_num(s_high, nan=1.0)
    transform = "log(-log S)" if conf_type == "log-log" else "log S"
    return IncidenceCurve(
        timeline=times,
        estimate=1.0 - surv,
        lower=1.0 - s_high,
        upper=1.0 - s_low,
        variance=surv**2 * greenwood,
        n_at_risk=at_risk,
        n_events=np.cumsum(deaths),
        method=(
            f"Kaplan-Meier 1 - S(t), other events censored; Greenwood variance; "
            f"{100 * (1 - alpha):g}% interval on the {transform} scale"
        ),
        alpha=alpha,
    )


def aalen_johansen(
    duration: npt.ArrayLike,
    event: npt.ArrayLike,
    *,
    event_of_interest: int = 1,
    alpha: float = 0.05,
) -> IncidenceCurve:
    """Aalen-Johansen cumulative incidence of ``event_of_interest``; other codes compete.

    F(t) = sum over event times t_i <= t of S(t_i-) d1_i / n_i, with S the all-cause
    Kaplan-Meier. Variance (Collett, p. 411; lifelines ``AalenJohansenFitter._bounds``)::

        sum_i (F(t) - F(t_i))^2 d_i / (n_i (n_i - d_i))
          + sum_i S(t_i-)^2 d1_i (n_i - d1_i) / n_i^3
          - 2 sum_i (F(t) - F(t_i)) S(t_i-) d1_i / n_i^2

    with d_i all events and d1_i events of interest at t_i. The interval is
    exp(-exp(log(-log F) -/+ z se)), se = sqrt(var) / (F |log F|). Where F = 0 the band is [0, 0];
    a step where everyone still at risk has an event adds nothing to the first sum.
    """
    d, e = _check(duration, event)
    times, n, d_all, d1 = _event_table(d, e, event_of_interest)
    surv, _ = _survival(n, d_all)
    lag_s = np.concatenate(([1.0], surv[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        cif = np.cumsum(np.where(n > 0, d1 / n * lag_s, 0.0))
        a = d_all / (n * (n - d_all))
        second = lag_s**2 * d1 * (n - d1) / n**3
        b = lag_s * d1 / n**2
    a = np.where(np.isfinite(a), a, 0.0)
    second = np.where(np.isfinite(second), second, 0.0)
    b = np.where(np.isfinite(b), b, 0.0)
    # Expand the sums in F(t) so that they are prefix sums (lifelines' Quadratic/LinearAccumulator)
    first = np.cumsum(a * cif**2) - 2 * np.cumsum(a * cif) * cif + np.cumsum(a) * cif**2
    third = np.cumsum(b) * cif - np.cumsum(b * cif)
    variance = first + np.cumsum(second) - 2 * third
    variance = np.maximum(variance, 0.0)
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = np.log(cif)
        se = np.sqrt(variance) / (cif * np.abs(log_f))
        lo = np.exp(-np.exp(np.log(-log_f) + z * se))
        hi = np.exp(-np.exp(np.log(-log_f) - z * se))
    lo = np.where(cif <= 0.0, 0.0, np.where(cif >= 1.0, 1.0, lo))
    hi = np.where(cif <= 0.0, 0.0, np.where(cif >= 1.0, 1.0, hi))
    return IncidenceCurve(
        timeline=times,
        estimate=cif,
        lower=np.nan_to_num(lo, nan=0.0),
        upper=np.nan_to_num(hi, nan=1.0),
        variance=variance,
        n_at_risk=n,
        n_events=np.cumsum(d1),
        method=(
            "Aalen-Johansen cumulative incidence, other events competing; delta-method "
            f"variance (Collett); {100 * (1 - alpha):g}% interval on the log(-log F) scale"
        ),
        alpha=alpha,
    )


def proportion_interval(
    events: npt.ArrayLike, total: npt.ArrayLike, alpha: float, method: ShareMethod
) -> tuple[FloatArray, FloatArray]:
    """Wilson score or exact Clopper-Pearson interval for ``events`` out of ``total``."""
    k = np.asarray(events, dtype=float)
    m = np.asarray(total, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = float(stats.norm.ppf(1 - alpha / 2))
            p = k / m
            centre = (p + z**2 / (2 * m)) / (1 + z**2 / m)
            half = z / (1 + z**2 / m) * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2))
            lo, hi = centre - half, centre + half
        elif method == "clopper-pearson":
            lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, m - k + 1), 0.0)
            hi = np.where(k < m, stats.beta.ppf(1 - alpha / 2, k + 1, m - k), 1.0)
        else:
            raise EstimationError(
                f"interval method must be 'wilson' or 'clopper-pearson', not {method!r}."
            )
    empty = m <= 0
    lo = np.where(empty, np.nan, np.clip(lo, 0.0, 1.0))
    hi = np.where(empty, np.nan, np.clip(hi, 0.0, 1.0))
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def crude_share(
    duration: npt.ArrayLike,
    event: npt.ArrayLike,
    max_followup: npt.ArrayLike,
    times: Sequence[float] | npt.ArrayLike,
    *,
    event_of_interest: int = 1,
    alpha: float = 0.05,
    method: ShareMethod = "wilson",
) -> CrudeShare:
    """Share with the event of interest within ``t`` among persons who could be followed ``t``.

    ``max_followup`` is each person's potential follow-up: years from entry to the end of the
    data. A person counts at ``t`` when ``max_followup >= t`` (entered at least ``t`` years
    before the data end); deaths and emigrations before ``t`` count as 'no event', so with
    censoring only at the data end this estimates the same quantity as the Aalen-Johansen
    incidence, from fewer persons. Counting everyone with an event but only the survivors
    with a long enough follow-up would bias the share upwards, hence the potential
    follow-up. Interval: Wilson score (default) or exact Clopper-Pearson.
    """
    d, e = _check(duration, event)
    potential = np.asarray(max_followup, dtype=float).reshape(-1)
    if potential.shape != d.shape or not np.isfinite(potential).all():
        raise EstimationError(
            "max_followup must hold one finite number (years to the end of the data) per person."
        )
    short = np.flatnonzero(potential < d - 1e-9)
    if short.size:
        raise EstimationError(
            f"max_followup is shorter than duration at {short.size} row(s), first at position "
            f"{int(short[0])}; the follow-up cannot run past the end of the data."
        )
    t = np.asarray(times, dtype=float).reshape(-1)
    hit = e == event_of_interest
    n_followed = np.array([np.count_nonzero(potential >= x) for x in t], dtype=np.float64)
    n_events = np.array(
        [np.count_nonzero(hit & (d <= x) & (potential >= x)) for x in t], dtype=np.float64
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_followed > 0, n_events / n_followed, np.nan)
    lo, hi = proportion_interval(n_events, n_followed, alpha, method)
    name = "Wilson score" if method == "wilson" else "exact Clopper-Pearson"
    return CrudeShare(
        times=t,
        estimate=share,
        lower=lo,
        upper=hi,
        n_followed=n_followed,
        n_events=n_events,
        method=(
            f"crude share among persons with at least t years of potential follow-up; {name} "
            f"{100 * (1 - alpha):g}% interval"
        ),
        alpha=alpha,
    )
