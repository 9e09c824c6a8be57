"""Selecting the covariate model with the covariates in it (Cruyff's ``model_search``).

Reference values come from R 4.2.2 running the ``glm``/``step`` calls of ``model_search``
(MaartenCruyff/mse, R/functions.R, commit 7b3e06c) on simdat_covariates_Cruyff.csv::

    d <- read.csv("simdat_covariates_Cruyff.csv")
    x <- as.data.frame(xtabs(count ~ R1+R2+R3+R4+<covariates>, data = d))
    names(x)[ncol(x)] <- "Freq"
    n <- sum(x$Freq); xobs <- x[rowSums(x[, 1:4] == "1") > 0, ]
    m0 <- glm(Freq ~ ., poisson, data = xobs); mx <- glm(Freq ~ .^2, poisson, data = xobs)
    m_bic <- step(m0, scope = list(lower = formula(m0), upper = formula(mx)), k = log(n))
    m_aic <- step(m_bic, scope = list(lower = formula(m_bic), upper = formula(mx)))
    logLik(m); extractAIC(m, k = log(n)); sum(predict(m, newdata = x, type = "response"))

R's glm stops at its own tolerance (1e-8 on the deviance), hence tolerances of about 1e-7.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from thbmonitor.mse import CaptureTable, fit_loglinear
from thbmonitor.mse.covariate_search import search_covariate_model

LISTS = ["R1", "R2", "R3", "R4"]


@pytest.fixture(scope="module")
def simdat(ref_path):  # type: ignore[no-untyped-def]
    df = pd.read_csv(ref_path / "simdat_covariates_Cruyff.csv")
    return CaptureTable.from_frame(df, lists=LISTS, covariates=["X1", "X2", "X3", "X4", "Y"])


def _selected(fit) -> pd.Series:  # type: ignore[no-untyped-def]
    return fit.path[fit.path.selected].iloc[0]


def test_year_only_matches_r_step(simdat) -> None:  # type: ignore[no-untyped-def]
    """R (see module docstring, covariates Y): m_bic = R1:R4 R1:Y R2:R4 R2:Y, logLik
    -112.965225, 16 parameters, BIC 337.128153, Nhat 10091.554325; m_aic adds R1:R3 R3:R4
    R3:Y R4:Y, Nhat 5146.756410; m0 (Freq ~ .) Nhat 5972.924202, logLik -204.300751."""
    bic = search_covariate_model(simdat, ["Y"], method="bic")
    assert set(bic.terms) == {"R1:R4", "R1:Y", "R2:R4", "R2:Y"}
    assert bic.model == ("R1:R4", "R2:R4")  # the list-list terms, as before
    sel = _selected(bic)
    assert sel.loglik == pytest.approx(-112.965225, abs=1e-5)
    assert sel.n_params == 16
    assert sel["BIC"] == pytest.approx(337.128153, abs=1e-5)
    assert bic.estimate == pytest.approx(10091.554325, rel=1e-8)
    aic = search_covariate_model(simdat, ["Y"], method="aic")
    assert set(aic.terms) == {"R1:R3", "R1:R4", "R1:Y", "R2:R4", "R2:Y", "R3:R4", "R3:Y", "R4:Y"}
    assert aic.estimate == pytest.approx(5146.756410, rel=1e-8)
    main = search_covariate_model(simdat, ["Y"], method="main")
    assert main.terms == ()
    assert _selected(main).loglik == pytest.approx(-204.300751, abs=1e-5)
    assert main.estimate == pytest.approx(5972.924202, rel=1e-8)
    # stepwise = the BIC-then-AIC path; boot_mse's default takes its lowest BIC
    step = search_covariate_model(simdat, ["Y"], method="stepwise")
    assert step.terms == bic.terms
    assert list(step.path.stage) == ["BIC"] * 5 + ["AIC"] * 4
    assert list(step.path.step[:5]) == ["start", "+ R1:Y", "+ R2:R4", "+ R1:R4", "+ R2:Y"]


def test_levels_match_r_predictions(simdat) -> None:  # type: ignore[no-untyped-def]
    """R, covariates X1 and Y: m_bic = R1:R4 R1:X1 R1:Y R2:R4 R2:Y X1:Y (logLik -218.308045,
    21 parameters, BIC 582.563075, Nhat 10091.554324); ``tapply(predict(m_bic, newdata = x,
    type = "response"), x$Y, sum)`` = 1799.94448792 1455.87317265 2681.06219130 4154.67447212
    and by X1 7105.30901953 2986.24530446. m_aic Nhat 5141.724552."""
    fit = search_covariate_model(simdat, ["X1", "Y"], method="bic")
    assert set(fit.terms) == {"R1:R4", "R1:X1", "R1:Y", "R2:R4", "R2:Y", "X1:Y"}
    sel = _selected(fit)
    assert sel.loglik == pytest.approx(-218.308045, abs=1e-5)
    assert sel.n_params == 21
    assert sel["BIC"] == pytest.approx(582.563075, abs=1e-5)
    assert fit.estimate == pytest.approx(10091.554324, rel=1e-8)
    lv = fit.levels.set_index(["covariate", "level"]).estimate
    r_y = [1799.94448792, 1455.87317265, 2681.06219130, 4154.67447212]
    assert [lv["Y", str(y)] for y in (1, 2, 3, 4)] == pytest.approx(r_y, rel=1e-7)
    assert [lv["X1", "1"], lv["X1", "2"]] == pytest.approx([7105.30901953, 2986.24530446], rel=1e-7)
    assert (fit.levels.lower < fit.levels.estimate).all()
    assert (fit.levels.estimate < fit.levels.upper).all()
    aic = search_covariate_model(simdat, ["X1", "Y"], method="aic")
    assert aic.estimate == pytest.approx(5141.724552, rel=1e-8)


def test_all_five_covariates_follow_r_path(simdat) -> None:  # type: ignore[no-untyped-def]
    """R, covariates X1 X2 X3 X4 Y: ``m_bic$anova$Step`` is the 21 additions below; m_bic has
    logLik -658.631286, 54 parameters, Nhat 8659.576942; m_aic adds R2:X3 R3:R4 R3:X1 R3:X4
    R3:Y R4:X1 R4:Y (66 parameters), Nhat 12342.388103. (The forced list x covariate model
    has no MLE on these data; the search does not need one.)"""
    fit = search_covariate_model(simdat, ["X1", "X2", "X3", "X4", "Y"], method="stepwise")
    r_steps = [
        "X1:X4",
        "R3:X2",
        "X1:Y",
        "R1:Y",
        "X2:X4",
        "X1:X2",
        "R1:X2",
        "X4:Y",
        "X2:X3",
        "X3:X4",
        "X3:Y",
        "R2:R4",
        "X1:X3",
        "R4:X4",
        "R4:X3",
        "R2:Y",
        "R2:X2",
        "R1:X4",
        "R1:X1",
        "X2:Y",
        "R1:R4",
    ]
    bic_path = fit.path[fit.path.stage == "BIC"]
    assert list(bic_path.step[1:]) == [f"+ {t}" for t in r_steps]
    sel = _selected(fit)
    assert sel.step == "+ R1:R4" and sel.stage == "BIC"
    assert sel.loglik == pytest.approx(-658.631286, abs=1e-5)
    assert sel.n_params == 54
    assert fit.estimate == pytest.approx(8659.576942, rel=1e-8)
    last = fit.path.iloc[-1]
    assert last.n_params == 66
    assert set(last.terms) - set(sel.terms) == {
        "R2:X3",
        "R3:R4",
        "R3:X1",
        "R3:X4",
        "R3:Y",
        "R4:X1",
        "R4:Y",
    }
    assert last.estimate == pytest.approx(12342.388103, rel=1e-8)


def test_selected_fit_equals_statsmodels_glm(simdat) -> None:  # type: ignore[no-untyped-def]
    """statsmodels GLM(Poisson) on the same table and formula gives the same log-likelihood,
    AIC, BIC (-2 llf + log(n) (df_model + 1)) and Nhat (sum of predictions, hidden rows
    included) to 1e-6."""
    smf = pytest.importorskip("statsmodels.formula.api")
    sm = pytest.importorskip("statsmodels.api")
    fit = search_covariate_model(simdat, ["X1", "X4", "Y"], method="bic")
    frame = simdat.to_frame()
    idx = pd.MultiIndex.from_product(
        [[0, 1]] * 4 + [sorted(frame[c].unique()) for c in ("X1", "X4", "Y")],
        names=[*LISTS, "X1", "X4", "Y"],
    )
    grid = frame.groupby(list(idx.names))["count"].sum().reindex(idx, fill_value=0).reset_index()
    lists_ = set(LISTS)

    def factor(v: str) -> str:
        return v if v in lists_ else f"C({v})"

    inter = [":".join(factor(v) for v in t.split(":")) for t in fit.terms]
    formula = "count ~ " + " + ".join([*LISTS, "C(X1)", "C(X4)", "C(Y)", *inter])
    observed = grid[grid[LISTS].sum(axis=1) > 0]
    res = smf.glm(formula, observed, family=sm.families.Poisson()).fit(tol=1e-12)
    sel = _selected(fit)
    n_par = res.df_model + 1
    assert n_par == sel.n_params
    assert sel.loglik == pytest.approx(res.llf, rel=1e-6)
    assert sel["AIC"] == pytest.approx(res.aic, rel=1e-6)
    assert sel["BIC"] == pytest.approx(-2 * res.llf + math.log(1043) * n_par, rel=1e-6)
    nhat = float(res.predict(grid).sum())
    assert fit.estimate == pytest.approx(nhat, rel=1e-6)
    by_y = res.predict(grid).groupby(grid.Y).sum()
    ours = fit.levels[fit.levels.covariate == "Y"].estimate.to_numpy()
    assert ours == pytest.approx(by_y.to_numpy(), rel=1e-6)


def test_main_effects_total_is_the_independence_model(simdat) -> None:  # type: ignore[no-untyped-def]
    """Freq ~ . over the full cross factorises: its total is the collapsed independence
    model's (and R gave 5972.924202 for both; see test_year_only_matches_r_step)."""
    main = search_covariate_model(simdat, ["X1", "X4"], method="main")
    indep = fit_loglinear(simdat.collapse().full_counts(), 4, []).estimate
    assert main.estimate == pytest.approx(indep, rel=1e-9)


