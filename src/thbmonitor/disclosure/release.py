"""Protect and audit a whole release: primary, secondary suppression and the joint LP audit."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
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

HIDDEN = frozenset({CellStatus.PRIMARY, CellStatus.GROUP, CellStatus.SECONDARY})
UNKNOWN = HIDDEN | {CellStatus.NOT_AVAILABLE}


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
        # an earlier release may have left a hidden cell narrower than the rules require
        # (a zero hidden for group disclosure needs no width); what is public already cannot
        # be protected again, so a later release only must not narrow it any further
        self.ledger_derived = (ledger or Ledger()).derived()
        self.fixed_by_ledger = {k for k, (lo, hi) in self.ledger_bounds.items() if lo == hi}
        self.ledger_hidden = set(self.ledger_bounds) - self.fixed_by_ledger
        revised = [
            k
            for k in self.fixed_by_ledger
            if k in self.values
            and not np.isnan(self.values[k])
            and self.values[k] != self.ledger_bounds[k][0]
        ]
        # a hidden count outside what the earlier figures imply has been revised as well
        revised += [
            k
            for k, (lo, hi) in self.ledger_derived.items()
            if k not in self.fixed_by_ledger
            and not np.isnan(self.values.get(k, math.nan))
            and not lo - 1e-9 <= self.values[k] <= hi + 1e-9
        ]
        if revised:
            raise DisclosureError(
                f"{len(revised)} cell(s) published (or implied) in an earlier release have "
                f"another count now (revised figures), e.g. {describe_key(revised[0])}; the "
                "ledger cannot constrain a revised release: audit it with the ledger of the "
                "revised data"
            )
        self.system = LinearSystem([*grids, *ledger_grids])
        self.cache: dict[bool, dict[frozenset[str], dict[str, tuple[float, float]]]] = {
            True: {},
            False: {},
        }

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
            return (min(v, float(self.rules.small_lower)), t - 1.0)
        return (t, math.inf)

    def required(self, key: str, status: CellStatus) -> int:
        """Minimum interval width of a hidden cell (0: only hidden for a group check)."""
        if status != CellStatus.PRIMARY:
            return self._cap(key, 1)
        if self.values[key] == 0 and not self.rules.zeros_disclosive:
            return 0  # a zero hidden for group disclosure: the zero itself is not sensitive
        lo, hi = self.own_bounds(key, status)
        return self._cap(key, min(self.rules.required_width, int(hi - lo)))

    def _cap(self, key: str, width: int) -> int:
        """At most the width an earlier release left public (see ``ledger_derived``)."""
        lo, hi = self.ledger_derived.get(key, (-math.inf, math.inf))
        return width if hi - lo >= width or hi < lo else int(hi - lo)

    def component(
        self, key: str, status: Mapping[str, CellStatus], limit: float = math.inf
    ) -> set[str]:
        """The hidden (or unknown) cells connected to ``key`` through shared equations
        (the search stops once more than ``limit`` are found)."""
        seen, todo = {key}, [key]
        while todo and len(seen) <= limit:
            k0 = todo.pop()
            for r in self.system.by_key.get(k0, ()):
                for k, _ in self.system.rows[r]:
                    if k in seen:
                        continue
                    s = status.get(k)
                    if (s is None and k in self.ledger_hidden) or s in UNKNOWN:
                        seen.add(k)
                        todo.append(k)
        return seen

    def audit(
        self,
        status: dict[str, CellStatus],
        risks: Sequence[GroupRisk],
        exact: bool = True,
        only: set[str] | None = None,
    ) -> AuditResult:
        """Audit the pattern ``status``; ``only`` restricts it to one closed component."""
        if only is None:
            keys: Iterable[str] = [*status, *(k for k in self.ledger_bounds if k not in status)]
        else:
            near = {
                k
                for v in only
                for r in self.system.by_key.get(v, ())
                for k, _ in self.system.rows[r]
            }
            keys = sorted(only | near)
        bounds: dict[str, tuple[float, float]] = {}
        targets = []
        w = self.rules.required_width
        for k in keys:
            s = status.get(k)
            old = self.ledger_bounds.get(k)
            if s is None:
                assert old is not None
                bounds[k] = old
                marker = self.ledger_marker.get(k, ".")
                if marker != "." and (only is None or k in only):
                    primary = marker.startswith("<")
                    req = self._cap(k, min(w, int(old[1] - old[0])) if primary else 1)
                    st = CellStatus.PRIMARY if primary else CellStatus.SECONDARY
                    targets.append(Target(k, self.ledger_owner[k], st, req))
                continue
            lo, hi = self.own_bounds(k, s)
            bounds[k] = (lo, hi) if old is None else (max(lo, old[0]), min(hi, old[1]))
            if s in HIDDEN and (only is None or k in only):
                targets.append(Target(k, self.owner[k], s, self.required(k, s)))
        if only is not None:
            risks = [g for g in risks if g.cell in only or g.total in only]
        return solve_intervals(self.system, bounds, targets, risks, self.cache[exact], exact, only)


def protect_release(
    tables: Sequence[CountTable],
    rules: DisclosureRules | None = None,
    ledger: Ledger | None = None,
    max_rounds: int = 60,
    prune_limit: int = 60,
) -> Release:
    """Protect all tables of a release together and audit them jointly.

    Raises :class:`DisclosureError` if no safe pattern is found (collapse categories then).
    Once a safe pattern is found, complementary cells are shown again, the most costly first,
    where the audit still passes without them (in components of at most ``prune_limit``
    hidden cells, to bound the time).
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
    first = sorted((k for k, s in status.items() if s.suppressed), key=lambda k: -auditor.values[k])
    for k in first:
        width = auditor.required(k, status[k])
        if width > 0 or k in group_need:
            pattern.protect(k, group_need.get(k, Need(width)))
    for rnd in range(max_rounds):
        result = auditor.audit(status, risks, exact=False)
        if result.passed:
            log.info("disclosure: pattern found after %d audit round(s)", rnd + 1)
            _prune(auditor, pattern, risks, prune_limit)
            # the search may stop early once a cell is wide enough; report exact intervals
            result = auditor.audit(status, risks, exact=True)
            if not result.passed:  # pragma: no cover - a pass with inner bounds is a pass
                raise DisclosureError("the exact audit disagrees with the search; report this")
            break
        added = 0
        for c in result.failures:
            a = 0
            if c.key in status:
                need = group_need.get(c.key, Need(c.required_width))
                a = pattern.protect(c.key, Need(c.required_width, need.group_total, need.share))
                a = a or pattern.widen(c.key)
            added += a or _grow(auditor, pattern, c.key)
        for g in result.groups:
            if not g.ok:
                a = pattern.protect(g.risk.cell, group_need.get(g.risk.cell, Need(1)))
                added += a or _grow(auditor, pattern, g.risk.cell)
        log.debug(
            "disclosure: round %d: %d narrow cell(s), groups at risk in %s, %d cell(s) hidden",
            rnd + 1,
            len(result.failures),
            sorted({g.risk.table for g in result.groups if not g.ok}),
            added,
        )
        if added == 0:
            bad_groups = [g.risk.table for g in result.groups if not g.ok]
            where = [c.table for c in result.failures] + bad_groups
            raise DisclosureError(
                f"no safe suppression pattern found: {len(result.failures)} hidden cell(s) "
                f"and {len(bad_groups)} group(s) stay disclosed although every cell around "
                f"them is hidden; collapse categories, e.g. in table '{where[0]}'"
            )
    else:
        raise DisclosureError(f"no safe suppression pattern within {max_rounds} audit rounds")
    protected = tuple(ProtectedTable.from_status(t, status, rules) for t in tables)
    return Release(protected, result, rules)


