"""The synthetic Netherlands' resident population by year, sex and age band (rate denominators).

**Assumed**, not drawn: the totals are the order of magnitude of the Dutch resident population
on 1 January as published by CBS (StatLine, *Bevolking op 1 januari*), about 16.7 million in
2012 rising to 17.5 million in 2021, written down from memory and rounded to thousands, not
checked against StatLine. The split by age band (minor, 18-22, 23+) and sex is approximate
(minors about a fifth of the population, slowly falling; 18-22 year-olds about 6%; slightly
more men than women below 23, more women from 23). Counts are multiplied by the world's
``scale`` (a world of a quarter of the victims is a quarter of the country, so rates per
100,000 keep the Dutch order of magnitude). No random draws: writing this file changes no
other file of the world.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import ConfigError

__all__ = ["POPULATION_TOTALS", "population_denominators"]

#: assumed resident population on 1 January (order of magnitude of CBS StatLine), scale 1
POPULATION_TOTALS: dict[int, int] = {
    2012: 16_730_000,
    2013: 16_780_000,
    2014: 16_829_000,
    2015: 16_901_000,
    2016: 16_979_000,
    2017: 17_082_000,
    2018: 17_181_000,
    2019: 17_282_000,
    2020: 17_408_000,
    2021: 17_475_000,
}

# assumed (approximate): share of minors falls from 21.4% (2012) to 19.9% (2021) in equal steps;
# 18-22 year-olds 6.1% throughout
_MINOR_FIRST, _MINOR_LAST = 0.214, 0.199
_YOUNG = 0.061
# assumed (approximate): share of women within each age band
_FEMALE = {"minor": 0.488, "18-22": 0.492, "23+": 0.508}
_CELLS = [(sex, band) for band in ("minor", "18-22", "23+") for sex in ("F", "M")]


def _shares(year: int) -> np.ndarray:
    years = sorted(POPULATION_TOTALS)
    frac = (year - years[0]) / (years[-1] - years[0])
    minor = _MINOR_FIRST + frac * (_MINOR_LAST - _MINOR_FIRST)
    band = {"minor": minor, "18-22": _YOUNG, "23+": 1.0 - minor - _YOUNG}
    return np.array([band[b] * (_FEMALE[b] if s == "F" else 1.0 - _FEMALE[b]) for s, b in _CELLS])


def _largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to ``shares`` that add up to ``total`` exactly."""
    exact = total * shares / shares.sum()
    out = np.floor(exact).astype(np.int64)
    short = total - int(out.sum())
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:short]] += 1
    return out


def population_denominators(years: Sequence[int], scale: float = 1.0) -> pd.DataFrame:
    """``year, sex, age_band, population``: one row per year, sex and age band.

    A year's cells add up to ``round(POPULATION_TOTALS[year] * scale)`` exactly.
    """
    rows = []
    for year in years:
        if year not in POPULATION_TOTALS:
            raise ConfigError(
                f"no assumed population for year {year}; the synthetic world covers "
                f"{min(POPULATION_TOTALS)}-{max(POPULATION_TOTALS)}"
            )
        total = round(POPULATION_TOTALS[year] * scale)
        cells = _largest_remainder(total, _shares(year))
        for (sex, band), n in zip(_CELLS, cells, strict=True):
            rows.append({"year": year, "sex": sex, "age_band": band, "population": int(n)})
    return pd.DataFrame(rows, columns=["year", "sex", "age_band", "population"])
