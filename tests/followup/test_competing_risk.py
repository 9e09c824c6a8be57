"""Fine-Gray model: against lifelines on the expanded weighted data, against Cox without
competing events, coverage of a known subdistribution hazard ratio, and how the follow-up
chapter reports it (R ``cmprsk::crr`` agreement is in test_finegray_cmprsk.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter
from numpy.testing import assert_allclose

from thbmonitor.errors import EstimationError
from thbmonitor.followup.analysis import analyse_followup
from thbmonitor.followup.chapter import SOURCE
from thbmonitor.followup.competing_risk import FineGrayModel, censoring_weights
from thbmonitor.followup.risk_tables import competing_table, risk_table

from . import world


def _competing_data(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.integers(0, 2, n).astype(float)
    t1 = rng.exponential(1 / np.exp(0.5 * x1 - 0.3 * x2))
    t2 = rng.exponential(2.0, n)
    c = rng.exponential(3.0, n)
    t = np.minimum(np.minimum(t1, t2), c)
    event = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    return pd.DataFrame({"duration": t, "event": event, "x1": x1, "x2": x2})


def _expand(df: pd.DataFrame) -> pd.DataFrame:
    """Counting-process data of Geskus (2011) / R ``mstate::crprep``: a person with a
    competing event at T stays at risk after T, one row per later event-of-interest time u,
    with weight G(u-)/G(T-)."""
    t = df["duration"].to_numpy()
    e = df["event"].to_numpy()
    times, g_left = censoring_weights(t, e)

    def g(at: float) -> float:
        return float(g_left[np.searchsorted(times, at)])

    u = np.unique(t[e == 1])
    rows = []
    for i, r in enumerate(df.itertuples()):
        rows.append((i, 0.0, r.duration, int(r.event == 1), 1.0, r.x1, r.x2))
        if r.event not in (0, 1):
            previous = r.duration
            for uj in u[u > r.duration]:
                rows.append((i, previous, uj, 0, g(uj) / g(r.duration), r.x1, r.x2))
                previous = uj
    return pd.DataFrame(rows, columns=["id", "start", "stop", "ev", "w", "x1", "x2"])


def test_matches_weighted_cox_on_expanded_data() -> None:
    """Coefficients and model-based standard errors equal lifelines'
    ``CoxTimeVaryingFitter().fit(expanded, weights_col="w", ...)`` (an independent weighted
    partial-likelihood implementation; Efron = Breslow here, as times are continuous)."""
    df = _competing_data(1, 300)
    model = FineGrayModel(variance="model").fit(df, ["x1", "x2"])
    ref = CoxTimeVaryingFitter().fit(
        _expand(df),
        event_col="ev",
        start_col="start",
        stop_col="stop",
        weights_col="w",
        id_col="id",
    )
    assert_allclose(model.coef_.to_numpy(), ref.params_.loc[["x1", "x2"]], rtol=1e-5)
    assert_allclose(model.se_.to_numpy(), ref.standard_errors_.loc[["x1", "x2"]], rtol=1e-5)
    assert model.n_competing_ == int((df["event"] == 2).sum())


def test_without_competing_events_it_is_cox() -> None:
    """With no competing events the subdistribution hazard is the hazard: Fine-Gray equals
    lifelines' ``CoxPHFitter`` (continuous times, so Breslow = Efron)."""
    df = _competing_data(2, 400)
    df.loc[df["event"] == 2, "event"] = 0
    model = FineGrayModel(variance="model").fit(df, ["x1", "x2"])
    ref = CoxPHFitter().fit(df[["duration", "event", "x1", "x2"]], "duration", "event")
    assert_allclose(model.coef_.to_numpy(), ref.params_.to_numpy(), rtol=1e-5)
    assert_allclose(model.se_.to_numpy(), ref.standard_errors_.to_numpy(), rtol=1e-5)


def _fine_gray_world(rng: np.random.Generator, n: int, beta: np.ndarray) -> pd.DataFrame:
    """Fine and Gray (1999, section 5) design: P(cause 1 | x) = 1 - (1 - p)^exp(x b) and
    F1(t | x) = 1 - (1 - p (1 - exp(-t)))^exp(x b), so the true subdistribution hazard
    ratios are exp(b)."""
    p = 0.4
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)]).astype(float)
    lp = x @ beta
    p1 = 1 - (1 - p) ** np.exp(lp)
    cause1 = rng.random(n) < p1
    u = rng.random(n) * p1
    t1 = -np.log(1 - (1 - (1 - u) ** np.exp(-lp)) / p)
    t2 = rng.exponential(1 / np.exp(x @ np.array([0.5, 0.5])), n)
    t = np.where(cause1, t1, t2)
    c = rng.uniform(0, 3, n)
    return pd.DataFrame(
        {
            "duration": np.minimum(t, c),
            "event": np.where(t <= c, np.where(cause1, 1, 2), 0),
            "x1": x[:, 0],
            "x2": x[:, 1],
        }
    )


