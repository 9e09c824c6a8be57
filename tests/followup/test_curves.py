"""Kaplan-Meier, Aalen-Johansen and the crude share against lifelines, R and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi, load_waltons
from numpy.testing import assert_allclose
from statsmodels.stats.proportion import proportion_confint

from thbmonitor.errors import EstimationError
from thbmonitor.followup import aalen_johansen, crude_share, kaplan_meier

# survival::aml (Miller 1981): weeks of remission, status 1 = relapse
AML_MAINTAINED = ([9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161], [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0])
AML_NONMAINTAINED = (
    [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
    [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
)


def _random_cohort(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    duration = rng.exponential(4.0, n)
    if ties:
        duration = np.round(duration, 1)
    event = rng.choice([0, 1, 2, 3], size=n, p=[0.35, 0.45, 0.12, 0.08])
    return duration, event


def _lifelines_km(duration: np.ndarray, event: np.ndarray) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(duration, event_observed=(np.asarray(event) == 1))


@pytest.mark.parametrize(
    ("name", "duration", "event"),
    [
        ("waltons", load_waltons()["T"].to_numpy(), load_waltons()["E"].to_numpy()),
        ("rossi", load_rossi()["week"].to_numpy(), load_rossi()["arrest"].to_numpy()),
        ("random-ties", *_random_cohort(11, 2000, ties=True)),
        ("random-continuous", *_random_cohort(12, 2000, ties=False)),
    ],
)
def test_kaplan_meier_matches_lifelines(name: str, duration: np.ndarray, event: np.ndarray) -> None:
    """1 - S(t) and its band equal lifelines' KaplanMeierFitter to 1e-8.

    Reference: ``KaplanMeierFitter().fit(T, E == 1)``, ``cumulative_density_`` and
    ``confidence_interval_cumulative_density_`` (exponential Greenwood, log(-log) scale).
    Codes other than 1 are censoring in both.
    """
    ours = kaplan_meier(duration, event)
    ref = _lifelines_km(duration, event)
    assert_allclose(ours.timeline, ref.timeline, atol=0)
    assert_allclose(ours.estimate, ref.cumulative_density_.iloc[:, 0], atol=1e-8)
    band = ref.confidence_interval_cumulative_density_
    assert_allclose(ours.lower, band.iloc[:, 0], atol=1e-8)
    assert_allclose(ours.upper, band.iloc[:, 1], atol=1e-8)
    assert_allclose(ours.n_at_risk, ref.event_table["at_risk"], atol=0)


def test_kaplan_meier_matches_r_survfit_on_aml() -> None:
    """R survival on the aml data, default ``conf.type="log"``::

        summary(survfit(Surv(time, status) ~ x, data = aml))

    x=Maintained: time 9 13 18 23 31 34 48; survival 0.909 0.818 0.716 0.614 0.491 0.368 0.184;
    std.err 0.0867 0.1163 0.1397 0.1526 0.1642 0.1627 0.1535; lower 95% CI 0.7541 0.6192
    0.4884 0.3769 0.2549 0.1549 0.0359; upper 1.000 1.000 1.000 0.999 0.946 0.875 0.944.
    x=Nonmaintained: time 5 8 12 23 27 30 33 43; survival 0.8333 0.6667 0.5833 0.4861 0.3889
    0.2917 0.1944 0.0972; std.err 0.1076 0.1361 0.1423 0.1481 0.1470 0.1387 0.1219 0.0919;
    lower 0.6470 0.4468 0.3616 0.2675 0.1854 0.1148 0.0569 0.0153; upper 1.000 0.995 0.941
    0.883 0.816 0.741 0.664 0.620.
    Source: the printed R output in public R course notes (GitHub, found with the code search;
    the same aml rows under renamed columns, e.g. ``Surv(fupweeks, eventind) ~ chemo``).
    Values are rounded as printed, hence the tolerances.
    """
    cases = [
        (
            AML_MAINTAINED,
            [9, 13, 18, 23, 31, 34, 48],
            [0.909, 0.818, 0.716, 0.614, 0.491, 0.368, 0.184],
            [0.0867, 0.1163, 0.1397, 0.1526, 0.1642, 0.1627, 0.1535],
            [0.7541, 0.6192, 0.4884, 0.3769, 0.2549, 0.1549, 0.0359],
            [1.000, 1.000, 1.000, 0.999, 0.946, 0.875, 0.944],
        ),
        (
            AML_NONMAINTAINED,
            [5, 8, 12, 23, 27, 30, 33, 43],
            [0.8333, 0.6667, 0.5833, 0.4861, 0.3889, 0.2917, 0.1944, 0.0972],
            [0.1076, 0.1361, 0.1423, 0.1481, 0.1470, 0.1387, 0.1219, 0.0919],
            [0.6470, 0.4468, 0.3616, 0.2675, 0.1854, 0.1148, 0.0569, 0.0153],
            [1.000, 0.995, 0.941, 0.883, 0.816, 0.741, 0.664, 0.620],
        ),
    ]
    for (time, status), t, surv, se, low, high in cases:
        curve = kaplan_meier(time, status, conf_type="log")
        at = curve.at(t)
        assert_allclose(1 - at["estimate"], surv, atol=6e-4)
        idx = np.searchsorted(curve.timeline, t)
        assert_allclose(np.sqrt(curve.variance[idx]), se, atol=6e-5)
        # survival band [low, high] is the incidence band [1 - high, 1 - low]
        assert_allclose(1 - at["upper"], low, atol=6e-5)
        assert_allclose(1 - at["lower"], high, atol=6e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aalen_johansen_matches_lifelines_without_ties(seed: int) -> None:
    """Point estimate, variance and band equal lifelines' AalenJohansenFitter to 1e-8.

    Reference: ``AalenJohansenFitter(calculate_variance=True).fit(T, E, event_of_interest=1)``
    on continuous random durations (no tied times, so lifelines does not jitter).
    lifelines labels its band columns the other way round ("..._upper_0.95" holds the
    smaller value, exp(-exp(log(-log F) + z se))), so the bands are compared by min and max.
    """
    duration, event = _random_cohort(seed, 1500, ties=False)
    ours = aalen_johansen(duration, event, event_of_interest=1)
    ref = AalenJohansenFitter(calculate_variance=True).fit(duration, event, event_of_interest=1)
    assert_allclose(ours.timeline, ref.timeline, atol=0)
    assert_allclose(ours.estimate, ref.cumulative_density_.iloc[:, 0], atol=1e-8)
    ref_variance = ref.variance_.to_numpy()
    # lifelines divides by n - d, which is 0 when the last person at risk has the event; we
    # let that step add nothing to the first sum (documented), so compare elsewhere.
    undefined = np.flatnonzero(~np.isfinite(ref_variance))
    assert set(undefined) <= {len(ref_variance) - 1}
    positive = (ours.estimate > 0) & np.isfinite(ref_variance)
    assert_allclose(ours.variance[positive], ref_variance[positive], atol=1e-10)
    band = ref.confidence_interval_.to_numpy()
    assert_allclose(ours.lower[positive], band.min(axis=1)[positive], atol=1e-8)
    assert_allclose(ours.upper[positive], band.max(axis=1)[positive], atol=1e-8)
    zero = ours.estimate == 0
    assert (ours.lower[zero] == 0).all() and (ours.upper[zero] == 0).all()


def test_aalen_johansen_matches_lifelines_with_ties_of_one_type() -> None:
    """With one event type, ties do not make lifelines jitter; all columns match to 1e-8.

    Reference: ``AalenJohansenFitter().fit(T, E, event_of_interest=1)`` on ``load_waltons()``.
    Without competing events the Aalen-Johansen estimate is 1 - Kaplan-Meier.
    """
    df = load_waltons()
    ours = aalen_johansen(df["T"], df["E"])
    ref = AalenJohansenFitter(calculate_variance=True).fit(df["T"], df["E"], event_of_interest=1)
    assert_allclose(ours.estimate, ref.cumulative_density_.iloc[:, 0], atol=1e-8)
    positive = (ours.estimate > 0) & (ours.estimate < 1)
    band = ref.confidence_interval_.to_numpy()
    assert_allclose(ours.lower[positive], band.min(axis=1)[positive], atol=1e-8)
    assert_allclose(ours.upper[positive], band.max(axis=1)[positive], atol=1e-8)
    assert_allclose(ours.estimate, kaplan_meier(df["T"], df["E"]).estimate, atol=1e-12)


def test_aalen_johansen_with_tied_competing_events_adds_up() -> None:
    """Ties across types are handled exactly, not jittered: the incidences of all causes add
    up to the all-cause Kaplan-Meier 1 - S(t) (an identity of the Aalen-Johansen estimator),
    and lifelines' jittered estimate agrees to within the jitter's effect (1e-3).
    """
    duration, event = _random_cohort(5, 3000, ties=True)
    total = sum(aalen_johansen(duration, event, event_of_interest=k).estimate for k in (1, 2, 3))
    all_cause = kaplan_meier(duration, (event != 0).astype(int)).estimate
    assert_allclose(total, all_cause, atol=1e-12)
    with pytest.warns(Warning, match="Tied event times"):
        ref = AalenJohansenFitter(calculate_variance=False, seed=7).fit(
            duration, event, event_of_interest=1
        )
    # read between the 0.1-grid of tied times, where the jitter (1e-4) cannot move events
    times = [1.05, 3.05, 5.05, 7.05]
    ours = aalen_johansen(duration, event).at(times)
    theirs = ref.cumulative_density_.iloc[:, 0]
    expected = [theirs[theirs.index <= t].iloc[-1] for t in times]
    assert_allclose(ours["estimate"], expected, atol=1e-3)


def test_at_is_a_right_continuous_step_function() -> None:
    """Reading at an event time includes that event; between times the value holds;
    beyond the last duration the curve is undefined (NaN)."""
    curve = kaplan_meier([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 0])
    at = curve.at([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 3.99, 4.0, 4.5])
    assert_allclose(
        at["estimate"], [0, 0, 0.25, 0.25, 0.25, 0.625, 0.625, 0.625, np.nan], equal_nan=True
    )
    assert at["n_at_risk"].tolist() == [4, 4, 4, 3, 3, 2, 1, 1, 0]
    assert at["n_events"].tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]


def _administrative_cohort(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Durations cut at each person's potential follow-up (entry to data end), in days."""
    rng = np.random.default_rng(seed)
    potential = rng.integers(0, 10 * 365, n) / 365.25
    time = np.ceil(rng.exponential(4.0, n) * 365.25) / 365.25
    cause = rng.choice([1, 2, 3], size=n, p=[0.8, 0.12, 0.08])
    duration = np.minimum(time, potential)
    event = np.where(time <= potential, cause, 0)
    return duration, event, potential


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_crude_share_matches_statsmodels(method: str) -> None:
    """Counts follow the stated rule (checked row by row with pandas) and the interval equals
    statsmodels ``proportion_confint(k, n, alpha=0.05, method="wilson"|"beta")``."""
    duration, event, potential = _administrative_cohort(21, 3000)
    times = [1, 2, 3, 4, 5, 6, 7]
    share = crude_share(duration, event, potential, times, method=method)  # type: ignore[arg-type]
    sm_method = "wilson" if method == "wilson" else "beta"
    frame = pd.DataFrame({"d": duration, "e": event, "p": potential})
    for i, t in enumerate(times):
        followed = frame[frame["p"] >= t]
        k = int(((followed["e"] == 1) & (followed["d"] <= t)).sum())
        n = len(followed)
        assert (share.n_events[i], share.n_followed[i]) == (k, n)
        assert share.estimate[i] == pytest.approx(k / n)
        lo, hi = proportion_confint(k, n, alpha=0.05, method=sm_method)
        assert share.lower[i] == pytest.approx(lo, abs=1e-10)
        assert share.upper[i] == pytest.approx(hi, abs=1e-10)


