"""The Spark engine (optional: ``pip install 'thbmonitor[spark]'``): a session for the linkage.

Only :mod:`thbmonitor.pipeline` imports this module, and only when the setting ``engine`` is
``spark``; pyspark itself is imported inside :func:`spark_session`, so that a missing pyspark
is a clear :class:`~thbmonitor.errors.EngineError` saying how to install it, never an
``ImportError``. The store stays DuckDB: the round's tables move to Spark and back as Parquet
files in :attr:`SparkEngine.exchange` (see :mod:`thbmonitor.linkage.spark`).

Settings: ``spark_master`` (any Spark master URL), ``spark_checkpoint_dir`` (Splink breaks
Spark's lineage by checkpointing; on a cluster this folder must be seen alike by the driver
and the executors), ``spark_config`` (any other Spark setting, applied last, so it overrides
the defaults chosen here for local masters).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thbmonitor.config import Settings
from thbmonitor.errors import EngineError

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'thbmonitor[spark]'"
APP_NAME = "thbmonitor"


def local_defaults(master: str) -> dict[str, str]:
    """Spark settings for a master on this machine: few shuffle partitions (Spark's 200 cost
    more than the work on a small round), no web UI, and the loopback address only."""
    if not master.startswith("local"):
        return {}
    return {
        "spark.sql.shuffle.partitions": "8",
        "spark.default.parallelism": "8",
        "spark.ui.enabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


def require_pyspark() -> None:
    """Raise :class:`EngineError` (with how to install it) when pyspark cannot be imported."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise EngineError(
            f"the engine 'spark' needs pyspark, which is not installed: {INSTALL_HINT} "
            "(and Java 17 or later); or run with --engine duckdb"
        ) from exc


def spark_config(settings: Settings) -> dict[str, str]:
    """Every Spark setting the session is built with (see the module docstring)."""
    from splink.backends.spark import similarity_jar_location

    return {
        "spark.app.name": APP_NAME,
        # Splink's similarity functions (Jaro-Winkler, ...) are Scala UDFs in this jar
        "spark.jars": similarity_jar_location(),
        **local_defaults(settings.spark_master),
        **settings.spark_config,
    }


def spark_session(settings: Settings) -> Any:
    """A Spark session for the settings (an active one is reused, as pyspark does)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(settings.spark_master)
    for name, value in spark_config(settings).items():
        builder = builder.config(name, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, the master cannot be reached, ...
        raise EngineError(
            f"could not start Spark with master {settings.spark_master} "
            f"({type(exc).__name__}); check Java 17 and the setting spark_master"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")  # Spark's warnings would flood the console
    return session


@dataclass(frozen=True)
class SparkEngine:
    """A Spark session and the folder the round's tables move through as Parquet."""

    session: Any  # pyspark.sql.SparkSession
    exchange: Path
    master: str

    def path(self, name: str) -> str:
        """Where the table ``name`` is written for the other engine to read."""
        return str(self.exchange / f"{name}.parquet")


@contextmanager
def spark_engine(settings: Settings) -> Iterator[SparkEngine]:
    """A :class:`SparkEngine` for one linkage run; its exchange folder is removed after.

    A session started here is stopped after; one that was already active (a notebook's, or a
    test module's) is left running."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    session = spark_session(settings)
    if settings.spark_checkpoint_dir:
        root = Path(settings.spark_checkpoint_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EngineError(
                f"cannot make the folder spark_checkpoint_dir {root}: {exc.strerror}"
            ) from exc
        work = root / f"thbmonitor-{uuid.uuid4().hex[:12]}"
        work.mkdir()
    else:
        work = Path(tempfile.mkdtemp(prefix="thbmonitor-spark-"))
    try:
        (work / "checkpoints").mkdir()
        # Splink checkpoints to break Spark's lineage; without a folder predict() fails
        session.sparkContext.setCheckpointDir(str(work / "checkpoints"))
        (work / "exchange").mkdir()
        yield SparkEngine(session=session, exchange=work / "exchange", master=settings.spark_master)
    finally:
        for table in session.catalog.listTables():
            if table.isTemporary:
                session.catalog.dropTempView(table.name)
        session.catalog.clearCache()
        if active is None:
            session.stop()
        shutil.rmtree(work, ignore_errors=True)
