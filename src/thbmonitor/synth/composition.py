"""Who the registered victims of a year are: strata shares raked to the published margins.

A stratum (cell) is one combination of monitor group, sex, age band and nationality group. The
seed table (``WorldParams.group_profile``) carries the associations; iterative proportional
fitting (IPF) rakes it onto each year's margins, so every published share is met exactly in
expectation, and integer counts are then fixed by largest-remainder rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import ConfigError
from thbmonitor.synth.params import AGE_BANDS, GROUPS, NAT_GROUPS, SEXES, WorldParams

Constraint = tuple[np.ndarray, float]  # (boolean mask over cells, target probability mass)


def cells() -> pd.DataFrame:
    """All strata, one row each, in a fixed order (the cell index used everywhere)."""
    rows = list(itertools.product(GROUPS, SEXES, AGE_BANDS, NAT_GROUPS))
    return pd.DataFrame(rows, columns=["monitor_group", "sex", "age_band", "nationality_group"])


def ipf(seed: np.ndarray, constraints: Sequence[Constraint], tol: float = 1e-10) -> np.ndarray:
    """Rake ``seed`` (non-negative) so that every mask holds its target mass.

    Raises ConfigError when the constraints cannot all be met (inconsistent parameters).
    """
    p = seed / seed.sum()
    for _ in range(2000):
        worst = 0.0
        for mask, target in constraints:
            mass = p[mask].sum()
            if mass <= 0:
                if target > 0:
                    raise ConfigError("a published share has no compatible stratum")
                continue
            worst = max(worst, abs(mass - target))
            p[mask] *= target / mass
        if worst < tol:
            return p
    raise ConfigError("the yearly shares are inconsistent with the group profile (IPF failed)")


def year_shares(params: WorldParams, year: int) -> np.ndarray:
    """Expected share of each cell among the registered persons of ``year``."""
    c = cells()
    prof = params.group_profile
    seed = np.array(
        [
            prof[g][s] * prof[g][a] * prof[g][n]
            for g, s, a, n in c.itertuples(index=False, name=None)
        ],
        dtype=float,
    )
    cons: list[Constraint] = []
    for g, share in params.group_shares[year].items():
        cons.append(((c["monitor_group"] == g).to_numpy(), share))
    female = params.female_share[year]
    u = params.unknown_sex_share
    for s, share in (("F", female), ("U", u), ("M", 1 - female - u)):
        cons.append(((c["sex"] == s).to_numpy(), share))
    for a, share in params.age_shares[year].items():
        cons.append(((c["age_band"] == a).to_numpy(), share))
    for n, share in params.nat_shares[year].items():
        cons.append(((c["nationality_group"] == n).to_numpy(), share))
    if year in params.domestic_minors:
        total = params.nrm_registered[year]
        dom = (c["monitor_group"] == "domestic_sexual").to_numpy()
        minor = (c["age_band"] == "minor").to_numpy()
        share = params.domestic_minors[year] / total
        cons.append((dom & minor, share))
        cons.append((dom & ~minor, params.group_shares[year]["domestic_sexual"] - share))
    return ipf(seed, cons)


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method)."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:rest]] += 1
    return base


def country_table(
    params: WorldParams, year: int, group_counts: Mapping[str, float], nat_group: str
) -> pd.DataFrame:
    """Probability of each nationality within each monitor group, for one nationality group.

    Rows are monitor groups, columns countries. The column margins are the assumed country mix
    (``countries``), overridden by published country counts (``country_targets``); the row
    margins are the group counts; ``country_affinity`` gives the association (IPF in 2-D).
    """
    mix = dict(params.countries[nat_group])
    n_total = sum(group_counts.values())
    targets = params.country_targets.get(year, {})
    year_total = params.nrm_registered[year] * params.scale
    fixed = {k: v * year_total for k, v in targets.items() if k in mix}
    free = {k: v for k, v in mix.items() if k not in fixed}
    rest = max(n_total - sum(fixed.values()), 1e-9)
    col = {k: fixed.get(k, free.get(k, 0.0) / max(sum(free.values()), 1e-12) * rest) for k in mix}
    groups = [g for g in group_counts if group_counts[g] > 0]
    if not groups:
        return pd.DataFrame(columns=list(mix))
    seed = np.array([[params.country_affinity.get(g, {}).get(k, 1.0) for k in mix] for g in groups])
    cons: list[Constraint] = []
    shape = seed.shape
    for i, g in enumerate(groups):
        m = np.zeros(shape, bool)
        m[i, :] = True
        cons.append((m.ravel(), group_counts[g] / n_total))
    for j, k in enumerate(mix):
        m = np.zeros(shape, bool)
        m[:, j] = True
        cons.append((m.ravel(), col[k] / sum(col.values())))
    p = ipf(seed.ravel().astype(float), cons, tol=1e-9).reshape(shape)
    p = p / p.sum(axis=1, keepdims=True)
    return pd.DataFrame(p, index=groups, columns=list(mix))
