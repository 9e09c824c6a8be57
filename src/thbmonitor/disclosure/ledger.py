"""The release ledger: what earlier releases published, kept as constraints for new audits.

A JSON file; per release and table: universe, dimensions, categories (Totals included), the
shown values in C order (an int, or a marker string) and, per hidden cell, the interval an
intruder could derive from everything published up to that release (``derived``; ``null``
for a shown cell, an upper bound ``null`` for no bound). Only published values, and what
follows from them, are stored: never a hidden count.

``derived`` tells later releases how much an earlier release left to protect: a later
release must not narrow a hidden cell below the width its own rules require, nor below the
width that was already public (a zero hidden for group disclosure may have been public as
0..0 and needs no width). Format ``/1`` files (without it) are read too; their intervals are
derived again on loading.

A table of the cell-key method (:mod:`thbmonitor.disclosure.cellkey`) is kept with its
maximum deviation D (``max_deviation``; 0 for a suppressed table): its shown values are
perturbed, so each tells an intruder only that the true count lies within D of it (a zero
within 0..D). Later releases are audited with those bounds, a release protected by the
cell-key method is checked against the ledger (:meth:`Ledger.check_perturbed`): a cell must
keep the perturbed value it had (the same records give the same noise; two draws for one
count could be averaged), and no cell that an earlier release hid may be narrowed below
what the rules require.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.disclosure.audit import LinearSystem, Target, solve_intervals
from thbmonitor.disclosure.protected import ProtectedTable
from thbmonitor.disclosure.rules import CellStatus
from thbmonitor.disclosure.table import Grid, cell_key
from thbmonitor.errors import DisclosureError, InputError

__all__ = ["Ledger", "LedgerTable"]

FORMAT = "thbmonitor-disclosure-ledger/2"
READABLE = ("thbmonitor-disclosure-ledger/1", FORMAT)

Interval = tuple[float, float]


@dataclass(frozen=True)
class LedgerTable:
    """One published table of an earlier release."""

    release: str
    name: str
    universe: str
    dims: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    total_label: str
    threshold: int
    shown: tuple[int | str, ...]  # C order over the categories
    small_lower: int = 0  # least value of a "<T" cell under that release's rules
    derived: tuple[Interval | None, ...] = ()  # C order; per hidden cell what was public
    max_deviation: int = 0  # the cell-key method's D (shown values perturbed), else 0

    def grid(self) -> Grid:
        """The table as a grid; hidden cells are NaN."""
        shape = tuple(len(c) for c in self.categories)
        values = np.full(shape, np.nan)
        keys = np.empty(shape, dtype=object)
        for flat, idx in enumerate(np.ndindex(*shape)):
            coords = {d: self.categories[k][idx[k]] for k, d in enumerate(self.dims)}
            keys[idx] = cell_key(self.universe, coords, self.total_label)
            s = self.shown[flat]
            if self.max_deviation:  # perturbed: no true count is known
                continue
            if isinstance(s, int):
                values[idx] = s
            elif s == "–":
                values[idx] = 0
        tpos = tuple(
            c.index(self.total_label) if self.total_label in c else None for c in self.categories
        )
        return Grid(
            f"{self.release}/{self.name}",
            self.universe,
            self.dims,
            self.categories,
            tpos,
            values,
            keys,
        )

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The canonical key of every cell, in C order (as ``shown``)."""
        return tuple(str(k) for k in self.grid().keys.ravel())

    def bounds(self) -> dict[str, tuple[float, float]]:
        """What each cell's shown value tells: a number, a range, or nothing."""
        t = float(self.threshold)
        d = float(self.max_deviation)
        out: dict[str, tuple[float, float]] = {}
        for key, s in zip(self.keys, self.shown, strict=True):
            if d and (isinstance(s, int) or s == "–"):  # perturbed by at most D
                p = float(s) if isinstance(s, int) else 0.0
                out[key] = (max(0.0, p - d), p + d)
            elif isinstance(s, int):
                out[key] = (float(s), float(s))
            elif s == "–":
                out[key] = (0.0, 0.0)
            elif s == f"<{self.threshold}":
                out[key] = (float(self.small_lower), t - 1.0)
            elif s == "x":  # a group-dominant or complementary cell: never below T
                out[key] = (t, math.inf)
            else:  # "." not available
                out[key] = (0.0, math.inf)
        return out

    def hidden(self) -> list[str]:
        """Keys of the cells this table protects ("<T" and "x"; not "." or "–")."""
        return [
            k
            for k, s in zip(self.keys, self.shown, strict=True)
            if isinstance(s, str) and s not in ("–", ".")
        ]

    def derived_intervals(self) -> dict[str, Interval]:
        """Per hidden cell, the interval that was public after this release."""
        return {k: iv for k, iv in zip(self.keys, self.derived, strict=False) if iv is not None}


