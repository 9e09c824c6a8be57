"""``thbmonitor export`` on the command line, on a demo store and its published report: for
each format the export recomputes the report, finds it equal to the published one (``--report``)
and delivers totals equal to the report's published figures.

The demo is small (a twentieth of the Dutch size, 2,000 background police events) and its
settings are the export's (one TOML file): the same window, and an optimiser time limit far
above its work limit, so that the suppression pattern is the same in both runs (with the
default 20 s guard a loaded machine may stop it at another pattern, and ``--report`` refuses).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.config import load_settings
from thbmonitor.export.sdmx import read_sdmx_csv
from thbmonitor.pipeline import run_demo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export-cli")]

YEAR = "2020"
SETTINGS = """seed = 11
window_first = 2016
window_last = 2020
disclosure_time_limit = 600
disclosure_unit_ties = false
language = "en"
"""
# (each unit protected on its own, as before the units' joint protection became the default:
# the demo and its three exports recompute the whole report four times)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("export_cli")
    config = base / "settings.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    demo = base / "demo"
    run_demo(demo, load_settings(config), scale=0.05, background_events=2000)
    files: dict[str, Path] = {}
    for fmt in ("eurostat", "unodc", "sdmx"):
        out = base / fmt
        args = ["export", "--store", str(demo / "monitor.duckdb"), "--year", YEAR, "--format",
                fmt, "--out", str(out), "--report", str(demo), "--config", str(config)]  # fmt: skip
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, (fmt, str(done.exception))
        # the delivery files (the folder also holds thbmonitor's record of what it wrote)
        files.update({p.name: p for p in out.iterdir() if not p.name.startswith(".")})
    results = json.loads((demo / "results.json").read_text(encoding="utf-8"))
    return {"results": results, "tables": demo / "tables", "files": files}


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _report_cell(tables: Path, table: str, row: str) -> int | None:
    """The published figure of a row in the year's column (None where a marker hides it)."""
    (hit,) = [r for r in _csv(tables / f"{table}.csv") if next(iter(r.values())) == row]
    text = hit[YEAR]
    return int(text) if text.isdigit() else None


def _one(rows: list[dict[str, str]], **want: str) -> dict[str, str]:
    hits = [r for r in rows if all(r[k] == v for k, v in want.items())]
    assert len(hits) == 1, want
    return hits[0]


def test_the_files_of_each_format(published: dict[str, Any]) -> None:
    assert sorted(published["files"]) == [
        "eurostat_thb_2020.csv", "eurostat_thb_2020.sdmx.csv", "eurostat_thb_2020.xlsx",
        "unodc_glotip_2020.csv", "unodc_glotip_2020.xlsx",
    ]  # fmt: skip


def test_eurostat_totals_are_the_reports(published: dict[str, Any]) -> None:
    """Registered victims of the year, women, men and minors: the report's published figures
    (results.json and tables/vic_year_*.csv), or protected (empty, flag C) where it hides
    them; no count from 1 to 9."""
    rows = _csv(published["files"]["eurostat_thb_2020.csv"])
    results, tables = published["results"], published["tables"]
    total = {"indicator": "VICT", "sex": "T", "age": "TOTAL", "citizenship": "TOTAL",
             "exploitation": "TOTAL", "organisation": "TOTAL", "year": YEAR}  # fmt: skip
    victims = results["victims_by_year"][YEAR]
    assert victims >= 20 and _one(rows, **total)["value"] == str(victims)
    pairs = [
        ({**total, "sex": "F"}, _report_cell(tables, "vic_year_sex", "Female")),
        ({**total, "sex": "M"}, _report_cell(tables, "vic_year_sex", "Male")),
        ({**total, "age": "Y_LT18"}, results["minors_by_year"][YEAR]),
    ]
    for want, report in pairs:
        row = _one(rows, **want)
        assert (row["value"], row["flag"]) == ((str(report), "") if report else ("", "C"))
    assert sum(1 for _, report in pairs if report is not None) >= 2  # numbers are compared
    values = [int(r["value"]) for r in rows if r["value"]]
    assert not [v for v in values if 1 <= v <= 9]


def test_sdmx_holds_the_eurostat_figures(published: dict[str, Any]) -> None:
    """The SDMX-CSV file, read back with pysdmx, has the Eurostat file's figures."""
    text = published["files"]["eurostat_thb_2020.sdmx.csv"].read_text(encoding="utf-8")
    _, back = read_sdmx_csv(text)
    eurostat = _csv(published["files"]["eurostat_thb_2020.csv"])
    assert len(back) == len(eurostat)
    values = sorted(b for b in back["OBS_VALUE"] if b != "NaN")
    assert values == sorted(r["value"] for r in eurostat if r["value"])
    assert str(published["results"]["victims_by_year"][YEAR]) in values


def test_unodc_totals_and_rates_are_the_reports(published: dict[str, Any]) -> None:
    """Detected victims, women and men are the report's figures; SDG 16.2.2 registered and
    estimated victims per 100,000 (with the interval) are the report's rates of the year."""
    rows = _csv(published["files"]["unodc_glotip_2020.csv"])
    results, tables = published["results"], published["tables"]
    victims = {"Indicator": "Detected trafficking victims", "Dimension": "Total",
               "Category": "Total", "Age": "Total"}  # fmt: skip
    assert _one(rows, **victims, Sex="Total")["VALUE"] == str(results["victims_by_year"][YEAR])
    for sex, label in (("Female", "Female"), ("Male", "Male")):
        report = _report_cell(tables, "vic_year_sex", label)
        assert _one(rows, **victims, Sex=sex)["VALUE"] == ("" if report is None else str(report))
    sdg = results["sdg_16_2_2"]["by_year"][YEAR]
    rates = [float(r["VALUE"]) for r in rows if "SDG 16.2.2" in r["Indicator"]]
    assert rates == [sdg["registered_per_100k"], sdg["estimated_per_100k"],
                     sdg["estimated_lower_per_100k"], sdg["estimated_upper_per_100k"]]  # fmt: skip
    assert not [r for r in rows if "own rule" in r["Source"]]  # nl: no receiver's rule
