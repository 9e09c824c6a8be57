"""Settings: declared once, loaded from TOML, checked."""

from __future__ import annotations

import tomllib

import pytest

from thbmonitor.config import (
    TABLE_SETTINGS,
    Settings,
    describe,
    load_settings,
    settings_to_toml,
)
from thbmonitor.errors import ConfigError


def test_every_setting_has_help_and_default() -> None:
    rows = describe()
    assert len(rows) >= 20
    for name, tp, default, help_text in rows:
        assert help_text and help_text.endswith("."), name
        assert isinstance(default, int | float | str | bool | dict), name
        assert tp in {"int", "float", "str", "bool", "dict"}
        assert (tp == "dict") == (name in TABLE_SETTINGS), name


def test_toml_tables_map_to_flat_names(tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("window_last = 2019\n[disclosure]\nthreshold = 5\nzeros_disclosive = true\n")
    s = load_settings(path)
    assert (s.window_last, s.disclosure_threshold, s.disclosure_zeros_disclosive) == (
        2019,
        5,
        True,
    )
    assert s.window_first == Settings().window_first == 0  # left to the data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("window_first = 'x'", "whole number"),
        ("nonsense = 1", "unknown setting"),
        ("window_first = 2021\nwindow_last = 2020", "window_first must not be after"),
        ("language = 'fr'", "language"),
        ("data_end = '2023-13-01'", "data_end"),
        ("window_first = ", "not valid TOML"),
        ("engine = 'hadoop'", "engine must be"),
        ("spark_config = 3", "spark_config"),
        ("[spark_config]\n'spark.executor.memory' = ['8g']", "spark_config"),
        ("engine = 'spark'\nspark_master = 'spark://h:7077'", "spark_checkpoint_dir"),
    ],
)
def test_bad_settings_are_refused(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_printed_settings_round_trip() -> None:
    s = load_settings(None, {"seed": 7, "language": "nl", "mse_pthresh": 0.05})
    parsed = tomllib.loads(settings_to_toml(s))
    assert load_settings(None, parsed) == s


def test_spark_settings_keep_their_table_whole(tmp_path) -> None:
    """A [spark_config] table is one setting (its names hold dots), its values Spark's text."""
    path = tmp_path / "s.toml"
    path.write_text(
        '[spark]\nmaster = "spark://10.0.0.1:7077"\ncheckpoint_dir = "/shared/ck"\n'
        '[spark_config]\n"spark.executor.memory" = "8g"\n"spark.sql.shuffle.partitions" = 400\n'
        '"spark.sql.adaptive.enabled" = true\n'
    )
    s = load_settings(path, {"engine": "spark"})
    assert s.spark_master == "spark://10.0.0.1:7077"
    assert s.spark_config == {
        "spark.executor.memory": "8g",
        "spark.sql.shuffle.partitions": "400",
        "spark.sql.adaptive.enabled": "true",
    }
    assert load_settings(None, tomllib.loads(settings_to_toml(s))) == s
    assert Settings().engine == "duckdb" and Settings().spark_config == {}


def test_replace_is_checked() -> None:
    with pytest.raises(ConfigError):
        Settings().replace(followup_entry="sometimes")
    assert Settings().replace(seed=3).seed == 3


def test_window_defaults_to_the_last_five_complete_years(tmp_path) -> None:
    """A store whose registrations run into March 2022 has 2021 as its last complete year."""
    import datetime as dt

    from thbmonitor.store import open_store, resolve_window

    with open_store(str(tmp_path / "m.duckdb"), create=True) as store:
        for i, day in enumerate(("2019-05-01", "2021-12-03", "2022-03-01")):
            store.execute(
                "INSERT INTO registrations (registration_id, registration_date) VALUES (?, ?)",
                [f"R{i}", dt.date.fromisoformat(day)],
            )
        auto = resolve_window(store, Settings())
        assert (auto.window_first, auto.window_last) == (2017, 2021)
        given = resolve_window(store, Settings(window_first=2014, window_last=2018))
        assert (given.window_first, given.window_last) == (2014, 2018)
        assert resolve_window(store, Settings(window_last=2020)).window_first == 2016
        store.execute("DELETE FROM registrations WHERE registration_date > '2021-12-31'")
        store.execute("DELETE FROM registrations WHERE registration_date > '2021-06-30'")
        assert resolve_window(store, Settings()).window_last == 2018  # 2019 lacks a December
    with pytest.raises(ConfigError, match="window_last"):
        load_settings(None, {"window_first": 2016})
