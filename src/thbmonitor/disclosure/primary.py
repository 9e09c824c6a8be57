"""Primary suppression: small counts, disclosive zeros and group (class) disclosure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.table import Grid
from thbmonitor.errors import InputError

__all__ = ["GroupRisk", "describe_key", "primary_statuses"]


@dataclass(frozen=True)
class GroupRisk:
    """A line where one category holds at least ``share`` of the group total.

    The audit requires that an intruder cannot prove ``cell >= share * total``.
    """

    cell: str  # key of the dominant cell
    total: str  # key of the group total
    share: float
    table: str


def describe_key(key: str) -> str:
    """A readable label of a canonical cell key: dimension names and categories only."""
    universe, pairs = json.loads(key)
    inner = ", ".join(f"{d}={v}" for d, v in pairs) or "grand total"
    return f"{universe}: {inner}"


def shared_values(grids: Sequence[Grid]) -> dict[str, float]:
    """The true value of every cell key; tables must agree on shared cells."""
    values: dict[str, float] = {}
    owner: dict[str, str] = {}
    for g in grids:
        for key, v in zip(g.keys.ravel(), g.values.ravel(), strict=True):
            if key in values:
                w = values[key]
                if not ((np.isnan(v) and np.isnan(w)) or v == w):
                    raise InputError(
                        f"tables '{owner[key]}' and '{g.name}' give different counts for the "
                        f"same cell ({describe_key(key)}); shared cells must agree"
                    )
            else:
                values[key] = float(v)
                owner[key] = g.name
    return values


def shown_small_cells(grids: Sequence[Grid], rules: DisclosureRules) -> set[str]:
    """Keys of cells whose small counts are shown: those the tables name as shown, and with
    ``unknown_primary=False`` every cell of an unknown category."""
    out = {k for g in grids for k in g.shown}
    if not rules.unknown_primary:
        out |= {k for g in grids for k in g.unknown}
    return out


def primary_statuses(
    grids: Sequence[Grid], rules: DisclosureRules
) -> tuple[dict[str, CellStatus], list[GroupRisk]]:
    """The status of every cell after primary suppression, and the group risks found."""
    values = shared_values(grids)
    t = rules.threshold
    shown_small = shown_small_cells(grids, rules)
    status: dict[str, CellStatus] = {}
    for key, v in values.items():
        if np.isnan(v):
            status[key] = CellStatus.NOT_AVAILABLE
        elif v == 0:
            status[key] = CellStatus.PRIMARY if rules.zeros_disclosive else CellStatus.ZERO
        elif v < t and key not in shown_small:
            status[key] = CellStatus.PRIMARY
        else:
            status[key] = CellStatus.PUBLISHED
    risks: list[GroupRisk] = []
    if rules.dominance is None:
        return status, risks
    seen: set[tuple[str, str]] = set()
    for g in grids:
        for total, inner in g.lines():
            if g.margin_dims(total) == len(g.dims):
                continue  # the whole population is no group (no class disclosure)
            n = g.values[total]
            parts = np.array([g.values[i] for i in inner])
            if len(inner) < 2 or np.isnan(n) or n <= 0 or np.isnan(parts).any():
                continue
            along = next(d for d in range(len(total)) if total[d] != inner[0][d])
            if g.structural_line(total, along):
                continue  # members are in one category by definition: nothing to disclose
            top = int(np.argmax(parts))
            if parts[top] < rules.dominance * n:
                continue
            dom_key, tot_key = str(g.keys[inner[top]]), str(g.keys[total])
            if dom_key in shown_small and values[dom_key] < t:
                continue  # a small count the rules show (an unknown): shown as it is
            # zeros on a line whose total is zero are known anyway: a category that is empty
            # in the whole line of the other dimension tells nothing about this group
            zeros = [i for i, p in zip(inner, parts, strict=True) if p == 0]
            hideable = [i for i in zeros if not _on_zero_line(g, i)]
            if len(zeros) == len(inner) - 1 and not hideable:
                continue
            if (dom_key, tot_key) in seen:
                continue
            seen.add((dom_key, tot_key))
            risks.append(GroupRisk(dom_key, tot_key, rules.dominance, g.name))
            if status[dom_key] == CellStatus.PUBLISHED:
                status[dom_key] = CellStatus.GROUP
            # a shown zero would tell that nobody of the group is in that category
            for i in hideable:
                status[str(g.keys[i])] = CellStatus.PRIMARY
    return status, risks


def _on_zero_line(g: Grid, idx: tuple[int, ...]) -> bool:
    """Whether a zero is known anyway: it lies on a line whose total is zero, or it is the
    total of a line (its parts are zeros shown as such)."""
    for d, tp in enumerate(g.total_pos):
        if tp is None:
            continue
        if idx[d] == tp:
            return True
        total = (*idx[:d], tp, *idx[d + 1 :])
        if g.values[total] == 0:
            return True
    return False
