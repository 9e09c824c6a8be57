"""The Bayesian methods' command line, convergence diagnostics and heterogeneous catchability."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.lcmcr import convergence, effective_sample_size, fit_lcmcr
from thbmonitor.mse.table import CaptureTable

runner = CliRunner()


def test_lcmcr_cli_json_and_seed(ref_path) -> None:  # type: ignore[no-untyped-def]
    args = ["mse", str(ref_path / "Korea.csv"), "--method", "lcmcr", "--classes", "5"]
    args += ["--samples", "400", "--burnin", "2000", "--thin", "5", "--seed", "7", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["method"] == "lcmcr"
    assert out["observed"] == 123
    assert out["interval"]["method"] == "posterior"
    assert out["interval"]["lower"] <= out["estimate"] <= out["interval"]["upper"]
    assert out["estimate"] == out["samples"]["quantiles"]["50%"]
    assert out["samples"]["n"] == 400
    assert set(out["convergence"]) == {"ess", "geweke_z", "split_rhat", "warning"}
    assert out["settings"] == {
        "classes": 5,
        "samples": 400,
        "burnin": 2000,
        "thin": 5,
        "seed": 7,
        "a_alpha": 0.25,
        "b_alpha": 0.25,
    }
    again = json.loads(runner.invoke(app, args).stdout)
    assert again == out  # the seed repeats the run exactly


def test_lcmcr_warns_when_the_chain_is_too_short(ref_path) -> None:  # type: ignore[no-untyped-def]
    args = ["mse", str(ref_path / "Kosovo.csv"), "--method", "lcmcr", "--samples", "30"]
    res = runner.invoke(app, [*args, "--burnin", "0", "--thin", "1", "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["convergence"]["warning"].startswith("the sampler may not have converged")
    assert "warning" in res.stderr


def test_bayes_refuses_covariates_and_bad_settings(ref_path) -> None:  # type: ignore[no-untyped-def]
    path = str(ref_path / "simdat_covariates_Cruyff.csv")
    res = runner.invoke(app, ["mse", path, "--method", "lcmcr", "--covariates", "X1"])
    assert res.exit_code != 0
    assert "log-linear" in str(res.exception)
    res = runner.invoke(
        app, ["mse", str(ref_path / "Korea.csv"), "--method", "lcmcr", "--thin", "0"]
    )
    assert "--thin" in str(res.exception)
    res = runner.invoke(app, ["mse", str(ref_path / "Korea.csv"), "--method", "lcmcrx"])
    assert "use one of stepwise, bic, aic, main, lcmcr, dga" in str(res.exception)


def test_dga_cli_table_and_delta(ref_path) -> None:  # type: ignore[no-untyped-def]
    path = str(ref_path / "Korea.csv")
    res = runner.invoke(app, ["mse", path, "--method", "dga"])
    assert res.exit_code == 0, res.output
    assert "Decomposable models" in res.stdout and "b:c" in res.stdout
    half = json.loads(runner.invoke(app, ["mse", path, "--method", "dga", "--json"]).stdout)
    one = json.loads(
        runner.invoke(app, ["mse", path, "--method", "dga", "--delta", "1", "--json"]).stdout
    )
    assert half["settings"]["delta"] == 1 / 8 and one["settings"]["delta"] == 1.0
    assert one["estimate"] != half["estimate"]
    assert sum(m["weight"] for m in half["models"]) == pytest.approx(1.0)  # all 8 graphs shown


def test_effective_sample_size_of_an_ar1_chain() -> None:
    """An AR(1) chain with coefficient phi has ESS n (1 - phi) / (1 + phi) (integrated
    autocorrelation time (1 + phi) / (1 - phi))."""
    rng = np.random.default_rng(3)
    phi, n = 0.8, 40000
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    assert effective_sample_size(x) == pytest.approx(n * (1 - phi) / (1 + phi), rel=0.1)
    d = convergence(x)
    assert d["split_rhat"] < 1.01
    drift = x + np.linspace(0, 20, n)  # a chain that has not settled
    assert convergence(drift)["split_rhat"] > 1.1
    assert abs(convergence(drift)["geweke_z"]) > 3


def _two_class_population(rng: np.random.Generator, n: int = 2000) -> CaptureTable:
    """30% of the people are registered by five lists with probability 0.35-0.5 each, 70%
    with 0.1-0.2: strong heterogeneity that two-list interactions do not capture."""
    high = np.array([0.5, 0.45, 0.4, 0.5, 0.35])
    low = np.array([0.15, 0.2, 0.1, 0.15, 0.2])
    p = np.where((rng.random(n) < 0.3)[:, None], high, low)
    x = (rng.random((n, 5)) < p).astype(int)
    codes, counts = np.unique(x[x.sum(axis=1) > 0], axis=0, return_counts=True)
    return CaptureTable.from_arrays(codes, counts)


def test_lcmcr_covers_heterogeneous_populations_where_stepwise_does_not() -> None:
    """Five populations of N = 2000 (seeded): LCMCR's 95% interval holds N in most, the
    stepwise log-linear model's in hardly any (over 30 populations, in
    benchmarks/bench_mse_bayes.py: 24 against 4)."""
    rng = np.random.default_rng(1)
    lcmcr = stepwise = 0
    for r in range(5):
        table = _two_class_population(rng)
        iv = fit_lcmcr(table, samples=1000, burnin=5000, thin=10, seed=r).interval
        lcmcr += iv.lower <= 2000 <= iv.upper
        ci = MultipleSystemsEstimator(method="stepwise").fit(table).interval_
        stepwise += ci.lower <= 2000 <= ci.upper
    assert lcmcr >= 4
    assert stepwise <= 1
