"""Choosing the Spark engine: a clear error without pyspark, before any work; the defaults of a
local master. No Spark session is started here."""

from __future__ import annotations

import shutil
import sys

import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.config import Settings
from thbmonitor.engine.spark import local_defaults
from thbmonitor.errors import EngineError
from thbmonitor.store import open_store


def test_without_pyspark_the_engine_says_how_to_install_it(
    world, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    store = tmp_path / "store.duckdb"
    shutil.copy(world.store_path, store)
    result = CliRunner().invoke(app, ["link", "--store", str(store), "--engine", "spark"])
    assert isinstance(result.exception, EngineError), result.output  # main() exits 2 with it
    assert "pip install 'thbmonitor[spark]'" in str(result.exception)
    assert "--engine duckdb" in str(result.exception)
    with open_store(str(store), read_only=True) as db:  # nothing was started
        assert db.scalar("SELECT count(*) FROM linkage_runs") == 0
    demo = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--engine", "spark"])
    assert isinstance(demo.exception, EngineError)
    assert "thbmonitor[spark]" in str(demo.exception)
    assert not (tmp_path / "demo").exists()  # refused before the world is made


def test_local_masters_get_few_partitions_and_the_loopback_address() -> None:
    local = local_defaults(Settings().spark_master)
    assert local["spark.driver.bindAddress"] == "127.0.0.1"
    assert int(local["spark.sql.shuffle.partitions"]) < 200  # Spark's default
    assert local_defaults("spark://10.0.0.1:7077") == {}
