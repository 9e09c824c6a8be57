"""Issue 11 items 4, 6 and 10: the user's files are left alone, the ledger is written last, and
no half-written report or staging folder is left behind.

Before the fix ``demo --out D`` deleted an existing ``D/input/`` and ``D/monitor.duckdb``,
``report --out O`` deleted every file in ``O/tables/`` (the user's own included), the ledger
recorded a release before the report was written (a failed write left the release in the
ledger and the rerun was refused), a killed report left ``.staging-*`` folders behind, and a
kill while the files were moved in one by one left new tables beside the old ``report.html``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor import output_folder
from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Ledger
from thbmonitor.errors import ConfigError
from thbmonitor.output_folder import MARKER, locked, read_marker
from thbmonitor.report import write_report
from thbmonitor.report.model import Chapter, Report, Table, Text
from thbmonitor.store import begin_linkage, end_linkage, open_store

from .cli import one_clean_line, run


def small_report(*keys: str) -> Report:
    frame = pd.DataFrame({"year": ["2023"], "registered": [1334]})
    tables = tuple(Table(k, Text(k, k), frame, Text("test", "test")) for k in keys)
    return Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=tables)], {})


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_with_the_users_files_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "input").mkdir(parents=True)
    (out / "input" / "registrations.csv").write_text("my own data", encoding="utf-8")
    (out / "monitor.duckdb").write_text("my own store", encoding="utf-8")
    before = files_of(out)
    ran = run(capsys, "demo", "--out", str(out), "--scale", "0.05")
    assert ran.code == 2
    assert "--force" in one_clean_line(ran.err)
    ran = run(capsys, "report", "--store", str(tmp_path / "x.duckdb"), "--out", str(out))
    assert ran.code == 2
    assert "did not write" in one_clean_line(ran.err)
    with pytest.raises(ConfigError, match="did not write"):
        write_report(small_report("a"), out, "en")
    assert files_of(out) == before


def test_the_users_file_in_tables_survives_a_new_report(tmp_path):
    """The report's own earlier tables are replaced or removed; the user's are never touched."""
    out = tmp_path / "publication"
    write_report(small_report("a", "b"), out, "en")
    (out / "tables" / "my_notes.csv").write_text("mine", encoding="utf-8")
    (out / "README.txt").write_text("mine too", encoding="utf-8")
    write_report(small_report("a", "c"), out, "en")  # b is no longer published
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["a.csv", "c.csv", "my_notes.csv"]
    assert (out / "tables" / "my_notes.csv").read_text(encoding="utf-8") == "mine"
    assert (out / "README.txt").read_text(encoding="utf-8") == "mine too"
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    assert "tables/b.csv" not in marker["files"] and "tables/my_notes.csv" not in marker["files"]


def test_a_file_of_a_report_name_that_thbmonitor_did_not_write_needs_force(tmp_path):
    out = tmp_path / "publication"
    write_report(small_report("a"), out, "en")
    (out / "tables" / "b.csv").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tables/b\.csv, which thbmonitor did not write"):
        write_report(small_report("a", "b"), out, "en")
    assert (out / "tables" / "b.csv").read_text(encoding="utf-8") == "mine"
    write_report(small_report("a", "b"), out, "en", force=True)
    assert (out / "tables" / "b.csv").read_text(encoding="utf-8") != "mine"


def test_force_writes_beside_the_users_files(tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    (out / "mine.txt").write_text("mine", encoding="utf-8")
    write_report(small_report("a"), out, "en", force=True)
    assert (out / "mine.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("exchange", [True, False])
def test_leftovers_of_a_killed_report_are_removed_by_the_next(tmp_path, monkeypatch, exchange):
    """Inside the folder (file-by-file publishing) and beside it (a staging folder, or the
    earlier folder after an exchange): removed by the next run, whichever way it publishes."""
    out = tmp_path / "publication"
    write_report(small_report("a"), out, "en")
    if not exchange:
        monkeypatch.setattr(output_folder, "_can_swap", lambda real: False)
    for name in (".staging-k1", ".staging-k2", ".tables.old-k3"):
        (out / name / "tables").mkdir(parents=True)
    (tmp_path / ".publication.thbmonitor-staging-k4" / "tables").mkdir(parents=True)
    (tmp_path / ".other.thbmonitor-staging-k5").mkdir()  # another folder's: not touched
    write_report(small_report("a"), out, "en")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [MARKER]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.thbmonitor-staging-k5",
        "publication",
    ]


def test_a_report_is_published_by_one_exchange_of_folders(tmp_path):
    """The new folder (new files, hard links to the rest) replaces the old one in one step."""
    out = tmp_path / "publication"
    write_report(small_report("a", "b"), out, "en")
    (out / "tables" / "my_notes.csv").write_text("mine", encoding="utf-8")
    (out / "README.txt").write_text("mine too", encoding="utf-8")
    old_inode = out.stat().st_ino
    mine_inode = (out / "README.txt").stat().st_ino
    write_report(small_report("a", "c"), out, "en")
    assert out.stat().st_ino != old_inode  # a new folder took the old one's place
    assert (out / "README.txt").stat().st_ino == mine_inode  # the user's file, linked not copied
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["a.csv", "c.csv", "my_notes.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["publication"]  # no staging left beside it


@pytest.mark.parametrize("step", ["before the exchange", "after the exchange"])
def test_a_report_killed_while_publishing_leaves_one_whole_report(tmp_path, monkeypatch, step):
    """A kill just before or just after the exchange: the folder is the old report or the new
    one, whole, never a mix; the next run removes what the killed one left beside it."""
    out = tmp_path / "publication"
    write_report(small_report("a", "b"), out, "en")
    (out / "README.txt").write_text("mine", encoding="utf-8")
    old = files_of(out)
    new_out = tmp_path / "reference"
    write_report(small_report("a", "c"), new_out, "en")
    (new_out / "README.txt").write_text("mine", encoding="utf-8")
    new = files_of(new_out)
    real_exchange = output_folder._exchange

    def exchange_then_die(a: Path, b: Path) -> bool:
        if step == "after the exchange":
            assert real_exchange(a, b)
        raise KeyboardInterrupt  # as a kill (the rmtree in ``finally`` would not run either)

    monkeypatch.setattr(output_folder, "_exchange", exchange_then_die)
    monkeypatch.setattr(output_folder.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(KeyboardInterrupt):
        write_report(small_report("a", "c"), out, "en")
    monkeypatch.undo()
    expected = old if step == "before the exchange" else new
    got = files_of(out)
    assert got.keys() == expected.keys()
    assert {k: v for k, v in got.items() if k != MARKER} == {
        k: v for k, v in expected.items() if k != MARKER
    }
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".publication.")]) == 1
    write_report(small_report("a", "c"), out, "en")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["publication", "reference"]


def test_without_the_exchange_files_move_in_one_by_one_under_a_writing_marker(
    tmp_path, monkeypatch
):
    """Where folders cannot be exchanged (another system, a mount point, a huge folder), a
    report cut short while moving files is marked ``writing`` and completed by the next."""
    out = tmp_path / "publication"
    write_report(small_report("a"), out, "en")
    monkeypatch.setattr(output_folder, "_can_swap", lambda real: False)
    moves = []
    real_replace = os.replace

    def replace_then_die(src: object, dst: object) -> None:
        if len(moves) == 2:  # the marker ("writing") and tables/a.csv are in place
            raise KeyboardInterrupt  # as a kill between two moves
        moves.append(dst)
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(output_folder.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        write_report(small_report("a", "b"), out, "en")
    monkeypatch.setattr(output_folder.os, "replace", real_replace)
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "writing"  # a half-published folder
    write_report(small_report("a", "b"), out, "en")
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["a.csv", "b.csv"]


def test_two_reports_into_one_folder_at_once_are_refused(tmp_path):
    out = tmp_path / "publication"
    write_report(small_report("a"), out, "en")
    with locked(out), pytest.raises(ConfigError, match="another thbmonitor run is writing"):
        write_report(small_report("a"), out, "en")


# ---- item 6: the ledger is written only after every output is in place ----------------------


@pytest.fixture
def linked_store(tmp_path: Path) -> Path:
    path = tmp_path / "round.duckdb"
    with open_store(path, create=True) as store:
        begin_linkage(store)
        end_linkage(store, police=True)
    return path


def fake_analyse(store: object, settings: Settings, step: object, release: object) -> Report:
    """The real analyse's protection and audit (by the run's Publication) of one small table."""
    cells = pd.DataFrame([("F", 30), ("M", 44)], columns=["sex", "count"])
    release([CountTable.from_cells("sex", cells, ["sex"])])  # type: ignore[operator]
    release.audit(record=False)  # type: ignore[attr-defined]
    return small_report("sex")


def test_the_release_is_recorded_only_after_the_report_is_written(
    tmp_path, linked_store, monkeypatch
):
    from thbmonitor import pipeline

    ledger = tmp_path / "ledger.json"
    settings = Settings(
        disclosure_ledger=str(ledger),
        disclosure_release="R2024",
        window_first=2019,
        window_last=2023,
    )
    monkeypatch.setattr(pipeline, "analyse", fake_analyse)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("thbmonitor.report.write_report", broken)
    with pytest.raises(OSError, match="No space left"):
        pipeline.run_report(linked_store, settings, tmp_path / "out")
    assert not ledger.exists()
    monkeypatch.undo()
    monkeypatch.setattr(pipeline, "analyse", fake_analyse)
    pipeline.run_report(linked_store, settings, tmp_path / "out")  # the rerun is not refused
    assert Ledger.load(ledger).releases == ("R2024",)
    assert json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))


def test_an_unwritable_out_is_refused_before_the_analysis(tmp_path, linked_store, monkeypatch):
    from thbmonitor import pipeline

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analysis ran before the output folder was checked")

    monkeypatch.setattr(pipeline, "analyse", must_not_run)
    a_file = tmp_path / "a_file"
    a_file.write_text("", encoding="utf-8")
    settings = Settings(disclosure_ledger=str(tmp_path / "ledger.json"), disclosure_release="R")
    with pytest.raises(ConfigError, match="cannot write into the output folder"):
        pipeline.run_report(linked_store, settings, a_file / "out")
    assert not (tmp_path / "ledger.json").exists()
