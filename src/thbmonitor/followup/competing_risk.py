"""Fine-Gray regression of the subdistribution hazard: risk factors on the competing-risk scale.

Where the cause-specific Cox model (:class:`~thbmonitor.followup.risk.RiskModel`) describes the
rate of a new event among persons still alive and in the country, Fine-Gray describes the
cumulative incidence itself: a subdistribution hazard ratio above 1 means a higher share with
a new event within t years, deaths and emigrations included.

Method (Fine and Gray 1999, with the inverse-probability-of-censoring weights of Geskus
2011): at each time u of an event of interest, the risk set holds everyone still followed
(weight 1) and everyone who had a competing event at T_k < u, with weight G(u-) / G(T_k-),
where G is the Kaplan-Meier estimate of the censoring distribution (censoring = code 0).
The weighted partial likelihood (Breslow ties) is maximised by Newton-Raphson; all risk-set
sums are prefix sums, so 100,000 persons take well under a second per iteration.
The standard errors are model-based (inverse information of the weighted likelihood, as
lifelines' ``CoxTimeVaryingFitter`` gives on the expanded data); they ignore the estimation
of G, which R ``cmprsk::crr``'s variance accounts for (usually a small difference).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from thbmonitor.errors import EstimationError
from thbmonitor.followup.curves import kaplan_meier
from thbmonitor.followup.risk import check_fit_columns, design_matrix

logger = logging.getLogger(__name__)

__all__ = ["FineGrayModel", "censoring_weights"]

FloatArray = npt.NDArray[np.float64]


def censoring_weights(
    duration: FloatArray, event: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """The censoring survivor G as (times, G(t-)) with Kaplan-Meier on code 0 as the event."""
    curve = kaplan_meier(duration, (event == 0).astype(np.int64))
    g = 1.0 - curve.estimate
    g_left = np.concatenate(([1.0], g[:-1]))
    return curve.timeline, g_left


def _left_limit(times: FloatArray, g_left: FloatArray, at: FloatArray) -> FloatArray:
    """G(at-) for times ``at`` that are durations of the cohort (so on the curve's grid)."""
    return g_left[np.searchsorted(times, at, side="left")]


class FineGrayModel:
    """Subdistribution-hazard regression for ``event_of_interest``; other codes compete.

    Covariates are coded as in :func:`~thbmonitor.followup.risk.design_matrix`.
    """

    def __init__(
        self,
        *,
        alpha: float = 0.05,
        tol: float = 1e-9,
        max_iter: int = 50,
        reference: Mapping[str, str] | None = None,
        categorical: Sequence[str] = (),
    ) -> None:
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.reference = dict(reference or {})
        self.categorical = tuple(categorical)

    def __repr__(self) -> str:
        if not hasattr(self, "n_"):
            return "<FineGrayModel: not fitted>"
        return (
            f"<FineGrayModel: {self.n_} persons, {self.n_events_} events, "
            f"{self.n_competing_} competing>"
        )

    def fit(
        self,
        cohort: pd.DataFrame,
        covariates: Sequence[str],
        *,
        duration: str = "duration",
        event: str = "event",
        event_of_interest: int = 1,
    ) -> FineGrayModel:
        """Fit; sets ``coef_``, ``se_``, ``hazard_ratios_``, ``log_likelihood_``, counts."""
        check_fit_columns(cohort, covariates, duration, event, "the Fine-Gray model")
        frame = cohort.reset_index(drop=True)
        design, self.references_ = design_matrix(
            frame, covariates, reference=self.reference, categorical=self.categorical
        )
        t = frame[duration].to_numpy(dtype=float)
        e = frame[event].to_numpy().astype(np.int64)
        if not np.isfinite(t).all() or (t < 0).any():
            raise EstimationError("duration must be finite and >= 0 for every person.")
        hit = e == event_of_interest
        if not hit.any():
            raise EstimationError("no events of interest in the cohort; Fine-Gray needs some.")
        x = design.to_numpy(dtype=float)
        x = x - x.mean(axis=0)
        beta, loglik, info, iterations = self._newton(t, e, hit, x)
        cov = np.linalg.inv(info)
        se = np.sqrt(np.diag(cov))
        z_crit = float(stats.norm.ppf(1 - self.alpha / 2))
        z = beta / se
        self.coef_ = pd.Series(beta, index=design.columns)
        self.se_ = pd.Series(se, index=design.columns)
        self.variance_matrix_ = pd.DataFrame(cov, index=design.columns, columns=design.columns)
        self.hazard_ratios_ = pd.DataFrame(
            {
                "covariate": list(design.columns.astype(str)),
                "coef": beta,
                "se": se,
                "hazard_ratio": np.exp(beta),
                "lower": np.exp(beta - z_crit * se),
                "upper": np.exp(beta + z_crit * se),
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
            }
        )
        self.log_likelihood_ = loglik
        self.n_iterations_ = iterations
        self.n_ = len(frame)
        self.n_events_ = int(hit.sum())
        self.n_competing_ = int(((e != 0) & ~hit).sum())
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Subdistribution hazard ratios with intervals, one row per covariate column."""
        if not hasattr(self, "hazard_ratios_"):
            raise EstimationError("the model is not fitted yet; call fit() first.")
        return self.hazard_ratios_.copy()

    def _newton(
        self, t: FloatArray, e: npt.NDArray[np.int64], hit: npt.NDArray[np.bool_], x: FloatArray
    ) -> tuple[FloatArray, float, FloatArray, int]:
        times, g_left = censoring_weights(t, e)
        u = np.unique(t[hit])  # distinct times of events of interest
        ev_group = np.searchsorted(u, t[hit])
        d = np.bincount(ev_group, minlength=u.size).astype(float)
        x_ev_sum = np.stack(
            [np.bincount(ev_group, weights=x[hit, j], minlength=u.size) for j in range(x.shape[1])],
            axis=1,
        )
        order = np.argsort(t, kind="stable")
        t_sorted = t[order]
        start = np.searchsorted(t_sorted, u, side="left")  # first person with T >= u_j
        competing = np.flatnonzero((e != 0) & ~hit)
        comp_order = competing[np.argsort(t[competing], kind="stable")]
        comp_t = t[comp_order]
        comp_w = 1.0 / _left_limit(times, g_left, comp_t)  # 1 / G(T_k-)
        n_before = np.searchsorted(comp_t, u, side="left")  # competing with T_k < u_j
        g_u = _left_limit(times, g_left, u)  # G(u_j-)

        def sums(beta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
            r = np.exp(x @ beta)
            rs, xs = r[order], x[order]
            s0 = _suffix(rs)[start]
            s1 = _suffix(rs[:, None] * xs)[start]
            s2 = _suffix(rs[:, None, None] * xs[:, :, None] * xs[:, None, :])[start]
            rc, xc = r[comp_order] * comp_w, x[comp_order]
            s0 = s0 + g_u * _prefix(rc)[n_before]
            s1 = s1 + g_u[:, None] * _prefix(rc[:, None] * xc)[n_before]
            s2 = (
                s2
                + g_u[:, None, None]
                * _prefix(rc[:, None, None] * xc[:, :, None] * xc[:, None, :])[n_before]
            )
            return s0, s1, s2

        def evaluate(beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
            s0, s1, s2 = sums(beta)
            loglik = float((x_ev_sum @ beta).sum() - (d * np.log(s0)).sum())
            mean = s1 / s0[:, None]
            score = (x_ev_sum - d[:, None] * mean).sum(axis=0)
            info = (
                d[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])
            ).sum(axis=0)
            return loglik, score, info

        beta = np.zeros(x.shape[1])
        loglik, score, info = evaluate(beta)
        for iteration in range(1, self.max_iter + 1):
            try:
                step = np.linalg.solve(info, score)
            except np.linalg.LinAlgError as exc:
                raise EstimationError(
                    "the Fine-Gray information matrix is singular; drop collinear covariates."
                ) from exc
            candidate = beta + step
            new_loglik, new_score, new_info = evaluate(candidate)
            halvings = 0
            while not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12:
                halvings += 1
                if halvings > 30:
                    raise EstimationError("Fine-Gray Newton-Raphson could not improve the fit.")
                step = step / 2
                candidate = beta + step
                new_loglik, new_score, new_info = evaluate(candidate)
            beta, loglik, score, info = candidate, new_loglik, new_score, new_info
            if np.max(np.abs(step)) < self.tol:
                return beta, loglik, info, iteration
        raise EstimationError(
            f"Fine-Gray did not converge in {self.max_iter} iterations; check for covariates "
            "that separate the events perfectly."
        )


def _suffix(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sums from each row to the end, with a zero row appended (index n -> empty sum)."""
    total = np.cumsum(values[::-1], axis=0)[::-1]
    return np.concatenate((total, np.zeros((1, *values.shape[1:]))), axis=0)


def _prefix(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sums of the first k rows for k = 0..n (index 0 -> empty sum)."""
    return np.concatenate((np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)), axis=0)
