"""Clerical review: a sample of uncertain pairs out, judgements back in, kept in the store.

Production linkage teams judge the pairs their model is least sure of, measure the model on
those judgements and fix the pairs. Here the office that holds the identifiers (the registry)
judges; the monitor only ever writes and reads ids and scores:

* :func:`review_sample` picks the ``n`` most uncertain registration pairs (from
  ``registration_pairs``: match weight closest to the linkage threshold's) and the ``n`` most
  uncertain person-event links (from ``person_police``: probability closest to the police
  threshold), leaving out pairs judged before; :func:`write_sample` writes them as CSV with an
  empty ``label`` column to fill in.
* :func:`read_labels` reads a judged file back (``pair_kind``, ``left_id``, ``right_id``,
  ``label`` = ``match`` | ``non-match``; other columns are ignored, rows without a label are
  skipped) and :func:`check_labels` checks the ids against the store; every problem is
  reported at once by row and field, never by value (:class:`~thbmonitor.errors.
  ReviewFileError`), and nothing is stored.
* :func:`evaluate` measures the current linkage on the judged pairs: precision and recall
  with Wilson score intervals (statsmodels), and the model's mean match probability against
  the share judged a match. The pairs were chosen as the most uncertain, so the figures
  describe the hard cases, not the linkage as a whole: a lower bound on its quality.
* :func:`record_labels` stores the judgements in ``review_labels`` (a later judgement of the
  same pair replaces the earlier one). Every later ``link`` keeps them: registration pairs
  judged a match are always joined and pairs judged a non-match never (see
  :func:`thbmonitor.linkage.clustering.cluster`), and :func:`apply_police_labels` fixes the
  person-event links after the police linkage.

Pair ids: a registration pair is ``left_id`` < ``right_id`` (two registration ids, the smaller
as text first; given the other way round they are swapped); a person-event pair is a person id
(see ``link --export-persons`` for its registrations) and a police event id.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import InputError, LinkageError, Problem, ReviewFileError
from thbmonitor.linkage.clustering import weight_of

log = logging.getLogger(__name__)

REGISTRATION, POLICE = "registration", "police"
KINDS: tuple[str, ...] = (REGISTRATION, POLICE)
MATCH, NON_MATCH = "match", "non-match"
LABELS: tuple[str, ...] = (MATCH, NON_MATCH)
COLUMNS: tuple[str, ...] = ("pair_kind", "left_id", "right_id", "label")
SAMPLE_COLUMNS: tuple[str, ...] = (
    "pair_kind",
    "left_id",
    "right_id",
    "match_probability",
    "match_weight",
    "linked",
    "label",
)
CONFIDENCE = 0.95


# -- the sample --------------------------------------------------------------------------


def review_sample(store: Store, n: int, settings: Settings) -> pd.DataFrame:
    """The ``n`` most uncertain registration pairs and the ``n`` most uncertain person-event
    links of the store's current linkage, not judged before (columns :data:`SAMPLE_COLUMNS`).

    Registration pairs are ranked by the distance of their match weight from the weight of
    ``linkage_threshold``; person-event links (only links kept are in the store, so this
    reviews false links, not missed ones) by the distance from ``police_link_threshold``.
    """
    if n < 1:
        raise LinkageError("the review sample needs at least one pair (--review-sample N, N > 0)")
    reg = store.df(
        """
        SELECT 'registration' AS pair_kind, p.registration_id_l AS left_id,
               p.registration_id_r AS right_id, p.match_probability, p.match_weight,
               p.same_person AS linked
        FROM registration_pairs p
        WHERE NOT EXISTS (
            SELECT 1 FROM review_labels r WHERE r.pair_kind = 'registration'
            AND r.left_id = p.registration_id_l AND r.right_id = p.registration_id_r)
        ORDER BY abs(p.match_weight - ?), p.registration_id_l, p.registration_id_r
        LIMIT ?
        """,
        [weight_of(settings.linkage_threshold), n],
    )
    police = store.df(
        """
        SELECT 'police' AS pair_kind, p.person_id AS left_id, p.event_id AS right_id,
               p.match_probability, true AS linked
        FROM person_police p
        WHERE NOT EXISTS (
            SELECT 1 FROM review_labels r WHERE r.pair_kind = 'police'
            AND r.left_id = p.person_id AND r.right_id = p.event_id)
        ORDER BY abs(p.match_probability - ?), p.person_id, p.event_id
        LIMIT ?
        """,
        [settings.police_link_threshold, n],
    )
    p = police["match_probability"].to_numpy(dtype=np.float64).clip(1e-12, 1 - 1e-12)
    police["match_weight"] = np.log2(p / (1 - p))
    out = pd.concat([reg, police[reg.columns]], ignore_index=True)
    out["label"] = ""
    return out[list(SAMPLE_COLUMNS)]


def write_sample(sample: pd.DataFrame, path: str | Path) -> int:
    """Write the sample as CSV (written whole, then moved into place); its row count."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"the folder of {path} does not exist")
    from thbmonitor.linkage.persons import spreadsheet_safe  # persons imports this module

    tmp = path.with_name(f".{path.name}.writing")
    sample = sample.assign(
        left_id=sample["left_id"].astype(str).map(spreadsheet_safe),
        right_id=sample["right_id"].astype(str).map(spreadsheet_safe),
    )
    sample.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(path)
    return len(sample)


