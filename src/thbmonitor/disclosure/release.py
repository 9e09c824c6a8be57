"""Protect and audit a whole release: primary, secondary suppression and the joint LP audit.

Secondary suppression is optimal where the time allows (:mod:`~thbmonitor.disclosure.optimal`:
the cheapest pattern that passes the joint audit) and heuristic otherwise
(:func:`~thbmonitor.disclosure.suppression.heuristic_pattern`).

Tables that share no cell but are tied by relations (the monitor's registrations, victims and
persons) are first protected block by block without the ties (blocks: tables linked through
shared cells); the cuts each block's search found hold for the whole release too, so the
joint search starts from them (its first pattern is the union of the blocks' patterns) and
only has to repair what the ties give away. Each round it also grows its pattern into a safe
one (``optimal_pattern(repair=True)``), returned if the search stops before a proven optimum;
the heuristic from scratch, minutes on such a joint system, is only the last fallback. The
joint audit decides, as always.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from thbmonitor.disclosure.audit import AuditResult
from thbmonitor.disclosure.auditor import Auditor
from thbmonitor.disclosure.ledger import Ledger
from thbmonitor.disclosure.optimal import KeyCut, optimal_pattern
from thbmonitor.disclosure.primary import primary_statuses, shared_values, shown_small_cells
from thbmonitor.disclosure.protected import ProtectedTable, concat_display
from thbmonitor.disclosure.relations import Relations
from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.suppression import cell_costs, heuristic_pattern
from thbmonitor.disclosure.table import CountTable, Grid
from thbmonitor.errors import DisclosureError, InputError

__all__ = ["Release", "audit_release", "protect_release"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Search:
    """How the pattern of a release was found."""

    method: str  # "optimal" | "heuristic" | "none" (nothing to hide)
    proven_optimal: bool = False
    seconds: float = 0.0
    cost: float = 0.0
    # False if the optimiser stopped at its time guard before its work limit: the pattern
    # may then differ on another machine (see thbmonitor.disclosure.optimal)
    reproducible: bool = True


@dataclass(frozen=True)
class Release:
    """The protected tables of one release and the audit that let them through."""

    tables: tuple[ProtectedTable, ...]
    audit: AuditResult
    rules: DisclosureRules
    search: Search = field(default_factory=lambda: Search("none"))

    def __getitem__(self, name: str) -> ProtectedTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def display_frame(self) -> pd.DataFrame:
        """All tables as published, stacked with a ``table`` column."""
        return concat_display(self.tables)


class _Setup:
    """The cells of a release (with its context and latent tables) and their first status."""

    def __init__(
        self,
        tables: Sequence[CountTable],
        rules: DisclosureRules,
        ledger: Ledger | None,
        relations: Relations | None,
        context: Sequence[ProtectedTable],
    ) -> None:
        names = [t.name for t in tables]
        if len(set(names)) != len(names):
            raise InputError("every table of a release needs its own name")
        relations = relations or Relations()
        self.grids: list[Grid] = [t.table.grid() for t in context] + [t.grid() for t in tables]
        latent = [t.grid() for t in relations.latent]
        self.status, self.risks = primary_statuses(self.grids, rules)
        for pt in context:  # what this release published already stays as it is
            for k, s in zip(pt.keys, pt.frame["status"], strict=True):
                self.status[k] = CellStatus(s)
        published = set(self.status)
        for g in latent:  # latent tables may share cells with each other, not with a table
            for k in g.keys.ravel():
                if str(k) in published:
                    raise InputError(f"latent table '{g.name}' shares a cell with a table")
                self.status[str(k)] = CellStatus.NOT_AVAILABLE
        known = set(self.status) | set((ledger or Ledger()).bounds())
        equations = relations.usable(known)
        self.auditor = Auditor([*self.grids, *latent], ledger, rules, equations)
        Relations(equations).check(self.auditor.values)
        self.auditor.check_primaries(self.status)
        fixed = {k for pt in context for k in pt.keys}
        keep = {k for g in self.grids for k in g.keep}
        self.unusable = self.auditor.fixed_by_ledger | fixed | keep
        costs = cell_costs(self.grids, rules)
        t = rules.threshold
        self.candidates = {
            k: costs[k]
            for k, s in self.status.items()
            if s == CellStatus.PUBLISHED
            and k not in self.unusable
            and k in costs
            and not np.isnan(self.auditor.values[k])
            and self.auditor.values[k] >= t
        }
        self.costs = costs


def protect_release(
    tables: Sequence[CountTable],
    rules: DisclosureRules | None = None,
    ledger: Ledger | None = None,
    max_rounds: int = 300,
    prune_limit: int = 60,
    *,
    relations: Relations | None = None,
    context: Sequence[ProtectedTable] = (),
) -> Release:
    """Protect all tables of a release together and audit them jointly.

    ``relations``: further equations between cells (across units, windows, universes) that
    the audit holds too. ``context``: tables of this release protected earlier (e.g. by
    another chapter): their cells stay as they are and join the audit.
    Raises :class:`DisclosureError` if no safe pattern exists that shows every cell a table
    keeps (merge categories then). ``max_rounds`` and ``prune_limit`` bound the heuristic.
    """
    rules = rules or DisclosureRules()
    setup = _Setup(tables, rules, ledger, relations, context)
    auditor, status, risks = setup.auditor, setup.status, setup.risks
    pattern: dict[str, CellStatus] | None = None
    search = Search("none")
    start: dict[str, CellStatus] | None = None
    reproducible = True
    tied = False  # tables in blocks tied by relations (see _block_cuts)
    if auditor.audit(status, risks, exact=False).passed:
        pattern = status
    elif rules.time_limit > 0:
        tied, cuts = _block_cuts(tables, rules, ledger, relations, context)
        out = optimal_pattern(
            auditor, status, risks, setup.candidates, rules.time_limit, cuts=cuts,
            repair=tied,
        )  # fmt: skip
        if out.infeasible:
            raise DisclosureError(
                "no safe suppression pattern shows every cell the tables keep (headline "
                "totals): a small count can only be protected by hiding one of them; merge "
                "categories"
            )
        if out.status is not None:
            pattern = out.status
            search = Search("optimal", out.optimal, out.seconds, out.cost, not out.timed_out)
        start = out.last
        reproducible = not out.timed_out
    # the fallback, or a check of an optimum not proven in time: the cheapest pattern (not
    # for tied blocks: from scratch on their joint system the heuristic takes minutes and
    # hides far more than the repaired pattern)
    if pattern is None or (search.method == "optimal" and not search.proven_optimal and not tied):
        found = _heuristic(setup, rules, max_rounds, prune_limit, start, pattern is None)
        if found is not None and (pattern is None or found[1] < search.cost):
            pattern, search = (
                found[0],
                Search("heuristic", False, search.seconds, found[1], reproducible),
            )
    if pattern is None:  # pragma: no cover - _heuristic raises when it finds nothing
        raise DisclosureError("no safe suppression pattern found")
    result = auditor.audit(pattern, risks, exact=True)
    if not result.passed:  # pragma: no cover - a pass with inner bounds is a pass
        raise DisclosureError("the exact audit disagrees with the search; report this")
    protected = tuple(ProtectedTable.from_status(t, pattern, rules) for t in tables)
    return Release(protected, result, rules, search)


def _blocks(tables: Sequence[CountTable], context: Sequence[ProtectedTable]) -> list[list[int]]:
    """Positions (in ``[*context, *tables]``) of the tables linked through shared cells."""
    grids = [t.table.grid() for t in context] + [t.grid() for t in tables]
    parent = list(range(len(grids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, g in enumerate(grids):
        for k in g.keys.ravel():
            j = owner.setdefault(str(k), i)
            parent[find(i)] = find(j)
    out: dict[int, list[int]] = {}
    for i in range(len(grids)):
        out.setdefault(find(i), []).append(i)
    return list(out.values())


def _block_cuts(
    tables: Sequence[CountTable],
    rules: DisclosureRules,
    ledger: Ledger | None,
    relations: Relations | None,
    context: Sequence[ProtectedTable],
) -> tuple[bool, list[KeyCut]]:
    """Whether relations tie blocks of tables that share no cell, and the cuts of each
    block's own search (none if not tied: the joint search is the block's). Each block gets
    the time limit."""
    if relations is None or not relations.equations:
        return False, []
    blocks = _blocks(tables, context)
    if len(blocks) < 2:
        return False, []
    n = len(context)
    cuts: list[KeyCut] = []
    for members in blocks:
        part = [tables[i - n] for i in members if i >= n]
        if not part:
            continue
        sub = _Setup(part, rules, ledger, None, [context[i] for i in members if i < n])
        if sub.auditor.audit(sub.status, sub.risks, exact=False).passed:
            continue
        out = optimal_pattern(sub.auditor, sub.status, sub.risks, sub.candidates,
                              rules.time_limit)  # fmt: skip
        log.info(
            "disclosure: block of %d table(s) on its own: %s after %d round(s), %.1f s",
            len(part), "safe pattern" if out.status is not None else "no pattern",
            out.rounds, out.seconds,
        )  # fmt: skip
        cuts += out.cuts
    return True, cuts


def _heuristic(
    setup: _Setup,
    rules: DisclosureRules,
    max_rounds: int,
    prune_limit: int,
    start: dict[str, CellStatus] | None,
    required: bool,
) -> tuple[dict[str, CellStatus], float] | None:
    """The cheaper of the heuristic's patterns from scratch and from ``start`` (the
    optimiser's last try), with its cost; None (or, if ``required``, the error) if neither
    finds one."""
    found: list[tuple[dict[str, CellStatus], float]] = []
    error: DisclosureError | None = None
    for begin in (None, start) if start is not None else (None,):
        try:
            pattern = heuristic_pattern(
                setup.auditor, setup.grids, setup.status, setup.risks, rules, setup.unusable,
                max_rounds, prune_limit, begin,
            )  # fmt: skip
        except DisclosureError as exc:
            error = exc
            continue
        cost = sum(setup.costs[k] for k, s in pattern.items() if s == CellStatus.SECONDARY)
        found.append((pattern, cost))
    if not found:
        if required and error is not None:
            raise error
        return None
    return min(found, key=lambda f: f[1])


def audit_release(
    tables: Sequence[ProtectedTable],
    ledger: Ledger | None = None,
    rules: DisclosureRules | None = None,
    relations: Relations | None = None,
) -> AuditResult:
    """Audit protected tables jointly (and against the ledger and the relations between
    them); call ``raise_if_disclosive`` on the result."""
    if not tables:
        return AuditResult((), ())
    rules = rules or tables[0].rules
    relations = relations or Relations()
    grids = [t.table.grid() for t in tables]
    latent = [t.grid() for t in relations.latent]
    _, risks = primary_statuses(grids, rules)
    # a cell shown in any table is known, wherever else it is hidden
    status: dict[str, CellStatus] = {}
    for t in tables:
        for k, s in zip(t.keys, t.frame["status"], strict=True):
            s = CellStatus(s)
            if k not in status or not s.suppressed:
                status[k] = s
    for g in latent:
        status.update((str(k), CellStatus.NOT_AVAILABLE) for k in g.keys.ravel())
    known = set(status) | set((ledger or Ledger()).bounds())
    equations = relations.usable(known)
    auditor = Auditor([*grids, *latent], ledger, rules, equations)
    Relations(equations).check(auditor.values)
    result = auditor.audit(status, risks)
    values = shared_values(grids)
    shown_small = shown_small_cells(grids, rules)
    unsafe = tuple(
        k
        for k, s in status.items()
        if s == CellStatus.PUBLISHED
        and 0 < values.get(k, math.nan) < rules.threshold
        and k not in shown_small
    )
    return replace(result, unsafe_shown=unsafe)
