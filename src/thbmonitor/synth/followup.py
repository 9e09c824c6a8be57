"""What happens to victims after their first registration: police events as victim or suspect.

Each crime type k is a recurrent-event process from the first registration with cumulative
intensity ``Z * h * c_k * t**rho`` (t in years), where Z is a person's gamma frailty (mean 1,
variance theta) shared by all types, so types overlap as published, and h is the multiplier of
minors, chosen so that the population-level hazard ratio (averaged over Z) is
``minor_hazard_ratio``. Death and emigration end follow-up (competing events, constant rates).
The parameters (theta, rho, c_k, h) are calibrated analytically, before any draw, so that the
true cumulative incidence among the registered persons (ignoring the data end) hits the
published 5- and 7-year figures; suspect events share Z and rho with their own scale.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from thbmonitor.synth.params import CRIME_TYPES, WorldParams

log = logging.getLogger(__name__)

YEAR_DAYS = 365.25
MAX_EVENTS_PER_TYPE = 40  # cap of recurrent events per person and type (heavy-tailed frailty)


@dataclass(frozen=True)
class Hazards:
    """Calibrated follow-up hazards (see module docstring)."""

    theta: float
    rho: float
    scale: dict[str, float]  # c_k per crime type
    suspect_scale: float
    minor_multiplier: float = 1.0  # h of minors on the conditional (given Z) hazard


def _cif(c: float, theta: float, rho: float, h: float, mu: float, horizon: float) -> float:
    """Cumulative incidence of the first event by ``horizon`` with competing exit rate ``mu``."""
    t = np.linspace(0.0, horizon, 801)
    f = 1 - (1 + theta * h * c * t**rho) ** (-1 / theta)
    e = np.exp(-mu * t)
    return float(f[-1] * e[-1] + mu * np.trapezoid(f * e, t))


def _marginal_ratio(h: float, c: float, theta: float, rho: float, horizon: float) -> float:
    """Ratio of the marginal (frailty-averaged) cumulative hazards of multiplier h and 1."""
    return float(np.log1p(theta * h * c * horizon**rho) / np.log1p(theta * c * horizon**rho))


def calibrate(params: WorldParams, minor: np.ndarray, mu: np.ndarray) -> Hazards:
    """Solve theta, rho, the type scales and the minors' multiplier for the registered
    persons' mix of minors and exit rates ``mu``.

    ``minor_hazard_ratio`` is met at the population level: the ratio of the frailty-averaged
    cumulative hazards of any new crime at 5 years (what a Cox model without frailty
    estimates, approximately); the multiplier on the conditional hazard is larger.
    """
    combos, counts = np.unique(
        np.column_stack([minor.astype(float), mu]), axis=0, return_counts=True
    )
    w = counts / counts.sum()

    def mix(c: float, theta: float, rho: float, horizon: float, h_minor: float) -> float:
        return sum(
            wi * _cif(c, theta, rho, h_minor if is_minor else 1.0, m, horizon)
            for (is_minor, m), wi in zip(combos, w, strict=True)
        )

    types = list(CRIME_TYPES)
    targets = np.array([params.revictim_by_type_5y[k] for k in types])

    def resid(v: np.ndarray) -> np.ndarray:
        theta, rho, h = np.exp(v[0]), np.exp(v[1]), np.exp(v[2])
        c = np.exp(v[3:])
        r = [mix(ck, theta, rho, 5.0, h) - t for ck, t in zip(c, targets, strict=True)]
        r.append(mix(c.sum(), theta, rho, 5.0, h) - params.revictim_any_5y)
        r.append(mix(c.sum(), theta, rho, 7.0, h) - params.revictim_any_7y)
        ratio = _marginal_ratio(h, c.sum(), theta, rho, 5.0)
        r.append(np.log(ratio / params.minor_hazard_ratio))
        return np.array(r)

    x0 = np.r_[0.0, np.log(0.8), np.log(params.minor_hazard_ratio), np.log(targets / 5)]
    fit = least_squares(resid, x0, xtol=1e-12, ftol=1e-12)
    if np.max(np.abs(fit.fun)) > 1e-4:
        log.warning("follow-up calibration missed its targets by up to %.4f", np.abs(fit.fun).max())
    theta, rho, h_minor = (float(np.exp(x)) for x in fit.x[:3])
    scale = {k: float(c) for k, c in zip(types, np.exp(fit.x[3:]), strict=True)}

    def sus(v: np.ndarray) -> np.ndarray:
        return np.array([mix(np.exp(v[0]), theta, rho, 5.0, 1.0) - params.suspect_5y])

    s = least_squares(sus, np.array([np.log(0.05)]), xtol=1e-12, ftol=1e-12)
    return Hazards(theta, rho, scale, float(np.exp(s.x[0])), h_minor)


def exit_times(
    nat_group: np.ndarray, params: WorldParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Latent years from entry to death or emigration, and the reason."""
    n = len(nat_group)
    emig = np.array([params.emigration_rate[g] for g in nat_group])
    t_death = rng.exponential(1 / params.death_rate, n)
    t_emig = rng.exponential(1 / emig)
    reason = np.where(t_death < t_emig, "death", "emigration")
    return np.minimum(t_death, t_emig), reason


