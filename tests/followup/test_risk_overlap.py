"""Risk model (Cox) against an independent implementation and a known hazard ratio;
victim-offender overlap and register coverage against plain counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi
from numpy.testing import assert_allclose
from statsmodels.stats.proportion import proportion_confint

from thbmonitor.errors import EstimationError
from thbmonitor.followup import (
    RiskModel,
    build_cohort,
    coverage_table,
    offender_overlap,
    suspect_flags,
)

from . import world


def test_cox_on_rossi_matches_survival_jl() -> None:
    """Coefficients and standard errors of the Rossi recidivism model, Efron ties.

    Reference (an implementation independent of lifelines): JuliaStats Survival.jl docs,
    ``coxph(@formula(event ~ fin + age + race + wexp + mar + paro + prio), rossi)``:
    fin -0.379416 (se 0.191379), age -0.0574299 (0.0219988), race 0.31392 (0.307995),
    wexp -0.14981 (0.212226), mar -0.433724 (0.38187), paro -0.0848615 (0.195756),
    prio 0.091521 (0.0286469). The two fits agree to 3e-4 relative (convergence tolerances
    and the printed digits differ), hence rtol 1e-3.
    """
    rossi = load_rossi()
    covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    model = RiskModel().fit(rossi, covariates, duration="week", event="arrest")
    hr = model.hazard_ratios_.set_index("covariate").loc[covariates]
    coef = [-0.379416, -0.0574299, 0.31392, -0.14981, -0.433724, -0.0848615, 0.091521]
    se = [0.191379, 0.0219988, 0.307995, 0.212226, 0.38187, 0.195756, 0.0286469]
    assert_allclose(hr["coef"], coef, rtol=1e-3)
    assert_allclose(hr["se"], se, rtol=1e-3)
    assert_allclose(hr["hazard_ratio"], np.exp(hr["coef"]))
    assert_allclose(hr["lower"], np.exp(hr["coef"] - 1.959963984540054 * hr["se"]), rtol=1e-9)
    assert 0.5 < model.concordance_ < 1
    # Schoenfeld test: one row per covariate; age is the classic PH violation in these data
    ph = model.ph_test_.set_index("covariate")
    assert set(ph.index) == set(covariates)
    assert ph.loc["age", "p"] < 0.05
    assert list(model.summary.columns) == [
        "covariate",
        "coef",
        "se",
        "hazard_ratio",
        "lower",
        "upper",
        "z",
        "p",
        "ph_statistic",
        "ph_p",
    ]


def test_cox_recovers_the_minor_hazard_ratio() -> None:
    """The synthetic world's true hazard ratio for minors (1.5, assumed in
    synthetic-world.md) lies in the 95% interval; categorical covariates get a reference."""
    w = world.simulate_world(seed=11)
    cohort = build_cohort(w.persons, w.events, world.END)
    model = RiskModel(reference={"sex": "female"}).fit(cohort, ["minor", "sex"])
    hr = model.hazard_ratios_.set_index("covariate")
    assert hr.loc["minor", "lower"] <= world.HR_MINOR <= hr.loc["minor", "upper"]
    assert "sex=male" in hr.index
    assert hr.loc["sex=male", "lower"] <= 1.0 <= hr.loc["sex=male", "upper"]
    assert model.references_ == {"sex": "female"}
    assert model.n_events_ == int((cohort["event"] == 1).sum())


def test_cox_leaves_out_levels_without_events(caplog: pytest.LogCaptureFixture) -> None:
    """A level with no event (demo: minor 'unknown', one person) made lifelines report a ratio
    of 0.00 with an upper limit near 1e229. Its persons are now left out, so the fit equals
    lifelines' CoxPHFitter on the Rossi data without them (the reference, fitted directly);
    the log names the covariate, never the level."""
    from lifelines import CoxPHFitter

    rossi = load_rossi()
    rossi["group"] = np.where(rossi["prio"] > 3, "many", "few")
    extra = rossi.iloc[:5].assign(group="none", arrest=0)
    data = pd.concat([rossi, extra], ignore_index=True)
    with caplog.at_level("WARNING"):
        model = RiskModel(reference={"group": "few"}).fit(
            data, ["fin", "age", "group"], duration="week", event="arrest"
        )
    design = rossi[["fin", "age", "week", "arrest"]].assign(
        **{"group=many": (rossi["group"] == "many").astype(float)}
    )
    ref = CoxPHFitter().fit(design, duration_col="week", event_col="arrest")
    hr = model.hazard_ratios_.set_index("covariate")
    assert_allclose(hr.loc[["fin", "age", "group=many"], "coef"], ref.params_, rtol=1e-6)
    assert_allclose(hr.loc[["fin", "age", "group=many"], "se"], ref.standard_errors_, rtol=1e-6)
    assert model.dropped_levels_ == {"group": {"levels": 1, "persons": 5}}
    assert model.n_ == len(rossi)
    assert "'group'" in caplog.text and "none" not in caplog.text


def test_cox_refuses_missing_covariates() -> None:
    cohort = pd.DataFrame(
        {"duration": [1.0, 2.0, 3.0], "event": [1, 0, 1], "x": [1.0, np.nan, 0.0]}
    )
    with pytest.raises(EstimationError, match="row 2"):
        RiskModel().fit(cohort, ["x"])


def test_overlap_counts_and_intervals() -> None:
    """Counts by hand; shares with statsmodels' Wilson interval."""
    flags = pd.DataFrame(
        {
            "suspect_before": [True, True, False, False, False, True],
            "suspect_after": [True, False, True, False, False, False],
            "sex": ["f", "f", "m", "m", "f", "m"],
        }
    )
    table = offender_overlap(flags, by=["sex"])
    overall = table[table["breakdown"] == "all"].set_index("category")
    assert overall["count"].to_dict() == {
        "neither": 2,
        "before_only": 2,
        "after_only": 1,
        "both": 1,
        "any_before": 3,
        "any_after": 2,
    }
    lo, hi = proportion_confint(3, 6, method="wilson")
    assert overall.loc["any_before", "lower"] == pytest.approx(lo)
    assert overall.loc["any_before", "upper"] == pytest.approx(hi)
    female = table[(table["breakdown"] == "sex") & (table["group"] == "f")]
    assert female.set_index("category").loc["both", "count"] == 1


