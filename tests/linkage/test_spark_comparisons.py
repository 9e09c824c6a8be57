"""Every comparison of the person model gives the same level on DuckDB and on Spark.

The comparisons' SQL is declared for each engine (linkage/comparisons.py, SQL_FORMS); here
every level condition of every comparison, as written for each engine, is evaluated on the
same pairs of linkage-input records: on DuckDB over the store's own columns (UBIGINT words),
on Spark over the Parquet file the Spark engine reads (BIGINT words, linkage/exchange.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thbmonitor.linkage.comparisons import DIALECTS, OPTIONAL_FIELDS, person_comparisons
from thbmonitor.linkage.exchange import write_parquet
from thbmonitor.linkage.prepare import REGISTRATION_AGE, LshSpec, create_input, workspace
from thbmonitor.store import open_store

pytestmark = pytest.mark.xdist_group("spark")  # one worker, one Spark session

N_PAIRS = 20_000


def _level_sql(dialect: str, words: int) -> tuple[list[str], dict[str, int]]:
    """One CASE expression per comparison (the index of the first level whose condition
    holds, as Splink assigns levels), and the number of levels of each."""
    cases, sizes = [], {}
    for creator in person_comparisons(OPTIONAL_FIELDS, words, dialect):  # type: ignore[arg-type]
        comparison = creator.get_comparison(dialect).as_dict()
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        whens = [
            f"WHEN {lv['sql_condition']} THEN {i}"
            for i, lv in enumerate(levels)
            if lv["sql_condition"] != "ELSE"
        ]
        cases.append(f"CASE {' '.join(whens)} ELSE {len(levels) - 1} END AS {name}")
        sizes[name] = len(levels)
    return cases, sizes


def test_every_comparison_level_is_the_same_on_both_engines(
    world, spark_settings, tmp_path: Path
) -> None:
    from thbmonitor.engine.spark import spark_session

    path = tmp_path / "store.duckdb"
    shutil.copy(world.store_path, path)
    with open_store(str(path)) as store, workspace(store.con) as home:
        con = store.con
        create_input(
            con,
            "lk_records",
            f'"{home}".main.registrations',
            id_column="registration_id",
            date_column="registration_date",
            age_column=REGISTRATION_AGE,
            nationality_column="nationality_primary",
            lsh=LshSpec(),
            extra_columns=("municipality",),
        )
        columns = [r[0] for r in con.execute("DESCRIBE lk_records").fetchall()]
        words = sum(1 for c in columns if c.startswith("bf_first_w"))
        sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
        # pairs that agree on something (so that the name and date levels are reached) and
        # random pairs (the "else" levels), the same on both engines
        con.execute(
            f"""
            CREATE TABLE lk_pairs AS
            SELECT * FROM (
            SELECT {sides} FROM lk_records l JOIN lk_records r
              ON l.unique_id < r.unique_id
             AND (l.tok_last_sdx = r.tok_last_sdx OR l.tok_birth_year = r.tok_birth_year
                  OR l.tok_first = r.tok_first)
            USING SAMPLE reservoir({N_PAIRS // 2} ROWS) REPEATABLE (11)
            UNION ALL  -- mostly the same person: swapped names, typos, a default date
            SELECT {sides} FROM lk_records l JOIN lk_records r
              ON l.unique_id < r.unique_id AND (l.tok_dob = r.tok_dob OR l.lsh_0 = r.lsh_0)
            UNION ALL
            SELECT {sides} FROM lk_records l JOIN lk_records r ON l.unique_id < r.unique_id
            USING SAMPLE reservoir({N_PAIRS // 2} ROWS) REPEATABLE (12)
            ) QUALIFY row_number() OVER (PARTITION BY unique_id_l, unique_id_r) = 1
            """
        )
        negative = con.execute(
            f"SELECT count(*) FROM lk_pairs WHERE bf_first_w0_l >= {2**63}"
        ).fetchall()[0][0]
        parquet = str(tmp_path / "pairs.parquet")
        write_parquet(con, "lk_pairs", parquet)
        duck_cases, sizes = _level_sql("duckdb", words)
        duck = con.execute(
            f"SELECT unique_id_l, unique_id_r, {', '.join(duck_cases)} FROM lk_pairs"
        ).df()
    session = spark_session(spark_settings)
    session.read.parquet(parquet).createOrReplaceTempView("lk_pairs")
    spark_cases, spark_sizes = _level_sql("spark", words)
    spark = session.sql(
        f"SELECT unique_id_l, unique_id_r, {', '.join(spark_cases)} FROM lk_pairs"
    ).toPandas()
    session.catalog.dropTempView("lk_pairs")

    assert set(DIALECTS) == {"duckdb", "spark"}
    assert sizes == spark_sizes
    assert negative > 0  # words with the top bit set: the signed form is exercised
    keys = ["unique_id_l", "unique_id_r"]
    both = duck.merge(spark, on=keys, suffixes=("_duckdb", "_spark"))
    assert len(both) == len(duck) == len(spark) > N_PAIRS
    for name, n_levels in sizes.items():
        left = both[f"{name}_duckdb"].astype(int)
        right = both[f"{name}_spark"].astype(int)
        differ = int((left != right).sum())
        assert differ == 0, f"{name}: {differ} pairs get another level on Spark"
        seen = set(left)
        # the pairs reach most levels of every comparison: the test compares real levels
        assert len(seen) >= min(n_levels, 3), (name, sorted(seen))
    reached = {name: sorted(set(both[f"{name}_duckdb"])) for name in sizes}
    # the levels written differently for each engine are reached: Dice levels of the names
    # and each level of the days between the registrations
    assert len(reached["full_name"]) >= 9, reached  # of 13 levels
    assert {1, 2, 3} <= set(reached["record_date"]), reached
