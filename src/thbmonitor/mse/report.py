"""What ``thbmonitor mse`` prints: one JSON object, or Rich tables for people."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.table import read_capture_histories

if TYPE_CHECKING:  # imported where used: a command loads only what it runs
    import pandas as pd
    from rich.table import Table

    from thbmonitor.mse.covariates import CovariateFit
    from thbmonitor.mse.estimator import MultipleSystemsEstimator

__all__ = [
    "BAYES_METHODS",
    "MseRun",
    "bayes_rich_tables",
    "mse_json",
    "mse_rich_tables",
    "run_bayes_file",
    "run_mse_file",
]

BAYES_METHODS = ("lcmcr", "dga")


@dataclass(frozen=True)
class MseRun:
    estimator: MultipleSystemsEstimator
    covariate_fit: CovariateFit | None
    covariate_error: str | None


def run_mse_file(
    path: str | Path,
    method: str = "stepwise",
    maxorder: int = 2,
    pthresh: float = 0.02,
    bootstrap: int = 0,
    seed: int | None = None,
    covariates: Sequence[str] = (),
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MseRun:
    """Read a capture-history CSV and estimate; with covariates also per covariate level.

    With covariates the covariate model is selected with the covariates in it
    (:func:`~thbmonitor.mse.covariate_search.search_covariate_model`, Cruyff's ``model_search``);
    ``method`` then picks the criterion: ``bic``, ``aic`` (BIC continued by AIC), ``stepwise``
    (the BIC-then-AIC path, lowest BIC) or ``main``. ``progress(done, total)`` follows the
    bootstrap.
    """
    table = read_capture_histories(path, covariates=covariates)  # refused input: stop early

    from thbmonitor.mse.selection import METHODS

    if method not in METHODS:
        raise EstimationError(
            f"Unknown method '{method}'; use one of {', '.join((*METHODS, *BAYES_METHODS))}."
        )

    from thbmonitor.mse.bootstrap import bootstrap_progress
    from thbmonitor.mse.estimator import MultipleSystemsEstimator

    with bootstrap_progress(progress):
        est = MultipleSystemsEstimator(
            method=method,
            maxorder=maxorder,
            pthresh=pthresh,
            bootstrap=bootstrap,
            seed=seed,
            n_jobs=n_jobs,
        ).fit(table)
    cov_fit: CovariateFit | None = None
    cov_err: str | None = None
    if covariates:
        from thbmonitor.mse.covariate_search import search_covariate_model

        try:
            cov_fit = search_covariate_model(table, covariates, method=method)
        except EstimationError as exc:
            cov_err = str(exc)
    return MseRun(est, cov_fit, cov_err)


def run_bayes_file(
    path: str | Path,
    method: str,
    classes: int = 10,
    samples: int = 1000,
    burnin: int = 10000,
    thin: int = 10,
    seed: int | None = None,
    delta: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Read a capture-history CSV and fit a Bayesian model: ``lcmcr`` (latent classes, R's
    LCMCR) or ``dga`` (model averaging over decomposable graphs, R's dga). The result has
    ``to_dict()`` (the JSON object) and ``estimate``/``interval``."""
    table = read_capture_histories(path)
    if method == "lcmcr":
        from thbmonitor.mse.lcmcr import fit_lcmcr

        return fit_lcmcr(
            table,
            classes=classes,
            samples=samples,
            burnin=burnin,
            thin=thin,
            seed=seed,
            progress=progress,
        )
    if method == "dga":
        from thbmonitor.mse.dga import fit_dga

        return fit_dga(table, delta=delta)
    raise EstimationError(f"Unknown Bayesian method '{method}'; use one of {BAYES_METHODS}.")


def bayes_rich_tables(result: Any) -> list[Table]:
    """The posterior estimate, and the top models (dga) or the sampler's diagnostics (lcmcr)."""
    from rich.table import Table

    d = result.to_dict()
    iv = d["interval"]
    head = Table(title=f"Hidden number: {d['method']} (Bayesian)")
    for col in ("observed", "estimate", "hidden", f"{iv['level']:.0%} lower", "upper", "interval"):
        head.add_column(col, justify="right" if col != "interval" else "left")
    head.add_row(
        _fmt(d["observed"]),
        _fmt(d["estimate"]),
        _fmt(d["hidden"]),
        _fmt(iv["lower"]),
        _fmt(iv["upper"]),
        "posterior median, equal-tailed credible interval",
    )
    out = [head]
    conv = d.get("convergence")
    if conv is not None:
        s = d["settings"]
        head.caption = (
            f"K = {s['classes']} classes, {s['burnin']:,} burn-in, {s['samples']:,} draws "
            f"thinned by {s['thin']}, seed {s['seed']}; ESS {conv['ess']:.0f}, "
            f"split R-hat {conv['split_rhat']:.3f}, Geweke z {conv['geweke_z']:.2f}"
        )
        if conv["warning"]:
            head.caption += f"\nwarning: {conv['warning']}"
    if d["models"]:
        models = Table(title="Decomposable models (posterior weight)")
        for col in ("model", "weight", "estimate"):
            models.add_column(col, justify="left" if col == "model" else "right")
        for m in d["models"]:
            models.add_row(m["model"], f"{m['weight']:.3f}", _fmt(m["estimate"]))
        out.append(models)
    return out


def _clean(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def mse_json(run: MseRun) -> dict[str, Any]:
    """The estimator's JSON object, plus ``by_covariate`` when covariates were given."""
    out = run.estimator.to_dict()
    if run.covariate_fit is not None:
        cf = run.covariate_fit
        out["by_covariate"] = {
            "model": list(cf.model),
            "covariates": list(cf.covariates),
            "method": cf.method,
            "level": cf.level,
            "estimate": cf.estimate,
            "lower": cf.lower,
            "upper": cf.upper,
            "levels": [
                {k: _clean(v) for k, v in row.items()} for row in cf.levels.to_dict("records")
            ],
            "terms": list(cf.terms),
            "selection": cf.selection,
        }
        if cf.path is not None:
            out["by_covariate"]["path"] = [
                {k: _clean(v) for k, v in row.items()} for row in cf.path.to_dict("records")
            ]
    elif run.covariate_error is not None:
        out["by_covariate"] = {"error": run.covariate_error}
    return out


def _fmt(v: object, digits: int = 0) -> str:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    return "" if not np.isfinite(f) else f"{f:,.{digits}f}"


def mse_rich_tables(run: MseRun, max_models: int = 20) -> list[Table]:
    """The estimate, the models side by side and (if any) the per-level estimates."""
    from rich.table import Table

    est = run.estimator
    iv = est.interval_
    head = Table(title="Hidden number: multiple systems estimation")
    for col in ("observed", "estimate", "hidden", f"{iv.level:.0%} lower", "upper", "interval"):
        head.add_column(col, justify="right" if col != "interval" else "left")
    head.add_row(
        _fmt(est.observed_),
        _fmt(est.estimate_),
        _fmt(est.hidden_),
        _fmt(iv.lower),
        _fmt(iv.upper),
        iv.method,
    )
    head.caption = "model: " + (" + ".join(est.model_) or "main effects")
    models = Table(title=f"Models ({est.method})")
    for col in ("model", "df", "deviance", "AIC", "BIC", "estimate", "check"):
        models.add_column(col, justify="left" if col in ("model", "check") else "right")
    for r in est.model_rows_[:max_models]:
        check = (
            "ok"
            if (r["exists"] and r["identifiable"])
            else ("no MLE" if not r["exists"] else "not identifiable")
        )
        mark = " *" if r["selected"] else ""
        models.add_row(
            f"{r['model']}{mark}",
            _fmt(r["df"]),
            _fmt(r["deviance"], 2),
            _fmt(r["AIC"], 2),
            _fmt(r["BIC"], 2),
            _fmt(r["estimate"]),
            check,
        )
    out = [head, models]
    if run.covariate_fit is not None:
        lv = Table(title="Estimates per covariate level (covariate model)")
        for col in ("covariate", "level", "observed", "estimate", "lower", "upper"):
            lv.add_column(col, justify="left" if col in ("covariate", "level") else "right")
        for row in run.covariate_fit.levels.itertuples(index=False):
            lv.add_row(
                str(row.covariate),
                str(row.level),
                _fmt(row.observed),
                _fmt(row.estimate),
                _fmt(row.lower),
                _fmt(row.upper),
            )
        cf = run.covariate_fit
        lv.caption = "model: " + (" + ".join(cf.terms) or "main effects")
        if cf.selection:
            lv.caption += f"\nselected by {cf.selection}"
        out.append(lv)
        if cf.path is not None and len(cf.path) > 1:
            out.append(_path_table(cf.path, max_models))
    return out


def _path_table(path: pd.DataFrame, max_rows: int) -> Table:
    """The covariate model search path (as printed by Cruyff's ``model_search``)."""
    from rich.table import Table

    t = Table(title="Covariate model search path")
    for col in ("stage", "step", "parameters", "AIC", "BIC", "estimate"):
        t.add_column(col, justify="left" if col in ("stage", "step") else "right")
    shown = path if len(path) <= max_rows else path.tail(max_rows)
    for r in shown.itertuples(index=False):
        t.add_row(
            str(r.stage),
            f"{r.step}{' *' if r.selected else ''}",
            _fmt(r.n_params),
            _fmt(r.AIC, 1),
            _fmt(r.BIC, 1),
            _fmt(r.estimate),
        )
    if len(path) > max_rows:
        t.caption = f"last {max_rows} of {len(path)} models"
    return t