# -- the judgements ----------------------------------------------------------------------


def read_labels(path: str | Path) -> pd.DataFrame:
    """The judged pairs of a review file: ``pair_kind, left_id, right_id, label`` per row
    (``row``: the file's data row number, header = 0); rows without a label are left out.

    Raises :class:`~thbmonitor.errors.InputError` for a file that cannot be read or lacks a
    column, and :class:`~thbmonitor.errors.ReviewFileError` with every bad row and field.
    """
    path = Path(path)
    name = path.name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"no review file at {path}") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{name} cannot be read as a CSV review file ({type(exc).__name__}); it needs "
            f"the columns {', '.join(COLUMNS)}"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} lacks the column(s) {', '.join(missing)}; a review file has "
            f"{', '.join(COLUMNS)} (the sample written by 'link --review-sample')"
        )
    frame = frame[list(COLUMNS)].apply(lambda s: s.str.strip())
    from thbmonitor.linkage.persons import spreadsheet_unsafe  # persons imports this module

    for column in ("left_id", "right_id"):  # the sample's escape of formula-like ids
        frame[column] = frame[column].map(spreadsheet_unsafe)
    frame["label"] = frame["label"].str.lower().str.replace("_", "-", regex=False)
    frame["pair_kind"] = frame["pair_kind"].str.lower()
    frame.insert(0, "row", np.arange(1, len(frame) + 1))
    problems: list[Problem] = []
    for row, kind, left, right, label in frame.itertuples(index=False):
        if not label:
            continue
        if label not in LABELS:
            problems.append(Problem(name, row, "label", "must be 'match' or 'non-match'"))
        if kind not in KINDS:
            problems.append(Problem(name, row, "pair_kind", "must be 'registration' or 'police'"))
        if not left:
            problems.append(Problem(name, row, "left_id", "is empty"))
        if not right:
            problems.append(Problem(name, row, "right_id", "is empty"))
        elif kind == REGISTRATION and left == right:
            problems.append(Problem(name, row, "right_id", "is the same registration as left_id"))
    labelled = frame[frame["label"] != ""].copy()
    # a registration pair is named by its smaller id first
    swap = (labelled["pair_kind"] == REGISTRATION) & (labelled["left_id"] > labelled["right_id"])
    labelled.loc[swap, ["left_id", "right_id"]] = labelled.loc[
        swap, ["right_id", "left_id"]
    ].to_numpy()
    twice = labelled.duplicated(["pair_kind", "left_id", "right_id"], keep=False)
    if twice.any():
        for _, group in labelled[twice].groupby(["pair_kind", "left_id", "right_id"]):
            if group["label"].nunique() > 1:
                rows = group["row"].tolist()
                problems.extend(
                    Problem(name, r, "label", f"the same pair is judged otherwise in row {o}")
                    for r, o in zip(rows[1:], rows[:-1], strict=True)
                )
    if problems:
        raise ReviewFileError(sorted(problems, key=lambda p: p.row))
    return labelled.drop_duplicates(["pair_kind", "left_id", "right_id"]).reset_index(drop=True)


