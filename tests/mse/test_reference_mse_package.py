"""Outputs printed in MultipleSystemsEstimation's documentation (bernardsilverman/
MultipleSystemsEstimation, docs/reference/estimate_population*.md, docs/articles/
reproduce-2024.md) and published in Silverman, Chan & Vincent (2024), Stat. Comput. 34:44."""

from __future__ import annotations

import pytest

from thbmonitor.mse import MultipleSystemsEstimator, fit_loglinear
from thbmonitor.mse.bootstrap import Selector, run_bootstrap
from thbmonitor.mse.intervals import jackknife_acceleration
from thbmonitor.mse.selection import hierarchical_models

# estimate_population(Korea) -> $bic_results$res (abundance, BIC); models as hierarchies
KOREA_BIC = {
    ("b:c", "c:d"): (157.1667, 57.14081),  # [12,23]
    ("b:c",): (268.7778, 58.96860),  # [12,3]
    ("b:d", "c:d"): (123.4630, 91.89711),  # [13,23]
    ("c:d",): (126.1944, 138.06368),  # [23,1]
    ("b:d",): (126.9394, 155.16018),  # [13,2]
    (): (141.9926, 184.14431),  # [1,2,3]
}


def test_korea_bic_table(load) -> None:  # type: ignore[no-untyped-def]
    """``estimate_population(Korea)`` (BIC, maxorder 2): six admissible models with the
    abundances and BICs above; best [12,23], popest 157.1667, dark figure 34.16667; the two
    models with both b:c and b:d fail the existence check."""
    est = MultipleSystemsEstimator(method="bic", maxorder=2).fit(load("Korea"))
    assert est.model_ == ["b:c", "c:d"]
    assert est.estimate_ == pytest.approx(157.1667, abs=1e-4)
    assert est.hidden_ == pytest.approx(34.16667, abs=1e-5)
    ok = est.models_[est.models_.exists & est.models_.identifiable]
    got = {tuple(r.terms): (r.estimate, r.BIC) for r in ok.itertuples()}
    assert set(got) == set(KOREA_BIC)
    for terms, (abundance, bic) in KOREA_BIC.items():
        assert got[terms][0] == pytest.approx(abundance, abs=1e-4)
        assert got[terms][1] == pytest.approx(bic, abs=1e-5)
    failed = est.models_[~est.models_.exists]
    assert sorted(len(t) for t in failed.terms) == [2, 3]


def test_korea_stepwise_and_fixed_fits(load) -> None:  # type: ignore[no-untyped-def]
    """``estimate_population_stepwise(Korea)``: [12,3], popest 268.7778, deviance 8.566946,
    AIC 44.90767, BIC 58.9686, coefficients 4.982083 -2.832024 -3.620482 5.412241
    -1.268511 (intercept, b, c, b:c, d in R's order). ``estimate_population(Korea,
    method = "fixed", hiermod = "[12,23]")``: deviance 1.926975, AIC 40.2677."""
    tab = load("Korea")
    est = MultipleSystemsEstimator().fit(tab)
    assert est.model_ == ["b:c"]
    assert est.estimate_ == pytest.approx(268.7778, abs=1e-4)
    assert est.fit_.deviance == pytest.approx(8.566946, abs=1e-6)
    assert est.fit_.aic == pytest.approx(44.90767, abs=1e-5)
    assert est.fit_.bic == pytest.approx(58.9686, abs=1e-4)
    # ours: intercept, b, c, d, b:c
    assert list(est.fit_.coef) == pytest.approx(
        [4.982083, -2.832024, -3.620482, -1.268511, 5.412241], abs=1e-6
    )
    fixed = fit_loglinear(tab.full_counts(), 3, [(0, 1), (1, 2)])
    assert fixed.estimate == pytest.approx(157.1667, abs=1e-4)
    assert fixed.deviance == pytest.approx(1.926975, abs=1e-6)
    assert fixed.aic == pytest.approx(40.2677, abs=1e-4)


