"""The DuckDB store: one database file per monitoring round."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from thbmonitor.errors import StoreError

log = logging.getLogger(__name__)


@contextmanager
def memory_capped(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's ``memory_limit`` set to ``limit`` (e.g. ``"1GB"``) inside, the earlier value
    after: above it DuckDB writes to disk (spills, or the rows of an open transaction to the
    database file) instead of holding everything in memory."""
    earlier = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    con.execute("SET memory_limit = ?", [limit]).fetchall()
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [earlier]).fetchall()


class Store:
    """A connection to the monitoring store, with transactions and bound parameters."""

    def __init__(self, path: str | Path, *, read_only: bool = False, threads: int | None = None):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(f"no monitoring store at {self.path}; run 'thbmonitor ingest' first")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise StoreError(
                f"cannot open the monitoring store {self.path}: it is locked by another "
                "process or is not a DuckDB file"
            ) from exc
        if threads:
            self.execute(f"SET threads = {int(threads)}")
        self.execute("SET preserve_insertion_order = false")

    # -- context management ---------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: a failure inside rolls every statement back."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")

    # -- execution ------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """Run a statement to completion (its result, if any, is discarded)."""
        with self._errors():
            self.con.execute(sql, params).fetchall()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's own messages may quote values (a duplicate key, say): they stay in the
        chained exception for a developer's traceback; the user sees what failed and what to do.
        """
        try:
            yield
        except duckdb.TransactionException as exc:
            raise StoreError(
                f"the monitoring store {self.path} is in use by another process (or could not "
                "commit); nothing was written. Close the other process and run the command again"
            ) from exc
        except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
            raise StoreError(
                f"the monitoring store {self.path} could not be written ({type(exc).__name__}); "
                "nothing was written. Check the disk space and permissions"
            ) from exc

    def df(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """The result of a query as a pandas frame."""
        with self._errors():
            return self.con.execute(sql, params).df()

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[Any]:
        with self._errors():
            return self.con.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def memory_capped(self, limit: str) -> contextlib.AbstractContextManager[None]:
        """:func:`memory_capped` on this store's connection."""
        return memory_capped(self.con, limit)

    def append(self, table: str, frame: pd.DataFrame, casts: dict[str, str] | None = None) -> None:
        """Insert the rows of ``frame`` into ``table`` (columns by name; ``casts``: column ->
        SQL type to cast it to first).

        The frame is read by DuckDB's scan of a local variable, not :meth:`register`: a
        registered frame stays referenced by its dropped view until the transaction ends, so an
        ingest of a million rows in chunks kept every chunk's Arrow buffers until its commit.
        """
        casts = casts or {}
        names = ", ".join(frame.columns)
        select = ", ".join(
            f"CAST({c} AS {casts[c]})" if c in casts else str(c) for c in frame.columns
        )
        _thbmonitor_rows = frame
        with self._errors():
            sql = f"INSERT INTO {table} ({names}) SELECT {select} FROM _thbmonitor_rows"
            self.con.execute(sql).fetchall()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Expose a frame to SQL under ``name`` (until :meth:`unregister`)."""
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def has_table(self, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        )
