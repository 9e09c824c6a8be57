"""SDG 16.2.2: victims per 100,000 inhabitants, from published counts only.

Reference: the UN SDG metadata of indicator 16.2.2 (UNODC, metadata update 2023-03-31,
https://unstats.un.org/sdgs/metadata/, mirrored at worldbank.github.io/sdg-metadata/metadata/
en/16-2-2): "The indicator is defined as the ratio between the total number of victims of
trafficking in persons in a country and the population resident in that country, expressed
per 100,000 population."
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Relations, Release, protect_release
from thbmonitor.engine import Store
from thbmonitor.monitor import chapters
from thbmonitor.monitor.sdg import per_100k, rate_cell, sdg_results
from thbmonitor.monitor.tables import build_tables

SETTINGS = Settings(window_first=2016, window_last=2020)


def _denominators(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["year", "sex", "age_band", "population"])


def _full_year(year: int, cells: Sequence[int]) -> list[tuple[int, str, str, int]]:
    keys = [(s, b) for b in ("minor", "18-22", "23+") for s in ("F", "M")]
    return [(year, s, b, n) for (s, b), n in zip(keys, cells, strict=True)]


def test_rate_is_count_times_100000_over_population() -> None:
    """Hand-computed with the UN definition (victims / resident population x 100,000):
    984 x 100,000 / 17,407,585 = 5.6527083 (984 registered persons in 2020, CoMensha, over the
    Dutch population of 1 January 2020); 238 x 100,000 / 4,244,750 = 5.6069262."""
    assert per_100k(984, 17_407_585) == pytest.approx(5.6527083, abs=1e-7)
    assert per_100k(238, 4_244_750) == pytest.approx(5.6069262, abs=1e-7)
    assert rate_cell(984, 17_407_585) == 5.65  # shown with two decimals
    assert rate_cell(0, 1000) == 0.0


def test_a_suppressed_count_gives_a_suppressed_rate_with_the_same_marker() -> None:
    """No rate is derived from a count disclosure control hides: the marker passes through."""
    for marker in ("<10", "x", "–", "."):
        assert rate_cell(marker, 17_000_000) == marker
    assert rate_cell(None, 17_000_000) == "."  # not shown (e.g. an estimate) -> not available
    assert rate_cell(50, None) == "."  # no denominator -> not available


def test_results_divide_counts_and_intervals_by_the_same_population() -> None:
    """Hand-picked rows, rates worked out by hand with the UN definition (comments below);
    each year's six cells add up to 3,000,000 inhabitants."""
    den = _denominators(
        _full_year(2019, [300_000, 320_000, 90_000, 90_000, 1_100_000, 1_100_000])
        + _full_year(2020, [300_000, 320_000, 90_000, 90_000, 1_100_000, 1_100_000])
    )
    registered = {
        "by_year": {"2019": 150, "2020": "<10"},
        "last_year": "2020",
        "by_sex": {"F": 120, "M": "x"},
        "by_age_band": {"minor": 31, "18-22": "<10", "23+": 90},
        "by_group": {"labour": 60, "criminal": "x"},
    }
    hidden = {
        "2019": {"observed": 150, "estimate": 600, "lower": 450, "upper": 900, "model": "m"},
        "2020": {"observed": None, "estimate": None, "lower": None, "upper": None, "model": None},
    }
    r = sdg_results(registered, hidden, den)
    y19 = r["by_year"]["2019"]
    assert y19["population"] == 3_000_000
    # 150 x 1e5 / 3e6 = 5.0; 600 -> 20.0; interval 450 -> 15.0, 900 -> 30.0
    assert y19["registered_per_100k"] == 5.0
    assert (y19["estimated_per_100k"], y19["estimated_lower_per_100k"]) == (20.0, 15.0)
    assert y19["estimated_upper_per_100k"] == 30.0
    y20 = r["by_year"]["2020"]
    assert y20["registered"] is None and y20["registered_marker"] == "<10"
    assert y20["registered_per_100k"] is None and y20["estimated_per_100k"] is None
    sex = r["last_year"]["by_sex"]
    # women 2020: 300,000 + 90,000 + 1,100,000 = 1,490,000; 120 x 1e5 / 1,490,000 = 8.05
    assert sex["F"]["population"] == 1_490_000
    assert sex["F"]["registered_per_100k"] == pytest.approx(8.05)
    assert sex["M"]["registered_marker"] == "x" and sex["M"]["registered_per_100k"] is None
    age = r["last_year"]["by_age_band"]
    # minors 2020: 300,000 + 320,000 = 620,000; 31 x 1e5 / 620,000 = 5.0
    assert age["minor"]["population"] == 620_000 and age["minor"]["registered_per_100k"] == 5.0
    assert age["18-22"]["registered_marker"] == "<10"
    form = r["last_year"]["by_form"]
    # a form has no population of its own: 60 x 1e5 / 3,000,000 (all of 2020) = 2.0
    assert form["labour"]["population"] == 3_000_000
    assert form["labour"]["registered_per_100k"] == 2.0
    assert form["criminal"]["registered_marker"] == "x"
    assert form["criminal"]["registered_per_100k"] is None


def test_a_year_with_missing_cells_has_no_population() -> None:
    den = _denominators(_full_year(2019, [1, 1, 1, 1, 1, 1])[:5])  # one cell missing
    registered = {"by_year": {"2019": 50}, "last_year": "2019", "by_sex": {}, "by_age_band": {}}
    r = sdg_results(registered, {}, den)
    assert r["by_year"]["2019"]["population"] is None
    assert r["by_year"]["2019"]["registered_per_100k"] is None


def test_registered_counts_are_the_monitors_published_cells(
    world: tuple[Store, pd.DataFrame, pd.DataFrame],
) -> None:
    """The registered counts behind the rates are the protected tables' published cells: a
    published cell gives its count, a suppressed one its marker, never the true count."""
    store, _, _ = world

    def protect(tables: Sequence[CountTable], relations: Relations | None = None) -> Release:
        return protect_release(tables, relations=relations)

    _, results = chapters(store, SETTINGS, protect)
    cells = results["sdg_16_2_2"]
    truth = {t.key: t for t in build_tables(store, SETTINGS)}
    assert list(cells["by_year"]) == list(results["victims_by_year"])
    for y, published in results["victims_by_year"].items():
        shown = cells["by_year"][y]
        assert shown == published if published is not None else shown in ("<10", "x", ".")
    checked = 0
    for dim, key, values in (
        ("sex", "vic_year_sex", cells["by_sex"]),
        ("age_band", "vic_year_age", cells["by_age_band"]),
        ("group", "vic_year_group", cells["by_group"]),
    ):
        for code, value in values.items():
            true = truth[key].count(year="2020", **{dim: code})
            if isinstance(value, int):
                assert value == true
            else:
                assert value in ("<10", "x", "–", ".")
                assert rate_cell(value, 1_000_000) == value
            checked += 1
    assert checked == 10  # two sexes, three age bands, five groups