def test_korea_stepwise_jackknife_acceleration(load) -> None:  # type: ignore[no-untyped-def]
    """``estimate_population_stepwise(Korea, nboot = 10)``: $ahat = -0.02877338 (the
    jackknife is deterministic, so it must match exactly)."""
    tab = load("Korea")
    res = run_bootstrap(tab.histories, tab.counts, Selector(), 2, seed=0, n_jobs=1)
    assert jackknife_acceleration(res.jackknife, tab.counts) == pytest.approx(-0.02877338, abs=1e-8)


@pytest.mark.parametrize(
    ("ntop", "level", "published"),
    [
        (1, 0.95, (131, 248)),
        (1, 0.80, (136, 198)),
        (None, 0.95, (128, 349)),
        (None, 0.80, (135, 288)),
    ],
)
def test_korea_bic_bca_by_ntop(load, ntop, level, published) -> None:  # type: ignore[no-untyped-def]
    """Silverman, Chan & Vincent (2024), Table 3 (Korea, BIC, 1000 replicates): BCa
    intervals for ntop = 1 and ntop = 6 (all). Monte Carlo: within 10%."""
    est = MultipleSystemsEstimator(
        method="bic", maxorder=2, bootstrap=1000, seed=1234, ntop=ntop, level=level, n_jobs=2
    ).fit(load("Korea"))
    assert est.interval_.lower == pytest.approx(published[0], rel=0.10)
    assert est.interval_.upper == pytest.approx(published[1], rel=0.10)


def test_kosovo_admissible_models_and_ntop1_bca(load) -> None:  # type: ignore[no-untyped-def]
    """reproduce-2024 vignette: "Kosovo has only 113 admissible candidate models"
    (maxorder 3). Table 2, ntop = 1: 95% BCa [9100, 12000] (1000 replicates); within 10%."""
    tab = load("Kosovo")
    assert len(hierarchical_models(4, 3)) == 113
    est = MultipleSystemsEstimator(
        method="bic", maxorder=3, bootstrap=1000, seed=1234, ntop=1, n_jobs=2
    ).fit(tab)
    assert int((est.models_.exists & est.models_.identifiable).sum()) == 113
    assert est.interval_.lower == pytest.approx(9100, rel=0.10)
    assert est.interval_.upper == pytest.approx(12000, rel=0.10)


@pytest.mark.parametrize(
    ("name", "model", "popest", "deviance", "aic", "bic"),
    [
        ("Western", ["A:E"], 2483.384, 26.58423, 91.8395, 118.7443),
        ("NewOrl_5", [], 981.4314, 18.05614, 76.91578, 96.27026),
        ("NewOrl", ["D:E"], 1110.488, None, None, None),
        ("NewOrl_5_SparseMSE", [], 1034.0, None, None, None),
    ],
)
def test_stepwise_fits_in_the_2021_vignette(load, name, model, popest, deviance, aic, bic) -> None:  # type: ignore[no-untyped-def]
    """reproduce-2021 vignette, ``estimate_population_stepwise(<data>, pthresh = 0.02)``:
    Western [15,2,3,4] 2483.384 (deviance 26.58423, AIC 91.8395, BIC 118.7443); NewOrl_5
    main effects 981.4314 (18.05614, 76.91578, 96.27026); NewOrl (the package's copy)
    D:E 1110.488; the paper's five-list New Orleans (SparseMSE copy): main effects, 1034."""
    est = MultipleSystemsEstimator().fit(load(name))
    assert est.model_ == model
    assert est.estimate_ == pytest.approx(popest, abs=0.5 if popest == 1034.0 else 1e-3)
    if deviance is not None:
        assert est.fit_.deviance == pytest.approx(deviance, abs=1e-5)
        assert est.fit_.aic == pytest.approx(aic, abs=1e-4)
        assert est.fit_.bic == pytest.approx(bic, abs=1e-4)
