"""The lists: which reporting organisations register each victim in a year.

Capture by each list is a logistic function of the stratum (heterogeneity) with a few positive
dependencies (KMar -> Police -> NGOCare -> Other), drawn in that order. Within a stratum this is
exactly a log-linear model with the two-way interactions KMar:Police, Police:NGOCare and
NGOCare:Other, so the MSE stage has a true model to find. Per year, an overall intercept and
offsets for the police and the non-investigating lists are calibrated so that the expected
hidden:registered ratio, police share of reports and non-investigating reports hit their targets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from thbmonitor.synth.params import LISTS, WorldParams

log = logging.getLogger(__name__)

K, P, LI, N, OTH = range(5)  # column order of LISTS


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def cell_logits(params: WorldParams, cells: pd.DataFrame) -> np.ndarray:
    """Logit of capture per cell (rows) and list (columns, KMar first), without dependence.

    Columns are reordered to the draw order (KMar, Police, LabourInspectorate, NGOCare, Other).
    """
    order = ["KMar", "Police", "LabourInspectorate", "NGOCare", "Other"]
    out = np.tile(np.array([params.capture_base[x] for x in order]), (len(cells), 1))
    dims = {"group": "monitor_group", "age": "age_band", "nat": "nationality_group"}
    for key, eff in params.capture_effects.items():
        dim, level = key.split(":", 1)
        mask = (cells[dims[dim]] == level).to_numpy()
        for j, lst in enumerate(order):
            out[mask, j] += eff.get(lst, 0.0)
    return out


DRAW_ORDER = ("KMar", "Police", "LabourInspectorate", "NGOCare", "Other")
TO_LISTS = [DRAW_ORDER.index(x) for x in LISTS]  # draw order -> LISTS order


@dataclass(frozen=True)
class Offsets:
    """Year offsets on the logit scale: all lists, police, and NGOCare + Other."""

    alpha: float
    police: float
    non_investigating: float


def _shifted(logits: np.ndarray, off: Offsets) -> np.ndarray:
    x = logits + off.alpha
    x[..., P] += off.police
    x[..., N] += off.non_investigating
    x[..., OTH] += off.non_investigating
    return x


def cell_probabilities(
    logits: np.ndarray, off: Offsets, dep: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """P(captured by at least one list) and the marginal capture probability per list.

    Returns (pi, marg) with marg in draw order.
    """
    x = _shifted(logits, off)
    pk = _expit(x[:, K])
    pp0, pp1 = _expit(x[:, P]), _expit(x[:, P] + dep.get("KMar->Police", 0.0))
    pl = _expit(x[:, LI])
    pn0, pn1 = _expit(x[:, N]), _expit(x[:, N] + dep.get("Police->NGOCare", 0.0))
    po0, po1 = _expit(x[:, OTH]), _expit(x[:, OTH] + dep.get("NGOCare->Other", 0.0))
    none = (1 - pk) * (1 - pp0) * (1 - pl) * (1 - pn0) * (1 - po0)
    pp = pk * pp1 + (1 - pk) * pp0
    pn = pp * pn1 + (1 - pp) * pn0
    po = pn * po1 + (1 - pn) * po0
    return 1 - none, np.column_stack([pk, pp, pl, pn, po])


def calibrate(params: WorldParams, year: int, logits: np.ndarray, shares: np.ndarray) -> Offsets:
    """Year offsets so that the expected hidden ratio and report targets are met."""
    dep = dict(params.dependence)
    total = params.nrm_registered[year]
    dup = 1 + params.duplicate_report
    target_ratio = 1 + params.hidden_ratio[year]
    target_police = params.police_share[year]
    target_noninv = params.non_investigating[year] / total

    def resid(v: np.ndarray) -> np.ndarray:
        pi, marg = cell_probabilities(logits, Offsets(*v), dep)
        per_person = (shares[:, None] * marg / pi[:, None]).sum(axis=0) * dup
        return np.array(
            [
                np.log((shares / pi).sum() / target_ratio),
                per_person[P] / per_person.sum() - target_police,
                per_person[N] + per_person[OTH] - target_noninv,
            ]
        )

    fit = least_squares(resid, np.zeros(3), method="lm", xtol=1e-12, ftol=1e-12)
    if np.max(np.abs(fit.fun)) > 1e-4:
        log.warning("capture calibration for year %d missed its targets by %s", year, fit.fun)
    return Offsets(*fit.x)


def draw(
    logits: np.ndarray, off: Offsets, dep: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Capture histories (n x 5 bool, draw order) for persons with the given cell logits."""
    x = _shifted(logits, off)
    u = rng.random(x.shape)
    h = np.zeros(x.shape, dtype=bool)
    h[:, K] = u[:, K] < _expit(x[:, K])
    h[:, P] = u[:, P] < _expit(x[:, P] + dep.get("KMar->Police", 0.0) * h[:, K])
    h[:, LI] = u[:, LI] < _expit(x[:, LI])
    h[:, N] = u[:, N] < _expit(x[:, N] + dep.get("Police->NGOCare", 0.0) * h[:, P])
    h[:, OTH] = u[:, OTH] < _expit(x[:, OTH] + dep.get("NGOCare->Other", 0.0) * h[:, N])
    return h


