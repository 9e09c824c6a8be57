"""Count tables with margins: the input of disclosure control, and canonical cell keys.

A table is a full cross-classification of its dimensions in long form (one row per cell,
a ``count`` column). A dimension that has the total label (``"Total"``) among its categories
is additive: the Total cell equals the sum of the other categories of that line. A dimension
without it (e.g. a single ``year``) only stratifies.

A cell is identified across tables by its canonical key: the universe plus the
(dimension, category) pairs that are not a Total. So ``group=A, sex=Total`` in a group x sex
table and ``group=A, age=Total`` in a group x age table are the same cell.

A table may say which cells matter most with ``cost_weights``: per dimension, a factor per
category that multiplies the cost of hiding a cell in that category (the factors of a cell's
categories multiply). Secondary suppression then draws complementary cells from cheap
categories (e.g. ``"unknown"``: factor 0.2) before expensive ones (a headline band: factor 20).
A factor for the total label weights that dimension's margin cells.

A table may name cells that must stay published (``keep``: headline totals, by their
coordinates; dimensions not named are the Total): they are never chosen as complementary
cells, and if no safe pattern leaves them shown, protection fails (the caller then merges
categories). A small count is hidden all the same.

A table names its ``unknown`` categories (per dimension: "unknown", "not stated"): with the
rule ``unknown_primary=False`` a small count of persons whose attribute is unknown is shown.
A table may also name cells (``shown``, by coordinates like ``keep``) whose small counts are
shown whatever the rule: those that the published headline cells give away anyway (persons of
unknown sex in a year are that year's total minus its women and men); the caller says so in
the method text.

A ``latent`` table is never published: its cells are counts that an intruder knows only to be
non-negative (e.g. the later victim-years of persons), used by the linear relations between
published tables (:class:`~thbmonitor.disclosure.relations.Relations`).

A table may also declare ``structural`` groups: per dimension, categories whose members are
in one category of another dimension by definition (a code nested in one parent code, a status
that implies the answer). A dominant share in such a group tells nothing new about anyone, so
the group-disclosure rule does not check the lines those categories identify.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.errors import InputError

__all__ = ["CountTable", "cell_key", "tables_from_frame"]

TOTAL = "Total"


def cell_key(universe: str, coords: Mapping[str, Any], total_label: str = TOTAL) -> str:
    """The canonical key of a cell: the universe and its non-Total coordinates."""
    pairs = sorted((str(d), str(v)) for d, v in coords.items() if str(v) != total_label)
    return json.dumps([universe, pairs], ensure_ascii=False)


@dataclass(frozen=True, eq=False)
class CountTable:
    """True counts of one table, in long form, including its margins.

    ``frame`` has one row per cell: the ``dims`` columns and a ``count`` column (non-negative
    integers; NaN means not available). Tables of one ``universe`` (the same population,
    e.g. registered presumed victims) share cells with equal keys.

    ``cost_weights`` maps a dimension to ``{category: factor}``: hiding a cell of that
    category as a complement costs ``factor`` times more (factors > 1 keep a cell published,
    < 1 offer it first). Categories not named have factor 1. Weights only steer the choice of
    complementary cells; primary suppression and the audit do not depend on them.

    ``structural`` maps a dimension to categories that fix, by definition, the category of
    the other dimension(s) of their lines (e.g. ``{"sector": ["Agriculture"]}`` in a group x
    sector table: agriculture is labour exploitation by the code list). Lines whose fixed
    coordinates include such a category are not checked for group disclosure.
    """

    name: str
    frame: pd.DataFrame
    dims: tuple[str, ...]
    universe: str = "registrations"
    count: str = "count"
    total_label: str = TOTAL
    cost_weights: Mapping[str, Mapping[Any, float]] = field(default_factory=dict)
    structural: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    keep: Sequence[Mapping[str, Any]] = ()
    latent: bool = False
    unknown: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    shown: Sequence[Mapping[str, Any]] = ()
    _grid: Grid | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for d in self.unknown:
            if d not in self.dims:
                raise InputError(f"table '{self.name}': unknown categories of '{d}', no dimension")
        for cell in (*self.keep, *self.shown):
            if not set(cell) <= set(self.dims):
                raise InputError(f"table '{self.name}': a cell to keep names a non-dimension")
        for d in self.structural:
            if d not in self.dims:
                raise InputError(f"table '{self.name}': structural '{d}' is not a dimension")
        for d, factors in self.cost_weights.items():
            if d not in self.dims:
                raise InputError(
                    f"table '{self.name}': cost weight for '{d}', which is not a dimension"
                )
            for f in factors.values():
                if not (math.isfinite(f) and f > 0):
                    raise InputError(
                        f"table '{self.name}': cost weights of '{d}' must be positive numbers"
                    )

    @classmethod
    def from_cells(
        cls,
        name: str,
        cells: pd.DataFrame,
        dims: Sequence[str],
        *,
        margins: Sequence[str] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        count: str = "count",
        universe: str = "registrations",
        total_label: str = TOTAL,
        cost_weights: Mapping[str, Mapping[Any, float]] | None = None,
        structural: Mapping[str, Sequence[Any]] | None = None,
        keep: Sequence[Mapping[str, Any]] = (),
        latent: bool = False,
        unknown: Mapping[str, Sequence[Any]] | None = None,
        shown: Sequence[Mapping[str, Any]] = (),
    ) -> CountTable:
        """Build a table from its inner cells, adding the margins of ``margins`` (default all).

        Missing combinations of categories become zeros; a margin is the sum of the known
        (non-NaN) inner cells of its line.
        """
        dims = tuple(dims)
        margins = tuple(dims if margins is None else margins)
        _check_columns(name, cells, (*dims, count))
        if not set(margins) <= set(dims):
            raise InputError(f"table '{name}': margins must be among the dimensions")
        cats = _categories(cells, dims, categories, total_label, name)
        full = pd.MultiIndex.from_product([cats[d] for d in dims], names=list(dims))
        agg = cells.groupby(list(dims), sort=False, dropna=False)[count].sum(min_count=1)
        base = full.to_frame(index=False).merge(
            agg.reset_index(), on=list(dims), how="left", indicator=True
        )
        # combinations never seen are true zeros; NaN in the input stays "not available"
        base[count] = base[count].astype(float).where(base["_merge"] == "both", 0.0)
        base = base.drop(columns="_merge")
        parts = [base]
        for r in range(1, len(margins) + 1):
            for over in itertools.combinations(margins, r):
                rest = [d for d in dims if d not in over]
                if rest:
                    part = base.groupby(rest, sort=False)[count].sum().reset_index()
                else:
                    part = pd.DataFrame({count: [float(base[count].sum())]})
                for d in over:
                    part[d] = total_label
                parts.append(part[[*dims, count]])
        frame = pd.concat(parts, ignore_index=True)
        return cls(
            name,
            frame,
            dims,
            universe,
            count,
            total_label,
            dict(cost_weights or {}),
            dict(structural or {}),
            tuple(keep),
            latent,
            dict(unknown or {}),
            tuple(shown),
        )

    @classmethod
    def from_records(
        cls,
        name: str,
        records: pd.DataFrame,
        dims: Sequence[str],
        *,
        margins: Sequence[str] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        universe: str = "registrations",
        total_label: str = TOTAL,
        cost_weights: Mapping[str, Mapping[Any, float]] | None = None,
        structural: Mapping[str, Sequence[Any]] | None = None,
        keep: Sequence[Mapping[str, Any]] = (),
        unknown: Mapping[str, Sequence[Any]] | None = None,
    ) -> CountTable:
        """Count unit records (one row per person) into a table with margins."""
        dims = tuple(dims)
        _check_columns(name, records, dims)
        cells = records.groupby(list(dims), sort=False).size().rename("count").reset_index()
        return cls.from_cells(
            name,
            cells,
            dims,
            margins=margins,
            categories=categories,
            universe=universe,
            total_label=total_label,
            cost_weights=cost_weights,
            structural=structural,
            keep=keep,
            unknown=unknown,
        )

    def grid(self) -> Grid:
        """The table as a validated array (built once)."""
        if self._grid is None:
            object.__setattr__(self, "_grid", Grid.build(self))
        assert self._grid is not None
        return self._grid


def _check_columns(name: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"table '{name}': missing column(s) {missing}")


def _categories(
    frame: pd.DataFrame,
    dims: Sequence[str],
    given: Mapping[str, Sequence[Any]] | None,
    total_label: str,
    name: str,
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for d in dims:
        if given is not None and d in given:
            cats = [c for c in given[d] if str(c) != total_label]
            unknown = set(frame[d].dropna().unique()) - set(cats)
            if unknown:
                raise InputError(
                    f"table '{name}': dimension '{d}' has {len(unknown)} category(ies) "
                    "not in the given category list"
                )
        else:
            cats = sorted((c for c in frame[d].dropna().unique() if str(c) != total_label), key=str)
        out[d] = list(cats)
    return out


@dataclass(frozen=True, eq=False)
class Grid:
    """A validated table as a k-dimensional array; ``keys`` holds the canonical cell keys."""

    name: str
    universe: str
    dims: tuple[str, ...]
    categories: tuple[tuple[Any, ...], ...]  # per dimension, in array order
    total_pos: tuple[int | None, ...]  # index of the Total category per dimension
    values: np.ndarray  # float; NaN = not available
    keys: np.ndarray  # object array of str, same shape
    weights: np.ndarray | None = None  # cost factor of hiding each cell (None: all 1)
    structural: tuple[frozenset[int], ...] = ()  # per dimension: positions of structural cats
    keep: frozenset[str] = frozenset()  # keys of cells that must stay published
    latent: bool = False  # never published (see CountTable.latent)
    unknown: frozenset[str] = frozenset()  # keys of cells with an unknown category
    shown: frozenset[str] = frozenset()  # keys of cells whose small counts are shown

    def structural_line(self, total: tuple[int, ...], along: int) -> bool:
        """Whether the line along dimension ``along`` whose Total cell is ``total`` is a
        structural group: one of its fixed coordinates is a category declared structural."""
        if not self.structural:
            return False
        return any(total[d] in self.structural[d] for d in range(len(total)) if d != along)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.values.shape)

    def margin_dims(self, index: tuple[int, ...]) -> int:
        """How many coordinates of the cell at ``index`` are a Total."""
        return sum(1 for d, i in enumerate(index) if self.total_pos[d] == i)

    def lines(self) -> list[tuple[tuple[int, ...], list[tuple[int, ...]]]]:
        """Every additive line: (index of its Total cell, indices of its inner cells)."""
        out = []
        for d, tp in enumerate(self.total_pos):
            if tp is None:
                continue
            others = [range(n) for e, n in enumerate(self.shape) if e != d]
            for rest in itertools.product(*others):

                def at(i: int, rest: tuple[int, ...] = rest, d: int = d) -> tuple[int, ...]:
                    return (*rest[:d], i, *rest[d:])

                out.append((at(tp), [at(i) for i in range(self.shape[d]) if i != tp]))
        return out

    @classmethod
    def build(cls, table: CountTable) -> Grid:
        name, frame, dims, tl = table.name, table.frame, table.dims, table.total_label
        if not dims:
            raise InputError(f"table '{name}': needs at least one dimension")
        _check_columns(name, frame, (*dims, table.count))
        if frame.duplicated(subset=list(dims)).any():
            raise InputError(f"table '{name}': some cells appear more than once")
        counts = pd.to_numeric(frame[table.count], errors="coerce")
        bad = counts.notna() & ((counts < 0) | (counts != np.round(counts)))
        if bad.any() or (counts.isna() & frame[table.count].notna()).any():
            rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())][:10]
            raise InputError(
                f"table '{name}': column '{table.count}' must hold non-negative whole "
                f"numbers (or be empty for not available); see rows {rows}"
            )
        cats: list[tuple[Any, ...]] = []
        tpos: list[int | None] = []
        for d in dims:
            inner = [c for c in pd.unique(frame[d]) if str(c) != tl]
            has_total = bool((frame[d].astype(str) == tl).any())
            cats.append((*inner, tl) if has_total else tuple(inner))
            tpos.append(len(inner) if has_total else None)
        shape = tuple(len(c) for c in cats)
        if int(np.prod(shape)) != len(frame):
            raise InputError(
                f"table '{name}': not a full cross-classification of {list(dims)} "
                f"({len(frame)} rows, {int(np.prod(shape))} expected); add the missing "
                "cells (zeros) and margins"
            )
        pos = [
            frame[d].map({c: i for i, c in enumerate(cats[k])}).to_numpy()
            for k, d in enumerate(dims)
        ]
        values = np.full(shape, np.nan)
        values[tuple(pos)] = counts.to_numpy(dtype=float)
        keys = np.empty(shape, dtype=object)
        for idx in itertools.product(*(range(n) for n in shape)):
            coords = {d: cats[k][idx[k]] for k, d in enumerate(dims)}
            keys[idx] = cell_key(table.universe, coords, tl)
        weights = _weights(table, cats, shape)
        structural = tuple(
            frozenset(i for i, c in enumerate(cats[k]) if i != tpos[k] and str(c) in named)
            for k, named in enumerate({str(v) for v in table.structural.get(d, ())} for d in dims)
        )
        keep = frozenset(
            cell_key(table.universe, {d: cell.get(d, tl) for d in dims}, tl) for cell in table.keep
        )
        shown = frozenset(
            cell_key(table.universe, {d: cell.get(d, tl) for d in dims}, tl) for cell in table.shown
        )
        if not (keep | shown) <= set(keys.ravel()):
            raise InputError(f"table '{name}': a cell to keep names a category it does not have")
        unknown_pos = [
            {
                i
                for i, c in enumerate(cats[k])
                if str(c) in {str(u) for u in table.unknown.get(d, ())}
            }
            for k, d in enumerate(dims)
        ]
        unknown = frozenset(
            str(keys[idx])
            for idx in itertools.product(*(range(n) for n in shape))
            if any(idx[k] in unknown_pos[k] for k in range(len(dims)))
        )
        grid = cls(
            name,
            table.universe,
            dims,
            tuple(cats),
            tuple(tpos),
            values,
            keys,
            weights,
            structural,
            keep,
            table.latent,
            unknown,
            shown,
        )
        grid._check_additive()
        return grid

    def _check_additive(self) -> None:
        bad = 0
        for total, inner in self.lines():
            t = self.values[total]
            parts = np.array([self.values[i] for i in inner])
            known = parts[~np.isnan(parts)]
            if np.isnan(t):
                continue
            if len(known) == len(parts):
                bad += int(abs(t - known.sum()) > 1e-9)
            else:
                bad += int(t + 1e-9 < known.sum())
        if bad:
            raise InputError(
                f"table '{self.name}': {bad} margin(s) differ from the sum of their cells; "
                "margins must be the true totals of the table"
            )


def _weights(
    table: CountTable, cats: Sequence[tuple[Any, ...]], shape: tuple[int, ...]
) -> np.ndarray | None:
    """The cost factor of every cell: the product of its categories' factors."""
    if not table.cost_weights:
        return None
    out = np.ones(shape)
    for k, d in enumerate(table.dims):
        factors = {str(c): float(f) for c, f in table.cost_weights.get(d, {}).items()}
        labels = [str(c) for c in cats[k]]
        unknown = set(factors) - set(labels)
        if unknown:
            raise InputError(
                f"table '{table.name}': cost weights of '{d}' name {len(unknown)} "
                "category(ies) the dimension does not have"
            )
        axis = np.array([factors.get(c, 1.0) for c in labels])
        out = out * axis.reshape([-1 if e == k else 1 for e in range(len(shape))])
    return out


def tables_from_frame(
    frame: pd.DataFrame,
    *,
    table: str = "table",
    count: str = "count",
    add_margins: bool = False,
    universe: str = "registrations",
    total_label: str = TOTAL,
) -> list[CountTable]:
    """Split a stacked long frame (a ``table`` column, dimension columns, ``count``) into
    tables; a table's dimensions are the columns that are filled for its rows. With
    ``add_margins`` the rows are inner cells and every margin is added."""
    _check_columns("input", frame, (table, count))
    dim_cols = [c for c in frame.columns if c not in (table, count)]
    out = []
    for name, part in frame.groupby(table, sort=False):
        dims = [c for c in dim_cols if part[c].notna().all()]
        if any(part[c].notna().any() for c in dim_cols if c not in dims):
            raise InputError(f"table '{name}': a dimension column is filled for some rows only")
        cells = part[[*dims, count]].reset_index(drop=True)
        if add_margins:
            out.append(
                CountTable.from_cells(
                    str(name), cells, dims, count=count, universe=universe, total_label=total_label
                )
            )
        else:
            out.append(CountTable(str(name), cells, tuple(dims), universe, count, total_label))
    return out
