"""The joint linear system of a release with its ledger, and the audit of a pattern on it.

An :class:`Auditor` knows the true value of every cell of a release, the tables of earlier
releases (the ledger: what they published fixes or bounds cells), and the additive structure
of all of them together (:class:`~thbmonitor.disclosure.audit.LinearSystem`). Given a
pattern (a status per cell) it gives each cell's bounds as an intruder reads them from the
markers, and audits the pattern: the interval of every hidden cell and the group checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from thbmonitor.disclosure.audit import AuditResult, LinearSystem, Target, solve_intervals
from thbmonitor.disclosure.ledger import Ledger
from thbmonitor.disclosure.primary import GroupRisk, describe_key, shared_values
from thbmonitor.disclosure.rules import CellStatus, DisclosureRules
from thbmonitor.disclosure.table import Grid
from thbmonitor.errors import DisclosureError

__all__ = ["HIDDEN", "UNKNOWN", "Auditor"]

HIDDEN = frozenset({CellStatus.PRIMARY, CellStatus.GROUP, CellStatus.SECONDARY})
UNKNOWN = HIDDEN | {CellStatus.NOT_AVAILABLE}


class Auditor:
    """The joint linear system of a release and its ledger, with cached component solutions."""

    def __init__(
        self,
        grids: Sequence[Grid],
        ledger: Ledger | None,
        rules: DisclosureRules,
        equations: Iterable[tuple[tuple[str, float], ...]] = (),
    ):
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
        # ... and a count outside the noise of an earlier cell-key release
        revised += [
            k
            for k, (lo, hi) in (ledger or Ledger()).noisy().items()
            if not np.isnan(self.values.get(k, math.nan))
            and not lo - 1e-9 <= self.values[k] <= hi + 1e-9
        ]
        if revised:
            raise DisclosureError(
                f"{len(revised)} cell(s) published (or implied) in an earlier release have "
                f"another count now (revised figures), e.g. {describe_key(revised[0])}; the "
                "ledger cannot constrain a revised release: audit it with the ledger of the "
                "revised data"
            )
        self.system = LinearSystem([*grids, *ledger_grids], equations)
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

    def bounds(self, key: str, status: CellStatus | None) -> tuple[float, float]:
        """What an intruder knows of a cell from its marker here and in the ledger
        (``status`` None: a cell of an earlier release only)."""
        old = self.ledger_bounds.get(key)
        if status is None:
            assert old is not None
            return old
        lo, hi = self.own_bounds(key, status)
        return (lo, hi) if old is None else (max(lo, old[0]), min(hi, old[1]))

    def required(self, key: str, status: CellStatus) -> int:
        """Minimum interval width of a hidden cell (0: only hidden for a group check)."""
        if status != CellStatus.PRIMARY:
            return self._cap(key, 1)
        if self.values[key] == 0 and not self.rules.zeros_disclosive:
            # a zero hidden for group disclosure: not sensitive itself, but its marker says
            # "0 to T-1", so an intruder must not be able to prove it zero either
            return self._cap(key, 1)
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
            bounds[k] = self.bounds(k, s)
            if s is None:
                old = bounds[k]
                marker = self.ledger_marker.get(k, ".")
                if marker != "." and (only is None or k in only):
                    primary = marker.startswith("<")
                    req = self._cap(k, min(w, int(old[1] - old[0])) if primary else 1)
                    st = CellStatus.PRIMARY if primary else CellStatus.SECONDARY
                    targets.append(Target(k, self.ledger_owner[k], st, req))
                continue
            if s in HIDDEN and (only is None or k in only):
                targets.append(Target(k, self.owner[k], s, self.required(k, s)))
        if only is not None:
            risks = [g for g in risks if g.cell in only or g.total in only]
        return solve_intervals(self.system, bounds, targets, risks, self.cache[exact], exact, only)
