"""Multiple systems estimation (capture-recapture) of the hidden number of victims.

Log-linear models with the extended MLE for empty overlaps and the Fienberg-Rinaldo existence
check, stepwise / AIC / BIC selection, profile-likelihood and BCa bootstrap intervals,
list-by-covariate models, yearly estimates from one list-by-covariate model over all years,
per-stratum estimates, rates and heterogeneity sensitivity; Bayesian latent classes
(:mod:`.lcmcr`, as R's LCMCR) and model averaging over decomposable graphs (:mod:`.dga`, as R's
dga); linkage error carried into the interval (:mod:`.linkage_propagation`).
Anchored on the R packages SparseMSE, MultipleSystemsEstimation, Rcapture, Cruyff's mse, LCMCR
and dga.
"""

from importlib import import_module
from typing import Any

# name -> module: imported on first use, so that a command imports only what it needs
_EXPORTS = {
    "CaptureTable": "table",
    "CovariateFit": "covariates",
    "ExistenceResult": "existence",
    "HeterogeneityResult": "heterogeneity",
    "Interval": "intervals",
    "LoglinearFit": "loglinear",
    "MultipleSystemsEstimator": "estimator",
    "YearlyFit": "yearly",
    "chao_lower_bound": "heterogeneity",
    "check_model": "existence",
    "estimate_by_stratum": "strata",
    "estimate_yearly": "yearly",
    "fit_covariate_model": "covariates",
    "fit_loglinear": "loglinear",
    "heterogeneity_model": "heterogeneity",
    "hidden_number_results": "results",
    "rates_per_100k": "strata",
    "read_capture_histories": "table",
    "remove_noninformative_lists": "strata",
    "sensitivity_table": "heterogeneity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'thbmonitor.mse' has no attribute {name!r}")
    return getattr(import_module(f"thbmonitor.mse.{module}"), name)
