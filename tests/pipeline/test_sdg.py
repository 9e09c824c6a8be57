"""The demo publishes SDG 16.2.2: rates per 100,000 from published counts and denominators."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from thbmonitor.pipeline import RunResult
from thbmonitor.profiles import load_profile

pytestmark = pytest.mark.xdist_group("demo")


def test_results_json_has_sdg_16_2_2(demo_run: RunResult) -> None:
    """Rates equal count x 100,000 / population (UN SDG metadata 16.2.2: victims over the
    resident population, per 100,000), for the registered and the estimated victims."""
    results = json.loads((demo_run.out / "results.json").read_text())
    sdg = results["sdg_16_2_2"]
    assert sorted(sdg["by_year"]) == ["2016", "2017", "2018", "2019", "2020"]
    den = pd.read_csv(demo_run.out / "input" / "population_denominators.csv")
    hidden = results["hidden_number"]["by_year"]
    n_rates = 0
    for year, row in sdg["by_year"].items():
        pop = int(den.loc[den["year"] == int(year), "population"].sum())
        assert row["population"] == pop
        published = results["victims_by_year"][year]
        assert row["registered"] == published  # the monitor's published count (or None)
        if published is None:
            assert row["registered_per_100k"] is None and row["registered_marker"]
        else:
            assert row["registered_per_100k"] == pytest.approx(published * 1e5 / pop, abs=0.005)
            n_rates += 1
        est = hidden[year]
        if est["estimate"] is not None:
            for key, rate in (("estimate", "estimated_per_100k"),
                              ("lower", "estimated_lower_per_100k"),
                              ("upper", "estimated_upper_per_100k")):  # fmt: skip
                assert row[rate] == pytest.approx(est[key] * 1e5 / pop, abs=0.005)
    assert n_rates >= 3
    last = sdg["last_year"]
    assert last["year"] == 2020
    assert set(last["by_sex"]) == {"F", "M"}
    assert set(last["by_age_band"]) == {"minor", "18-22", "23+"}
    assert set(last["by_form"]) == set(load_profile("nl").groups)
    whole = results["sdg_16_2_2"]["by_year"]["2020"]["population"]
    assert all(row["population"] == whole for row in last["by_form"].values())
    assert (demo_run.out / "tables" / "sdg_16_2_2_by_year.csv").exists()
