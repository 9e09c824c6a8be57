"""``thbmonitor synth``: options reach the generator; a summary is printed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from thbmonitor.cli import app


def test_synth_command_writes_a_world(tmp_path: Path) -> None:
    out = tmp_path / "world"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--out",
            str(out),
            "--seed",
            "7",
            "--scale",
            "0.05",
            "--background-events",
            "500",
        ],
    )
    assert result.exit_code == 0, result.output
    params = json.loads((out / "truth" / "params.json").read_text())
    assert (params["seed"], params["scale"], params["background_events"]) == (7, 0.05, 500)
    assert (out / "registrations.csv").exists()
    assert (out / "police_register.parquet").exists()
    assert "registered persons" in result.output


def test_synth_command_refuses_a_bad_scale(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--scale", "0"])
    assert result.exit_code != 0
