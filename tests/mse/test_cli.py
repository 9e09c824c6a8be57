"""``thbmonitor mse`` through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.errors import InputError

runner = CliRunner()


def test_mse_json_uk(ref_path) -> None:  # type: ignore[no-untyped-def]
    """Published UK result (SparseMSE stepwise, Rcapture profile interval 9,889-13,063)."""
    res = runner.invoke(app, ["mse", str(ref_path / "UKdat_5.csv"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= {"estimate", "observed", "model", "interval", "models"}
    assert out["model"] == ["LA:NG", "LA:PFNCA", "NG:GO", "NG:GP", "PFNCA:GP", "GO:GP"]
    assert out["estimate"] == pytest.approx(11312.99, abs=0.5)
    assert out["observed"] == 2744
    assert set(out["interval"]) == {"method", "level", "lower", "upper"}
    assert out["interval"]["lower"] == pytest.approx(9889, rel=0.01)
    assert [m["selected"] for m in out["models"]].count(True) == 1
    assert {"terms", "df", "deviance", "aic", "bic", "estimate"} <= set(out["models"][0])


def test_mse_options_and_bootstrap(ref_path) -> None:  # type: ignore[no-untyped-def]
    args = ["mse", str(ref_path / "Western.csv"), "--method", "main", "--maxorder", "2"]
    res = runner.invoke(app, [*args, "--bootstrap", "50", "--seed", "3", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["model"] == []
    assert out["interval"]["method"].startswith("BCa")
    again = json.loads(
        runner.invoke(app, [*args, "--bootstrap", "50", "--seed", "3", "--json"]).stdout
    )
    assert again["interval"] == out["interval"]


def test_mse_covariates_and_table_output(ref_path) -> None:  # type: ignore[no-untyped-def]
    path = str(ref_path / "simdat_covariates_Cruyff.csv")
    cov = ["--covariates", "X1", "--covariates", "X2", "--covariates", "X3"]
    with pytest.warns(UserWarning, match="summed over"):
        res = runner.invoke(app, ["mse", path, *cov, "--covariates", "Y", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    levels = out["by_covariate"]["levels"]
    assert {row["covariate"] for row in levels} == {"X1", "X2", "X3", "Y"}
    y_obs = sum(r["observed"] for r in levels if r["covariate"] == "Y")
    assert y_obs == out["observed"] == 1043
    # The model is selected with the covariates in it. R (glm/step of Cruyff's model_search,
    # see test_covariate_selection.py) on Freq ~ R1..R4, X1, X2, X3, Y: m_bic has these 16
    # two-way terms and Nhat 9302.157077.
    by = out["by_covariate"]
    assert set(by["terms"]) == set(
        [
            "R1:R4",
            "R1:X1",
            "R1:X2",
            "R1:Y",
            "R2:R4",
            "R2:X2",
            "R2:Y",
            "R3:X1",
            "R3:X2",
            "R4:X3",
            "X1:X2",
            "X1:X3",
            "X1:Y",
            "X2:X3",
            "X2:Y",
            "X3:Y",
        ]
    )
    assert by["model"] == ["R1:R4", "R2:R4"]
    assert by["estimate"] == pytest.approx(9302.157077, rel=1e-7)
    assert "BIC then AIC" in by["selection"]
    assert [p["selected"] for p in by["path"]].count(True) == 1
    assert {"stage", "step", "terms", "loglik", "AIC", "BIC", "estimate"} <= set(by["path"][0])
    with pytest.warns(UserWarning, match="summed over"):
        res = runner.invoke(app, ["mse", path, "--covariates", "Y"])
    assert res.exit_code == 0
    assert "Hidden number" in res.stdout and "per covariate level" in res.stdout


def test_mse_bad_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,count\n1,0,5\n0,1,-2\n1,1,3\n")
    res = runner.invoke(app, ["mse", str(bad), "--json"])
    assert res.exit_code != 0
    assert isinstance(res.exception, InputError)


def test_mse_covariates_method_main_has_no_interactions(ref_path) -> None:  # type: ignore[no-untyped-def]
    """--method main with covariates is Freq ~ . : no interaction at all; its total is the
    independence model's, 5972.924202 in R (glm(Freq ~ ., poisson) on the full table)."""
    path = str(ref_path / "simdat_covariates_Cruyff.csv")
    with pytest.warns(UserWarning, match="summed over"):
        res = runner.invoke(app, ["mse", path, "--covariates", "Y", "--method", "main", "--json"])
    assert res.exit_code == 0, res.output
    by = json.loads(res.stdout)["by_covariate"]
    assert by["terms"] == [] and by["model"] == []
    assert by["estimate"] == pytest.approx(5972.924202, rel=1e-8)


def test_bootstrap_progress_callback(ref_path) -> None:  # type: ignore[no-untyped-def]
    """The callback sees every replicate and jackknife row, in order, and does not change the
    replicates (each has its own seed)."""
    import numpy as np
    import pandas as pd

    from thbmonitor.mse.bootstrap import Selector, bootstrap_progress, run_bootstrap

    df = pd.read_csv(ref_path / "Western.csv")
    hist, counts = df.drop(columns="count").to_numpy(), df["count"].to_numpy()
    calls: list[tuple[int, int]] = []
    with_cb = run_bootstrap(
        hist, counts, Selector("main"), 30, 5, n_jobs=1, progress=lambda d, t: calls.append((d, t))
    )
    plain = run_bootstrap(hist, counts, Selector("main"), 30, 5, n_jobs=1)
    assert np.array_equal(with_cb.replicates, plain.replicates)
    assert calls[0] == (0, 30 + len(df)) and calls[-1] == (30 + len(df),) * 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) > 3
    seen: list[int] = []
    with bootstrap_progress(lambda d, t: seen.append(d)):
        run_bootstrap(hist, counts, Selector("main"), 10, 5, n_jobs=1)
    assert seen[-1] == 10 + len(df)


def test_survival_progress_callback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from thbmonitor.followup.extract import curves_from_csv

    path = tmp_path / "cohort.csv"
    path.write_text("d,e,g\n1,1,a\n2,0,a\n3,1,b\n4,0,b\n5,1,c\n")
    calls: list[tuple[int, int]] = []
    curves = curves_from_csv(
        path, duration="d", event="e", group="g", progress=lambda d, t: calls.append((d, t))
    )
    assert list(curves) == ["a", "b", "c"]
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    res = runner.invoke(app, ["survival", str(path), "--duration", "d", "--event", "e"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("all: Kaplan-Meier")
