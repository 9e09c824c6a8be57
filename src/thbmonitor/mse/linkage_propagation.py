"""Linkage error carried into the hidden number's interval, by multiple imputation.

The overlap between lists rests on the linkage, and the linkage is uncertain. ``link`` keeps
the scored registration pairs with the model's match probabilities (``registration_pairs``).
Each imputation draws every pair as a link with its probability (pairs judged in clerical
review, ``review_labels``, are fixed: a match always, a non-match never), takes the persons as
the connected registrations, rebuilds the year's capture histories and fits them exactly as the
chapter's last-year estimate (same method and settings, profile-likelihood interval given the
model). The draws are combined by Rubin's rules on log N (:func:`thbmonitor.imputation.pool`;
within-draw variance from each interval, on each side of the estimate separately, so that
without linkage uncertainty the combined interval is the profile interval itself). A simpler
route than Sadinle (2018, Annals of Applied Statistics), with the same aim: an interval that
also holds the linkage's uncertainty.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import EstimationError, InputError
from thbmonitor.imputation import pool
from thbmonitor.mse.estimator import MultipleSystemsEstimator, fit_settings
from thbmonitor.mse.table import CaptureTable
from thbmonitor.report.model import Text

log = logging.getLogger(__name__)

__all__ = ["DRAWS", "METHOD_SENTENCE", "Propagated", "propagate_linkage"]

DRAWS = 20
METHOD = "multiple imputation of the linkage from the scored pairs; Rubin's rules on log N"

METHOD_SENTENCE = Text(
    "The interval above is conditional on the linkage. The linkage-propagated interval "
    "(sensitivity table, results.json) repeats the last year's estimate on {draws} linkages "
    "drawn from the scored registration pairs' match probabilities and combines them (multiple "
    "imputation, Rubin's rules): it adds the uncertainty of who is whom to that of the model.",
    "Het interval hierboven gaat uit van de koppeling zoals die is. Het interval met "
    "koppelonzekerheid (gevoeligheidstabel, results.json) herhaalt de schatting van het laatste "
    "jaar op {draws} koppelingen, getrokken volgens de koppelkansen van de gescoorde paren "
    "meldingen, en combineert die (meervoudige imputatie, regels van Rubin): het voegt de "
    "onzekerheid over wie wie is toe aan die van het model.",
)


@dataclass(frozen=True)
class Propagated:
    """The combined estimate and interval over the linkage draws."""

    estimate: float
    lower: float
    upper: float
    draws: int
    level: float
    estimates: tuple[float, ...]
    persons: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """``results.json`` ``hidden_number.linkage_propagated``."""
        return {
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
            "draws": self.draws,
            "method": METHOD,
            "level": self.level,
        }


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _stored_pairs(store: Store, ids: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair indices into ``ids`` and match probabilities, review judgements applied."""
    pairs = store.df(
        "SELECT p.registration_id_l AS l, p.registration_id_r AS r, "
        "CASE WHEN lab.label = 'match' THEN 1.0 WHEN lab.label = 'non-match' THEN 0.0 "
        "ELSE p.match_probability END AS p "
        "FROM registration_pairs p LEFT JOIN review_labels lab ON lab.pair_kind = "
        "'registration' AND ((lab.left_id = p.registration_id_l AND lab.right_id = "
        "p.registration_id_r) OR (lab.left_id = p.registration_id_r AND lab.right_id = "
        "p.registration_id_l))"
    )
    index = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    left = index.reindex(pairs["l"]).to_numpy()
    right = index.reindex(pairs["r"]).to_numpy()
    ok = ~(np.isnan(left) | np.isnan(right))
    prob = np.clip(pairs["p"].to_numpy(dtype=float)[ok], 0.0, 1.0)
    return left[ok].astype(np.int64), right[ok].astype(np.int64), prob


def propagate_linkage(
    store: Store,
    settings: Settings,
    year: int,
    draws: int = DRAWS,
    level: float = 0.95,
) -> Propagated | None:
    """Multiple imputation of the clustering for ``year``'s estimate; None without scored
    pairs (a store linked before they were kept) or when too few draws give an estimate."""
    from scipy.special import ndtri

    from thbmonitor.linkage.capture import history_table, store_lists

    if not store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'registration_pairs'"
    ) or not store.scalar("SELECT count(*) FROM registration_pairs"):
        return None
    regs = store.df(
        "SELECT registration_id, reporting_organisation, registration_year FROM registrations "
        "ORDER BY registration_date, registration_id"
    )
    left, right, prob = _stored_pairs(store, regs["registration_id"])
    lists = store_lists(store)
    in_year = (regs["registration_year"] == year).to_numpy()
    rng = np.random.default_rng([settings.seed, year])
    var_low: list[float] = []
    var_high: list[float] = []
    estimates: list[float] = []
    persons: list[int] = []
    z = float(ndtri(0.5 + level / 2.0))
    for _ in range(draws):
        take = rng.random(len(prob)) < prob
        labels = _components(len(regs), left[take], right[take])
        frame = pd.DataFrame(
            {
                "person_id": labels[in_year].astype(str),
                "reporting_organisation": regs["reporting_organisation"].to_numpy()[in_year],
                "registration_year": regs["registration_year"].to_numpy()[in_year],
            }
        )
        counts = history_table(frame, lists, ("year",))
        table = CaptureTable.from_frame(counts, lists=list(lists), covariates=["year"]).collapse()
        try:
            est = MultipleSystemsEstimator(**fit_settings(settings), seed=settings.seed).fit(table)
        except (EstimationError, InputError) as exc:
            log.warning("linkage draw without an estimate: %s", exc)
            continue
        iv = est.conditional_interval_
        if not (np.isfinite(est.estimate_) and iv.lower > 0 and np.isfinite(iv.upper)):
            continue
        log_n = math.log(est.estimate_)
        var_low.append(((log_n - math.log(iv.lower)) / z) ** 2)
        var_high.append(((math.log(iv.upper) - log_n) / z) ** 2)
        estimates.append(float(est.estimate_))
        persons.append(table.observed)
    if len(estimates) < max(2, draws // 2):
        return None
    pooled = pool(
        np.array(estimates),
        np.array(var_low),
        transform="log",
        level=level,
        within_upper=np.array(var_high),
    )
    return Propagated(
        estimate=pooled.estimate,
        lower=pooled.lower,
        upper=pooled.upper,
        draws=pooled.draws,
        level=level,
        estimates=tuple(estimates),
        persons=tuple(persons),
    )