def test_crude_share_equals_aalen_johansen_without_censoring() -> None:
    """With no censoring at all, the crude share, the Aalen-Johansen incidence and the
    empirical proportion are the same number."""
    rng = np.random.default_rng(3)
    duration = rng.exponential(3.0, 500)
    event = rng.choice([1, 2], size=500, p=[0.7, 0.3])
    times = [1.0, 2.5, 5.0]
    aj = aalen_johansen(duration, event).at(times)["estimate"].to_numpy()
    crude = crude_share(duration, event, np.full(500, 50.0), times).estimate
    empirical = [np.mean((event == 1) & (duration <= t)) for t in times]
    assert_allclose(aj, empirical, atol=1e-12)
    assert_allclose(crude, empirical, atol=1e-12)


def test_crude_share_refuses_follow_up_past_the_data_end() -> None:
    with pytest.raises(EstimationError, match="shorter than duration"):
        crude_share([1.0, 3.0], [1, 0], [2.0, 2.0], [1.0])


@pytest.mark.parametrize(
    ("duration", "event", "match"),
    [
        ([1.0, -1.0], [1, 0], "duration must be a finite number >= 0"),
        ([1.0, np.nan], [1, 0], "duration must be a finite number >= 0"),
        ([1.0, 2.0], [1, 0.5], "event must be a whole number"),
        ([1.0], [1, 0], "different lengths"),
        ([], [], "empty"),
    ],
)
def test_bad_input_is_refused(duration: list[float], event: list[float], match: str) -> None:
    with pytest.raises(EstimationError, match=match):
        kaplan_meier(duration, event)


def test_messages_never_carry_values() -> None:
    """A bad duration is reported by position, not by its value."""
    with pytest.raises(EstimationError) as info:
        aalen_johansen(pd.Series([1.5, -123.456]), [1, 0])
    assert "123.456" not in str(info.value)
    assert "position 1" in str(info.value)
