"""A tiny synthetic world for the robustness tests (generated once per session, in seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thbmonitor.config import Settings
from thbmonitor.ingest import ingest_file
from thbmonitor.pipeline import link
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store
from thbmonitor.synth import WorldParams, generate

SCALE = 0.05  # about 660 registrations
BACKGROUND = 3000  # police events of non-victims (and about 1,200 residents)
KEY = "robustness-key-0123456789abcdef-0123456789"  # the key of the stores made here
FILES = ("registrations.csv", "police_register.parquet", "population_register.parquet")


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with registrations.csv, police_register.parquet, population_register.parquet,
    population_denominators.csv and truth/ (do not write into it: copy what a test changes)."""
    root = tmp_path_factory.mktemp("tiny_world")
    generate(WorldParams(scale=SCALE, background_events=BACKGROUND, seed=11), root)
    return root


@pytest.fixture(scope="session")
def ingested(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the tiny world's files ingested (key :data:`KEY`); copy it to change it."""
    path = tmp_path_factory.mktemp("ingested") / "round.duckdb"
    with open_store(path, create=True) as store:
        for name in FILES:
            ingest_file(store, tiny_world / name, Encoder(KEY.encode()))
    return path


@pytest.fixture(scope="session")
def linked(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`ingested`, linked (persons and registers); copy it to change it."""
    path = tmp_path_factory.mktemp("linked") / "round.duckdb"
    shutil.copy(ingested, path)
    with open_store(path) as store:
        link(store, Settings())
    return path
