"""The ``thbmonitor protect`` command: reads stacked tables, writes markers, keeps a ledger."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from thbmonitor.cli import app

CSV = """table,form,sex,count
form_sex,sexual,F,40
form_sex,sexual,M,3
form_sex,labour,F,12
form_sex,labour,M,25
form_sex,criminal,F,20
form_sex,criminal,M,30
form,sexual,,43
form,labour,,37
form,criminal,,50
"""


def test_protect_command_writes_markers_and_ledger(tmp_path):
    src, out, ledger = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "ledger.json"
    src.write_text(CSV)
    args = ["protect", str(src), "--out", str(out), "--add-margins"]
    res = CliRunner().invoke(app, [*args, "--ledger", str(ledger), "--release", "2025"])
    assert res.exit_code == 0, res.output
    assert "audit passed" in res.output and "0 tot en met 9" in res.output
    assert "information loss:" in res.output
    shown = pd.read_csv(out, dtype=str)
    cell = shown[(shown["table"] == "form_sex") & (shown["form"] == "sexual")]
    assert set(cell["value"]) == {"<10", "x", "43"}
    assert not shown["value"].isin([str(i) for i in range(1, 10)]).any()
    assert ledger.exists()