def check_labels(store: Store, labels: pd.DataFrame, file: str) -> None:
    """Refuse ids the store does not hold (row and field named, never the id)."""
    store.register("_rv_labels", labels)
    try:
        unknown = store.df(
            """
            SELECT l.row, 'left_id' AS field FROM _rv_labels l
            WHERE l.pair_kind = 'registration' AND NOT EXISTS (
                SELECT 1 FROM registrations g WHERE g.registration_id = l.left_id)
            UNION ALL
            SELECT l.row, 'right_id' FROM _rv_labels l
            WHERE l.pair_kind = 'registration' AND NOT EXISTS (
                SELECT 1 FROM registrations g WHERE g.registration_id = l.right_id)
            UNION ALL
            SELECT l.row, 'left_id' FROM _rv_labels l
            WHERE l.pair_kind = 'police' AND NOT EXISTS (
                SELECT 1 FROM person_ids i WHERE i.person_id = l.left_id)
            UNION ALL
            SELECT l.row, 'right_id' FROM _rv_labels l
            WHERE l.pair_kind = 'police' AND NOT EXISTS (
                SELECT 1 FROM police_events e WHERE e.event_id = l.right_id)
            ORDER BY 1, 2
            """
        )
    finally:
        store.unregister("_rv_labels")
    if len(unknown):
        problems = [
            Problem(file, int(r), str(f), "is not an id of this store's linkage")
            for r, f in unknown.itertuples(index=False)
        ]
        raise ReviewFileError(problems)


def record_labels(store: Store, labels: pd.DataFrame, source: str | Path) -> int:
    """Store the judgements in ``review_labels`` with the current model scores; a pair judged
    before takes the new judgement. Call inside a transaction to store them with other work.
    """
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    store.register("_rv_labels", labels)
    try:
        store.execute(
            """
            INSERT OR REPLACE INTO review_labels
            SELECT l.pair_kind, l.left_id, l.right_id, l.label,
                   coalesce(p.match_probability, q.match_probability), ?, ?
            FROM _rv_labels l
            LEFT JOIN registration_pairs p ON l.pair_kind = 'registration'
                 AND p.registration_id_l = l.left_id AND p.registration_id_r = l.right_id
            LEFT JOIN (SELECT person_id, event_id, max(match_probability) AS match_probability
                       FROM person_police GROUP BY ALL) q
                 ON l.pair_kind = 'police' AND q.person_id = l.left_id AND q.event_id = l.right_id
            """,
            [datetime.now(), digest],
        )
    finally:
        store.unregister("_rv_labels")
    return len(labels)


def stored_labels(store: Store, kind: str) -> pd.DataFrame:
    """``left_id, right_id, label`` of the judgements of one kind kept in the store."""
    return store.df(
        "SELECT left_id, right_id, label FROM review_labels WHERE pair_kind = ? "
        "ORDER BY left_id, right_id",
        [kind],
    )


# -- the evaluation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A proportion with its Wilson score interval."""

    value: float
    low: float
    high: float
    successes: int
    trials: int


def rate(successes: int, trials: int, confidence: float = CONFIDENCE) -> Rate | None:
    """``successes / trials`` with a Wilson score interval; ``None`` without trials."""
    if trials == 0:
        return None
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return Rate(successes / trials, float(low), float(high), successes, trials)


@dataclass(frozen=True)
class KindEvaluation:
    """The current linkage judged on the reviewed pairs of one kind."""

    kind: str
    n: int
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    precision: Rate | None
    recall: Rate | None
    mean_probability: float | None  # the model's, over the judged pairs it scored
    share_match: Rate | None  # judged a match, over the same pairs


