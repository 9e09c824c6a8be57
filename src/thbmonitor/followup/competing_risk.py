"""Fine-Gray regression of the subdistribution hazard: risk factors on the competing-risk scale.

Where the cause-specific Cox model (:class:`~thbmonitor.followup.risk.RiskModel`) describes the
rate of a new event among persons still alive and in the country, Fine-Gray describes the
cumulative incidence itself: a subdistribution hazard ratio above 1 means a higher share with
a new event within t years, deaths and emigrations included.

Method (Fine and Gray 1999, as R ``cmprsk::crr`` computes it): at each time u of an event of
interest, the risk set holds everyone still followed (weight 1) and everyone who had a
competing event at T_k < u, with weight G(u-) / G(T_k-), where G is the Kaplan-Meier estimate
of the censoring distribution (censoring = code 0; persons with an event at a censoring time
are still at risk of censoring then, as in ``survfit``). The weighted partial likelihood
(Breslow ties) is maximised by Newton-Raphson with step halving; all risk-set sums are prefix
sums, so 100,000 persons take well under a second per iteration.

Standard errors: ``variance="robust"`` (default) is the sandwich of Fine and Gray (1999,
section 3) that also accounts for the estimation of G; it is ``crr``'s ``var``.
``variance="model"`` is the inverse information of the weighted likelihood (``crr``'s
``invinf``; lifelines' ``CoxTimeVaryingFitter`` on the expanded weighted data gives the same).

A level of a categorical covariate without any event of interest makes the likelihood
monotone (its ratio runs to zero); its persons are left out, with a log message that names the
covariate (never the level), and the counts are kept in ``dropped_levels_``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from thbmonitor.errors import EstimationError
from thbmonitor.followup.curves import kaplan_meier
from thbmonitor.followup.risk import model_frame

logger = logging.getLogger(__name__)

__all__ = ["FineGrayModel", "censoring_weights"]

FloatArray = npt.NDArray[np.float64]
VARIANCES = ("robust", "model")
SEPARATION_COEF = 10.0  # |log ratio| beyond this in a failed fit points at separation


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


@dataclass(frozen=True)
class _RiskSets:
    """Everything about the risk sets that does not depend on the coefficients."""

    t: FloatArray
    e: npt.NDArray[np.int64]
    hit: npt.NDArray[np.bool_]
    x: FloatArray
    u: FloatArray  # distinct times of events of interest
    d: FloatArray  # events of interest at each u
    x_ev_sum: FloatArray
    order: npt.NDArray[np.intp]
    start: npt.NDArray[np.intp]  # first person (in time order) with T >= u_j
    comp_order: npt.NDArray[np.intp]  # competing persons in time order
    comp_t: FloatArray
    comp_w: FloatArray  # 1 / G(T_k-)
    n_before: npt.NDArray[np.intp]  # competing persons with T_k < u_j
    g_u: FloatArray  # G(u_j-)


def _risk_sets(
    t: FloatArray, e: npt.NDArray[np.int64], hit: npt.NDArray[np.bool_], x: FloatArray
) -> _RiskSets:
    times, g_left = censoring_weights(t, e)
    u = np.unique(t[hit])
    ev_group = np.searchsorted(u, t[hit])
    d = np.bincount(ev_group, minlength=u.size).astype(float)
    x_ev_sum = np.stack(
        [np.bincount(ev_group, weights=x[hit, j], minlength=u.size) for j in range(x.shape[1])],
        axis=1,
    ).astype(float)
    order = np.argsort(t, kind="stable")
    competing = np.flatnonzero((e != 0) & ~hit)
    comp_order = competing[np.argsort(t[competing], kind="stable")]
    comp_t = t[comp_order]
    return _RiskSets(
        t=t,
        e=e,
        hit=hit,
        x=x,
        u=u,
        d=d,
        x_ev_sum=x_ev_sum,
        order=order,
        start=np.searchsorted(t[order], u, side="left"),
        comp_order=comp_order,
        comp_t=comp_t,
        comp_w=1.0 / _left_limit(times, g_left, comp_t),
        n_before=np.searchsorted(comp_t, u, side="left"),
        g_u=_left_limit(times, g_left, u),
    )


def _sums(rs: _RiskSets, beta: FloatArray, second: bool) -> tuple[FloatArray, ...]:
    """Weighted risk-set sums S0, S1 (and S2) at each u_j."""
    x = rs.x
    r = np.exp(x @ beta)
    r_ord, x_ord = r[rs.order], x[rs.order]
    rc, xc = r[rs.comp_order] * rs.comp_w, x[rs.comp_order]
    s0 = _suffix(r_ord)[rs.start] + rs.g_u * _prefix(rc)[rs.n_before]
    s1 = (
        _suffix(r_ord[:, None] * x_ord)[rs.start]
        + rs.g_u[:, None] * _prefix(rc[:, None] * xc)[rs.n_before]
    )
    if not second:
        return s0, s1
    s2 = (
        _suffix(r_ord[:, None, None] * x_ord[:, :, None] * x_ord[:, None, :])[rs.start]
        + rs.g_u[:, None, None]
        * _prefix(rc[:, None, None] * xc[:, :, None] * xc[:, None, :])[rs.n_before]
    )
    return s0, s1, s2


def _evaluate(rs: _RiskSets, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information at ``beta``."""
    s0, s1, s2 = _sums(rs, beta, second=True)
    loglik = float((rs.x_ev_sum @ beta).sum() - (rs.d * np.log(s0)).sum())
    mean = s1 / s0[:, None]
    score = (rs.x_ev_sum - rs.d[:, None] * mean).sum(axis=0)
    info = (
        rs.d[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])
    ).sum(axis=0)
    return loglik, score, info


