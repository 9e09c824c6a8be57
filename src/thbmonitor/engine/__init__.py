"""The only code that executes SQL. DuckDB is the default engine (embedded, one file per round).

Stages ask the engine for a :class:`~thbmonitor.engine.duckdb.Store` and hand it SQL whose
values are always bound parameters. The linkage's Splink models can run on Spark instead
(:mod:`thbmonitor.engine.spark`, optional, imported only with the setting ``engine = "spark"``);
aggregation SQL is kept portable (no DuckDB-only functions outside this package and the
linkage comparisons, whose engine-specific forms are declared per engine).
"""

from thbmonitor.engine.duckdb import Store

__all__ = ["Store"]
