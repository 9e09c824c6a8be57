"""The multiple systems estimator: select a log-linear model, estimate N, give an interval."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from thbmonitor.errors import EstimationError
from thbmonitor.mse.bootstrap import BootstrapResult, Selector, run_bootstrap
from thbmonitor.mse.intervals import (
    Interval,
    bca_interval,
    jackknife_acceleration,
    lognormal_interval,
    profile_interval,
)
from thbmonitor.mse.loglinear import LoglinearFit, term_name
from thbmonitor.mse.selection import METHODS, SelectionResult, model_rows, select_model
from thbmonitor.mse.table import CaptureTable

if TYPE_CHECKING:  # the CLI's 'mse' command loads neither the settings nor pandas
    import pandas as pd

    from thbmonitor.config import Settings

log = logging.getLogger(__name__)

__all__ = ["MultipleSystemsEstimator", "default_ntop"]

JSON_MODELS_MAX = 50


def default_ntop(k: int) -> int | None:
    """MultipleSystemsEstimation's ``ntopmodels``: all for <= 3 lists, 20 for 4, 100 for more."""
    return None if k <= 3 else (20 if k == 4 else 100)


@dataclass(frozen=True)
class _Options:
    method: str
    maxorder: int
    pthresh: float
    bootstrap: int
    seed: int | None
    level: float
    ntop: int | None


