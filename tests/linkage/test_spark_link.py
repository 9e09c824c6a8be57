"""``link`` on Spark (local mode) and on DuckDB with the same model finds the same persons,
police links and monitor tables: a model trained on DuckDB and saved with
``link --save-model``, applied with ``link --model`` on both engines (issue 14's CI goal)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.config import Settings
from thbmonitor.linkage.modelfile import read_models
from thbmonitor.monitor import chapters
from thbmonitor.report.jsonsafe import to_jsonable
from thbmonitor.store import open_store, resolve_window

pytestmark = pytest.mark.xdist_group("spark")  # one worker, one Spark session

QUERIES = {
    "persons": "SELECT registration_id, person_id FROM registration_person",
    "pairs": "SELECT registration_id_l, registration_id_r, match_probability "
    "FROM registration_pairs",
    "police": "SELECT person_id, event_id, match_probability FROM person_police",
    "candidates": "SELECT person_id, event_id, match_probability FROM person_police_candidates",
}


def _linked(path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, object]]:
    with open_store(str(path), read_only=True) as store:
        tables = {
            name: store.df(f"{sql} ORDER BY ALL").reset_index(drop=True)
            for name, sql in QUERIES.items()
        }
        _, results = chapters(store, resolve_window(store, Settings()))
    return tables, json.loads(json.dumps(to_jsonable(results)))


def _link(*args: str) -> None:
    done = CliRunner().invoke(app, ["link", *args])
    assert done.exit_code == 0, (done.output, done.exception)


def test_one_model_links_the_same_on_spark_and_on_duckdb(
    small_world, spark_settings, tmp_path: Path
) -> None:
    trained, duck, spark = (tmp_path / f"{n}.duckdb" for n in ("trained", "duck", "spark"))
    for path in (trained, duck, spark):
        shutil.copy(small_world.store_path, path)
    model = str(tmp_path / "model.json")
    _link("--store", str(trained), "--save-model", model)
    models = read_models(Path(model))
    assert models.registrations["link_type"] == "dedupe_only"
    assert models.police is not None and models.police["link_type"] == "link_only"
    _link("--store", str(duck), "--model", model)
    config = tmp_path / "spark.toml"  # the test's session (local[2]) is the active one
    config.write_text(
        'engine = "spark"\nspark_master = "local[2]"\n'
        '[spark_config]\n"spark.sql.shuffle.partitions" = "2"\n',
        encoding="utf-8",
    )
    _link("--store", str(spark), "--model", model, "--config", str(config))

    got_trained, _ = _linked(trained)
    got_duck, monitor_duck = _linked(duck)
    got_spark, monitor_spark = _linked(spark)
    # the model applied again finds what its training run found
    pd.testing.assert_frame_equal(got_duck["persons"], got_trained["persons"])
    pd.testing.assert_frame_equal(got_duck["police"], got_trained["police"])
    # and Spark finds the same: persons, scored pairs, police links and candidates
    for name in QUERIES:
        pd.testing.assert_frame_equal(got_spark[name], got_duck[name], rtol=1e-9, obj=name)
    assert got_spark["persons"]["person_id"].nunique() < len(got_spark["persons"])
    assert len(got_spark["police"]) > 100
    assert monitor_spark == monitor_duck  # the monitor tables
    with open_store(str(spark), read_only=True) as store:
        run = store.df("SELECT parameters FROM linkage_runs WHERE run_id = 1")
    parameters = json.loads(run["parameters"].iloc[0])
    assert (parameters["engine"], parameters["model_given"]) == ("spark", True)