def _prune(auditor: _Auditor, pattern: Pattern, risks: Sequence[GroupRisk], limit: int) -> None:
    """Show again every complementary cell the pattern does not need (costliest first)."""
    secondary = [k for k, s in pattern.status.items() if s == CellStatus.SECONDARY]
    for k in sorted(secondary, key=lambda k: (-pattern.key_cost(k), k)):
        comp = auditor.component(k, pattern.status, limit)
        if len(comp) > limit:
            continue
        pattern.unhide(k)
        rest: set[str] = set()
        for n in comp - {k}:
            if n not in rest:
                rest |= auditor.component(n, pattern.status)
        if rest and not auditor.audit(pattern.status, risks, exact=False, only=rest).passed:
            pattern.hide(k)


def _grow(auditor: _Auditor, pattern: Pattern, key: str) -> int:
    """Fallback: hide the cheapest shown cell (cost weights included) that shares an equation
    with the hidden cells connected to ``key`` (its component), and protect it with a cube."""
    seen, todo, cands = {key}, [key], set()
    while todo:
        k0 = todo.pop()
        for r in auditor.system.by_key.get(k0, ()):
            for k, _ in auditor.system.rows[r]:
                if k in seen:
                    continue
                s = pattern.status.get(k)
                if s is None or s.suppressed or s == CellStatus.NOT_AVAILABLE:
                    seen.add(k)
                    todo.append(k)
                elif pattern.can_hide(k):
                    cands.add(k)
    for k in sorted(cands, key=lambda k: (pattern.key_cost(k), k)):
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
