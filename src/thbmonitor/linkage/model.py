"""The Fellegi-Sunter person model: Splink, trained unsupervised, on pseudonymised inputs.

:class:`PersonModel` follows the estimator style of the package: options in ``__init__``,
``fit`` trains (prior from deterministic rules, u by random sampling, m by two EM passes) and
sets ``linker_`` and ``parameters_`` (the Splink model as a JSON-ready dict, saved with every
linkage run), ``predict`` scores the blocked pairs and returns them as a DuckDB table name.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Literal, Protocol

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator

from thbmonitor.errors import LinkageError
from thbmonitor.linkage.comparisons import (
    OPTIONAL_FIELDS,
    Dialect,
    blocking_rules,
    dedupe_rules,
    person_comparisons,
    training_rules,
)
from thbmonitor.linkage.prepare import LshSpec

if TYPE_CHECKING:
    from thbmonitor.engine.spark import SparkEngine

log = logging.getLogger(__name__)

LinkType = Literal["dedupe_only", "link_only"]
U_FLOOR = 1e-7


def quiet_splink() -> None:
    """Keep Splink's chatty INFO logging out of the user's console."""
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


class PersonModel:
    """An unsupervised Splink model of "same person" on pseudonymised identifiers.

    Parameters
    ----------
    link_type:
        ``dedupe_only`` (registrations into persons) or ``link_only`` (persons to events).
    predict_floor:
        Pairs scoring below this match probability are not kept by :meth:`predict`.
    lsh:
        MinHash banding used by the blocking rules (``None``: no LSH blocking).
    u_max_pairs, em_max_pairs:
        Pairs sampled to estimate u, and at most per EM pass (``None``: all blocked pairs).
    prior_recall:
        Assumed recall of the deterministic rules that set the prior match probability.
    fields:
        Optional exact comparisons to include (see :data:`OPTIONAL_FIELDS`).
    extra_blocking:
        More blocking rules (SQL on ``l.`` and ``r.`` columns), e.g. for extra fields.
    seed:
        Seed of the random sampling for u.
    probability_floor:
        Smallest m and u probability kept after training: a level never seen among matches
        (say, a sex mismatch) would otherwise veto a link with a weight of -50.
    """

    def __init__(
        self,
        *,
        link_type: LinkType = "dedupe_only",
        predict_floor: float = 0.01,
        lsh: LshSpec | None = None,
        u_max_pairs: float = 1e6,
        em_max_pairs: float | None = 5e5,
        prior_recall: float = 0.8,
        fields: tuple[str, ...] = OPTIONAL_FIELDS,
        extra_blocking: tuple[str, ...] = (),
        seed: int = 20211207,
        probability_floor: float = 1e-3,
    ) -> None:
        self.link_type = link_type
        self.predict_floor = predict_floor
        self.lsh = lsh if lsh is not None else LshSpec()
        self.u_max_pairs = u_max_pairs
        self.em_max_pairs = em_max_pairs
        self.prior_recall = prior_recall
        self.fields = fields
        self.extra_blocking = extra_blocking
        self.seed = seed
        self.probability_floor = probability_floor

    def settings(self, words: int = 0, dialect: Dialect = "duckdb") -> SettingsCreator:
        """The untrained Splink settings (``words``: see :func:`.comparisons.dice_sql`), with
        the comparisons written for the engine ``dialect``."""
        return SettingsCreator(
            link_type=self.link_type,
            comparisons=list[Any](person_comparisons(self.fields, words, dialect)),
            blocking_rules_to_generate_predictions=list[Any](
                [
                    *blocking_rules(self.lsh.bands),
                    *(dedupe_rules() if self.link_type == "dedupe_only" else []),
                    *self.extra_blocking,
                ]
            ),
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=False,
            unique_id_column_name="unique_id",
            max_iterations=25,
        )

    def _linker(self, tables: Tables, names: list[str], settings: Any) -> Linker:
        quiet_splink()
        db_api = tables.db_api()
        frames = [db_api.register(t, table_name=t) for t in names]
        inputs: Any = frames[0] if len(frames) == 1 else frames
        return Linker(inputs, settings, log_level=None)

    def load(self, parameters: dict[str, Any]) -> PersonModel:
        """Use a model trained before (:attr:`parameters_` of an earlier fit, on either
        engine) instead of training: :meth:`fit` then only sets the model up."""
        self.trained_ = parameters
        return self

    def fit(self, con: duckdb.DuckDBPyConnection | Tables, tables: str | list[str]) -> PersonModel:
        """Train on the linkage input table(s) (one to dedupe; left and right to link), on
        DuckDB (a connection) or another engine's :class:`Tables`; with a model given to
        :meth:`load`, set that model up on them instead."""
        engine = DuckDBTables(con) if isinstance(con, duckdb.DuckDBPyConnection) else con
        names = [tables] if isinstance(tables, str) else list(tables)
        for name in names:
            if engine.count(name) < 2:
                raise LinkageError(f"too few records to train a linkage model in '{name}'")
        words = sum(1 for c in engine.columns(names[0]) if c.startswith("bf_first_w"))
        settings = self.settings(words, engine.dialect)
        trained = getattr(self, "trained_", None)
        if trained is not None:
            self.linker_ = self._linker(
                engine, names, trained_settings(settings, trained, engine.dialect)
            )
            self.tables_ = names
            self.seconds_: dict[str, float] = {}
            self.parameters_: dict[str, Any] = self.linker_.misc.save_model_to_json()
            return self
        linker = self._linker(engine, names, settings)
        rules = training_rules()
        training = linker.training
        clock = time.perf_counter()
        training.estimate_probability_two_random_records_match(
            rules["deterministic"], recall=self.prior_recall
        )
        self.seconds_ = {"prior": time.perf_counter() - clock}
        clock = time.perf_counter()
        # one chunk, no early stop: Splink's chunked probing costs 4x more on this model
        training.estimate_u_using_random_sampling(
            max_pairs=self.u_max_pairs, seed=self.seed, num_chunks=1, min_count_per_level=None
        )
        self.seconds_["u"] = time.perf_counter() - clock
        for i, rule in enumerate(rules["em"]):
            clock = time.perf_counter()
            training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=self.em_max_pairs
            )
            self.seconds_[f"em{i}"] = time.perf_counter() - clock
        log.debug("training seconds: %s", self.seconds_)
        _floor_probabilities(linker, self.probability_floor)
        self.linker_ = linker
        self.tables_ = names
        self.parameters_ = linker.misc.save_model_to_json()
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """m and u probabilities and match weights per comparison level."""
        rows = []
        for comparison in self.parameters_["comparisons"]:
            for level in comparison["comparison_levels"]:
                if level.get("is_null_level"):
                    continue
                m, u = level.get("m_probability"), level.get("u_probability")
                rows.append(
                    {
                        "comparison": comparison["output_column_name"],
                        "level": level.get("label_for_charts", ""),
                        "m": m,
                        "u": u,
                    }
                )
        frame = pd.DataFrame(rows)
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            frame["match_weight"] = np.log2(frame["m"].astype(float) / frame["u"].astype(float))
        return frame

    def predict(self, floor: float | None = None) -> str:
        """Score the blocked pairs; the name of the DuckDB table of edges kept.

        Columns: ``unique_id_l``, ``unique_id_r`` (and ``source_dataset_l/_r`` when linking),
        ``match_weight``, ``match_probability``.
        """
        edges = self.linker_.inference.predict(
            threshold_match_probability=self.predict_floor if floor is None else floor
        )
        return str(edges.physical_name)


class Tables(Protocol):
    """The linkage input tables on one engine, as the model needs them."""

    dialect: Dialect

    def count(self, name: str) -> int: ...

    def columns(self, name: str) -> list[str]: ...

    def db_api(self) -> Any: ...

    def fetch(self, con: duckdb.DuckDBPyConnection, view: str, columns: str, name: str) -> str:
        """A DuckDB table (or view) on ``con`` holding ``columns`` of this engine's ``view``."""
        ...


