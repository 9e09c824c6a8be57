"""Merging categories of a dimension before protection (a small ``unknown`` into ``other``).

A merge replaces some categories of one dimension by a single new category, in every table of a
release that has that dimension, so that the same merged cell is the same cell everywhere and
the tables stay additive. It is the announced alternative to hiding a headline figure: the
caller says which merges it made (:attr:`Merge.describe`) in the method text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from thbmonitor.disclosure.table import CountTable
from thbmonitor.errors import InputError

__all__ = ["Merge", "merge_tables"]


@dataclass(frozen=True)
class Merge:
    """Categories ``categories`` of ``dimension`` become the one category ``into``."""

    dimension: str
    categories: tuple[str, ...]
    into: str

    def __post_init__(self) -> None:
        if len(self.categories) < 2 or len(set(self.categories)) != len(self.categories):
            raise InputError(f"a merge of '{self.dimension}' needs two or more distinct categories")

    def applies(self, table: CountTable) -> bool:
        """Whether the table has the dimension and all merged categories."""
        if self.dimension not in table.dims:
            return False
        present = set(table.frame[self.dimension].astype(str))
        return set(self.categories) <= present

    def apply(self, table: CountTable) -> CountTable:
        """The table with the categories merged (cells summed; NaN only if all parts are)."""
        if not self.applies(table):
            return table
        d, into = self.dimension, self.into
        merged = set(self.categories)
        frame = table.frame.copy()
        frame[d] = frame[d].astype(object).where(~frame[d].astype(str).isin(merged), into)
        dims = list(table.dims)
        frame = (
            frame.groupby(dims, sort=False, dropna=False)[table.count]
            .sum(min_count=1)
            .reset_index()
        )
        return replace(
            table,
            frame=frame,
            cost_weights=self._weights(table.cost_weights),
            structural=self._labels(table.structural, all_of=True),
            unknown=self._labels(table.unknown, all_of=True),
            keep=_dedupe([self._cell(c) for c in table.keep]),
            _grid=None,
        )

    def _cell(self, cell: Mapping[str, Any]) -> dict[str, Any]:
        d = self.dimension
        if d in cell and str(cell[d]) in self.categories:
            return {**cell, d: self.into}
        return dict(cell)

    def _weights(self, weights: Mapping[str, Mapping[Any, float]]) -> dict[str, dict[Any, float]]:
        """A merged category costs as much as the cheapest of its parts (it is residual)."""
        out = {k: dict(v) for k, v in weights.items()}
        w = out.get(self.dimension)
        if w is None:
            return out
        parts = [w.pop(c, 1.0) for c in list(self.categories)]
        if any(c in weights[self.dimension] for c in self.categories):
            w[self.into] = min(parts)
        return out

    def _labels(self, named: Mapping[str, Sequence[Any]], all_of: bool) -> dict[str, list[Any]]:
        """Per-dimension category lists with the merged ones replaced: the merged category is
        named if all (``all_of``) of its parts were."""
        out = {k: list(v) for k, v in named.items()}
        cats = out.get(self.dimension)
        if cats is None:
            return out
        had = [c for c in cats if str(c) in self.categories]
        rest = [c for c in cats if str(c) not in self.categories]
        if had and (len(had) == len(self.categories) or not all_of):
            rest.append(self.into)
        out[self.dimension] = rest
        return out

    @property
    def describe(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "categories": list(self.categories),
                "into": self.into}  # fmt: skip


def _dedupe(cells: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    seen: set[tuple[tuple[str, str], ...]] = set()
    out = []
    for c in cells:
        k = tuple(sorted((str(a), str(b)) for a, b in c.items()))
        if k not in seen:
            seen.add(k)
            out.append(c)
    return tuple(out)


def merge_tables(tables: Sequence[CountTable], merges: Sequence[Merge]) -> list[CountTable]:
    """Every table with every merge that applies to it."""
    out = []
    for t in tables:
        for m in merges:
            t = m.apply(t)
        out.append(t)
    return out


def small_cells(table: CountTable, dimension: str, category: str, threshold: int) -> bool:
    """Whether a category has a count from 1 to threshold - 1 in the table."""
    if dimension not in table.dims:
        return False
    f = table.frame
    counts = pd.to_numeric(f.loc[f[dimension].astype(str) == category, table.count])
    return bool(((counts > 0) & (counts < threshold)).any())