def test_interval_coverage_of_the_true_ratio() -> None:
    """Over 300 draws of 500 persons the 95% intervals cover the true subdistribution hazard
    ratios exp(0.5) and exp(-0.5) in 92%-97.5% of draws (binomial sd 1.3 points)."""
    rng = np.random.default_rng(5)
    beta = np.array([0.5, -0.5])
    hits = np.zeros(2)
    reps = 300
    for _ in range(reps):
        s = FineGrayModel().fit(_fine_gray_world(rng, 500, beta), ["x1", "x2"]).summary
        truth = np.exp(beta)
        hits += (s["lower"].to_numpy() <= truth) & (truth <= s["upper"].to_numpy())
    assert ((hits / reps >= 0.92) & (hits / reps <= 0.975)).all(), hits / reps


def test_categorical_covariate_and_errors() -> None:
    df = _competing_data(3, 300)
    df["sex"] = np.where(df["x2"] > 0, "male", "female")
    model = FineGrayModel(reference={"sex": "male"}).fit(df, ["x1", "sex"])
    assert list(model.summary["covariate"]) == ["x1", "sex=female"]
    assert model.references_ == {"sex": "male"}
    with pytest.raises(EstimationError, match="no events of interest"):
        FineGrayModel().fit(df.assign(event=0), ["x1"])
    with pytest.raises(EstimationError, match="lacks column"):
        FineGrayModel().fit(df, ["nope"])


@pytest.fixture(scope="module")
def followup():
    w = world.simulate_world(seed=22, scale=0.1, background=200)
    return w, analyse_followup(
        w.persons, w.events, world.END, risk_factors=["minor", "sex"], crime_types=("other",)
    )


def test_chapter_reports_the_fine_gray_table(followup) -> None:
    """The chapter's Fine-Gray table shows the model's ratios and intervals, bilingual, and
    results.json says the model was fitted; a level left out is named by covariate only."""
    _, res = followup
    assert not res.risk_competing_failure
    table, results = competing_table(res, SOURCE)
    assert table is not None
    assert list(table.frame["covariate"]) == list(res.risk_competing["covariate"])
    assert_allclose(table.frame["hazard_ratio"], res.risk_competing["hazard_ratio"].round(2))
    assert table.note is not None and "cmprsk::crr" in table.note.en
    assert "cmprsk::crr" in table.note.nl
    assert results["followup_competing_model"] == {
        "fitted": True,
        "failure": None,
        "levels_left_out": {},
    }
    assert set(results["followup_risk_factors_competing"]) == {"minor", "sex=male"}
    dropped = replace(
        res, risk_competing_dropped={"sex": {"levels": 1, "persons": 3}}, min_level=10
    )
    table, results = competing_table(dropped, SOURCE)
    assert table is not None and table.note is not None
    # the covariate, not why its level went: too small, or no events (ambiguous on purpose)
    assert "Levels of 'sex' with fewer than 10 persons or without any new" in table.note.en
    assert "Niveaus van 'sex' met minder dan 10 personen of zonder" in table.note.nl
    assert "3 person" not in table.note.en  # person counts are not published in notes
    assert results["followup_competing_model"]["levels_left_out"] == {"sex": 1}


def test_a_fit_that_fails_is_said_in_the_chapter(followup, monkeypatch) -> None:
    """When Fine-Gray cannot be fitted (here: no Newton iteration allowed) the follow-up still
    runs, and the Cox table's note says so in English and Dutch with the reason."""
    w, _ = followup

    class NoIterations(FineGrayModel):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(alpha=0.05, max_iter=0)

    monkeypatch.setattr("thbmonitor.followup.analysis.FineGrayModel", NoIterations)
    res = analyse_followup(
        w.persons, w.events, world.END, risk_factors=["minor", "sex"], crime_types=("other",)
    )
    assert res.risk_competing.empty
    assert "did not converge in 0 iterations" in res.risk_competing_failure
    table, results = competing_table(res, SOURCE)
    assert table is None
    assert results["followup_competing_model"]["fitted"] is False
    cox, _ = risk_table(res, SOURCE)
    assert cox is not None and cox.note is not None
    assert "could not be fitted" in cox.note.en and "did not converge" in cox.note.en
    assert "kon op deze gegevens niet worden geschat" in cox.note.nl