def _eta(s: int, a: int, h: list[int]) -> float:
    """The true linear predictor: sex s, age a, history h (A:B, A:sex and C:age interact)."""
    return (
        math.log(200.0)
        + 0.3 * s
        - 0.2 * a
        - 1.0 * h[0]
        - 1.2 * h[1]
        - 0.9 * h[2]
        + 0.9 * h[0] * h[1]
        + 0.8 * h[0] * s
        + (0.0, 0.7, -0.7)[a] * h[2]
    )


def _simulate(rng: np.random.Generator) -> pd.DataFrame:
    """Three lists, sex (2 levels) and age (3 levels); true two-way terms A:B, A:sex, C:age."""
    rows = []
    for s, sex in enumerate(("f", "m")):
        for a, age in enumerate(("young", "mid", "old")):
            for code in range(8):
                h = [(code >> i) & 1 for i in range(3)]
                n = rng.poisson(math.exp(_eta(s, a, h)))
                if code and n:
                    rows.append(
                        {"A": h[0], "B": h[1], "C": h[2], "sex": sex, "age": age, "count": n}
                    )
    return pd.DataFrame(rows)


def test_bic_search_recovers_the_simulated_terms() -> None:
    """Data simulated from a known covariate model (seed 2026, 20 replicates): the BIC search
    finds exactly the true interactions {A:B, A:sex, C:age} in at least 15 of 20, and the
    95% interval of the total covers the true expected total in at least 16 of 20."""
    truth = {"A:B", "A:sex", "C:age"}
    true_total = 0.0
    for s in range(2):
        for a in range(3):
            for code in range(8):
                h = [(code >> i) & 1 for i in range(3)]
                true_total += math.exp(_eta(s, a, h))
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(2026).spawn(20)]
    exact = covered = 0
    for rng in rngs:
        table = CaptureTable.from_frame(
            _simulate(rng), lists=["A", "B", "C"], covariates=["sex", "age"]
        )
        fit = search_covariate_model(table, ["sex", "age"], method="bic")
        exact += set(fit.terms) == truth
        covered += fit.lower <= true_total <= fit.upper
    assert exact >= 15
    assert covered >= 16


def test_unknown_method_and_covariate(simdat) -> None:  # type: ignore[no-untyped-def]
    from thbmonitor.errors import EstimationError

    with pytest.raises(EstimationError, match="Unknown method"):
        search_covariate_model(simdat, ["Y"], method="lasso")
    with pytest.raises(EstimationError, match="not in the table"):
        search_covariate_model(simdat, ["Z"])
