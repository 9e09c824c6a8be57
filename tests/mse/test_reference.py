"""Published results from ../shared/reference/mse/README.md (SparseMSE, Rcapture)."""

from __future__ import annotations

import pytest

from thbmonitor.mse import MultipleSystemsEstimator, check_model, fit_loglinear
from thbmonitor.mse.intervals import profile_interval

UK_MODEL = ["LA:NG", "LA:PFNCA", "NG:GO", "NG:GP", "PFNCA:GP", "GO:GP"]


def test_uk_stepwise_model_and_estimate(load) -> None:  # type: ignore[no-untyped-def]
    """SparseMSE ``estimatepopulation.0(UKdat_5, method="stepwise", pthresh=0.02)``
    (Chan, Silverman & Vincent 2021): six interactions LA:NG, LA:PFNCA, NG:GO, NG:GP,
    PFNCA:GP, GO:GP and N = 11,313 (11312.99)."""
    est = MultipleSystemsEstimator(method="stepwise", pthresh=0.02).fit(load("UKdat_5"))
    assert est.model_ == UK_MODEL
    assert est.estimate_ == pytest.approx(11312.99, abs=0.5)
    assert est.observed_ == 2744


def test_uk_main_effects(load) -> None:  # type: ignore[no-untyped-def]
    """SparseMSE ``estimatepopulation.0(UKdat_5, method="main")``: 13,444.13."""
    est = MultipleSystemsEstimator(method="main").fit(load("UKdat_5"))
    assert est.model_ == []
    assert est.estimate_ == pytest.approx(13444.13, abs=0.5)


def test_uk_profile_likelihood_interval(load) -> None:  # type: ignore[no-untyped-def]
    """Rcapture ``closedpCI.t(UKdat_5, dfreq=TRUE, mX=<the six interactions>)``: 95% profile
    interval 9,889-13,063 (UK Home Office, Silverman 2014: "10,000-13,000"). Within 1%."""
    est = MultipleSystemsEstimator(method="stepwise").fit(load("UKdat_5"))
    iv = est.interval_
    assert iv.method.startswith("profile likelihood")
    assert iv.level == 0.95
    assert iv.lower == pytest.approx(9889, rel=0.01)
    assert iv.upper == pytest.approx(13063, rel=0.01)
    # same interval straight from the fit, and it contains the point estimate
    direct = profile_interval(est.fit_, 0.95)
    assert direct.lower < est.estimate_ < direct.upper


def test_new_orleans_stepwise_and_main(load) -> None:  # type: ignore[no-untyped-def]
    """SparseMSE ``estimatepopulation.0(NewOrl, method="stepwise")`` on the SparseMSE copy:
    D:E, N = 1183.69; main effects 996.66 (Bales, Murphy & Silverman 2020)."""
    tab = load("NewOrl_SparseMSE")
    step = MultipleSystemsEstimator().fit(tab)
    assert step.model_ == ["D:E"]
    assert step.estimate_ == pytest.approx(1183.69, abs=0.5)
    main = MultipleSystemsEstimator(method="main").fit(tab)
    assert main.estimate_ == pytest.approx(996.66, abs=0.5)


def test_western_stepwise(load) -> None:  # type: ignore[no-untyped-def]
    """SparseMSE stepwise p = 0.02 on Western (Farrell et al. 2019): A:E, N = 2483.38."""
    est = MultipleSystemsEstimator().fit(load("Western"))
    assert est.model_ == ["A:E"]
    assert est.estimate_ == pytest.approx(2483.38, abs=0.5)


@pytest.mark.parametrize(
    ("terms", "exists", "identifiable"),
    [
        ([(0, 1), (0, 2), (1, 2)], True, False),  # all two-list terms
        ([(0, 1)], False, True),  # {A:B, C}
        ([(0, 2), (1, 2)], True, True),  # {A:C, B:C, A, B}
    ],
)
def test_artificial_3_existence(load, terms, exists, identifiable) -> None:  # type: ignore[no-untyped-def]
    """Chan, Silverman & Vincent (2021), Table 2; SparseMSE ``checkident(Artificial_3, mX)``
    examples: all two-list terms -> exists, not identifiable (ierr 2); {A:B} -> MLE does not
    exist (ierr 1); {A:C, B:C} -> exists and identifiable (ierr 0)."""
    tab = load("Artificial_3")
    res = check_model(tab.full_counts(), 3, terms)
    assert res.exists is exists
    assert res.identifiable is identifiable
    assert res.ierr == int(not exists) + 2 * int(not identifiable)


def test_artificial_3_minus_infinity_terms(load) -> None:  # type: ignore[no-untyped-def]
    """A:C and B:C do not overlap in Artificial_3, so their parameters are -inf (SparseMSE
    ``modelfit``): the fit drops them with the cells AC, BC, ABC and still gives a finite N."""
    tab = load("Artificial_3")
    fit = fit_loglinear(tab.full_counts(), 3, [(0, 2), (1, 2)])
    assert fit.neginf_terms == ((0, 2), (1, 2))
    assert sorted(fit.cells.tolist()) == [1, 2, 3, 4]
    assert fit.converged
    # the remaining model is saturated on A, B: hidden = n_A-only * n_B-only / n_AB.
    # For C the cell is fitted exactly; hidden cell = 40 * 30 / 6 (Lincoln-Petersen on A, B).
    assert fit.hidden == pytest.approx(40 * 30 / 6, rel=1e-8)


def test_western_bca_interval(load) -> None:  # type: ignore[no-untyped-def]
    """SparseMSE ``estimatepopulation(Western, nboot=1000, pthresh=0.02)``: BCa 95%
    (1293, 3670), model selection repeated in every replicate. Monte Carlo: within 10%."""
    est = MultipleSystemsEstimator(bootstrap=1000, seed=2021, n_jobs=2).fit(load("Western"))
    assert est.interval_.method.startswith("BCa")
    assert est.interval_.lower == pytest.approx(1293, rel=0.10)
    assert est.interval_.upper == pytest.approx(3670, rel=0.10)


def test_new_orleans_bca_interval(load) -> None:  # type: ignore[no-untyped-def]
    """Bales, Murphy & Silverman (2020) with SparseMSE ``estimatepopulation(NewOrl,
    nboot=1000)``: BCa 95% (717, 1657). Monte Carlo: within 10%."""
    est = MultipleSystemsEstimator(bootstrap=1000, seed=2020, n_jobs=2).fit(
        load("NewOrl_SparseMSE")
    )
    assert est.interval_.lower == pytest.approx(717, rel=0.10)
    assert est.interval_.upper == pytest.approx(1657, rel=0.10)
