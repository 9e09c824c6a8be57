"""The Fellegi-Sunter person model: Splink, trained unsupervised, on pseudonymised inputs.

:class:`PersonModel` follows the estimator style of the package: options in ``__init__``,
``fit`` trains (prior from deterministic rules, u by random sampling, m by two EM passes) and
sets ``linker_`` and ``parameters_`` (the Splink model as a JSON-ready dict, saved with every
linkage run), ``predict`` scores the blocked pairs and returns them as a DuckDB table name.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator

from thbmonitor.errors import LinkageError
from thbmonitor.linkage.comparisons import (
    OPTIONAL_FIELDS,
    blocking_rules,
    dedupe_rules,
    person_comparisons,
    training_rules,
)
from thbmonitor.linkage.prepare import LshSpec, filter_words

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

    def settings(self, words: int = 0) -> SettingsCreator:
        """The untrained Splink settings (``words``: see :func:`.comparisons.dice_sql`)."""
        return SettingsCreator(
            link_type=self.link_type,
            comparisons=list[Any](person_comparisons(self.fields, words)),
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

    def _linker(self, con: duckdb.DuckDBPyConnection, tables: list[str], settings: Any) -> Linker:
        quiet_splink()
        db_api = DuckDBAPI(connection=con)
        frames = [db_api.register(t, table_name=t) for t in tables]
        inputs: Any = frames[0] if len(frames) == 1 else frames
        return Linker(inputs, settings, log_level=None)

    def fit(self, con: duckdb.DuckDBPyConnection, tables: str | list[str]) -> PersonModel:
        """Train on the linkage input table(s) (one to dedupe; left and right to link)."""
        names = [tables] if isinstance(tables, str) else list(tables)
        for name in names:
            row = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0]
            if not row or row[0] < 2:
                raise LinkageError(f"too few records to train a linkage model in '{name}'")
        linker = self._linker(con, names, self.settings(filter_words(con, names[0])))
        rules = training_rules()
        training = linker.training
        clock = time.perf_counter()
        training.estimate_probability_two_random_records_match(
            rules["deterministic"], recall=self.prior_recall
        )
        self.seconds_: dict[str, float] = {"prior": time.perf_counter() - clock}
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
        self.parameters_: dict[str, Any] = linker.misc.save_model_to_json()
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
