"""``export`` publishes its delivery as ``report`` publishes the report: a failure or a kill at
any moment leaves the earlier delivery whole (or the new one), never a mix of both, and the
next run removes what a killed one left.

Before, the export moved its files into the folder one by one from a staging folder inside it:
a kill between the moves left the new CSV beside the earlier workbook, with a marker saying
``complete`` for neither; a killed export left ``.staging-*`` inside the delivery folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from thbmonitor import output_folder
from thbmonitor.config import Settings
from thbmonitor.export import run as export_run
from thbmonitor.output_folder import MARKER, read_marker
from thbmonitor.store import open_store, resolve_window

from .cli import cli, finish
from .test_kill import kill_when, staged

NAMES = ("eurostat_thb_2023.csv", "eurostat_thb_2023.xlsx")


def delivery(text: str) -> dict[str, export_run.Writer]:
    return {name: export_run._text(f"{text} {name}\n") for name in NAMES}


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


@pytest.mark.parametrize("point", ["writing the workbook", "putting the files in place"])
def test_an_export_cut_short_leaves_the_earlier_delivery_whole(tmp_path, monkeypatch, point):
    out = tmp_path / "delivery"
    out.mkdir()
    export_run._write(out, delivery("old"), force=False)
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    before = files_of(out)
    files = delivery("new")
    if point == "writing the workbook":

        def fail(path: Path) -> None:
            raise KeyboardInterrupt  # as a kill while xlsxwriter writes

        files[NAMES[1]] = fail
    else:
        real_replace = os.replace

        def replace_then_die(src: str | Path, dst: str | Path) -> None:
            real_replace(src, dst)
            if Path(dst).name == NAMES[0]:  # the CSV is in place, the workbook not yet
                raise KeyboardInterrupt

        real_exchange = output_folder._exchange

        def exchange_then_die(a: Path, b: Path) -> bool:
            assert real_exchange(a, b)
            raise KeyboardInterrupt  # the new folder is in place, the old one not yet removed

        monkeypatch.setattr(os, "replace", replace_then_die)  # files moved in one by one
        monkeypatch.setattr(output_folder, "_exchange", exchange_then_die)  # or all in one step
    # a kill: nothing of the run's own clean-up happens either
    monkeypatch.setattr(output_folder.shutil, "rmtree", lambda *a, **k: None)
    monkeypatch.setattr(export_run.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(KeyboardInterrupt):
        export_run._write(out, files, force=False)
    monkeypatch.undo()
    new = {**{n: f"new {n}\n".encode() for n in NAMES}, "my_notes.txt": b"mine"}
    assert files_of(out) in (before, new)  # never the new CSV beside the earlier workbook
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    export_run._write(out, delivery("new"), force=False)  # the next run removes the leftovers
    assert files_of(out) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delivery"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [MARKER]


def test_export_killed_through_the_cli_leaves_one_whole_delivery(linked, tmp_path):
    """kill -9 once the new delivery's CSV is staged (its workbook not yet written): the folder
    holds the earlier delivery or the new one, whole."""
    with open_store(linked, read_only=True) as store:
        year = resolve_window(store, Settings()).window_last
    out = tmp_path / "delivery"
    common = ("export", "--store", str(linked), "--year", str(year), "--format", "eurostat")
    finish(*common, "--out", str(out), "--lang", "nl")
    names = {f"eurostat_thb_{year}.csv", f"eurostat_thb_{year}.xlsx"}
    assert set(files_of(out)) == names
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    before = files_of(out)
    killed = kill_when(
        cli(*common, "--out", str(out), "--lang", "en"),
        staged(out, f"eurostat_thb_{year}.csv"),
        600,
    )
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    after = files_of(out)
    assert set(after) == set(before)
    assert after["my_notes.txt"] == b"mine"
    if after != before:  # the new delivery, whole: its workbook (in English) is in place too
        assert after[f"eurostat_thb_{year}.xlsx"] != before[f"eurostat_thb_{year}.xlsx"]
    assert killed or after != before
    # (that the next run removes what a killed one left is checked above, without the analysis)
