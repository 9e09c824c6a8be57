"""``thbmonitor survival``: JSON shape, the estimator chosen, and errors by row and field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.datasets import load_waltons
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.errors import InputError, ValidationError

runner = CliRunner()


@pytest.fixture()
def waltons_csv(tmp_path: Path) -> Path:
    path = tmp_path / "waltons.csv"
    load_waltons().to_csv(path, index=False)
    return path


def test_km_json_by_group_matches_lifelines(waltons_csv: Path) -> None:
    """Without --competing: Kaplan-Meier 1 - S(t) per group, as lifelines'
    ``KaplanMeierFitter().fit(T, E)`` ``cumulative_density_`` and its band, to 1e-8."""
    result = runner.invoke(
        app,
        [
            "survival",
            str(waltons_csv),
            "--duration",
            "T",
            "--event",
            "E",
            "--group",
            "group",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    df = load_waltons()
    assert set(out) == set(df["group"].unique())
    for name, sub in df.groupby("group"):
        ref = KaplanMeierFitter().fit(sub["T"], sub["E"])
        curve = out[name]
        assert set(curve) == {"timeline", "estimate", "lower", "upper"}
        assert_allclose(curve["timeline"], ref.timeline)
        assert_allclose(curve["estimate"], ref.cumulative_density_.iloc[:, 0], atol=1e-8)
        band = ref.confidence_interval_cumulative_density_
        assert_allclose(curve["lower"], band.iloc[:, 0], atol=1e-8)
        assert_allclose(curve["upper"], band.iloc[:, 1], atol=1e-8)


def test_competing_gives_aalen_johansen(tmp_path: Path) -> None:
    """With --competing 9: rows coded 9 compete, other non-zero codes are the event; the
    result equals lifelines' ``AalenJohansenFitter().fit(T, E, event_of_interest=1)`` with
    the codes mapped to 1 and 2. Key "all" without --group."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "years": rng.exponential(3.0, 400),
            "status": rng.choice([0, 1, 3, 9], size=400, p=[0.3, 0.4, 0.1, 0.2]),
        }
    )
    path = tmp_path / "extract.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(
        app,
        [
            "survival",
            str(path),
            "--duration",
            "years",
            "--event",
            "status",
            "--competing",
            "9",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["all"]
    codes = np.where(frame["status"] == 9, 2, np.where(frame["status"] == 0, 0, 1))
    ref = AalenJohansenFitter().fit(frame["years"], codes, event_of_interest=1)
    assert_allclose(out["all"]["estimate"], ref.cumulative_density_.iloc[:, 0], atol=1e-8)


def test_table_output_without_json(waltons_csv: Path) -> None:
    result = runner.invoke(
        app, ["survival", str(waltons_csv), "--duration", "T", "--event", "E", "--times", "10,50"]
    )
    assert result.exit_code == 0, result.output
    assert "Kaplan-Meier" in result.stdout and "n_at_risk" in result.stdout


def test_bad_rows_are_named_by_row_and_field_never_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("d,e\n1.5,1\nsecret-value,0\n-2.25,1\n,0\n3,x9\n")
    result = runner.invoke(app, ["survival", str(path), "--duration", "d", "--event", "e"])
    assert result.exit_code != 0
    error = result.exception
    assert isinstance(error, ValidationError)
    rows = {(p.row, p.field) for p in error.problems}
    assert rows == {(2, "d"), (3, "d"), (4, "d"), (5, "e")}
    message = str(error)
    assert "row 3, field 'd': is negative" in message
    for value in ("secret-value", "-2.25", "x9"):
        assert value not in message


def test_missing_column_is_an_input_error(waltons_csv: Path) -> None:
    result = runner.invoke(
        app, ["survival", str(waltons_csv), "--duration", "time", "--event", "E"]
    )
    assert isinstance(result.exception, InputError)
    assert "'time'" in str(result.exception)
