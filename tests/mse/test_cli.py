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
