"""A store records the country profile it was ingested with and refuses another: an ingest or
a report with a profile whose code lists or groups differ would mix two countries' conventions
in one set of tables. A copy that only reads another layout is the same profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thbmonitor.config import Settings
from thbmonitor.errors import StoreError
from thbmonitor.ingest import ingest_file
from thbmonitor.linkage.capture import LISTS, store_lists
from thbmonitor.pipeline import prepare_report
from thbmonitor.profiles import load_profile
from thbmonitor.profiles.write import write_world
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store

from .test_check import ROWS, _dutch_export, _excel_profile, _write


@pytest.fixture
def encoder() -> Encoder:
    return Encoder(bytes(range(32)), bloom_bits=200, bloom_hashes=5)


def _meta(store_path: Path) -> dict[str, str]:
    with open_store(store_path, read_only=True) as store:
        return {str(k): str(v) for k, v in store.rows("SELECT key, value FROM store_meta")}


def _htcds_file(tmp_path: Path, rows: list[dict]) -> Path:
    """The rows written in the htcds profile's layout (as ``synth --profile htcds`` does)."""
    folder = tmp_path / "htcds"
    folder.mkdir()
    _write(folder / "registrations.csv", rows)
    assert write_world(folder, load_profile("htcds")) == [folder / "registrations.csv"]
    return folder / "registrations.csv"


def test_a_store_refuses_an_ingest_with_another_profile(tmp_path: Path, encoder) -> None:
    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS[:2]), encoder)
    meta = _meta(store_path)
    assert meta["profile"] == "nl"
    assert meta["profile_fingerprint"] == load_profile("nl").fingerprint()
    other = _htcds_file(tmp_path, ROWS[2:])
    with open_store(store_path) as store:
        with pytest.raises(StoreError) as info:
            ingest_file(store, other, encoder, profile=load_profile("htcds"))
        assert store.scalar("SELECT count(*) FROM registrations") == 2  # nothing was added
    message = str(info.value)
    assert "ingested with country profile 'nl'" in message and "'htcds'" in message
    assert "--profile nl" in message and "nothing was imported" in message


def test_a_copy_that_reads_another_layout_is_the_same_profile(tmp_path: Path, encoder) -> None:
    """nl's copy for a Dutch Excel export (';', Windows-1252, dd-mm-jjjj, Dutch labels) has
    nl's code lists and groups: its file goes into a store made with nl."""
    folder = _excel_profile(tmp_path)
    assert load_profile(folder).fingerprint() == load_profile("nl").fingerprint()
    export = _write(tmp_path / "export.csv", _dutch_export(ROWS[2:]), delimiter=";",
                    encoding="cp1252")  # fmt: skip
    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS[:2]), encoder)
        ingest_file(store, export, encoder, profile=load_profile(folder))
        assert store.scalar("SELECT count(*) FROM registrations") == 4


def test_a_copy_with_another_code_list_is_another_profile(tmp_path: Path, encoder) -> None:
    """One code added to a list (a new reporting organisation) makes another profile."""
    folder = tmp_path / "nl-plus"
    shutil.copytree(load_profile("nl").path, folder)
    with open(folder / "codes.csv", "a", encoding="utf-8") as fh:
        fh.write("reporting_organisation,Municipality,,Municipality,Gemeente,\n")
    assert load_profile(folder).fingerprint() != load_profile("nl").fingerprint()
    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS[:2]), encoder)
        with pytest.raises(StoreError, match="profile 'nl'"):
            ingest_file(
                store, _write(tmp_path / "b.csv", ROWS[2:]), encoder, profile=load_profile(folder)
            )


def test_a_report_with_another_profile_is_refused_before_any_work(tmp_path: Path, encoder) -> None:
    """The report checks the profile first (an unlinked store would be refused next)."""
    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS), encoder)
    out = tmp_path / "out"
    with pytest.raises(
        StoreError, match=r"ingested with country profile .nl..*nothing was written"
    ):
        prepare_report(Settings(profile="htcds"), out, store_path=store_path)
    with pytest.raises(StoreError, match="not linked yet"):  # the same profile passes on
        prepare_report(Settings(profile="nl"), out, store_path=store_path)


def test_the_lists_of_capture_recapture_are_the_stores_profiles(tmp_path: Path, encoder) -> None:
    """A store made with a profile that has another reporting organisation captures with it;
    a store made before stores recorded their profile uses the default profile's."""
    folder = tmp_path / "nl-plus"
    shutil.copytree(load_profile("nl").path, folder)
    with open(folder / "codes.csv", "a", encoding="utf-8") as fh:
        fh.write("reporting_organisation,Municipality,,Municipality,Gemeente,\n")
    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(
            store, _write(tmp_path / "own.csv", ROWS), encoder, profile=load_profile(folder)
        )
        assert store_lists(store) == (*LISTS, "Municipality")
        store.execute("DELETE FROM store_meta WHERE key = 'reporting_organisations'")
        assert store_lists(store) == LISTS


def test_profile_show_names_the_fingerprint_a_store_records(tmp_path: Path, encoder) -> None:
    from typer.testing import CliRunner

    from thbmonitor.cli import app

    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS[:1]), encoder)
    shown = CliRunner().invoke(app, ["profile", "show", "--profile", "nl"])
    assert shown.exit_code == 0, shown.output
    assert f"fingerprint: {_meta(store_path)['profile_fingerprint']} " in shown.stdout


def test_an_export_with_another_profile_exits_2_before_any_work(
    tmp_path: Path, encoder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``thbmonitor export`` checks the store's profile as the report does: a store ingested
    with nl and an export under htcds (whose delivery codes would read the store's codes as
    another country's) stop with one line naming both profiles, status 2, and no file; the
    store is not linked, so the profile is checked before the linkage."""
    import sys

    from thbmonitor.cli import main

    store_path = tmp_path / "m.duckdb"
    with open_store(store_path, create=True) as store:
        ingest_file(store, _write(tmp_path / "own.csv", ROWS), encoder)
    out = tmp_path / "deliveries"
    args = ["thbmonitor", "export", "--store", str(store_path), "--year", "2020"]
    monkeypatch.setattr(sys, "argv", [*args, "--format", "eurostat", "--out", str(out),
                                      "--profile", "htcds"])  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: the monitoring store")
    assert "profile 'nl'" in lines[0] and "'htcds'" in lines[0] and "--profile nl" in lines[0]
    assert not out.exists()  # refused before the output folder is made
    # the library call refuses too (run_export checks inside the store, not only the CLI)
    from thbmonitor.export import run_export

    with pytest.raises(StoreError, match=r"profile .nl..*nothing was written"):
        run_export(store_path, Settings(profile="htcds"), 2020, "eurostat", out)
    # the store's own profile passes the check and stops at the linkage
    with pytest.raises(StoreError, match="not linked yet"):
        run_export(store_path, Settings(profile="nl"), 2020, "eurostat", out)
