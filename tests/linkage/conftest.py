"""A small synthetic world, ingested and linked once per session (shared by the linkage tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.ingest import ingest_file
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store
from thbmonitor.synth import WorldParams, generate

KEY = b"linkage-tests-key-0123456789abcdef"
SCALE = 0.2
BACKGROUND = 4000


@dataclass(frozen=True)
class World:
    root: Path
    store_path: Path  # ingested, not linked (copy it before linking)
    truth_registrations: pd.DataFrame  # registration_id, person_id
    truth_events: pd.DataFrame  # event_id, person_id
    capture_histories: pd.DataFrame  # the synthetic world's own capture-history table


def make_world(root: Path, scale: float, background: int) -> World:
    """A synthetic world in ``root``, ingested into ``root/ingested.duckdb``."""
    generate(WorldParams(scale=scale, background_events=background), root)
    store_path = root / "ingested.duckdb"
    encoder = Encoder(KEY)
    with open_store(str(store_path), create=True) as store:
        ingest_file(store, root / "registrations.csv", encoder)
        ingest_file(store, root / "police_register.parquet", encoder)
    return World(
        root=root,
        store_path=store_path,
        truth_registrations=pd.read_csv(root / "truth" / "registration_person.csv"),
        truth_events=pd.read_csv(root / "truth" / "police_event_person.csv"),
        capture_histories=pd.read_csv(root / "truth" / "capture_histories.csv"),
    )


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("linkage_world"), SCALE, BACKGROUND)


@dataclass(frozen=True)
class Linked:
    world: World
    store_path: Path
    summary: object
    police: object


@pytest.fixture(scope="session")
def linked(world: World, tmp_path_factory: pytest.TempPathFactory) -> Linked:
    """The world's store after one full linkage run (registrations, then police)."""
    from thbmonitor.linkage import link_police, link_registrations

    path = tmp_path_factory.mktemp("linked") / "monitor.duckdb"
    shutil.copy(world.store_path, path)
    settings = Settings()
    with open_store(str(path), create=True) as store:
        summary = link_registrations(store, settings)
        police = link_police(store, settings)
    return Linked(world, path, summary, police)


# Settings of the Spark tests: local mode on two cores, two shuffle partitions (a small world)
SPARK_SETTINGS = Settings(
    engine="spark",
    spark_master="local[2]",
    spark_config={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
)


@pytest.fixture(scope="session")
def spark_settings() -> Iterator[Settings]:
    """Settings of the Spark engine in local mode, with one session for every Spark test of
    this worker (the tests that use it are in the xdist group "spark": one worker)."""
    from thbmonitor.engine.spark import spark_session

    session = spark_session(SPARK_SETTINGS)
    yield SPARK_SETTINGS
    session.stop()
