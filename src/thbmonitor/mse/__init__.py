"""Multiple systems estimation (capture-recapture) of the hidden number of victims.

Log-linear models with the extended MLE for empty overlaps and the Fienberg-Rinaldo existence
check, stepwise / AIC / BIC selection, profile-likelihood and BCa bootstrap intervals,
list-by-covariate models, yearly estimates from one list-by-covariate model over all years,
per-stratum estimates, rates and heterogeneity sensitivity.
Anchored on the R packages SparseMSE, MultipleSystemsEstimation, Rcapture and Cruyff's mse.
"""

from thbmonitor.mse.covariates import CovariateFit, fit_covariate_model
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.existence import ExistenceResult, check_model
from thbmonitor.mse.heterogeneity import (
    HeterogeneityResult,
    chao_lower_bound,
    heterogeneity_model,
    sensitivity_table,
)
from thbmonitor.mse.intervals import Interval
from thbmonitor.mse.loglinear import LoglinearFit, fit_loglinear
from thbmonitor.mse.results import hidden_number_results
from thbmonitor.mse.strata import estimate_by_stratum, rates_per_100k, remove_noninformative_lists
from thbmonitor.mse.table import CaptureTable, read_capture_histories
from thbmonitor.mse.yearly import YearlyFit, estimate_yearly

__all__ = [
    "CaptureTable",
    "CovariateFit",
    "ExistenceResult",
    "HeterogeneityResult",
    "Interval",
    "LoglinearFit",
    "MultipleSystemsEstimator",
    "YearlyFit",
    "chao_lower_bound",
    "check_model",
    "estimate_by_stratum",
    "estimate_yearly",
    "fit_covariate_model",
    "fit_loglinear",
    "heterogeneity_model",
    "hidden_number_results",
    "rates_per_100k",
    "read_capture_histories",
    "remove_noninformative_lists",
    "sensitivity_table",
]
