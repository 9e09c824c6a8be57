"""Deduplication of registrations into persons: prepare, train, score, cluster.

:func:`dedupe` works on any registrations-like table reachable from a DuckDB connection and
returns the clusters; :func:`thbmonitor.linkage.link_registrations` wraps it for the store and
adds stable person ids.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from thbmonitor.linkage.clustering import ClusterResult, cluster, components, weight_of
from thbmonitor.linkage.model import PersonModel, engine_tables
from thbmonitor.linkage.prepare import LshSpec, create_input, workspace

if TYPE_CHECKING:
    from thbmonitor.engine.spark import SparkEngine

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

INPUT = "lk_records"
# other match-probability thresholds the same scored pairs are clustered at, to show how much
# the hidden number depends on the linkage (``registration_person_sensitivity``)
SENSITIVITY_THRESHOLDS: tuple[float, ...] = (0.5, 0.99)


@dataclass(frozen=True)
class DedupeResult:
    """Clusters of one deduplication: ``clusters`` has ``record_id`` and integer ``cluster``."""

    clusters: pd.DataFrame
    parameters: dict[str, Any]
    model_summary: pd.DataFrame
    n_records: int
    n_edges: int
    clustering: ClusterResult
    components: np.ndarray  # plain connected-component labels at the threshold, for comparison
    seconds: dict[str, float] = field(default_factory=dict)
    # clusterings of the same scored pairs at the ``sensitivity`` thresholds (labels per record)
    sensitivity: dict[float, ClusterResult] = field(default_factory=dict)
    # the scored pairs: record_id_l < record_id_r, match_weight, match_probability
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def dedupe(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    threshold: float = 0.9,
    veto_weight: float | None = 0.0,
    model: PersonModel | None = None,
    id_column: str = "registration_id",
    date_column: str = "registration_date",
    age_column: str | None = "age_at_exploitation",
    nationality_column: str | None = "nationality_primary",
    extra_columns: tuple[str, ...] = ("municipality",),
    sensitivity: tuple[float, ...] = (),
    labels: pd.DataFrame | None = None,
    progress: Progress | None = None,
    spark: SparkEngine | None = None,
) -> DedupeResult:
    """Deduplicate the rows of ``source`` (a table or view name, qualified if need be).

    ``threshold`` is the match probability of a link; ``veto_weight`` the mean match weight a
    merge must keep (``None``: plain connected components). The same scored pairs are also
    clustered (same veto and scorer) at each ``sensitivity`` threshold other than ``threshold``.
    ``labels`` (``left_id``, ``right_id``, ``label`` = ``match`` | ``non-match``: clerical
    review judgements) are kept by every clustering; pairs naming an id not in ``source`` are
    left out. With ``spark`` the model is trained (or set up, see
    :meth:`~thbmonitor.linkage.model.PersonModel.load`) and the pairs scored on Spark
    (:mod:`.spark`); the input is prepared and the pairs clustered here as on DuckDB.
    """
    say = progress or (lambda _msg: None)
    model = model or PersonModel(lsh=LshSpec())
    seconds: dict[str, float] = {}
    with workspace(con) as home:
        qualified = source if "." in source else f'"{home}".main.{source}'
        t0 = time.perf_counter()
        say("preparing linkage input")
        n = create_input(
            con,
            INPUT,
            qualified,
            id_column=id_column,
            date_column=date_column,
            age_column=age_column,
            nationality_column=nationality_column,
            lsh=model.lsh,
            extra_columns=extra_columns,
        )
        tables = engine_tables(con, spark, [INPUT])
        seconds["prepare"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say(f"training the linkage model on {n} records")
        model.fit(tables, INPUT)
        seconds["train"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say("scoring candidate pairs")
        columns = "unique_id_l, unique_id_r, match_weight, match_probability"
        edges_table = tables.fetch(con, model.predict(), columns, "lk_edges")
        edges = con.execute(f"SELECT {columns} FROM {edges_table}").fetchnumpy()
        seconds["predict"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say(f"clustering {len(edges['match_weight'])} scored pairs")
        # unique_id is 1..n; nodes are 0..n-1
        left = np.asarray(edges["unique_id_l"], dtype=np.int64) - 1
        right = np.asarray(edges["unique_id_r"], dtype=np.int64) - 1
        weight = np.asarray(edges["match_weight"], dtype=np.float64)
        scorer = _scorer(model)
        ids = con.execute(f"SELECT unique_id, record_id FROM {INPUT} ORDER BY unique_id").df()
        must, cannot = judged_nodes(ids["record_id"], labels)
        options: dict[str, Any] = {
            "veto_weight": veto_weight,
            "scorer": scorer,
            "must": must,
            "cannot": cannot,
        }
        result = cluster(n, left, right, weight, weight_of(threshold), **options)
        others = {
            float(t): cluster(n, left, right, weight, weight_of(t), **options)
            for t in sorted(set(sensitivity) - {threshold})
        }
        seconds["cluster"] = time.perf_counter() - t0
    record_ids = ids["record_id"].to_numpy()
    clusters = pd.DataFrame({"record_id": record_ids, "cluster": result.labels[: len(ids)]})
    # a pair is named by its two record ids, the smaller (as text) first
    a, b = record_ids[left].astype(str), record_ids[right].astype(str)
    pairs = pd.DataFrame(
        {
            "record_id_l": np.where(a < b, a, b),
            "record_id_r": np.where(a < b, b, a),
            "match_weight": weight,
            "match_probability": np.asarray(edges["match_probability"], dtype=np.float64),
        }
    )
    return DedupeResult(
        clusters=clusters,
        parameters=model.parameters_,
        model_summary=model.summary,
        n_records=n,
        n_edges=len(weight),
        clustering=result,
        components=components_of(n, left, right, weight, weight_of(threshold)),
        seconds=seconds,
        sensitivity=others,
        pairs=pairs,
    )


def judged_nodes(
    record_ids: pd.Series, labels: pd.DataFrame | None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Node pairs (0-based positions in ``record_ids``) judged a match and a non-match."""
    empty = np.zeros(0, dtype=np.int64)
    if labels is None or labels.empty:
        return (empty, empty), (empty, empty)
    position = pd.Series(np.arange(len(record_ids), dtype=np.int64), index=record_ids.astype(str))
    a = position.reindex(labels["left_id"].astype(str)).to_numpy()
    b = position.reindex(labels["right_id"].astype(str)).to_numpy()
    known = ~(np.isnan(a) | np.isnan(b))
    is_match = labels["label"].to_numpy() == "match"
    sel_m, sel_c = known & is_match, known & ~is_match
    return (
        (a[sel_m].astype(np.int64), b[sel_m].astype(np.int64)),
        (a[sel_c].astype(np.int64), b[sel_c].astype(np.int64)),
    )


