"""Protect and audit a whole release: primary, secondary suppression and the joint LP audit."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from thbmonitor.disclosure.audit import AuditResult, LinearSystem, Target, solve_intervals
from thbmonitor.disclosure.ledger import Ledger
from thbmonitor.disclosure.primary import GroupRisk, describe_key, primary_statuses, shared_values
from thbmonitor.disclosure.protected import ProtectedTable, concat_display
from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.suppression import Need, Pattern
from thbmonitor.disclosure.table import CountTable, Grid
from thbmonitor.errors import DisclosureError, InputError

__all__ = ["Release", "audit_release", "protect_release"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    """The protected tables of one release and the audit that let them through."""

    tables: tuple[ProtectedTable, ...]
    audit: AuditResult
    rules: DisclosureRules

    def __getitem__(self, name: str) -> ProtectedTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def display_frame(self) -> pd.DataFrame:
        """All tables as published, stacked with a ``table`` column."""
        return concat_display(self.tables)


class _Auditor:
    """The joint linear system of a release and its ledger, with cached component solutions."""

    def __init__(self, grids: Sequence[Grid], ledger: Ledger | None, rules: DisclosureRules):
        self.rules = rules
        self.values = shared_values(grids)
        self.owner: dict[str, str] = {}
        for g in grids:
            for k in g.keys.ravel():
                self.owner.setdefault(str(k), g.name)
        ledger_grids = []
        self.ledger_bounds: dict[str, tuple[float, float]] = {}
        self.ledger_owner: dict[str, str] = {}
        self.ledger_marker: dict[str, str] = {}
        for lt in (ledger or Ledger()).tables:
            ledger_grids.append(lt.grid())
            for (k, (lo, hi)), shown in zip(lt.bounds().items(), lt.shown, strict=True):
                old = self.ledger_bounds.get(k, (0.0, math.inf))
                self.ledger_bounds[k] = (max(old[0], lo), min(old[1], hi))
                self.ledger_owner.setdefault(k, f"{lt.release}/{lt.name}")
                if isinstance(shown, str) and shown != "–":
                    self.ledger_marker.setdefault(k, shown)
        self.fixed_by_ledger = {k for k, (lo, hi) in self.ledger_bounds.items() if lo == hi}
        revised = [
            k
            for k in self.fixed_by_ledger
            if k in self.values
            and not np.isnan(self.values[k])
            and self.values[k] != self.ledger_bounds[k][0]
        ]
        if revised:
            raise DisclosureError(
                f"{len(revised)} cell(s) published in an earlier release have another count "
                f"now (revised figures), e.g. {describe_key(revised[0])}; the ledger cannot "
                "constrain a revised release: audit it with the ledger of the revised data"
            )
        self.system = LinearSystem([*grids, *ledger_grids])
        self.cache: dict[frozenset[str], dict[str, tuple[float, float]]] = {}

    def check_primaries(self, status: dict[str, CellStatus]) -> None:
        early = [k for k in self.fixed_by_ledger if status.get(k) == CellStatus.PRIMARY]
        if early:
            raise DisclosureError(
                f"{len(early)} small count(s) of this release were published in full in an "
                f"earlier release, e.g. {describe_key(early[0])}; they cannot be protected now"
            )

    def own_bounds(self, key: str, status: CellStatus) -> tuple[float, float]:
        v, t = self.values[key], float(self.rules.threshold)
        if status in (CellStatus.PUBLISHED, CellStatus.ZERO):
            return (v, v)
        if status == CellStatus.NOT_AVAILABLE:
            return (0.0, math.inf)
        if status == CellStatus.PRIMARY:
            return (min(v, 1.0), t - 1.0)
        return (t, math.inf)

    def audit(self, status: dict[str, CellStatus], risks: Sequence[GroupRisk]) -> AuditResult:
        bounds = dict(self.ledger_bounds)
        for k, s in status.items():
            lo, hi = self.own_bounds(k, s)
            old = bounds.get(k)
            bounds[k] = (lo, hi) if old is None else (max(lo, old[0]), min(hi, old[1]))
        w = self.rules.required_width
        targets = []
        for k, s in status.items():
            if s.suppressed:
                lo, hi = self.own_bounds(k, s)
                req = min(w, int(hi - lo)) if s == CellStatus.PRIMARY else 1
                targets.append(Target(k, self.owner[k], s, req))
        for k, marker in self.ledger_marker.items():
            if k in status or marker == ".":
                continue
            primary = marker.startswith("<")
            lo, hi = self.ledger_bounds[k]
            req = min(w, int(hi - lo)) if primary else 1
            s = CellStatus.PRIMARY if primary else CellStatus.SECONDARY
            targets.append(Target(k, self.ledger_owner[k], s, req))
        return solve_intervals(self.system, bounds, targets, risks, self.cache)


def protect_release(
    tables: Sequence[CountTable],
    rules: DisclosureRules | None = None,
    ledger: Ledger | None = None,
    max_rounds: int = 60,
) -> Release:
    """Protect all tables of a release together and audit them jointly.

    Raises :class:`DisclosureError` if no safe pattern is found (collapse categories then).
    """
    rules = rules or DisclosureRules()
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise InputError("every table of a release needs its own name")
    grids = [t.grid() for t in tables]
    status, risks = primary_statuses(grids, rules)
    auditor = _Auditor(grids, ledger, rules)
    auditor.check_primaries(status)
    pattern = Pattern(grids, status, rules, frozen=auditor.fixed_by_ledger)
    group_need = {
        r.cell: Need(1, auditor.values[r.total], r.share)
        for r in risks
        if status[r.cell].suppressed
    }
    w = rules.required_width
    first = sorted((k for k, s in status.items() if s.suppressed), key=lambda k: -auditor.values[k])
    for k in first:
        lo, hi = auditor.own_bounds(k, status[k])
        width = min(w, int(hi - lo)) if status[k] == CellStatus.PRIMARY else 1
        pattern.protect(k, group_need.get(k, Need(width)))
    for rnd in range(max_rounds):
        result = auditor.audit(status, risks)
        if result.passed:
            log.info("disclosure: pattern found after %d audit round(s)", rnd + 1)
            break
        added = 0
        for c in result.failures:
            if c.key in status:
                need = group_need.get(c.key, Need(c.required_width))
                a = pattern.protect(c.key, Need(c.required_width, need.group_total, need.share))
                added += a or pattern.widen(c.key)
            else:
                added += _around_ledger_cell(auditor, pattern, c.key)
        for g in result.groups:
            if not g.ok:
                a = pattern.protect(g.risk.cell, group_need.get(g.risk.cell, Need(1)))
                a = a or pattern.widen(g.risk.cell)
                added += a or pattern.widen(g.risk.total)
        if added == 0:
            raise DisclosureError(
                f"no safe suppression pattern found: {len(result.failures)} hidden cell(s) "
                "stay too narrow although every cell around them is hidden; collapse "
                f"categories, e.g. in table '{(result.failures or result.intervals)[0].table}'"
            )
    else:
        raise DisclosureError(f"no safe suppression pattern within {max_rounds} audit rounds")
    protected = tuple(ProtectedTable.from_status(t, status, rules) for t in tables)
    return Release(protected, result, rules)


def _around_ledger_cell(auditor: _Auditor, pattern: Pattern, key: str) -> int:
    """Hide the cheapest current cell that shares an equation with an old hidden cell."""
    cands = set()
    for r in auditor.system.by_key.get(key, ()):
        for k, _ in auditor.system.rows[r]:
            if k in pattern.status and not pattern.status[k].suppressed and pattern.can_hide(k):
                cands.add(k)
    for k in sorted(cands, key=lambda k: auditor.values[k]):
        pattern.hide(k)
        return 1 + pattern.protect(k, Need(1))
    return 0


def audit_release(
    tables: Sequence[ProtectedTable],
    ledger: Ledger | None = None,
    rules: DisclosureRules | None = None,
) -> AuditResult:
    """Audit protected tables jointly (and against the ledger); call ``raise_if_disclosive``."""
    if not tables:
        return AuditResult((), ())
    rules = rules or tables[0].rules
    grids = [t.table.grid() for t in tables]
    _, risks = primary_statuses(grids, rules)
    # a cell shown in any table is known, wherever else it is hidden
    status: dict[str, CellStatus] = {}
    for t in tables:
        for k, s in zip(t.keys, t.frame["status"], strict=True):
            s = CellStatus(s)
            if k not in status or not s.suppressed:
                status[k] = s
    result = _Auditor(grids, ledger, rules).audit(status, risks)
    values = shared_values(grids)
    unsafe = tuple(
        k
        for k, s in status.items()
        if s == CellStatus.PUBLISHED and 0 < values[k] < rules.threshold
    )
    return replace(result, unsafe_shown=unsafe)
