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
  :func:`thbmonitor.linkage.clustering.cluster`), and :func:`apply_event_labels` fixes the
  person-event links after the police and population linkage.

Pair ids: a registration pair is ``left_id`` < ``right_id`` (two registration ids, the smaller
as text first; given the other way round they are swapped); a person-event pair is a person id
(see ``link --export-persons`` for its registrations) and a police event id.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import InputError, LinkageError, Problem, ReviewFileError
from thbmonitor.linkage.clustering import weight_of

log = logging.getLogger(__name__)

REGISTRATION, POLICE, POPULATION = "registration", "police", "population"
KINDS: tuple[str, ...] = (REGISTRATION, POLICE, POPULATION)
# person-event kinds: their links, their candidates (links and runners-up) and their events
EVENT_TABLES: dict[str, tuple[str, str, str]] = {
    POLICE: ("person_police", "person_police_candidates", "police_events"),
    POPULATION: ("person_population", "person_population_candidates", "population_events"),
}
MATCH, NON_MATCH = "match", "non-match"
LABELS: tuple[str, ...] = (MATCH, NON_MATCH)
COLUMNS: tuple[str, ...] = ("pair_kind", "left_id", "right_id", "label")
# how a pair came into the sample, kept from a judged file when present: weighs the random part
DESIGN_COLUMNS: tuple[str, ...] = ("drawn", "band", "band_pairs")
SAMPLE_COLUMNS: tuple[str, ...] = (
    "pair_kind",
    "left_id",
    "right_id",
    "match_probability",
    "match_weight",
    "linked",
    "drawn",
    "band",
    "band_pairs",
    "label",
)
CONFIDENCE = 0.95
# edges of the score bands of the random part of the review sample (match probability)
BANDS: tuple[float, ...] = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)


# -- the sample --------------------------------------------------------------------------


def review_sample(store: Store, n: int, settings: Settings) -> pd.DataFrame:
    """Pairs of the store's current linkage for clerical review, not judged before (columns
    :data:`SAMPLE_COLUMNS`): per kind, the ``n`` most uncertain (``drawn`` = ``uncertain``)
    and ``n`` drawn at random, stratified by score band (``random``).

    Registration pairs come from ``registration_pairs`` (every scored pair), ranked by the
    distance of their match weight from the weight of ``linkage_threshold``; person-event
    pairs from ``person_police_candidates`` (every person scoring at least 0.1 for an event,
    links and runners-up alike, so that missed links are reviewed as well as false ones), by
    the distance from ``police_link_threshold``. The random part spreads ``n`` over the
    score bands (:data:`BANDS`) equally, seeded by ``seed``; ``band_pairs`` is the number of
    pairs of the band, from which :func:`evaluate` weighs the judged random pairs into
    precision and recall of the whole linkage.
    """
    if n < 1:
        raise LinkageError("the review sample needs at least one pair (--review-sample N, N > 0)")
    reg = store.df(
        """
        SELECT 'registration' AS pair_kind, p.registration_id_l AS left_id,
               p.registration_id_r AS right_id, p.match_probability, p.match_weight,
               p.same_person AS linked, abs(p.match_weight - ?) AS distance
        FROM registration_pairs p
        WHERE NOT EXISTS (
            SELECT 1 FROM review_labels r WHERE r.pair_kind = 'registration'
            AND r.left_id = p.registration_id_l AND r.right_id = p.registration_id_r)
        ORDER BY p.registration_id_l, p.registration_id_r
        """,
        [weight_of(settings.linkage_threshold)],
    )
    frames = [reg]
    for kind, (links, candidates, _) in EVENT_TABLES.items():
        if not store.has_table(candidates):
            continue
        events = store.df(
            f"""
            SELECT ? AS pair_kind, c.person_id AS left_id, c.event_id AS right_id,
                   c.match_probability,
                   EXISTS (SELECT 1 FROM {links} l WHERE l.person_id = c.person_id
                           AND l.event_id = c.event_id) AS linked,
                   abs(c.match_probability - ?) AS distance
            FROM {candidates} c
            WHERE NOT EXISTS (
                SELECT 1 FROM review_labels r WHERE r.pair_kind = ?
                AND r.left_id = c.person_id AND r.right_id = c.event_id)
            ORDER BY c.person_id, c.event_id
            """,
            [kind, settings.police_link_threshold, kind],
        )
        p = events["match_probability"].to_numpy(dtype=np.float64).clip(1e-12, 1 - 1e-12)
        events["match_weight"] = np.log2(p / (1 - p))
        frames.append(events[reg.columns])
    rng = np.random.default_rng([settings.seed, 15])
    parts = [_sample_kind(frame, n, rng) for frame in frames if len(frame)]
    out = pd.concat(parts, ignore_index=True) if parts else reg.drop(columns="distance")
    out["label"] = ""
    return out[list(SAMPLE_COLUMNS)]


