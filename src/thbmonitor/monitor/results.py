"""The monitor's figures for results.json, computed from published (protected) counts only.

A count that disclosure control hides is ``null``; a change or trend is computed only when
every count it uses is published (a test on a hidden count would reveal it).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.monitor.change import compare_counts, compare_shares, count_trend
from thbmonitor.monitor.published import Published
from thbmonitor.monitor.tables import HELP_DIMS
from thbmonitor.monitor.units import HELP_MEASURES
from thbmonitor.profiles import load_profile

__all__ = ["help_model_results", "monitor_results"]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def count_change(counts: dict[str, int | None], earlier: str, later: str) -> dict[str, Any] | None:
    """Year-on-year change of a published count (None if either count is hidden)."""
    a, b = counts.get(earlier), counts.get(later)
    if a is None or b is None:
        return None
    c = compare_counts(a, b)
    return {
        "earlier_year": int(earlier),
        "later_year": int(later),
        "earlier": a,
        "later": b,
        "difference": c.difference,
        "difference_lower": c.difference_lower,
        "difference_upper": c.difference_upper,
        "ratio": _finite(c.ratio),
        "ratio_lower": _finite(c.ratio_lower),
        "ratio_upper": _finite(c.ratio_upper),
        "p_value": c.p_value,
        "significant": c.significant,
        "method": c.method,
    }


def trend(counts: dict[str, int | None]) -> dict[str, Any] | None:
    """The trend over the window (None if a count is hidden or the trend is not estimable)."""
    if any(v is None for v in counts.values()):
        return None
    years = [int(y) for y in counts]
    t = count_trend(years, [int(v) for v in counts.values() if v is not None])
    if t is None:
        return None
    return {
        "first_year": years[0],
        "last_year": years[-1],
        "rate_ratio_per_year": t.rate_ratio,
        "lower": t.lower,
        "upper": t.upper,
        "p_value": t.p_value,
        "significant": t.significant,
        "method": t.method,
        "dispersion": _finite(t.dispersion),
        "dispersion_p_value": _finite(t.dispersion_p_value),
    }


def share_change(
    num: dict[str, int | None], den: dict[str, int | None], earlier: str, later: str
) -> dict[str, Any] | None:
    """Change of a share between two years, from published counts with denominators >= T."""
    x1, n1, x2, n2 = num.get(earlier), den.get(earlier), num.get(later), den.get(later)
    if x1 is None or n1 is None or x2 is None or n2 is None or min(n1, n2) <= 0:
        return None
    s = compare_shares(x1, n1, x2, n2)
    return {
        "earlier_year": int(earlier),
        "later_year": int(later),
        "earlier_pct": 100 * s.earlier_share,
        "later_pct": 100 * s.later_share,
        "difference_pct": 100 * s.difference,
        "lower_pct": 100 * s.lower,
        "upper_pct": 100 * s.upper,
        "p_value": s.p_value,
        "significant": s.significant,
        "method": s.method,
    }


def monitor_results(pub: Published, settings: Settings) -> dict[str, Any]:
    """The results.json entries of the monitor (keys fixed by the foundation issue)."""
    years = [str(y) for y in range(settings.window_first, settings.window_last + 1)]
    profile = load_profile(settings.profile)
    groups, minor = profile.groups, profile.age_bands.minor
    reg = {y: pub.count("reg_year_group", year=y) for y in years}
    vic = {y: pub.count("vic_year_group", year=y) for y in years}
    by_group = {
        unit: {y: {g: pub.count(f"{unit}_year_group", year=y, group=g) for g in groups}
               for y in years}
        for unit in ("reg", "vic")
    }  # fmt: skip
    minors = {y: pub.count("vic_minor_year_group", year=y, age_band=minor) for y in years}
    reg_minors = {y: pub.count("reg_minor_year_group", year=y, age_band=minor) for y in years}
    persons = pub.count("per_group_sex")
    more = pub.count("per_years_registered", years_registered="2+")
    out: dict[str, Any] = {
        "window": [settings.window_first, settings.window_last],
        "registrations_by_year": reg,
        "victims_by_year": vic,
        "victims_by_year_and_group": by_group["vic"],
        "registrations_by_year_and_group": by_group["reg"],
        "minors_by_year": minors,
        "registrations_minors_by_year": reg_minors,
        "persons_in_window": persons,
        "persons_registered_in_more_than_one_year": more,
        "registrations_in_window": reg[years[0]]
        if len(years) == 1
        else pub.count("reg_year_group"),
    }
    change: dict[str, Any] = {}
    if len(years) >= 2:
        earlier, later = years[-2], years[-1]
        series = {"registrations": reg, "victims": vic, "victims_minors": minors}
        for g in groups:
            series[f"victims_{g}"] = {y: by_group["vic"][y][g] for y in years}
        for name, counts in series.items():
            change[name] = {
                "year_on_year": count_change(counts, earlier, later),
                "trend": trend(counts),
            }
        change["victims_group_share"] = {
            g: share_change({y: by_group["vic"][y][g] for y in years}, vic, earlier, later)
            for g in groups
        }
        change["victims_minor_share"] = share_change(minors, vic, earlier, later)
    out["change"] = change
    out["help"] = help_results(pub)
    return out


def help_results(pub: Published) -> dict[str, Any]:
    """Per help measure: persons helped and the published share, overall and per breakdown."""
    short = {"residence_status": "res", "region": "region", "age_band": "age"}
    out: dict[str, Any] = {}
    for m in HELP_MEASURES:
        entry: dict[str, Any] = {}
        for dim in HELP_DIMS:
            key = f"help_{m}_{short[dim]}"
            mt = pub.tables[key]
            cats = [c for c in mt.table.grid().categories[0] if c != "Total"]
            if "persons" not in entry:
                entry["persons"] = pub.count(key)
                entry["yes"] = pub.count(key, **{m: "yes"})
                entry["yes_pct"] = pub.share_pct(key, m, **{m: "yes"})
            entry[f"by_{dim}"] = {
                str(c): {
                    "persons": pub.count(key, **{dim: str(c)}),
                    "yes": pub.count(key, **{dim: str(c), m: "yes"}),
                    "yes_pct": pub.share_pct(key, m, **{dim: str(c), m: "yes"}),
                }
                for c in cats
            }
        out[m] = entry
    return out


def help_model_results(rows: pd.DataFrame, method: str) -> list[dict[str, Any]]:
    """The help model's publishable rows (:func:`~thbmonitor.monitor.help_model.publishable`)
    as results.json objects. Persons per level are not given: they are counts outside the
    protected tables."""
    out: list[dict[str, Any]] = []
    for r in rows.to_dict("records"):
        entry: dict[str, Any] = {k: str(r[k]) for k in ("measure", "term", "level", "reference")}
        entry.update({k: float(r[k]) for k in ("rr", "lower", "upper", "p")})
        entry["method"] = method
        out.append(entry)
    return out
