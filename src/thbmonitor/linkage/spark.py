"""The linkage's tables on Spark: Splink's Spark backend, fed and read back as Parquet.

Imported only on the Spark engine (setting ``engine = "spark"``). The linkage input is made
in the DuckDB store as on the default engine (:mod:`.prepare`), written as Parquet
(:mod:`.exchange`) and read by Spark; Splink trains and scores there with the comparisons
written in Spark's SQL (:data:`.comparisons.SQL_FORMS`), and the scored pairs come back to
DuckDB as Parquet for the clustering. The Spark session comes from
:func:`thbmonitor.engine.spark.spark_engine`.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb

from thbmonitor.engine.spark import SparkEngine
from thbmonitor.linkage.comparisons import Dialect
from thbmonitor.linkage.exchange import read_parquet_sql, write_parquet

log = logging.getLogger(__name__)


class SparkTables:
    """:class:`thbmonitor.linkage.model.Tables` on a Spark session: temporary views."""

    dialect: Dialect = "spark"

    def __init__(self, engine: SparkEngine) -> None:
        self.engine = engine

    def count(self, name: str) -> int:
        return int(self.engine.session.table(name).count())

    def columns(self, name: str) -> list[str]:
        return list(self.engine.session.table(name).columns)

    def db_api(self) -> Any:
        from splink.backends.spark import SparkAPI

        # Splink breaks the lineage of its intermediate tables: on a cluster by writing them
        # as Parquet under the checkpoint folder; on this machine by caching them (the same
        # tables, without the disk writes that dominate a small local run)
        local = self.engine.master.startswith("local")
        return SparkAPI(
            spark_session=self.engine.session,
            break_lineage_method="persist" if local else "parquet",
        )

    def load(self, con: duckdb.DuckDBPyConnection, table: str) -> int:
        """Send the DuckDB table ``table`` to Spark as a cached view of the same name.

        ``record_id`` goes as text: Splink stacks the two inputs of a link, and the events'
        identities are numbers where the registrations' ids are text (DuckDB unites them as
        text; Spark would cast the text to a number and fail). Only ``unique_id`` comes back."""
        path = self.engine.path(table)
        n = write_parquet(con, table, path, text=("record_id",))
        frame = self.engine.session.read.parquet(path).cache()
        frame.createOrReplaceTempView(table)
        log.debug("%d rows of %s sent to Spark", n, table)
        return n

    def fetch(self, con: duckdb.DuckDBPyConnection, view: str, columns: str, name: str) -> str:
        """Bring ``columns`` of the Spark view ``view`` back to DuckDB as the table ``name``
        (in the current database); returns ``name``."""
        path = self.engine.path(name)
        self.engine.session.sql(f"SELECT {columns} FROM {view}").write.mode("overwrite").parquet(
            path
        )
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {read_parquet_sql(path)}")
        return name
