"""Fine-Gray against R's ``cmprsk::crr`` (the reference implementation), from stored values.

The reference values in ``data/finegray_crr.csv`` were written by ``data/finegray_crr.R``
(R 4.2.2 Patched (2022-11-10 r83330), cmprsk 2.2-11, Debian ``r-cran-cmprsk``); R is not needed
to run these tests. Each fit is ``crr(ftime, fstatus, cov, failcode = k, gtol = 1e-10,
maxiter = 50)``; ``coef`` is ``fit$coef``, ``se_model`` is ``sqrt(diag(fit$invinf))`` (inverse
information) and ``se_crr`` is ``sqrt(diag(fit$var))`` (crr's sandwich, which accounts for the
Kaplan-Meier estimate of the censoring distribution; what ``summary(fit)`` prints).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from thbmonitor.errors import EstimationError
from thbmonitor.followup.competing_risk import FineGrayModel

DATA = Path(__file__).parent / "data"
REFERENCE = pd.read_csv(DATA / "finegray_crr.csv")
COHORT_COVARIATES = ["minor", "sex", "nationality_group"]
COHORT_REFERENCE = {"sex": "female", "nationality_group": "NL"}
RTOL = 1e-7


def _example() -> pd.DataFrame:
    """Data of the ``?crr`` example: ``set.seed(10); ftime <- rexp(200); fstatus <-
    sample(0:2, 200, replace = TRUE); cov <- matrix(runif(600), nrow = 200)``, written by R
    with 17 significant digits."""
    return pd.read_csv(DATA / "crr_example.csv").rename(
        columns={"ftime": "duration", "fstatus": "event"}
    )


def _cohort() -> pd.DataFrame:
    """3,000 persons of ``make_finegray_cohort.py``: day-level durations (many ties), status
    0/1/2, ``minor``, ``sex`` and the four-level factor ``nationality_group``."""
    return pd.read_csv(DATA / "finegray_cohort.csv").rename(columns={"status": "event"})


def _check(model: FineGrayModel, dataset: str) -> None:
    ref = REFERENCE[REFERENCE["dataset"] == dataset]
    assert list(model.coef_.index) == list(ref["term"])
    assert bool(ref["converged"].all())
    assert_allclose(model.coef_.to_numpy(), ref["coef"], rtol=RTOL)
    assert_allclose(model.se_model_.to_numpy(), ref["se_model"], rtol=RTOL)
    assert_allclose(model.se_robust_.to_numpy(), ref["se_crr"], rtol=RTOL)
    assert_allclose(model.log_likelihood_, ref["loglik"].iloc[0], rtol=1e-10)
    assert model.n_ == int(ref["n"].iloc[0])


@pytest.mark.parametrize("failcode", [1, 2])
def test_crr_help_example(failcode: int) -> None:
    """``crr(ftime, fstatus, cov, failcode = k)`` of the help page: coef for failcode 1 is
    0.2668, -0.0557, 0.2805 (R prints these); ours agree with crr's coefficients, both standard
    errors and the log partial likelihood to 1e-7 relative."""
    model = FineGrayModel().fit(_example(), ["x1", "x2", "x3"], event_of_interest=failcode)
    _check(model, f"help_example_failcode{failcode}")
    assert_allclose(model.se_.to_numpy(), model.se_robust_.to_numpy())  # the default


@pytest.mark.parametrize("failcode", [1, 2])
def test_crr_on_a_tied_cohort_with_a_factor(failcode: int) -> None:
    """``crr(d$duration, d$status, x, failcode = k)`` with ``x`` the indicators minor,
    sex=male, nationality_group=EU/non-EU/unknown (reference female, NL): times tie at whole
    days, so this checks crr's handling of ties (Breslow; the censoring Kaplan-Meier taken
    just before each time)."""
    model = FineGrayModel(reference=COHORT_REFERENCE, variance="model").fit(
        _cohort(), COHORT_COVARIATES, event_of_interest=failcode
    )
    _check(model, f"cohort_failcode{failcode}")
    assert_allclose(model.se_.to_numpy(), model.se_model_.to_numpy())


def test_levels_without_events_are_left_out_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A level with no event of interest (here 7 persons, censored or with a competing event)
    is left out: the fit then equals crr on the cohort without them (``cohort_failcode1``).
    The log names the covariate, never the level."""
    base = _cohort()
    extra = base.iloc[:7].assign(
        nationality_group="stateless", event=[0, 2, 0, 2, 0, 0, 2], duration=np.linspace(1, 7, 7)
    )
    cohort = pd.concat([base, extra], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="thbmonitor.followup.risk"):
        model = FineGrayModel(reference=COHORT_REFERENCE).fit(cohort, COHORT_COVARIATES)
    _check(model, "cohort_failcode1")
    assert model.dropped_levels_ == {"nationality_group": {"levels": 1, "persons": 7}}
    assert "'nationality_group'" in caplog.text
    assert "stateless" not in caplog.text


def test_a_dropped_reference_level_falls_back_to_the_first_level() -> None:
    """If the chosen reference level has no events, the first remaining level (sort order)
    becomes the reference, as :func:`design_matrix` does without a choice."""
    cohort = _cohort()
    cohort.loc[cohort["nationality_group"] == "NL", "event"] = 0
    model = FineGrayModel(reference=COHORT_REFERENCE).fit(cohort, COHORT_COVARIATES)
    assert model.references_["nationality_group"] == "EU"
    assert model.n_ == int((cohort["nationality_group"] != "NL").sum())


def test_separation_is_reported_by_column() -> None:
    """A numeric covariate that marks exactly the persons with an event of interest makes the
    likelihood monotone: the error names that column (not a value) instead of a bare failure."""
    cohort = _cohort().iloc[:600].copy()
    cohort["flag"] = (cohort["event"] == 1).astype(float)
    with pytest.raises(EstimationError, match="'flag'"):
        FineGrayModel(max_iter=30).fit(cohort, ["minor", "flag"])


def test_variance_option_is_checked() -> None:
    with pytest.raises(EstimationError, match="variance"):
        FineGrayModel(variance="sandwich")


def test_small_levels_are_left_out_even_with_events() -> None:
    """With ``min_level`` (the disclosure threshold) a level of 7 persons WITH events is left
    out as well: the published table then cannot tell a small level without events (whose
    absence would say that none of its persons had one) from a small level with events. The
    fit equals crr on the cohort without them (``cohort_failcode1``)."""
    base = _cohort()
    extra = base.iloc[:7].assign(
        nationality_group="stateless", event=[1, 2, 1, 0, 0, 0, 2], duration=np.linspace(1, 7, 7)
    )
    cohort = pd.concat([base, extra], ignore_index=True)
    model = FineGrayModel(reference=COHORT_REFERENCE, min_level=10).fit(cohort, COHORT_COVARIATES)
    _check(model, "cohort_failcode1")
    assert model.dropped_levels_ == {"nationality_group": {"levels": 1, "persons": 7}}