class MultipleSystemsEstimator:
    """Estimate the total population (observed plus hidden) from a capture-history table.

    ``method``: ``"stepwise"`` (SparseMSE forward selection of two-list terms by Poisson
    p-value below ``pthresh``), ``"bic"``/``"aic"`` (exhaustive over hierarchical models with
    interactions up to ``maxorder``) or ``"main"`` (independence). With ``bootstrap=B > 0`` the
    interval is BCa from B replicates that redo the selection; otherwise it is the profile
    likelihood interval of the selected model (conditional on the model).

    After :meth:`fit`: ``estimate_``, ``observed_``, ``hidden_``, ``model_`` (terms such as
    ``"LA:NG"``), ``minus_infinity_`` (terms of empty overlaps), ``interval_``,
    ``conditional_interval_`` (profile likelihood), ``models_`` (models side by side; the same
    rows as plain dicts in ``model_rows_``),
    ``fit_`` (the selected :class:`LoglinearFit`), ``bootstrap_`` (replicates, if any).
    """

    def __init__(
        self,
        method: str = "stepwise",
        maxorder: int = 2,
        pthresh: float = 0.02,
        bootstrap: int = 0,
        seed: int | None = None,
        level: float = 0.95,
        n_jobs: int | None = None,
        ntop: int | None = -1,
    ) -> None:
        self.method = method
        self.maxorder = maxorder
        self.pthresh = pthresh
        self.bootstrap = bootstrap
        self.seed = seed
        self.level = level
        self.n_jobs = n_jobs
        self.ntop = ntop  # -1: package default (default_ntop); None: every model

    def _validate(self) -> None:
        if self.method not in METHODS:
            raise EstimationError(f"Unknown method '{self.method}'; use one of {list(METHODS)}.")
        if self.maxorder < 1:
            raise EstimationError("maxorder must be at least 1.")
        if not 0.0 <= self.pthresh <= 1.0:
            raise EstimationError("pthresh must lie between 0 and 1.")
        if self.bootstrap < 0:
            raise EstimationError("The number of bootstrap replicates cannot be negative.")
        if not 0.0 < self.level < 1.0:
            raise EstimationError("level must lie strictly between 0 and 1.")

    def fit(self, table: CaptureTable | pd.DataFrame) -> MultipleSystemsEstimator:
        """Select, fit and estimate. A data frame is read with every column but ``count`` as
        a list (use :meth:`CaptureTable.from_frame` to name lists and covariates)."""
        self._validate()
        if not isinstance(table, CaptureTable):
            table = CaptureTable.from_frame(table)
        tab = table.collapse()
        tab.check_estimable()
        self.lists_ = tab.lists
        k = tab.n_lists
        full = tab.full_counts()
        sel: SelectionResult = select_model(full, k, self.method, self.maxorder, self.pthresh)
        fit = sel.fit
        if not math.isfinite(fit.estimate) or not fit.converged:
            log.warning("the selected model's fit did not converge; treat the estimate with care")
        self.selection_ = sel
        self.fit_: LoglinearFit = fit
        self.observed_ = tab.observed
        self.estimate_ = float(fit.estimate)
        self.hidden_ = float(fit.hidden)
        self.model_ = [term_name(t, tab.lists) for t in fit.terms]
        self.minus_infinity_ = [term_name(t, tab.lists) for t in fit.neginf_terms]
        self.model_rows_: list[dict[str, Any]] = model_rows(sel, tab.lists)
        try:
            self.conditional_interval_: Interval = profile_interval(fit, self.level)
        except EstimationError:
            log.warning("profile likelihood failed; using the log-normal interval instead")
            self.conditional_interval_ = lognormal_interval(fit, self.level)
        self.bootstrap_: BootstrapResult | None = None
        if self.bootstrap > 0:
            selector = Selector(self.method, self.maxorder, self.pthresh, self._top_models(k))
            res = run_bootstrap(
                tab.histories, tab.counts, selector, self.bootstrap, self.seed, self.n_jobs
            )
            self.bootstrap_ = res
            ahat = jackknife_acceleration(res.jackknife, tab.counts)
            self.acceleration_ = ahat
            try:
                self.interval_: Interval = bca_interval(
                    res.replicates, self.estimate_, ahat, self.level
                )
            except EstimationError as exc:
                log.warning("BCa interval unavailable (%s); using the conditional interval", exc)
                cond = self.conditional_interval_
                self.interval_ = Interval(
                    f"{cond.method}; BCa unavailable", cond.level, cond.lower, cond.upper
                )
        else:
            self.interval_ = self.conditional_interval_
        return self

    def _top_models(self, k: int) -> tuple[tuple[tuple[int, ...], ...], ...] | None:
        if self.method not in ("aic", "bic"):
            return None
        ntop = default_ntop(k) if self.ntop == -1 else self.ntop
        crit = "BIC" if self.method == "bic" else "AIC"
        ranked = [
            (row, fit.bic if crit == "BIC" else fit.aic, chk.terms)
            for row, (fit, chk) in enumerate(self.selection_.candidates)
            if fit is not None
        ]
        ranked.sort(key=lambda r: (r[1], len(r[2]), r[2]))
        chosen = ranked if ntop is None else ranked[:ntop]
        return tuple(r[2] for r in chosen)

    # ------------------------------------------------------------------ output
    def _check_fitted(self) -> None:
        if not hasattr(self, "fit_"):
            raise EstimationError("Call fit(table) before asking for results.")

    @property
    def models_(self) -> pd.DataFrame:
        """The models side by side (:func:`~thbmonitor.mse.selection.model_rows`)."""
        self._check_fitted()
        import pandas as pd

        return pd.DataFrame(self.model_rows_)

    @property
    def summary(self) -> pd.DataFrame:
        """One tidy row: estimate, observed, hidden, model, interval (both kinds)."""
        self._check_fitted()
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "observed": self.observed_,
                    "hidden": self.hidden_,
                    "estimate": self.estimate_,
                    "model": " + ".join(self.model_) or "main effects",
                    "interval_method": self.interval_.method,
                    "lower": self.interval_.lower,
                    "upper": self.interval_.upper,
                    "conditional_lower": self.conditional_interval_.lower,
                    "conditional_upper": self.conditional_interval_.upper,
                    "level": self.level,
                }
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``thbmonitor mse --json``: the first JSON_MODELS_MAX models,
        plus the selected one and main effects if they are not among them."""
        self._check_fitted()
        rows = self.model_rows_
        if len(rows) > JSON_MODELS_MAX:
            extra = [r for r in rows if r["selected"]] + [r for r in rows if r["n_terms"] == 0]
            unique: dict[str, dict[str, Any]] = {}
            for r in rows[:JSON_MODELS_MAX] + extra:
                unique.setdefault(r["model"], r)
            rows = list(unique.values())
        models = [
            {
                "model": r["model"],
                "terms": list(r["terms"]),
                "df": _num(r["df"]),
                "deviance": _num(r["deviance"]),
                "aic": _num(r["AIC"]),
                "bic": _num(r["BIC"]),
                "estimate": _num(r["estimate"]),
                "exists": bool(r["exists"]),
                "identifiable": bool(r["identifiable"]),
                "minus_infinity": list(r["minus_infinity"]),
                "selected": bool(r["selected"]),
            }
            for r in rows
        ]
        return {
            "estimate": self.estimate_,
            "observed": self.observed_,
            "model": list(self.model_),
            "interval": self.interval_.to_dict(),
            "models": models,
            "method": self.method,
            "hidden": self.hidden_,
            "minus_infinity": list(self.minus_infinity_),
            "conditional_interval": self.conditional_interval_.to_dict(),
        }


def _num(v: object) -> float | None:
    f = float(v)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def fit_settings(settings: Settings) -> dict[str, Any]:
    """The chapter's model-selection options from the settings (``mse_method``,
    ``mse_maxorder``, ``mse_pthresh``), as keyword arguments of the estimator."""
    return {
        "method": settings.mse_method,
        "maxorder": settings.mse_maxorder,
        "pthresh": settings.mse_pthresh,
    }