def evaluate(store: Store, labels: pd.DataFrame) -> list[KindEvaluation]:
    """Precision and recall of the store's current linkage on the judged pairs, per kind.

    A registration pair is linked when its two registrations are one person; a person-event
    pair when the link is in ``person_police``.
    """
    store.register("_rv_labels", labels)
    try:
        judged = store.df(
            """
            SELECT l.pair_kind, l.label = 'match' AS is_match,
                   coalesce(a.person_id = b.person_id, false) AS linked,
                   p.match_probability
            FROM _rv_labels l
            LEFT JOIN registration_person a ON a.registration_id = l.left_id
            LEFT JOIN registration_person b ON b.registration_id = l.right_id
            LEFT JOIN registration_pairs p
                 ON p.registration_id_l = l.left_id AND p.registration_id_r = l.right_id
            WHERE l.pair_kind = 'registration'
            UNION ALL
            SELECT l.pair_kind, l.label = 'match', q.person_id IS NOT NULL, q.match_probability
            FROM _rv_labels l
            LEFT JOIN (SELECT person_id, event_id, max(match_probability) AS match_probability
                       FROM person_police GROUP BY ALL) q
                 ON q.person_id = l.left_id AND q.event_id = l.right_id
            WHERE l.pair_kind = 'police'
            """
        )
    finally:
        store.unregister("_rv_labels")
    out = []
    for kind in KINDS:
        part = judged[judged["pair_kind"] == kind]
        if part.empty:
            continue
        is_match = part["is_match"].to_numpy(dtype=bool)
        linked = part["linked"].to_numpy(dtype=bool)
        tp = int((is_match & linked).sum())
        fp = int((~is_match & linked).sum())
        fn = int((is_match & ~linked).sum())
        scored = part["match_probability"].notna().to_numpy()
        out.append(
            KindEvaluation(
                kind=kind,
                n=len(part),
                true_positive=tp,
                false_positive=fp,
                false_negative=fn,
                true_negative=len(part) - tp - fp - fn,
                precision=rate(tp, tp + fp),
                recall=rate(tp, tp + fn),
                mean_probability=(
                    float(part["match_probability"][scored].mean()) if scored.any() else None
                ),
                share_match=rate(int(is_match[scored].sum()), int(scored.sum())),
            )
        )
    return out


# -- person-event links ------------------------------------------------------------------


def apply_police_labels(store: Store) -> dict[str, int]:
    """Fix ``person_police`` by the stored person-event judgements: a link judged a
    non-match is removed; an event judged a match goes to that person (probability 1) and to
    no other. A person id retired since (merged into another) is followed to its successor;
    judgements whose person is gone otherwise are kept but not applied. Counts per outcome.
    """
    labels = stored_labels(store, POLICE)
    if labels.empty:
        return {"applied": 0, "not_applied": 0}
    current = set(store.df("SELECT DISTINCT person_id FROM registration_person")["person_id"])
    merged = dict(
        store.rows(
            "SELECT person_id_old, person_id_new FROM person_id_changes "
            "WHERE change = 'merged' ORDER BY run_id"
        )
    )
    persons = []
    for pid in labels["left_id"]:
        seen = set()
        while pid not in current and pid in merged and pid not in seen:
            seen.add(pid)
            pid = merged[pid]
        persons.append(pid if pid in current else None)
    labels["person_id"] = persons
    usable = labels.dropna(subset=["person_id"])
    store.register("_rv_police", usable)
    try:
        with store.transaction():
            store.execute(
                "DELETE FROM person_police p WHERE EXISTS (SELECT 1 FROM _rv_police r "
                "WHERE r.label = 'non-match' AND r.person_id = p.person_id "
                "AND r.right_id = p.event_id)"
            )
            store.execute(
                "DELETE FROM person_police WHERE event_id IN "
                "(SELECT right_id FROM _rv_police WHERE label = 'match')"
            )
            store.execute(
                "INSERT INTO person_police SELECT DISTINCT person_id, right_id, 1.0 "
                "FROM _rv_police WHERE label = 'match'"
            )
    finally:
        store.unregister("_rv_police")
    return {"applied": len(usable), "not_applied": len(labels) - len(usable)}
