"""Multiple systems estimation (capture-recapture) of the hidden number of victims.

Log-linear models with the extended MLE for empty overlaps and the Fienberg-Rinaldo existence
check, stepwise / AIC / BIC selection, profile-likelihood and BCa bootstrap intervals,
per-stratum estimates and heterogeneity sensitivity. Anchored on the R packages SparseMSE,
MultipleSystemsEstimation and Rcapture.
"""

from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.existence import ExistenceResult, check_model
from thbmonitor.mse.intervals import Interval
from thbmonitor.mse.loglinear import LoglinearFit, fit_loglinear
from thbmonitor.mse.table import CaptureTable, read_capture_histories

__all__ = [
    "CaptureTable",
    "ExistenceResult",
    "Interval",
    "LoglinearFit",
    "MultipleSystemsEstimator",
    "check_model",
    "fit_loglinear",
    "read_capture_histories",
]