# Splink refuses a table name registered before on the same linker, and a model's linker
# outlives one scorer (a round linked after another reuses it): one count for the process
_PAIR_TABLES = itertools.count()


def _scorer(model: PersonModel) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Score pairs of nodes (0-based) with the trained model, through Splink's predict (on
    whichever engine the model was set up)."""

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        pairs = pd.DataFrame(
            {
                "match_key": "0",
                "join_key_l": np.minimum(a, b) + 1,
                "join_key_r": np.maximum(a, b) + 1,
            }
        )
        linker = model.linker_
        sdf = linker._db_api.register(pairs, table_name=f"_lk_pairs_{next(_PAIR_TABLES)}")
        linker.table_management.register_blocked_pairs_for_predict(sdf)
        got = linker.inference.predict().as_pandas_dataframe()
        got = got[["unique_id_l", "unique_id_r", "match_weight"]].astype(
            {"unique_id_l": "int64", "unique_id_r": "int64", "match_weight": "float64"}
        )
        frame = pd.DataFrame(
            {"unique_id_l": pairs["join_key_l"], "unique_id_r": pairs["join_key_r"]}
        )
        frame = frame.merge(got, on=["unique_id_l", "unique_id_r"], how="left")
        return frame["match_weight"].fillna(0.0).to_numpy(dtype=np.float64)

    return score


def components_of(
    n: int, left: np.ndarray, right: np.ndarray, weight: np.ndarray, threshold_weight: float
) -> np.ndarray:
    """Connected-component labels of the links at or above the threshold."""
    strong = weight >= threshold_weight
    return components(n, left[strong], right[strong])
