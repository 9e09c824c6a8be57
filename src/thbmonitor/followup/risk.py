"""Risk factors for a new event: a cause-specific Cox proportional-hazards model (lifelines).

Competing events (death, emigration) are treated as censoring, so the hazard ratios are
cause-specific: they describe the rate of the event among persons still alive and in the
country. (A Fine-Gray subdistribution model is not offered: lifelines has none.)
The proportional-hazards assumption is checked with the Grambsch-Therneau test on scaled
Schoenfeld residuals (Efron ties), one row per covariate: the statistic of
``lifelines.statistics.proportional_hazard_test`` (rank time transform by default),
computed here in vectorised numpy because lifelines' residual loop is quadratic in the
number of rows (22 s for 100,000 persons).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError

logger = logging.getLogger(__name__)

__all__ = [
    "RiskModel",
    "check_fit_columns",
    "design_matrix",
    "drop_levels_without_events",
    "model_frame",
    "schoenfeld_test",
]

TIME_TRANSFORMS = ("rank", "identity", "log", "km")


def check_fit_columns(
    cohort: pd.DataFrame, covariates: Sequence[str], duration: str, event: str, model: str
) -> None:
    """The cohort holds the duration, event and covariate columns, and covariates are given."""
    missing = [c for c in (duration, event, *covariates) if c not in cohort.columns]
    if missing:
        raise EstimationError(f"the cohort frame lacks column(s) {', '.join(missing)}.")
    if not covariates:
        raise EstimationError(f"give at least one covariate for {model}.")


def model_frame(
    cohort: pd.DataFrame,
    covariates: Sequence[str],
    duration: str,
    event: str,
    event_of_interest: int,
    reference: Mapping[str, str],
    categorical: Sequence[str],
    model: str,
    min_level: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, dict[str, int]]]:
    """What a risk model fits on: the cohort rows kept, their design matrix, the reference
    level per categorical covariate, and the levels left out for having no events (or fewer
    than ``min_level`` persons).

    Checks the columns (:func:`check_fit_columns`), refuses a cohort without any event of
    interest, and leaves out levels without events (:func:`drop_levels_without_events`).
    """
    check_fit_columns(cohort, covariates, duration, event, f"the {model}")
    frame = cohort.reset_index(drop=True)
    hit = frame[event].to_numpy() == event_of_interest
    if not hit.any():
        raise EstimationError(f"no events of interest in the cohort; the {model} needs some.")
    frame, chosen, dropped = drop_levels_without_events(
        frame, covariates, hit, reference, categorical, model, min_level
    )
    design, references = design_matrix(frame, covariates, reference=chosen, categorical=categorical)
    return frame, design, references, dropped


def drop_levels_without_events(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    hit: np.ndarray,
    reference: Mapping[str, str],
    categorical: Sequence[str],
    model: str,
    min_level: int = 0,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[str, int]]]:
    """Leave out persons in categorical levels without any event of interest (``hit``), and
    in levels of fewer than ``min_level`` persons.

    A level without events makes the partial likelihood monotone: its ratio runs to zero and
    its interval to nonsense. A small level is left out too (the disclosure threshold): were
    only levels without events left out, the absence of a small level from the published
    table would tell that none of its few persons had an event. Returns the remaining rows,
    the reference levels without any that were left out (the first remaining level then
    becomes the reference), and per covariate the number of levels and persons left out. The
    log names the covariate, never the level.
    """
    keep = np.ones(len(frame), dtype=bool)
    reference = dict(reference)
    dropped: dict[str, dict[str, int]] = {}
    for name in covariates:
        values = frame[name]
        numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if (numeric and name not in categorical) or values.isna().any():
            continue  # numeric, or refused with its row numbers by design_matrix
        labels = values.astype(str).to_numpy()
        sizes = pd.Series(labels).value_counts()
        small = set(sizes[sizes < min_level].index)
        empty = sorted((set(labels) - set(labels[hit])) | small)
        if not empty:
            continue
        out = np.isin(labels, empty)
        keep &= ~out
        if reference.get(name) in empty:
            del reference[name]
        dropped[name] = {"levels": len(empty), "persons": int(out.sum())}
        logger.warning(
            "%s: covariate '%s' has %d level(s) without any event of interest or of fewer "
            "than %d persons; their %d person(s) are left out of the model.",
            model,
            name,
            len(empty),
            min_level,
            int(out.sum()),
        )
    return frame.loc[keep].reset_index(drop=True), reference, dropped


def design_matrix(
    cohort: pd.DataFrame,
    covariates: Sequence[str],
    *,
    reference: Mapping[str, str] | None = None,
    categorical: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric covariates as they are; categorical ones as ``column=level`` indicators.

    The reference level is the one in ``reference``, else the first in sort order. Returns the
    design and the reference used per categorical covariate. Missing values and covariates
    that do not vary are refused (by field and row number, never by value).
    """
    reference = dict(reference or {})
    references: dict[str, str] = {}
    columns = []
    for name in covariates:
        values = cohort[name]
        if values.isna().any():
            first = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
            raise EstimationError(
                f"covariate '{name}' is missing at {int(values.isna().sum())} row(s), first "
                f"at row {first}; fill or drop those rows before fitting."
            )
        numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if numeric and name not in categorical:
            columns.append(values.astype(float).rename(name))
            continue
        labels = values.astype(str)
        levels = sorted(labels.unique())
        chosen = reference.get(name, levels[0])
        if chosen not in levels:
            raise EstimationError(
                f"the reference level given for covariate '{name}' does not occur in it."
            )
        references[name] = chosen
        for level in levels:
            if level != chosen:
                columns.append((labels == level).astype(float).rename(f"{name}={level}"))
    design = pd.concat(columns, axis=1)
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if constant:
        raise EstimationError(
            f"covariate column(s) {', '.join(map(repr, constant))} do not vary in the cohort; "
            "drop them or merge their levels."
        )
    return design, references