class DuckDBTables:
    """:class:`Tables` on a DuckDB connection."""

    dialect: Dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def count(self, name: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0]
        return int(row[0]) if row else 0

    def columns(self, name: str) -> list[str]:
        return [str(r[0]) for r in self.con.execute(f"DESCRIBE {name}").fetchall()]

    def db_api(self) -> Any:
        return DuckDBAPI(connection=self.con)

    def fetch(self, con: duckdb.DuckDBPyConnection, view: str, columns: str, name: str) -> str:
        return view  # already there


def engine_tables(
    con: duckdb.DuckDBPyConnection, spark: SparkEngine | None, names: list[str]
) -> Tables:
    """The linkage input tables ``names`` of the DuckDB workspace ``con`` on the engine that
    runs the model: DuckDB itself, or Spark (``spark``; the tables are sent as Parquet)."""
    if spark is None:
        return DuckDBTables(con)
    from thbmonitor.linkage.spark import SparkTables

    tables = SparkTables(spark)
    for name in names:
        tables.load(con, name)
    return tables


def trained_settings(
    settings: SettingsCreator, trained: dict[str, Any], dialect: Dialect
) -> dict[str, Any]:
    """Splink settings for ``dialect`` with the probabilities of a trained model.

    The comparisons' SQL is this version's, written for ``dialect``
    (:mod:`.comparisons`); of the trained model only the prior, and m and u of each level,
    are taken, matched by comparison and level label. A model whose comparisons differ is
    refused (trained by another version of the model)."""
    out = settings.create_settings_dict(dialect)
    mine = out["comparisons"]
    theirs = {c.get("output_column_name"): c for c in trained.get("comparisons", [])}
    if sorted(theirs) != sorted(c["output_column_name"] for c in mine) or trained.get(
        "link_type"
    ) != out.get("link_type"):
        raise LinkageError(
            "the linkage model file does not fit this linkage (other comparisons or link "
            "type); link without --model to train a model"
        )
    for comparison in mine:
        name = comparison["output_column_name"]
        levels, given = comparison["comparison_levels"], theirs[name]["comparison_levels"]
        labels = [lv.get("label_for_charts") for lv in levels]
        if labels != [lv.get("label_for_charts") for lv in given]:
            raise LinkageError(
                f"the linkage model file has other levels for the comparison '{name}'; "
                "link without --model to train a model"
            )
        for level, trained_level in zip(levels, given, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in trained_level:
                    level[key] = trained_level[key]
    out["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    return out


def _floor_probabilities(linker: Linker, floor: float) -> None:
    """Raise m probabilities below ``floor`` (or never estimated) to ``floor``; u likewise to
    :data:`U_FLOOR` (u may be truly tiny: two strangers sharing a birth date)."""
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            # a level never observed among matches in training gets the floor, not Splink's
            # default (which spreads m evenly and can make "same year" count for a match)
            trained = level._m_probability
            if not isinstance(trained, float) or trained < floor:
                level.m_probability = floor
            u = level._u_probability
            if not isinstance(u, float) or u < U_FLOOR:
                level.u_probability = U_FLOOR