def band_of(probability: pd.Series) -> pd.Series:
    """The score band (:data:`BANDS`) of each match probability, as text."""
    edges = np.asarray(BANDS, dtype=float)
    index = np.searchsorted(edges, probability.to_numpy(dtype=float), side="right") - 1
    index = index.clip(0, len(edges) - 2)
    names = np.array([f"{lo:g}-{hi:g}" for lo, hi in itertools.pairwise(edges)])
    return pd.Series(names[index], index=probability.index)


def _sample_kind(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """The ``n`` pairs of ``frame`` closest to the threshold, and ``n`` more at random spread
    equally over the score bands (a band with fewer pairs than its share gives them all)."""
    frame = frame.assign(band=band_of(frame["match_probability"]))
    sizes = frame.groupby("band").size()
    frame["band_pairs"] = frame["band"].map(sizes).astype("int64")
    order = np.lexsort((np.arange(len(frame)), frame["distance"].to_numpy()))
    uncertain = frame.iloc[order[:n]].assign(drawn="uncertain")
    rest = frame.drop(index=uncertain.index)
    bands = sorted(rest["band"].unique())
    share, extra = divmod(n, max(len(bands), 1))
    random = []
    for i, band in enumerate(bands):
        pool = rest.index[rest["band"] == band].to_numpy()
        take = min(len(pool), share + (1 if i < extra else 0))
        random.append(rest.loc[np.sort(rng.choice(pool, size=take, replace=False))])
    picked = pd.concat([uncertain, *(r.assign(drawn="random") for r in random)])
    return picked.drop(columns="distance")


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
    design = [c for c in DESIGN_COLUMNS if c in frame.columns]
    frame = frame[[*COLUMNS, *design]].apply(lambda s: s.str.strip())
    from thbmonitor.linkage.persons import spreadsheet_unsafe  # persons imports this module

    for column in ("left_id", "right_id"):  # the sample's escape of formula-like ids
        frame[column] = frame[column].map(spreadsheet_unsafe)
    frame["label"] = frame["label"].str.lower().str.replace("_", "-", regex=False)
    frame["pair_kind"] = frame["pair_kind"].str.lower()
    frame.insert(0, "row", np.arange(1, len(frame) + 1))
    problems: list[Problem] = []
    if "band_pairs" in frame.columns:
        pairs = pd.to_numeric(frame["band_pairs"].replace("", None), errors="coerce")
        bad = (frame["label"] != "") & (frame["band_pairs"] != "") & ~(pairs >= 1)
        problems += [
            Problem(name, int(r), "band_pairs", "must be a count of pairs")
            for r in frame["row"][bad]
        ]
        frame["band_pairs"] = pairs.where(pairs >= 1)
    for row, kind, left, right, label in frame[["row", *COLUMNS]].itertuples(index=False):
        if not label:
            continue
        if label not in LABELS:
            problems.append(Problem(name, row, "label", "must be 'match' or 'non-match'"))
        if kind not in KINDS:
            problems.append(
                Problem(name, row, "pair_kind", "must be 'registration', 'police' or 'population'")
            )
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
    events = "".join(
        f"""
            UNION ALL
            SELECT l.row, 'left_id' FROM _rv_labels l
            WHERE l.pair_kind = '{kind}' AND NOT EXISTS (
                SELECT 1 FROM person_ids i WHERE i.person_id = l.left_id)
            UNION ALL
            SELECT l.row, 'right_id' FROM _rv_labels l
            WHERE l.pair_kind = '{kind}' AND NOT EXISTS (
                SELECT 1 FROM {table} e WHERE e.event_id = l.right_id)"""
        for kind, (_, _, table) in EVENT_TABLES.items()
    )
    store.register("_rv_labels", labels)
    try:
        unknown = store.df(
            f"""
            SELECT l.row, 'left_id' AS field FROM _rv_labels l
            WHERE l.pair_kind = 'registration' AND NOT EXISTS (
                SELECT 1 FROM registrations g WHERE g.registration_id = l.left_id)
            UNION ALL
            SELECT l.row, 'right_id' FROM _rv_labels l
            WHERE l.pair_kind = 'registration' AND NOT EXISTS (
                SELECT 1 FROM registrations g WHERE g.registration_id = l.right_id)
            {events}
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
            f"""
            INSERT OR REPLACE INTO review_labels
            SELECT l.pair_kind, l.left_id, l.right_id, l.label,
                   coalesce(p.match_probability, q.match_probability), ?, ?
            FROM _rv_labels l
            LEFT JOIN registration_pairs p ON l.pair_kind = 'registration'
                 AND p.registration_id_l = l.left_id AND p.registration_id_r = l.right_id
            LEFT JOIN ({_candidates_sql()}) q ON q.pair_kind = l.pair_kind
                 AND q.person_id = l.left_id AND q.event_id = l.right_id
            """,
            [datetime.now(), digest],
        )
    finally:
        store.unregister("_rv_labels")
    judged = _judged(store, labels)
    design = pd.DataFrame(
        {
            "pair_kind": labels["pair_kind"].to_numpy(),
            "left_id": labels["left_id"].to_numpy(),
            "right_id": labels["right_id"].to_numpy(),
            "linked_when_judged": judged["linked"].to_numpy(dtype=bool),
        }
    )
    for column in ("drawn", "band"):
        design[column] = labels[column].to_numpy() if column in labels.columns else ""
    pairs = labels["band_pairs"] if "band_pairs" in labels.columns else np.nan
    design["band_pairs"] = pd.to_numeric(pd.Series(pairs, index=design.index)).astype("Int64")
    store.register("_rv_design", design)
    try:
        store.execute(
            "INSERT OR REPLACE INTO review_design SELECT pair_kind, left_id, right_id, "
            "linked_when_judged, nullif(drawn, ''), nullif(band, ''), band_pairs "
            "FROM _rv_design"
        )
    finally:
        store.unregister("_rv_design")
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
    value = successes / trials  # the bounds can miss 0 or 1 by a rounding error
    return Rate(value, min(float(low), value), max(float(high), value), successes, trials)


@dataclass(frozen=True)
class Estimate:
    """A ratio estimated from a stratified random sample, with a normal interval."""

    value: float
    low: float
    high: float
    judged: int  # judged random pairs it rests on


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
    # of all scored pairs, from the judged pairs drawn at random by score band
    precision_all: Estimate | None = None
    recall_all: Estimate | None = None


def ratio_estimate(
    y: np.ndarray,
    x: np.ndarray,
    band: np.ndarray,
    band_pairs: np.ndarray,
    confidence: float = CONFIDENCE,
) -> Estimate | None:
    """The combined ratio estimator of ``sum Y / sum X`` over all pairs from a stratified
    random sample (Cochran 1977, *Sampling Techniques*, 6.11): per band ``h`` the sample's
    totals are weighted by ``N_h / n_h``; the variance is linearised, ``sum N_h^2 (1 - f_h)
    s_dh^2 / n_h / X^2`` with ``d = y - R x``. The interval is Wilson's at the effective
    sample size ``R (1 - R) / var`` (Korn & Graubard 1998, *Survey Methodology* 24), at most
    the number of sampled pairs with ``x``, which it also is when the variance is nil (no pair
    judged against the linkage): a sample without errors still leaves an interval.
    ``None`` when the sample has no pair with ``x``."""
    frame = pd.DataFrame({"y": y.astype(float), "x": x.astype(float), "h": band, "N": band_pairs})
    groups = frame.groupby("h")
    n_h = groups.size()
    big_n = groups["N"].first()
    total_x = float((big_n * groups["x"].mean()).sum())
    n_x = int(frame["x"].sum())
    if total_x <= 0 or n_x == 0:
        return None
    r = float((big_n * groups["y"].mean()).sum()) / total_x
    frame["d"] = frame["y"] - r * frame["x"]
    s2 = frame.groupby("h")["d"].var(ddof=1).fillna(0.0)
    fpc = (1 - n_h / big_n).clip(lower=0.0)
    var = float((big_n**2 * fpc * s2 / n_h).sum()) / total_x**2
    if (fpc == 0).all():  # every pair judged: the ratio itself, without sampling error
        return Estimate(r, r, r, len(frame))
    n_eff = min(float(n_x), r * (1 - r) / var) if var > 0 else float(n_x)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    centre = (r + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z / (1 + z**2 / n_eff) * math.sqrt(r * (1 - r) / n_eff + z**2 / (4 * n_eff**2))
    return Estimate(r, max(0.0, centre - half), min(1.0, centre + half), len(frame))


def _candidates_sql() -> str:
    """pair_kind, person_id, event_id, match_probability of every scored person-event pair."""
    return " UNION ALL ".join(
        f"SELECT '{kind}' AS pair_kind, person_id, event_id, max(match_probability) "
        f"AS match_probability FROM {candidates} GROUP BY ALL"
        for kind, (_, candidates, _) in EVENT_TABLES.items()
    )


def _links_sql() -> str:
    """pair_kind, person_id, event_id of every person-event link kept."""
    return " UNION ALL ".join(
        f"SELECT DISTINCT '{kind}' AS pair_kind, person_id, event_id FROM {links}"
        for kind, (links, _, _) in EVENT_TABLES.items()
    )


def _judged(store: Store, labels: pd.DataFrame) -> pd.DataFrame:
    """Per label (in order): pair_kind, is_match, linked (in the store's current linkage:
    two registrations one person; a person-event link in ``person_police``) and the model's
    match probability (``NULL`` for a pair it never scored)."""
    keys = labels[list(COLUMNS)].assign(i=np.arange(len(labels)))
    store.register("_rv_labels", keys)
    try:
        return store.df(
            f"""
            SELECT l.i, l.pair_kind, l.label = 'match' AS is_match,
                   coalesce(a.person_id = b.person_id, false) AS linked,
                   p.match_probability
            FROM _rv_labels l
            LEFT JOIN registration_person a ON a.registration_id = l.left_id
            LEFT JOIN registration_person b ON b.registration_id = l.right_id
            LEFT JOIN registration_pairs p
                 ON p.registration_id_l = l.left_id AND p.registration_id_r = l.right_id
            WHERE l.pair_kind = 'registration'
            UNION ALL
            SELECT l.i, l.pair_kind, l.label = 'match', k.person_id IS NOT NULL,
                   q.match_probability
            FROM _rv_labels l
            LEFT JOIN ({_links_sql()}) k ON k.pair_kind = l.pair_kind
                 AND k.person_id = l.left_id AND k.event_id = l.right_id
            LEFT JOIN ({_candidates_sql()}) q ON q.pair_kind = l.pair_kind
                 AND q.person_id = l.left_id AND q.event_id = l.right_id
            WHERE l.pair_kind <> 'registration'
            ORDER BY 1
            """
        )
    finally:
        store.unregister("_rv_labels")


def evaluate(store: Store, labels: pd.DataFrame) -> list[KindEvaluation]:
    """Precision and recall of the store's current linkage on the judged pairs, per kind.

    A registration pair is linked when its two registrations are one person; a person-event
    pair when the link is in ``person_police``. When the labels carry the sample's design
    (:data:`DESIGN_COLUMNS`), the pairs drawn at random by score band also give precision
    and recall over all scored pairs (:func:`ratio_estimate`): the judged pairs as a whole
    were chosen mostly as the hardest, so their figures bound the linkage's quality from below.
    """
    judged = _judged(store, labels)
    if all(c in labels.columns for c in DESIGN_COLUMNS):
        judged = judged.join(labels[list(DESIGN_COLUMNS)].reset_index(drop=True), on="i")
    return _evaluations(judged)


def stored_evaluation(store: Store) -> list[KindEvaluation]:
    """:func:`evaluate` of the linkage as it was when each stored judgement was made (the
    report's review figures): the judged pairs are fixed in every later linkage, so the
    current linkage agrees with them by construction."""
    if not store.has_table("review_design"):
        return []
    judged = store.df(
        """
        SELECT l.pair_kind, l.label = 'match' AS is_match, d.linked_when_judged AS linked,
               l.match_probability, d.drawn, d.band, d.band_pairs
        FROM review_labels l JOIN review_design d USING (pair_kind, left_id, right_id)
        ORDER BY l.pair_kind, l.left_id, l.right_id
        """
    )
    return _evaluations(judged)


def _evaluations(judged: pd.DataFrame) -> list[KindEvaluation]:
    design = all(c in judged.columns for c in DESIGN_COLUMNS)
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
        whole: dict[str, Estimate | None] = {}
        if design:
            drawn = (part["drawn"] == "random").to_numpy() & part["band_pairs"].notna().to_numpy()
            band = part["band"].to_numpy()[drawn]
            size = part["band_pairs"].astype(float).to_numpy()[drawn]
            both = (is_match & linked)[drawn]
            whole["precision_all"] = ratio_estimate(both, linked[drawn], band, size)
            whole["recall_all"] = ratio_estimate(both, is_match[drawn], band, size)
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
                **whole,
            )
        )
    return out


# -- person-event links ------------------------------------------------------------------


def apply_event_labels(store: Store) -> dict[str, int]:
    """Fix ``person_police`` and ``person_population`` by the stored person-event
    judgements: a link judged a non-match is removed; an event judged a match goes to that
    person (probability 1) and to no other. A person id retired since (merged into another)
    is followed to its successor; judgements whose person is gone otherwise are kept but not
    applied. Counts per outcome over both registers.
    """
    counts = {"applied": 0, "not_applied": 0}
    for kind, (links, _, _) in EVENT_TABLES.items():
        for outcome, n in _apply_labels(store, kind, links).items():
            counts[outcome] += n
    return counts


def _apply_labels(store: Store, kind: str, links: str) -> dict[str, int]:
    labels = stored_labels(store, kind)
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
                f"DELETE FROM {links} p WHERE EXISTS (SELECT 1 FROM _rv_police r "
                "WHERE r.label = 'non-match' AND r.person_id = p.person_id "
                "AND r.right_id = p.event_id)"
            )
            store.execute(
                f"DELETE FROM {links} WHERE event_id IN "
                "(SELECT right_id FROM _rv_police WHERE label = 'match')"
            )
            store.execute(
                f"INSERT INTO {links} SELECT DISTINCT person_id, right_id, 1.0 "
                "FROM _rv_police WHERE label = 'match'"
            )
    finally:
        store.unregister("_rv_police")
    return {"applied": len(usable), "not_applied": len(labels) - len(usable)}
