"""The only code that executes SQL. DuckDB is the default engine (embedded, one file per round).

Stages ask the engine for a :class:`~thbmonitor.engine.duckdb.Store` and hand it SQL whose
values are always bound parameters. A Spark engine can be added beside it; aggregation SQL is
kept portable (no DuckDB-only functions outside this package and the linkage comparisons).
"""

from thbmonitor.engine.duckdb import Store

__all__ = ["Store"]
