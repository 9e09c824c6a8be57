"""Registrations -> persons in the store: deduplicate, keep ids stable, record the run."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import LinkageError
from thbmonitor.linkage.dedupe import SENSITIVITY_THRESHOLDS, DedupeResult, Progress, dedupe
from thbmonitor.linkage.identity import next_id_number, reconcile
from thbmonitor.linkage.model import PersonModel
from thbmonitor.linkage.prepare import REGISTRATION_AGE, LshSpec
from thbmonitor.linkage.review import REGISTRATION, stored_labels

if TYPE_CHECKING:
    from thbmonitor.engine.spark import SparkEngine
    from thbmonitor.linkage.modelfile import LinkageModels

log = logging.getLogger(__name__)

METHOD = "splink-fellegi-sunter+average-veto"
VETO_WEIGHT = 0.0


@dataclass(frozen=True)
class LinkageSummary:
    """What one run of :func:`link_registrations` did."""

    run_id: int
    n_registrations: int
    n_persons: int
    n_registrations_merged: int  # registrations that joined another registration's person
    n_persons_kept: int
    n_persons_new: int
    n_persons_merged: int  # earlier ids retired because their person merged into another
    n_persons_split: int  # earlier ids some of whose registrations went to another person
    threshold: float
    method: str
    seconds: dict[str, float] = field(default_factory=dict)
    dedupe: DedupeResult | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The figures of the run (without the clustering details)."""
        out = asdict(self)
        out.pop("dedupe", None)
        return out


def build_model(settings: Settings) -> PersonModel:
    """The registration model with the run's seed."""
    return PersonModel(link_type="dedupe_only", lsh=LshSpec(seed=settings.seed), seed=settings.seed)


def link_registrations(
    store: Store,
    settings: Settings,
    progress: Progress | None = None,
    *,
    models: LinkageModels | None = None,
    spark: SparkEngine | None = None,
) -> LinkageSummary:
    """Deduplicate all registrations into persons and write the linkage tables.

    Writes ``registration_person`` (replaced), ``person_ids`` (new ids appended),
    ``person_id_changes`` and one ``linkage_runs`` row holding the trained Splink model and the
    clustering options as JSON. Ids of persons known from earlier runs are kept. The same scored
    pairs clustered at :data:`~thbmonitor.linkage.dedupe.SENSITIVITY_THRESHOLDS` go to
    ``registration_person_sensitivity`` (replaced; cluster labels, not person ids). The
    scored pairs go to ``registration_pairs`` (replaced; see :func:`pairs_frame`). Pairs judged
    in clerical review (``review_labels``) are kept: joined when judged a match, apart when not.
    With ``models`` (of an earlier run, on either engine; :mod:`.modelfile`) the registration
    model is applied instead of training one; with ``spark`` the model runs on Spark.
    """
    n = int(store.scalar("SELECT count(*) FROM registrations") or 0)
    if n < 2:
        raise LinkageError("fewer than two registrations in the store; ingest some first")
    t0 = time.perf_counter()
    labels = stored_labels(store, REGISTRATION)
    model = build_model(settings)
    if models is not None:
        model.lsh = LshSpec(**models.lsh)
        model.load(models.registrations)
    result = dedupe(
        store.con,
        "registrations",
        threshold=settings.linkage_threshold,
        veto_weight=VETO_WEIGHT,
        model=model,
        age_column=REGISTRATION_AGE,
        sensitivity=SENSITIVITY_THRESHOLDS,
        labels=labels,
        progress=progress,
        spark=spark,
    )
    clusters = result.clusters.rename(columns={"record_id": "registration_id"})
    previous = store.df("SELECT registration_id, person_id FROM registration_person")
    issued = store.df("SELECT person_id FROM person_ids")["person_id"]
    rec = reconcile(clusters, previous, next_id_number(issued))
    run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM linkage_runs"))
    n_persons = int(rec.assignment["person_id"].nunique())
    seconds = {**result.seconds, "total": time.perf_counter() - t0}
    parameters = {
        "splink_model": result.parameters,
        "threshold": settings.linkage_threshold,
        "veto_weight": VETO_WEIGHT,
        "lsh": asdict(model.lsh),
        "predict_floor": model.predict_floor,
        "engine": "spark" if spark is not None else "duckdb",
        "model_given": models is not None,
    }
    notes = {
        "kind": "registrations",
        "n_edges": result.n_edges,
        "components": result.clustering.components,
        "components_rechecked": result.clustering.checked,
        "components_split": result.clustering.split,
        "review_labels": len(labels),
        "review_conflicts": result.clustering.conflicts,
        "n_persons_split": rec.n_split,
        "sensitivity_persons": {
            str(t): len(np.unique(c.labels)) for t, c in result.sensitivity.items()
        },
        "seconds": seconds,
    }
    sensitivity = _sensitivity_frame(result)
    pairs = pairs_frame(result.pairs, rec.assignment)
    with store.transaction():
        store.execute("DELETE FROM registration_person")
        store.execute("DELETE FROM registration_person_sensitivity")
        store.execute("DELETE FROM registration_pairs")
        store.register("_lk_assignment", rec.assignment)
        store.register("_lk_new_ids", pd.DataFrame({"person_id": rec.new_ids}))
        store.register("_lk_changes", rec.changes)
        store.register("_lk_sensitivity", sensitivity)
        store.register("_lk_pairs_scored", pairs)
        try:
            store.execute("INSERT INTO registration_person SELECT * FROM _lk_assignment")
            store.execute(
                "INSERT INTO registration_person_sensitivity "
                "SELECT threshold, registration_id, cluster FROM _lk_sensitivity"
            )
            store.execute(
                "INSERT INTO registration_pairs SELECT ?, registration_id_l, registration_id_r, "
                "match_weight, match_probability, same_person FROM _lk_pairs_scored",
                [run_id],
            )
            store.execute("INSERT INTO person_ids SELECT person_id, ? FROM _lk_new_ids", [run_id])
            store.execute(
                "INSERT INTO person_id_changes SELECT ?, person_id_old, person_id_new, change "
                "FROM _lk_changes",
                [run_id],
            )
        finally:
            for name in (
                "_lk_assignment",
                "_lk_new_ids",
                "_lk_changes",
                "_lk_sensitivity",
                "_lk_pairs_scored",
            ):
                store.unregister(name)
        store.execute(
            "INSERT INTO linkage_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                datetime.now(),
                METHOD,
                json.dumps(parameters, default=str),
                n,
                n_persons,
                rec.n_kept,
                rec.n_new,
                rec.n_merged,
                json.dumps(notes, default=str),
            ],
        )
    log.info("linkage run %d: %d registrations into %d persons", run_id, n, n_persons)
    return LinkageSummary(
        run_id=run_id,
        n_registrations=n,
        n_persons=n_persons,
        n_registrations_merged=n - n_persons,
        n_persons_kept=rec.n_kept,
        n_persons_new=rec.n_new,
        n_persons_merged=rec.n_merged,
        n_persons_split=rec.n_split,
        threshold=settings.linkage_threshold,
        method=METHOD,
        seconds=seconds,
        dedupe=result,
    )


