"""The round's tables between engines, as Parquet files.

The store is DuckDB; on the Spark engine the linkage input goes to Spark as Parquet and the
scored pairs come back the same way. Spark has no unsigned integers: DuckDB's ``UBIGINT``
columns (the 64-bit words of the Bloom filters, hash keys) are written as ``BIGINT`` holding
the same 64 bits (values of 2^63 and above read as negative), so that equality, bitwise AND
and bit counts give the same answers on both engines (see
:data:`thbmonitor.linkage.comparisons.SQL_FORMS`).
"""

from __future__ import annotations

import duckdb

TWO_63 = 9223372036854775808  # 2^63


def signed_sql(column: str) -> str:
    """SQL turning a ``UBIGINT`` column into the ``BIGINT`` with the same 64 bits."""
    return (
        f"CAST(CASE WHEN {column} >= {TWO_63} THEN {column}::HUGEINT - {2 * TWO_63} "
        f"ELSE {column}::HUGEINT END AS BIGINT) AS {column}"
    )


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: str,
    *,
    partition_by: tuple[str, ...] = (),
    text: tuple[str, ...] = (),
) -> int:
    """Write ``table`` (any relation DuckDB can read) to Parquet at ``path`` for Spark; the
    number of rows. ``UBIGINT`` columns become ``BIGINT`` with the same bits, the columns
    ``text`` become text; with ``partition_by`` the file is a folder of Hive partitions."""
    described = con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()
    columns = [
        f'CAST("{name}" AS VARCHAR) AS "{name}"'
        if name in text
        else signed_sql(f'"{name}"')
        if kind == "UBIGINT"
        else f'"{name}"'
        for name, kind, *_ in described
    ]
    options = "FORMAT parquet"
    if partition_by:
        options += ", PARTITION_BY (" + ", ".join(f'"{c}"' for c in partition_by) + ")"
    con.execute(f"COPY (SELECT {', '.join(columns)} FROM {table}) TO '{_path(path)}' ({options})")
    row = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    return int(row[0])


def read_parquet_sql(path: str) -> str:
    """A relation of the folder of Parquet files Spark wrote at ``path``."""
    return f"read_parquet('{_path(path.rstrip('/'))}/*.parquet')"


def _path(path: str) -> str:
    # paths are the engine's own temporary or configured folders, never a record's value;
    # a quote in a folder name must not end the SQL string
    return path.replace("'", "''")