def _influence(rs: _RiskSets, beta: FloatArray) -> FloatArray:
    """Per-person score residual eta_i + psi_i of Fine and Gray (1999), as ``crr``'s crrvv.

    eta_i is the martingale score residual in the weighted risk sets; psi_i the term from the
    Kaplan-Meier estimate of G: the integral of q(t) / Y(t) against person i's censoring
    martingale, with q(t) = sum over events at u >= t of G(u-) / S0(u) times the sum over
    competing persons with T_k < t of r_k / G(T_k-) (x_k - xbar(u)).
    """
    t, x, hit = rs.t, rs.x, rs.hit
    r = np.exp(x @ beta)
    s0, s1 = _sums(rs, beta, second=False)
    xbar = s1 / s0[:, None]
    a = rs.d / s0
    b = a[:, None] * xbar
    # eta: weight 1 for u <= T_i; G(u-)/G(T_i-) for u > T_i when i had a competing event
    upto = np.searchsorted(rs.u, t, side="right")
    w_a = _prefix(a)[upto]
    w_b = _prefix(b)[upto]
    comp = rs.comp_order
    g_i = 1.0 / rs.comp_w
    after = upto[comp]
    w_a[comp] += (_suffix(rs.g_u * a)[after]) / g_i
    w_b[comp] += (_suffix(rs.g_u[:, None] * b)[after]) / g_i[:, None]
    eta = -r[:, None] * (x * w_a[:, None] - w_b)
    own = np.searchsorted(rs.u, t[hit])
    eta[hit] += x[hit] - xbar[own]
    # psi: only at censoring times
    censored = rs.e == 0
    if not censored.any():
        return eta
    c_times, c_counts = np.unique(t[censored], return_counts=True)
    rc = r[comp] * rs.comp_w
    k_before = np.searchsorted(rs.comp_t, c_times, side="left")
    c0 = _prefix(rc)[k_before]
    c1 = _prefix(rc[:, None] * x[comp])[k_before]
    from_u = np.searchsorted(rs.u, c_times, side="left")
    big_a = _suffix(a * rs.g_u)[from_u]
    big_b = _suffix((a * rs.g_u)[:, None] * xbar)[from_u]
    q = c1 * big_a[:, None] - c0[:, None] * big_b
    at_risk = t.size - np.searchsorted(np.sort(t), c_times, side="left")
    step = c_counts[:, None] * q / (at_risk.astype(float) ** 2)[:, None]
    psi = -_prefix(step)[np.searchsorted(c_times, t, side="right")]
    own_c = np.searchsorted(c_times, t[censored])
    psi[censored] += q[own_c] / at_risk[own_c, None]
    return np.asarray(eta + psi)


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
        variance: str = "robust",
        min_level: int = 0,
    ) -> None:
        if variance not in VARIANCES:
            raise EstimationError(f"variance must be one of {VARIANCES}.")
        self.alpha = alpha
        self.min_level = min_level
        self.tol = tol
        self.max_iter = max_iter
        self.reference = dict(reference or {})
        self.categorical = tuple(categorical)
        self.variance = variance

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
        """Fit; sets ``coef_``, ``se_``, ``hazard_ratios_``, ``log_likelihood_``, counts.

        ``se_`` follows ``variance``; ``se_model_`` and ``se_robust_`` hold both.
        """
        frame, design, self.references_, self.dropped_levels_ = model_frame(
            cohort,
            covariates,
            duration,
            event,
            event_of_interest,
            self.reference,
            self.categorical,
            "Fine-Gray model",
            self.min_level,
        )
        t = frame[duration].to_numpy(dtype=float)
        e = frame[event].to_numpy().astype(np.int64)
        if not np.isfinite(t).all() or (t < 0).any():
            raise EstimationError("duration must be finite and >= 0 for every person.")
        hit = e == event_of_interest
        x = design.to_numpy(dtype=float)
        x = x - x.mean(axis=0)
        rs = _risk_sets(t, e, hit, x)
        beta, loglik, info, iterations = self._newton(rs, list(design.columns.astype(str)))
        model_cov = np.linalg.inv(info)
        influence = _influence(rs, beta)
        robust_cov = model_cov @ (influence.T @ influence) @ model_cov
        cov = robust_cov if self.variance == "robust" else model_cov
        se = np.sqrt(np.diag(cov))
        z_crit = float(stats.norm.ppf(1 - self.alpha / 2))
        z = beta / se
        self.coef_ = pd.Series(beta, index=design.columns)
        self.se_ = pd.Series(se, index=design.columns)
        self.se_model_ = pd.Series(np.sqrt(np.diag(model_cov)), index=design.columns)
        self.se_robust_ = pd.Series(np.sqrt(np.diag(robust_cov)), index=design.columns)
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

    def _newton(self, rs: _RiskSets, names: list[str]) -> tuple[FloatArray, float, FloatArray, int]:
        beta = np.zeros(rs.x.shape[1])
        loglik, score, info = _evaluate(rs, beta)
        for iteration in range(1, self.max_iter + 1):
            try:
                step = np.linalg.solve(info, score)
            except np.linalg.LinAlgError as exc:
                raise EstimationError(
                    "the Fine-Gray information matrix is singular; drop collinear covariates."
                ) from exc
            candidate = beta + step
            new_loglik, new_score, new_info = _evaluate(rs, candidate)
            halvings = 0
            while not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12:
                halvings += 1
                if halvings > 30:
                    if _score_is_zero(score, beta, loglik):
                        return beta, loglik, info, iteration
                    raise self._failure(beta, names, "could not improve the fit")
                step = step / 2
                candidate = beta + step
                new_loglik, new_score, new_info = _evaluate(rs, candidate)
            beta, loglik, score, info = candidate, new_loglik, new_score, new_info
            if np.max(np.abs(step)) < self.tol or (
                np.max(np.abs(step)) < 1e-6 and _score_is_zero(score, beta, loglik)
            ):
                return beta, loglik, info, iteration
        raise self._failure(beta, names, f"did not converge in {self.max_iter} iterations")

    @staticmethod
    def _failure(beta: FloatArray, names: list[str], what: str) -> EstimationError:
        """The error of a failed fit, naming the columns whose ratio runs off (separation)."""
        off = [n for n, b in zip(names, beta, strict=True) if abs(b) > SEPARATION_COEF]
        hint = (
            f"column(s) {', '.join(map(repr, off))} separate the events (ratio runs to 0 or "
            "infinity); merge or drop them"
            if off
            else "check for covariates that separate the events"
        )
        return EstimationError(f"Fine-Gray Newton-Raphson {what}; {hint}.")


def _score_is_zero(score: FloatArray, beta: FloatArray, loglik: float) -> bool:
    """``crr``'s convergence test: max |score| * max(|beta|, 1) < max(|loglik|, 1) * 1e-10."""
    return bool(
        np.max(np.abs(score) * np.maximum(np.abs(beta), 1.0)) < max(abs(loglik), 1.0) * 1e-10
    )


def _suffix(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sums from each row to the end, with a zero row appended (index n -> empty sum)."""
    total = np.cumsum(values[::-1], axis=0)[::-1]
    return np.concatenate((total, np.zeros((1, *values.shape[1:]))), axis=0)


def _prefix(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sums of the first k rows for k = 0..n (index 0 -> empty sum)."""
    return np.concatenate((np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)), axis=0)
