"""The monitor's CLI commands (thin: they call the library and print)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from thbmonitor.cli import app

from .conftest import make_registrations, write_store

runner = CliRunner()


def test_compare_counts_prints_r_values() -> None:
    """R: ``poisson.test(c(984, 1334))``: ratio 0.7376, CI 0.6786-0.8016, p 3.803e-13."""
    result = runner.invoke(app, ["compare-counts", "1334", "984"])
    assert result.exit_code == 0, result.output
    assert "rate ratio 0.7376 (95% 0.6786 to 0.8016)" in result.output
    assert "p-value 3.803e-13" in result.output


def test_monitor_command(tmp_path: Path) -> None:
    """Prints the protected year-by-group tables and the change table."""
    regs, mapping = make_registrations()
    write_store(tmp_path / "s.duckdb", regs, mapping).close()
    config = tmp_path / "window.toml"
    config.write_text("window_first = 2016\nwindow_last = 2020\n")
    shown = runner.invoke(app, ["monitor", str(tmp_path / "s.duckdb"), "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "Victims by group and year, 2016-2020" in shown.output
    auto = runner.invoke(app, ["monitor", str(tmp_path / "s.duckdb")])
    assert auto.exit_code == 0, auto.output
    assert "Victims by group and year, 2018-2022" in auto.output  # the last five complete years
    assert "Change from the previous year" in shown.output
    assert "Labour exploitation" in shown.output