def pairs_frame(pairs: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``registration_pairs``: the scored pairs (``record_id_l/_r``, as from
    :class:`~thbmonitor.linkage.dedupe.DedupeResult`) named by registration id, with
    ``same_person`` from the assignment (``registration_id``, ``person_id``)."""
    person = assignment.set_index("registration_id")["person_id"]
    out = pd.DataFrame(
        {
            "registration_id_l": pairs["record_id_l"].to_numpy(),
            "registration_id_r": pairs["record_id_r"].to_numpy(),
            "match_weight": pairs["match_weight"].to_numpy(dtype=np.float64),
            "match_probability": pairs["match_probability"].to_numpy(dtype=np.float64),
        }
    )
    left = person.reindex(out["registration_id_l"]).to_numpy()
    right = person.reindex(out["registration_id_r"]).to_numpy()
    out["same_person"] = left == right
    return out


def _sensitivity_frame(result: DedupeResult) -> pd.DataFrame:
    """``threshold, registration_id, cluster`` rows of the sensitivity clusterings."""
    ids = result.clusters["record_id"].to_numpy()
    parts = [
        pd.DataFrame(
            {
                "threshold": np.full(len(ids), t, dtype=np.float64),
                "registration_id": ids,
                "cluster": c.labels[: len(ids)].astype(np.int64),
            }
        )
        for t, c in sorted(result.sensitivity.items())
    ]
    if not parts:
        return pd.DataFrame(
            {
                "threshold": pd.Series(dtype="float64"),
                "registration_id": pd.Series(dtype="object"),
                "cluster": pd.Series(dtype="int64"),
            }
        )
    return pd.concat(parts, ignore_index=True)


def export_persons(store: Store, path: str) -> int:
    """Write ``registration_id,person_id`` for every registration to a CSV file; row count."""
    frame = store.df(
        "SELECT registration_id, person_id FROM registration_person ORDER BY registration_id"
    )
    if frame.empty:
        raise LinkageError("no linkage in the store yet; run 'thbmonitor link' first")
    for column in frame.columns:
        frame[column] = frame[column].map(spreadsheet_safe)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.writing")  # written whole, then moved into place
    try:
        frame.to_csv(tmp, index=False)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return len(frame)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula (it begins
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; OWASP's CSV injection rule).
    A registration id is the reporting organisation's text: opened in Excel, ``=HYPERLINK(..)``
    would run."""
    return "'" + text if text.startswith(FORMULA_START) else text


def spreadsheet_unsafe(text: str) -> str:
    """The id that :func:`spreadsheet_safe` escaped: ``text`` without the leading ``'`` it
    put before a formula-like start (a review file read back after Excel)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