def to_date(entry: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Entry date plus a positive number of years, rounded up to whole days."""
    days = np.ceil(np.minimum(years, 200.0) * YEAR_DAYS).astype(np.int64)
    return entry + days.astype("timedelta64[D]")


def after_entry(
    entry: np.ndarray,
    hr: np.ndarray,
    exit_t: np.ndarray,
    hz: Hazards,
    params: WorldParams,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Events after entry (index positions into the inputs) and latent first dates per type.

    Returns (events with columns idx, date, role, crime_type; first dates keyed by crime type
    and 'suspect', NaT when the first event would fall after exit).
    """
    n = len(entry)
    entry = entry.astype("datetime64[D]")
    censor = np.datetime64(params.censor_date, "D")
    t_end = np.minimum(exit_t, (censor - entry).astype(np.int64) / YEAR_DAYS)
    z = stats.gamma.ppf(_stratified(n, rng), 1 / hz.theta, scale=hz.theta)
    first_times = _first_victim_times(z * hr, hz, rng)
    first_times["suspect"] = (-np.log1p(-_stratified(n, rng)) / (z * hz.suspect_scale)) ** (
        1 / hz.rho
    )
    frames = []
    firsts: dict[str, np.ndarray] = {}
    specs = [(k, "victim", hz.scale[k] * hr) for k in CRIME_TYPES]
    specs.append(("suspect", "suspect", np.full(n, hz.suspect_scale)))
    for name, role, c in specs:
        a = z * c
        t1 = first_times[name]
        first = np.where(t1 < exit_t, to_date(entry, t1), np.datetime64("NaT"))
        firsts[name] = first.astype("datetime64[D]")
        seen = t1 <= t_end
        lam1, lam_end = a * t1**hz.rho, a * np.maximum(t_end, 0) ** hz.rho
        extra = np.where(seen, rng.poisson(np.clip(lam_end - lam1, 0, None)), 0)
        extra = np.minimum(extra, MAX_EVENTS_PER_TYPE)
        idx = np.repeat(np.arange(n), extra)
        u = rng.random(len(idx))
        t_more = ((lam1[idx] + u * (lam_end - lam1)[idx]) / a[idx]) ** (1 / hz.rho)
        pos = np.concatenate([np.flatnonzero(seen), idx])
        tt = np.concatenate([t1[seen], t_more])
        date = to_date(entry[pos], tt)
        date = np.minimum(date, censor)
        if role == "victim":
            crime = np.full(len(pos), name, dtype=object)
        else:
            crime = _mix(params.suspect_crime_mix, len(pos), rng)
        frames.append(pd.DataFrame({"idx": pos, "date": date, "role": role, "crime_type": crime}))
    return pd.concat(frames, ignore_index=True), firsts


def _stratified(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniforms stratified over n equal bins, in random order (variance reduction)."""
    return (rng.permutation(n) + rng.random(n)) / n


def _first_victim_times(
    zh: np.ndarray, hz: Hazards, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """First event time of each crime type given Z*h, drawn through the first event of any type.

    The types are independent Poisson processes given Z; their superposition has intensity
    Z*h*C*t**rho with C = sum c_k. Its first event (from stratified uniforms, so the realised
    share with an event by t is close to its expectation) is of type k with probability c_k/C;
    every other type's first event follows by the independence of its process after that time.
    """
    n = len(zh)
    c = np.array([hz.scale[k] for k in CRIME_TYPES])
    total = c.sum()
    t_any = (-np.log1p(-_stratified(n, rng)) / (zh * total)) ** (1 / hz.rho)
    kind = rng.choice(len(c), n, p=c / total)
    out = {}
    for j, k in enumerate(CRIME_TYPES):
        a = zh * c[j]
        later = ((a * t_any**hz.rho + rng.exponential(1.0, n)) / a) ** (1 / hz.rho)
        out[k] = np.where(kind == j, t_any, later)
    return out


CRIME_ORDER = CRIME_TYPES  # code order of mix_codes


def mix_codes(table: Mapping[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Codes (positions in CRIME_ORDER) drawn with the probabilities of ``table``."""
    p = np.array([table.get(k, 0.0) for k in CRIME_ORDER])
    return rng.choice(len(CRIME_ORDER), n, p=p / p.sum())


def _mix(table: Mapping[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(CRIME_ORDER, dtype=object)[mix_codes(table, n, rng)]


def window_events(
    start: np.ndarray,
    end: np.ndarray,
    rate: float,
    params: WorldParams,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Events at ``rate`` per year, uniform in [start, end) per person (victim or suspect)."""
    start = start.astype("datetime64[D]")
    span = np.maximum((end.astype("datetime64[D]") - start).astype(np.int64), 0)
    k = rng.poisson(rate * span / YEAR_DAYS)
    idx = np.repeat(np.arange(len(start)), k)
    off = np.floor(rng.random(len(idx)) * span[idx]).astype(np.int64)
    date = start[idx] + off.astype("timedelta64[D]")
    suspect = rng.random(len(idx)) < params.window_suspect_share
    crime = np.where(
        suspect,
        _mix(params.suspect_crime_mix, len(idx), rng),
        _mix(params.victim_crime_mix, len(idx), rng),
    )
    role = np.where(suspect, "suspect", "victim")
    return pd.DataFrame({"idx": idx, "date": date, "role": role, "crime_type": crime})
