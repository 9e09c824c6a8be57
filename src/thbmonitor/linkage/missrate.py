"""How many of a person's police events the police linkage cannot see: its miss rate.

The follow-up draws link sets from the candidates the police linkage keeps (every person
scoring at least :data:`~thbmonitor.linkage.police.CANDIDATE_FLOOR` for an event). An event of
a covered person whose identifiers score below that floor for them is never drawn, and a
missed first event lowers the re-victimisation estimate (:mod:`thbmonitor.followup.linkdraws`
corrects for it). The share of such events is estimated from the trained Fellegi-Sunter model
itself, as in the classic estimates of a linkage's error rates from its m and u probabilities
(Fellegi & Sunter 1969; Belin & Rubin 1995 calibrate them): under the model's own assumption
of conditional independence a true pair shows the comparison vector ``g`` with probability
``prod_k m_k(g_k)`` and scores ``odds(prior * prod_k m_k(g_k) / u_k(g_k))``; the miss rate is
the probability of the vectors scoring below the floor. A missing value (a comparison's null
level, Bayes factor 1) is not in the m probabilities: its share among true pairs is taken from
the store (:func:`null_shares`). Term-frequency adjustments are left out, and a pair that no
blocking rule brings together is not counted, so the rate is, if anything, too low where
blocking loses pairs the model would score high.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from thbmonitor.engine import Store
from thbmonitor.errors import LinkageError

__all__ = ["missed_share", "null_shares", "police_miss_rate"]

# at most this many comparison vectors are summed (the police model has about 1,700)
MAX_VECTORS = 1_000_000

# per comparison of the police model: when a true pair falls in its null level, as conditions
# on an event (``e.``) and on a registration (``r.``); the pair is null when either holds.
# Events carry no age, so an event without a birth date is always null; a registration
# without one still has an approximate birth year from the age at exploitation.
_NULL_CONDITIONS: dict[str, tuple[str, str]] = {
    "full_name": (
        "e.tok_first IS NULL AND e.tok_last IS NULL",
        "r.tok_first IS NULL AND r.tok_last IS NULL",
    ),
    "birth_date": ("e.tok_dob IS NULL", "r.tok_dob IS NULL AND r.age_at_exploitation IS NULL"),
    "sex": ("e.sex IS NULL", "r.sex IS NULL"),
    "tok_identity": ("e.tok_identity IS NULL", "r.tok_identity IS NULL"),
}


def missed_share(
    comparisons: Sequence[Mapping[str, Any]],
    prior: float,
    floor: float,
    null_share: Mapping[str, float],
) -> float:
    """Probability that a true pair scores below ``floor`` under the model ``comparisons``
    (Splink's saved ``comparisons``: per comparison ``output_column_name`` and
    ``comparison_levels`` with ``m_probability``, ``u_probability``, ``is_null_level``).

    ``null_share`` gives, per comparison name, the probability that a true pair falls in its
    null level (0 where absent); the other levels share the rest in proportion to their m.
    """
    if not 0 < prior < 1 or not 0 < floor < 1:
        raise LinkageError("the miss rate needs a prior and a floor strictly between 0 and 1")
    prob = np.ones(1)
    log_bf = np.zeros(1)
    for comparison in comparisons:
        name = str(comparison.get("output_column_name", ""))
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        m = np.array([float(lv.get("m_probability") or 0.0) for lv in levels])
        u = np.array([float(lv.get("u_probability") or 0.0) for lv in levels])
        if m.sum() <= 0 or (u <= 0).any():
            raise LinkageError(f"comparison '{name}' of the model has no usable m and u")
        null = min(max(float(null_share.get(name, 0.0)), 0.0), 1.0)
        p_levels = np.append((1 - null) * m / m.sum(), null)
        w_levels = np.append(np.log(m / u), 0.0)
        if prob.size * p_levels.size > MAX_VECTORS:
            raise LinkageError("the model has too many comparison vectors to sum its miss rate")
        prob = np.outer(prob, p_levels).ravel()
        log_bf = np.add.outer(log_bf, w_levels).ravel()
    odds = prior / (1 - prior) * np.exp(log_bf)
    return float(prob[odds / (1 + odds) < floor].sum())


def null_shares(store: Store) -> dict[str, float]:
    """Per comparison, the share of true person-event pairs in its null level: one minus the
    product of the shares present on each side, the events' weighted by their candidates'
    match probabilities (``person_police_candidates``: the pairs the model expects to be
    true) and the registrations' over the linked persons."""
    out = {}
    for name, (event_null, registration_null) in _NULL_CONDITIONS.items():
        on_event = store.scalar(
            f"SELECT sum(c.match_probability * ({event_null})::INT) / sum(c.match_probability) "
            "FROM person_police_candidates c JOIN police_events e USING (event_id)"
        )
        on_registration = store.scalar(
            f"SELECT avg(({registration_null})::INT) FROM registrations r "
            "WHERE registration_id IN (SELECT registration_id FROM registration_person)"
        )
        a = 0.0 if on_event is None else float(on_event)
        b = 0.0 if on_registration is None else float(on_registration)
        out[name] = 1 - (1 - a) * (1 - b)
    return out


def police_miss_rate(store: Store, floor: float | None = None) -> float | None:
    """The expected share of a linked person's police events scoring below ``floor`` for
    them (:func:`missed_share` of the latest police linkage's model, :func:`null_shares`;
    ``floor`` by default the candidate floor); None when no police linkage with a trained
    model has run."""
    from thbmonitor.linkage.police import CANDIDATE_FLOOR, METHOD  # the whole linkage stack

    row = store.scalar(
        "SELECT parameters FROM linkage_runs WHERE method = ? ORDER BY run_id DESC LIMIT 1",
        [METHOD],
    )
    if row is None:
        return None
    model = json.loads(row).get("splink_model") or {}
    if not model.get("comparisons"):
        return None
    prior = (model.get("cohort_prior") or {}).get("used") or model.get(
        "probability_two_random_records_match"
    )
    if prior is None:
        return None
    floor = CANDIDATE_FLOOR if floor is None else floor
    return missed_share(model["comparisons"], float(prior), floor, null_shares(store))
