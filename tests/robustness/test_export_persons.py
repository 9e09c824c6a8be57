"""Issue 11 item 10: ``link --export-persons`` wrote ids beginning with ``=``, ``+``, ``-`` or
``@`` unescaped into a CSV that people open in Excel (a registration id is the reporting
organisation's text, so ``=HYPERLINK(...)`` ran as a formula)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.linkage.persons import export_persons, spreadsheet_safe
from thbmonitor.store import open_store

HOSTILE = ['=HYPERLINK("http://x.example","y")', "+31-6", "-2+3", "@SUM(A1)", "\tTAB", "R-0001"]


def test_formulas_are_written_as_text(tmp_path):
    path = tmp_path / "round.duckdb"
    with open_store(path, create=True) as store:
        for i, rid in enumerate(HOSTILE):
            store.execute("INSERT INTO registration_person VALUES (?, ?)", [rid, f"P{i}"])
        out = tmp_path / "persons.csv"
        assert export_persons(store, str(out)) == len(HOSTILE)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    written = {row["registration_id"] for row in rows}
    assert written == {spreadsheet_safe(r) for r in HOSTILE}
    assert not any(w.startswith(("=", "+", "-", "@", "\t")) for w in written)
    assert "R-0001" in written  # an id that is no formula is kept as it is
    assert '\'=HYPERLINK("http://x.example","y")' in written


def test_an_export_cut_short_leaves_the_earlier_file(tmp_path, monkeypatch):
    path = tmp_path / "round.duckdb"
    out = tmp_path / "persons.csv"
    out.write_text("the earlier export\n", encoding="utf-8")
    with open_store(path, create=True) as store:
        store.execute("INSERT INTO registration_person VALUES ('R1', 'P1')")

        def cut_short(self, target, **kwargs):  # type: ignore[no-untyped-def]
            Path(target).write_text("registration_id,per", encoding="utf-8")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(pd.DataFrame, "to_csv", cut_short)
        with pytest.raises(OSError, match="No space left"):
            export_persons(store, str(out))
    assert out.read_text(encoding="utf-8") == "the earlier export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