def schoenfeld_test(
    covariates: pd.DataFrame,
    duration: np.ndarray,
    event: np.ndarray,
    params: np.ndarray,
    variance: np.ndarray,
    *,
    time_transform: str = "rank",
) -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards for each covariate of a fitted Cox model.

    Schoenfeld residuals with Efron's tie correction, scaled by ``n_events * variance``; the
    statistic for covariate j is (sum g_i r_ij)^2 / (D var_jj sum g_i^2) with g the demeaned
    transformed event times, chi-squared with 1 df (as lifelines). Rows are ordered by
    (duration, event, original row), as lifelines orders them, so the rank transform agrees.
    """
    from scipy import stats

    if time_transform not in TIME_TRANSFORMS:
        raise EstimationError(
            f"time_transform must be one of {', '.join(TIME_TRANSFORMS)}, not {time_transform!r}."
        )
    x_all = covariates.to_numpy(dtype=float)
    t_all = np.asarray(duration, dtype=float)
    e_all = np.asarray(event).astype(bool)
    order = np.lexsort((np.arange(t_all.size), e_all, t_all))
    x, t, e = x_all[order], t_all[order], e_all[order]
    x = x - x.mean(axis=0)  # residuals do not depend on centring; exp() stays finite
    phi = np.exp(x @ params)
    times, start = np.unique(t, return_index=True)
    group = np.searchsorted(times, t)
    # risk-set sums over duration >= t_k: reverse cumulative sums from each group's first row
    risk_phi = np.cumsum(phi[::-1])[::-1][start]
    risk_phix = np.cumsum((phi[:, None] * x)[::-1], axis=0)[::-1][start]
    ev = np.flatnonzero(e)
    g = group[ev]
    m = np.bincount(g, minlength=times.size).astype(float)
    tie_phi = np.bincount(g, weights=phi[ev], minlength=times.size)
    tie_phix = np.stack(
        [
            np.bincount(g, weights=phi[ev] * x[ev, j], minlength=times.size)
            for j in range(x.shape[1])
        ],
        axis=1,
    )
    # Efron: the l-th of m tied deaths (l = 0..m-1) sees the risk set minus l/m of the ties
    first_in_group = np.searchsorted(g, g, side="left")
    l_frac = ((np.arange(ev.size) - first_in_group) / m[g])[:, None]
    numer = risk_phix[g] - l_frac * tie_phix[g]
    denom = risk_phi[g][:, None] - l_frac * tie_phi[g][:, None]
    contrib = numer / (denom * m[g][:, None])
    mean = np.stack(
        [np.bincount(g, weights=contrib[:, j], minlength=times.size) for j in range(x.shape[1])],
        axis=1,
    )
    resid = x[ev] - mean[g]
    n_events = ev.size
    scaled = n_events * resid @ variance
    if time_transform == "rank":
        g_time = np.cumsum(e)[ev].astype(float)
    elif time_transform == "identity":
        g_time = t[ev]
    elif time_transform == "log":
        g_time = np.log(t[ev])
    else:
        from thbmonitor.followup.curves import kaplan_meier

        curve = kaplan_meier(t, e.astype(int))
        g_time = curve.at(t[ev])["estimate"].to_numpy()
    g_time = g_time - g_time.mean()
    statistic = (g_time @ scaled) ** 2 / (n_events * np.diag(variance) * (g_time**2).sum())
    return pd.DataFrame(
        {
            "covariate": list(covariates.columns.astype(str)),
            "test_statistic": statistic,
            "p": stats.chi2.sf(statistic, 1),
            "time_transform": time_transform,
        }
    )


class RiskModel:
    """Cox model of the time to the event of interest, with hazard ratios and a PH check.

    Categorical covariates (non-numeric, or listed in ``categorical``) are coded as indicators
    against a reference level: the one given in ``reference``, else the first in sort order.
    Indicator columns are named ``column=level``. Persons in a level without any event of
    interest are left out (:func:`drop_levels_without_events`; counts in ``dropped_levels_``).
    """

    def __init__(
        self,
        *,
        alpha: float = 0.05,
        penalizer: float = 0.0,
        time_transform: str = "rank",
        reference: Mapping[str, str] | None = None,
        categorical: Sequence[str] = (),
        min_level: int = 0,
    ) -> None:
        self.alpha = alpha
        self.min_level = min_level
        self.penalizer = penalizer
        self.time_transform = time_transform
        self.reference = dict(reference or {})
        self.categorical = tuple(categorical)

    def __repr__(self) -> str:
        if not hasattr(self, "n_"):
            return "<RiskModel: not fitted>"
        return f"<RiskModel: {self.n_} persons, {self.n_events_} events, cause-specific Cox>"

    def fit(
        self,
        cohort: pd.DataFrame,
        covariates: Sequence[str],
        *,
        duration: str = "duration",
        event: str = "event",
        event_of_interest: int = 1,
    ) -> RiskModel:
        """Fit the model; sets ``hazard_ratios_``, ``concordance_``, ``ph_test_`` and more."""
        from lifelines import CoxPHFitter

        frame, design, self.references_, self.dropped_levels_ = model_frame(
            cohort,
            covariates,
            duration,
            event,
            event_of_interest,
            self.reference,
            self.categorical,
            "Cox model",
            self.min_level,
        )
        design["_duration"] = frame[duration].to_numpy(dtype=float)
        design["_event"] = (frame[event].to_numpy() == event_of_interest).astype(int)
        model = CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer)
        model.fit(design, duration_col="_duration", event_col="_event")
        s = model.summary
        level = f"{100 * (1 - self.alpha):g}%"
        self.hazard_ratios_ = pd.DataFrame(
            {
                "covariate": s.index.astype(str),
                "coef": s["coef"].to_numpy(),
                "se": s["se(coef)"].to_numpy(),
                "hazard_ratio": s["exp(coef)"].to_numpy(),
                "lower": s[f"exp(coef) lower {level}"].to_numpy(),
                "upper": s[f"exp(coef) upper {level}"].to_numpy(),
                "z": s["z"].to_numpy(),
                "p": s["p"].to_numpy(),
            }
        )
        self.concordance_ = float(model.concordance_index_)
        self.ph_test_ = schoenfeld_test(
            design.drop(columns=["_duration", "_event"]),
            design["_duration"].to_numpy(),
            design["_event"].to_numpy(),
            model.params_.to_numpy(),
            model.variance_matrix_.to_numpy(),
            time_transform=self.time_transform,
        )
        self.n_ = len(design)
        self.n_events_ = int(design["_event"].sum())
        self.log_likelihood_ = float(model.log_likelihood_)
        self.lifelines_model_ = model
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Hazard ratios with intervals joined with the PH test per covariate."""
        if not hasattr(self, "hazard_ratios_"):
            raise EstimationError("the model is not fitted yet; call fit() first.")
        ph = self.ph_test_.rename(columns={"test_statistic": "ph_statistic", "p": "ph_p"})
        return self.hazard_ratios_.merge(
            ph[["covariate", "ph_statistic", "ph_p"]], on="covariate", how="left"
        )