def draw_captured(
    logits: np.ndarray, off: Offsets, dep: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Capture histories conditional on at least one capture (rejection sampling)."""
    h = draw(logits, off, dep, rng)
    todo = np.flatnonzero(~h.any(axis=1))
    while len(todo):
        h[todo] = draw(logits[todo], off, dep, rng)
        todo = todo[~h[todo].any(axis=1)]
    return h


def draw_exact(
    logits: np.ndarray,
    cell: np.ndarray,
    registered: np.ndarray,
    off: Offsets,
    dep: dict[str, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Histories such that exactly ``registered[c]`` persons of each cell ``c`` are captured.

    Excess captured persons (chosen at random) become hidden; missing ones are drawn from the
    histories conditional on capture, so the captured histories keep the model's distribution.
    """
    h = draw(logits, off, dep, rng)
    caught = np.asarray(h.any(axis=1), dtype=bool)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(registered) + 1))
    for c, r in enumerate(registered):
        idx = order[bounds[c] : bounds[c + 1]]
        have = idx[caught[idx]]
        if len(have) > r:
            drop = rng.choice(have, size=len(have) - r, replace=False)
            h[drop] = False
        elif len(have) < r:
            pool = idx[~caught[idx]]
            add = rng.choice(pool, size=r - len(have), replace=False)
            h[add] = draw_captured(logits[add], off, dep, rng)
    return h


def nudge(
    h: np.ndarray,
    logits: np.ndarray,
    off: Offsets,
    dep: dict[str, float],
    target_police: float,
    target_noninv: float,
    rng: np.random.Generator,
    rounds: int = 60,
) -> np.ndarray:
    """Redraw a few registered persons' histories until the report targets are met closely.

    Only proposals that bring the police share and the non-investigating count closer to their
    targets are kept; the changes are small (a few dozen persons a year) and keep every person
    registered.
    """
    caught = np.flatnonzero(h.any(axis=1))
    if len(caught) == 0:
        return h
    cnt = h[caught].sum(axis=0).astype(float)
    scale = max(target_noninv, 1.0)

    def loss(c: np.ndarray) -> float:
        return float(
            (c[P] / c.sum() - target_police) ** 2 / 0.003**2
            + (c[N] + c[OTH] - target_noninv) ** 2 / (0.01 * scale) ** 2
        )

    current = loss(cnt)
    for _ in range(rounds):
        if current <= 1.0:
            break
        pick = rng.choice(caught, size=min(64, len(caught)), replace=False)
        prop = draw_captured(logits[pick], off, dep, rng)
        for i, row in zip(pick, prop, strict=True):
            new = cnt - h[i] + row
            val = loss(new)
            if val < current:
                h[i], cnt, current = row, new, val
    return h