@dataclass(frozen=True)
class Ledger:
    """Every table published so far."""

    tables: tuple[LedgerTable, ...] = ()

    @property
    def releases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.release for t in self.tables))

    def bounds(self) -> dict[str, Interval]:
        """What all published tables together say of each cell by its marker alone."""
        out: dict[str, Interval] = {}
        for lt in self.tables:
            for k, (lo, hi) in lt.bounds().items():
                old = out.get(k, (0.0, math.inf))
                out[k] = (max(old[0], lo), min(old[1], hi))
        return out

    def derived(self) -> dict[str, Interval]:
        """Per hidden cell, what is public of it: the intersection of the intervals the
        releases that hid it left (empty, hi < lo, only if figures were revised)."""
        out: dict[str, Interval] = {}
        for lt in self.tables:
            for k, (lo, hi) in lt.derived_intervals().items():
                old = out.get(k, (-math.inf, math.inf))
                out[k] = (max(old[0], lo), min(old[1], hi))
        return out

    def noisy(self) -> dict[str, Interval]:
        """What the cell-key tables of the ledger say of each of their cells (within D)."""
        out: dict[str, Interval] = {}
        for lt in self.tables:
            if lt.max_deviation:
                for k, (lo, hi) in lt.bounds().items():
                    old = out.get(k, (0.0, math.inf))
                    out[k] = (max(old[0], lo), min(old[1], hi))
        return out

    def check_perturbed(self, tables: Sequence[ProtectedTable], required_width: int) -> None:
        """Refuse (:class:`DisclosureError`) a cell-key release that differs from the ledger:
        a cell published by the cell-key method before with another value (two noisy values
        of one count can be averaged: the same records must keep the same key, and the
        perturbation table its D and V), a true count outside what an earlier release
        implied (revised figures), or a cell an earlier release hid that the new values
        narrow below ``required_width`` (or below the width that was public already)."""
        from thbmonitor.disclosure.primary import describe_key

        earlier: dict[str, tuple[int | str, str]] = {}
        for lt in self.tables:
            if lt.max_deviation:
                for k, s in zip(lt.keys, lt.shown, strict=True):
                    earlier.setdefault(k, (s, lt.release))
        bounds = self.bounds()
        for pt in tables:
            if not pt.max_deviation:
                raise InputError(f"table '{pt.name}' is not perturbed by the cell-key method")
            true = pt.frame["true_count"] if "true_count" in pt.frame else pt.frame["count"]
            for k, shown, n in zip(pt.keys, pt.frame["display"], true, strict=True):
                if k in earlier and earlier[k][0] != shown:
                    raise DisclosureError(
                        f"{describe_key(k)} was published as {earlier[k][0]!r} by release "
                        f"'{earlier[k][1]}' and would now be {shown!r}: a cell keeps its "
                        "perturbed value across releases (same record keys, same "
                        "perturbation table), else its noise can be averaged away"
                    )
                lo, hi = bounds.get(k, (0.0, math.inf))
                if not pd.isna(n) and not lo - 1e-9 <= float(n) <= hi + 1e-9:
                    raise DisclosureError(
                        f"{describe_key(k)} has another count than an earlier release "
                        "implied (revised figures); the ledger cannot constrain a revised "
                        "release: use the ledger of the revised data"
                    )
        before = self.derived()
        if not before:
            return
        probe = Ledger((*self.tables, *_ledger_tables("(new)", tables)))
        after = _derive(list(probe.tables))
        for k, (lo0, hi0) in before.items():
            lo1, hi1 = after.get(k, (lo0, hi0))
            need = min(float(required_width), hi0 - lo0)
            if hi1 - lo1 < need:
                raise DisclosureError(
                    f"the cell-key values narrow {describe_key(k)}, which an earlier release "
                    f"hid, to a width of {hi1 - lo1:g} (at least {need:g} required); widen "
                    "the perturbation (disclosure_max_deviation) or keep the suppression"
                )

    def with_release(self, release: str, tables: Sequence[ProtectedTable]) -> Ledger:
        """A new ledger with the tables of ``release`` added (refuses a release name twice).

        Each hidden cell of the new tables keeps the interval an intruder can derive from all
        tables of the new ledger (an LP over their shown values and margins)."""
        self.check_new(release)
        new = _ledger_tables(release, tables)
        derived = _derive([*self.tables, *new])
        return Ledger((*self.tables, *(_with_derived(t, derived) for t in new)))

    def check_new(self, release: str) -> None:
        """Raise :class:`InputError` unless ``release`` is a new, non-empty release name."""
        if not release.strip():
            raise InputError("a release needs a name")
        if release in self.releases:
            raise InputError(f"release '{release}' is already in the ledger")

    def to_json(self) -> str:
        """The ledger as JSON text (format ``/2``)."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "tables": [
                {
                    "release": t.release,
                    "name": t.name,
                    "universe": t.universe,
                    "dims": list(t.dims),
                    "categories": [list(c) for c in t.categories],
                    "total_label": t.total_label,
                    "threshold": t.threshold,
                    "small_lower": t.small_lower,
                    "shown": list(t.shown),
                    "derived": [
                        None if iv is None else [_num(iv[0]), _num(iv[1])] for iv in t.derived
                    ],
                    "max_deviation": t.max_deviation,
                }
                for t in self.tables
            ],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)

    def save(self, path: str | Path) -> None:
        """Write the ledger atomically: a temporary file in the same folder, then a rename,
        so that a failure never leaves a half-written ledger."""
        path = Path(path)
        text = self.to_json()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> Ledger:
        """Read a ledger file (format ``/2``, or ``/1`` whose intervals are derived again)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the disclosure ledger {path}: {exc}") from exc
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str, source: str = "the ledger") -> Ledger:
        """A ledger from its JSON text; ``source`` names it in messages."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"cannot read the disclosure ledger {source}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") not in READABLE:
            raise InputError(f"{source} is not a thbmonitor disclosure ledger ({FORMAT})")
        try:
            tables = tuple(_table_from_json(t) for t in doc["tables"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"the disclosure ledger {source} is damaged: {exc!r}") from exc
        if doc["format"] != FORMAT:  # /1: derive what was public, release by release
            done: list[LedgerTable] = []
            for release in dict.fromkeys(t.release for t in tables):
                part = [t for t in tables if t.release == release]
                derived = _derive([*done, *part])
                done += [_with_derived(t, derived) for t in part]
            tables = tuple(done)
        return cls(tables)


def _ledger_tables(release: str, tables: Sequence[ProtectedTable]) -> list[LedgerTable]:
    new = []
    for pt in tables:
        g = pt.table.grid()
        shown = tuple(v if isinstance(v, str) else int(v) for v in pt.frame["display"].tolist())
        new.append(
            LedgerTable(
                release,
                pt.name,
                g.universe,
                g.dims,
                tuple(tuple(str(c) for c in cats) for cats in g.categories),
                pt.table.total_label,
                pt.rules.threshold,
                shown,
                pt.rules.small_lower,
                max_deviation=pt.max_deviation,
            )
        )
    return new


def _num(v: float) -> int | None:
    return None if math.isinf(v) else round(v)


def _table_from_json(t: dict[str, Any]) -> LedgerTable:
    derived = tuple(
        None if iv is None else (float(iv[0]), math.inf if iv[1] is None else float(iv[1]))
        for iv in t.get("derived", ())
    )
    shown = tuple(t["shown"])
    if derived and len(derived) != len(shown):
        raise ValueError(f"table '{t['name']}': 'derived' and 'shown' differ in length")
    return LedgerTable(
        t["release"],
        t["name"],
        t["universe"],
        tuple(t["dims"]),
        tuple(tuple(c) for c in t["categories"]),
        t["total_label"],
        int(t["threshold"]),
        shown,
        int(t.get("small_lower", 0)),
        derived,
        int(t.get("max_deviation", 0)),
    )


def _derive(tables: Sequence[LedgerTable]) -> dict[str, Interval]:
    """The interval an intruder derives for every hidden cell from these tables together."""
    bounds = Ledger(tuple(tables)).bounds()
    system = LinearSystem(t.grid() for t in tables)
    targets = {
        k: Target(k, f"{t.release}/{t.name}", CellStatus.SECONDARY, 0)
        for t in tables
        for k in t.hidden()
    }
    result = solve_intervals(system, bounds, list(targets.values()))
    return {c.key: (c.lower, c.upper) for c in result.intervals}


def _with_derived(t: LedgerTable, derived: dict[str, Interval]) -> LedgerTable:
    hidden = set(t.hidden())
    return replace(t, derived=tuple(derived.get(k) if k in hidden else None for k in t.keys))
