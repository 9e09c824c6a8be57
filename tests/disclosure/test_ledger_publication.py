"""Recording a release from the pipeline: ``Publication`` with ``disclosure_release``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Ledger
from thbmonitor.engine import Store
from thbmonitor.errors import ConfigError, InputError
from thbmonitor.monitor.chapters import chapters
from thbmonitor.pipeline import Publication, analyse
from thbmonitor.store import open_store

# the monitor's own test world (tests/monitor/conftest.py), imported as pytest does
from monitor.conftest import make_registrations, write_store  # isort: skip

WINDOW = {"window_first": 2016, "window_last": 2020}

# registrations by year and group; 2022 is added in the second release
COUNTS = {
    "2020": {"labour": 41, "sexual": 57, "criminal": 6},
    "2021": {"labour": 38, "sexual": 3, "criminal": 22},
    "2022": {"labour": 45, "sexual": 60, "criminal": 8},
}


def year_group(years: list[str]) -> list[CountTable]:
    rows = [(y, g, n) for y in years for g, n in COUNTS[y].items()]
    cells = pd.DataFrame(rows, columns=["year", "group", "count"])
    by_group = CountTable.from_cells("year_group", cells, ["year", "group"], margins=["group"])
    # distinct persons of the window: another universe per window, protected in its own call
    persons = pd.DataFrame([("F", 30 + len(years)), ("M", 4)], columns=["sex", "count"])
    universe = f"persons {years[0]}-{years[-1]}"
    return [by_group, CountTable.from_cells("sex", persons, ["sex"], universe=universe)]


def publish(settings: Settings, years: list[str]) -> Publication:
    pub = Publication(settings)
    first, second = year_group(years)
    pub([first])
    pub([second])
    pub.audit()
    return pub


def test_two_consecutive_releases_are_recorded(tmp_path):
    """Release 2021 (2020-2021), then 2022 with a year added: both pass, the ledger holds
    both, and the years shared by the two releases are shown alike."""
    path = tmp_path / "ledger.json"
    base = Settings(disclosure_ledger=str(path))
    one = publish(base.replace(disclosure_release="2021"), ["2020", "2021"])
    assert Ledger.load(path).releases == ("2021",)
    two = publish(base.replace(disclosure_release="2022"), ["2020", "2021", "2022"])
    ledger = Ledger.load(path)
    assert ledger.releases == ("2021", "2022")
    assert len(ledger.tables) == 4
    old = one.tables[0].frame.set_index(["year", "group"])["display"]
    new = two.tables[0].frame.set_index(["year", "group"])["display"]
    assert (new.loc[old.index] == old).all()
    assert {"<10", "x"} <= set(new)


def test_a_release_name_twice_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "ledger.json"
    settings = Settings(disclosure_ledger=str(path), disclosure_release="2021")
    publish(settings, ["2020", "2021"])
    before = path.read_bytes()
    with pytest.raises(InputError, match="'2021' is already in the ledger"):
        Publication(settings)
    with pytest.raises(InputError, match="already in the ledger"):
        analyse(None, settings)  # type: ignore[arg-type]  # refused before the store is read
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


def test_without_a_release_name_the_ledger_is_only_read(tmp_path):
    path = tmp_path / "ledger.json"
    publish(Settings(disclosure_ledger=str(path), disclosure_release="2021"), ["2020", "2021"])
    before = path.read_bytes()
    publish(Settings(disclosure_ledger=str(path)), ["2020", "2021", "2022"])
    assert path.read_bytes() == before


def test_a_release_name_needs_a_ledger(tmp_path):
    with pytest.raises(ConfigError, match="needs disclosure_ledger"):
        Publication(Settings(disclosure_release="2021"))
    missing = tmp_path / "no" / "ledger.json"
    with pytest.raises(ConfigError, match="does not exist"):
        Publication(Settings(disclosure_ledger=str(missing), disclosure_release="2021"))


def test_a_ledger_changed_during_the_run_is_not_overwritten(tmp_path):
    path = tmp_path / "ledger.json"
    pub = Publication(Settings(disclosure_ledger=str(path), disclosure_release="2021"))
    for t in year_group(["2020", "2021"]):
        pub([t])
    path.write_text("written by someone else", encoding="utf-8")
    with pytest.raises(InputError, match="changed while this release was protected"):
        pub.audit()
    assert path.read_text(encoding="utf-8") == "written by someone else"


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The monitor test world with 300 persons (seed 1): before the ledger kept what was
    public, re-publishing its registrations and victims against their own ledger failed."""
    regs, mapping = make_registrations(seed=1, n_persons=300)
    path = tmp_path_factory.mktemp("ledger_world") / "store.duckdb"
    write_store(path, regs, mapping).close()
    yield path


def monitor_release(store: Store, settings: Settings) -> Publication:
    pub = Publication(settings)
    chapters(store, settings, pub)
    pub.audit()
    return pub


def test_the_monitor_tables_can_be_published_again(small_world, tmp_path):
    """The monitor stage, recorded and then run again on the same store against its ledger:
    the same tables with the same markers, and the joint audit passes."""
    path = tmp_path / "ledger.json"
    settings = Settings(**WINDOW, disclosure_ledger=str(path))
    with open_store(str(small_world), create=True) as store:
        first = monitor_release(store, settings.replace(disclosure_release="r1"))
        again = monitor_release(store, settings)
    assert Ledger.load(path).releases == ("r1",)
    shown = {t.name: t.frame["display"].tolist() for t in first.tables}
    assert {t.name: t.frame["display"].tolist() for t in again.tables} == shown
    assert any("<10" in v for v in shown.values())


def test_report_release_option_refuses_a_recorded_name(small_world, tmp_path):
    """``thbmonitor report --release`` sets disclosure_release; a name already recorded
    stops the run before any output is written."""
    path = tmp_path / "ledger.json"
    publish(Settings(disclosure_ledger=str(path), disclosure_release="2021"), ["2020"])
    config = tmp_path / "settings.toml"
    config.write_text(f'[disclosure]\nledger = "{path.as_posix()}"\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["report", "--store", str(small_world), "--out", str(out), "--config", str(config)]
    res = CliRunner().invoke(app, [*args, "--release", "2021"])
    assert res.exit_code != 0
    assert isinstance(res.exception, InputError)
    assert "already in the ledger" in str(res.exception)
    assert not out.exists()