def test_suspect_flags_from_events() -> None:
    persons = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "entry_date": pd.to_datetime(["2015-01-01", "2015-01-01", "2015-01-01"]),
            "death_date": pd.to_datetime([None, "2016-01-01", None]),
        }
    )
    events = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3],
            "event_date": pd.to_datetime(["2014-01-01", "2018-01-01", "2017-01-01", "2015-01-01"]),
            "role": ["suspect", "suspect", "suspect", "suspect"],
        }
    )
    flags = suspect_flags(persons, events, "2023-12-31")
    assert flags["suspect_before"].tolist() == [True, False, True]  # entry day counts before
    assert flags["suspect_after"].tolist() == [True, False, False]  # after death not seen


def test_coverage_by_nationality_group() -> None:
    """Unlinked persons leave the cohort but are reported here, never silently dropped."""
    w = world.simulate_world(seed=4, scale=0.2, background=100)
    table = coverage_table(w.persons, by=["nationality_group"])
    overall = table[table["breakdown"] == "all"].iloc[0]
    assert overall["n_persons"] == len(w.persons)
    assert overall["n_linked"] == int(w.persons["linked"].sum())
    assert overall["lower"] <= 0.95 <= overall["upper"]
    assert table.loc[table["breakdown"] == "nationality_group", "n_persons"].sum() == len(w.persons)
    with pytest.raises(EstimationError, match="residence_status"):
        coverage_table(w.persons, by=["residence_status"])


def test_ph_test_matches_lifelines() -> None:
    """Our vectorised Grambsch-Therneau test equals
    ``lifelines.statistics.proportional_hazard_test(cph, df, time_transform=...)`` to 1e-8,
    on Rossi (many tied weeks) and on random data with ties and a categorical covariate."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    from thbmonitor.followup.risk import schoenfeld_test

    rng = np.random.default_rng(9)
    n = 600
    random = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.integers(0, 2, n).astype(float),
            "t": np.ceil(rng.exponential(3.0, n) * 12) / 12,
            "e": rng.integers(0, 2, n),
        }
    )
    for df, t_col, e_col in ((load_rossi(), "week", "arrest"), (random, "t", "e")):
        cph = CoxPHFitter().fit(df, t_col, e_col)
        residuals = cph.compute_residuals(df, "scaled_schoenfeld")
        for time_transform in ("rank", "identity", "log", "km"):
            ref = proportional_hazard_test(
                cph, df, time_transform=time_transform, precomputed_residuals=residuals
            ).summary
            ours = schoenfeld_test(
                df.drop(columns=[t_col, e_col]),
                df[t_col].to_numpy(),
                df[e_col].to_numpy(),
                cph.params_.to_numpy(),
                cph.variance_matrix_.to_numpy(),
                time_transform=time_transform,
            ).set_index("covariate")
            assert_allclose(
                ours["test_statistic"], ref.loc[ours.index, "test_statistic"], rtol=1e-8, atol=1e-10
            )
            assert_allclose(ours["p"], ref.loc[ours.index, "p"], rtol=1e-8, atol=1e-12)
