"""The pipeline's entry point on a simulated monitor-shaped table (seeded)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from thbmonitor.mse import hidden_number_results, remove_noninformative_lists
from thbmonitor.mse.table import CaptureTable

LISTS = ["Police", "KMar", "LabourInspectorate", "NGOCare", "Other"]
BASE_P = np.array([0.22, 0.07, 0.06, 0.14, 0.10])


def _monitor_table(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[int, int]]:
    """Victims per year and form; capture independent across lists except Police -> NGOCare
    (a log-linear model with one two-list term); labour exploitation is seen more by the
    Labour Inspectorate (a list-by-covariate effect)."""
    frames = []
    truth = {}
    for year in range(2016, 2024):
        n = int(rng.integers(2500, 4000))
        truth[year] = n
        form = rng.choice(["sexual", "labour", "criminal"], size=n, p=[0.5, 0.35, 0.15])
        p = np.tile(BASE_P, (n, 1))
        p[form == "labour", 2] = 0.2
        caught = rng.random((n, 5)) < p
        caught[:, 3] |= caught[:, 0] & (rng.random(n) < 0.25)
        seen = caught.any(axis=1)
        df = pd.DataFrame(caught[seen].astype(int), columns=LISTS)
        df["year"] = year
        df["monitor_group"] = form[seen]
        frames.append(df)
    people = pd.concat(frames, ignore_index=True)
    counts = people.groupby([*LISTS, "year", "monitor_group"]).size().rename("count")
    return counts.reset_index(), truth


def test_hidden_number_results_series_cover_the_truth() -> None:
    """Per-year profile intervals of the selected model cover the simulated number of victims
    in most years: at nominal 95%, at least 6 of 8 (P < 0.01 of fewer under 95% coverage)."""
    rng = np.random.default_rng(1622)
    table, truth = _monitor_table(rng)
    pop = pd.DataFrame({"year": list(truth), "population": 17_500_000})
    res = hidden_number_results(
        table,
        lists=LISTS,
        strata=["year", "monitor_group", "nationality"],
        bootstrap=200,
        seed=11,
        denominators={"year": pop},
        n_jobs=1,
    )
    json.dumps(res)  # JSON-ready
    series = {row["year"]: row for row in res["series"]["year"]}
    assert sorted(series) == sorted(truth)
    covered = sum(series[y]["lower"] <= truth[y] <= series[y]["upper"] for y in truth)
    assert covered >= 6
    assert all(row["status"] == "ok" for row in series.values())
    assert all(row["rate"] > 0 for row in series.values())
    assert {row["monitor_group"] for row in res["series"]["monitor_group"]} == {
        "criminal",
        "labour",
        "sexual",
    }
    assert "error" in res["series"]["nationality"]
    total = sum(truth.values())
    overall = res["overall"]
    assert overall["interval"]["lower"] <= total <= overall["interval"]["upper"]
    assert "Police:NGOCare" in overall["model"]
    assert len(res["sensitivity"]) == 7


def test_remove_noninformative_lists() -> None:
    """SparseMSE ``removenoninformativelists``: empty, all-holding and duplicate lists go."""
    df = pd.DataFrame(
        {
            "A": [1, 0, 1, 1],
            "B": [0, 1, 1, 0],
            "Bcopy": [0, 1, 1, 0],
            "Empty": [0, 0, 0, 0],
            "count": [5, 4, 3, 2],
        }
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = CaptureTable.from_frame(df)
    reduced, dropped = remove_noninformative_lists(tab)
    assert dropped == ["Bcopy", "Empty"]
    assert reduced.lists == ("A", "B")
    assert reduced.observed == 14
