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

from .cli import run
from .conftest import KEY

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


def test_link_export_persons_through_the_cli_escapes_formulas(
    tiny_world, tmp_path, capsys, monkeypatch
):
    """The whole path as the tester took it: registration ids that are formulas, ingested and
    linked by the CLI, come out of ``link --export-persons`` as text."""
    with open(tiny_world / "registrations.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:40]
    for row, rid in zip(rows, HOSTILE[:4], strict=False):
        row["registration_id"] = rid
    source = tmp_path / "registrations.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    store, out = tmp_path / "round.duckdb", tmp_path / "persons.csv"
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    assert run(capsys, "ingest", str(source), "--store", str(store)).code == 0
    ran = run(capsys, "link", "--store", str(store), "--skip-police", "--export-persons", str(out))
    assert ran.code == 0, ran.err
    with open(out, newline="", encoding="utf-8") as fh:
        written = [row["registration_id"] for row in csv.DictReader(fh)]
    assert len(written) == 40
    assert {spreadsheet_safe(r) for r in HOSTILE[:4]} <= set(written)
    assert not any(w.startswith(("=", "+", "-", "@", "\t")) for w in written)
