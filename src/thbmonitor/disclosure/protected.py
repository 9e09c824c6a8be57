"""The protected table: true counts (in memory only), a status per cell, and what is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from thbmonitor.disclosure.rules import CellStatus, DisclosureRules, legend
from thbmonitor.disclosure.table import CountTable
from thbmonitor.errors import ConfigError

__all__ = ["ProtectedTable"]


@dataclass(frozen=True, eq=False)
class ProtectedTable:
    """One table after disclosure control.

    ``frame`` holds the dimension columns, ``count`` (the TRUE count: never write it out),
    ``status`` (a :class:`CellStatus` value) and ``display`` (int or marker string).
    A table of the cell-key method has ``max_deviation`` D > 0: its ``count`` and ``display``
    are the perturbed counts, each within D of the true one (``true_count``).
    """

    table: CountTable
    frame: pd.DataFrame
    rules: DisclosureRules
    max_deviation: int = 0

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def dims(self) -> tuple[str, ...]:
        return self.table.dims

    @classmethod
    def from_status(
        cls, table: CountTable, status: dict[str, CellStatus], rules: DisclosureRules
    ) -> ProtectedTable:
        grid = table.grid()
        flat_keys = grid.keys.ravel()
        idx = np.array(list(np.ndindex(*grid.shape)))
        frame = pd.DataFrame(
            {d: [grid.categories[k][i] for i in idx[:, k]] for k, d in enumerate(grid.dims)}
        )
        values = grid.values.ravel()
        frame["count"] = pd.array([None if np.isnan(v) else int(v) for v in values], dtype="Int64")
        stats = [status[str(k)] for k in flat_keys]
        frame["status"] = [str(s) for s in stats]
        frame["display"] = pd.Series(
            [_display(s, v, rules) for s, v in zip(stats, values, strict=True)], dtype=object
        )
        return cls(table, frame, rules)

    @property
    def keys(self) -> list[str]:
        """The canonical key of every row of ``frame`` (rows are in the table's array order)."""
        return [str(k) for k in self.table.grid().keys.ravel()]

    def display_frame(self) -> pd.DataFrame:
        """The table as published: dimension columns and ``value`` (numbers or markers)."""
        out = self.frame[list(self.dims)].copy()
        out["value"] = self.frame["display"].map(str)
        return out

    def published_counts(self) -> pd.DataFrame:
        """Dimension columns and ``count``: the number where shown (0 for '–'), else <NA>."""
        out = self.frame[list(self.dims)].copy()
        shown = self.frame["status"].isin([CellStatus.PUBLISHED, CellStatus.ZERO])
        out["count"] = self.frame["count"].where(shown, pd.NA).astype("Int64")
        return out

    def published_records(self) -> list[dict[str, Any]]:
        """JSON-ready cells: dimension values (str), ``count`` (int or None) and ``marker``."""
        out = []
        shown = (CellStatus.PUBLISHED, CellStatus.ZERO)
        for row in self.frame[[*self.dims, "count", "status"]].itertuples(index=False):
            *coords, count, status = row
            st = CellStatus(status)
            rec: dict[str, Any] = {d: str(v) for d, v in zip(self.dims, coords, strict=True)}
            rec["count"] = int(count) if st in shown else None
            rec["marker"] = self.rules.marker(st)
            out.append(rec)
        return out

    def percentages(self, over: str, decimals: int = 1) -> pd.DataFrame:
        """Each cell as a percentage of the Total of its line along ``over``.

        A share is given only when both the cell and the total are shown and the total is at
        least the threshold; otherwise ``percent`` is NaN and ``display`` the marker.
        """
        if over not in self.dims:
            raise ConfigError(f"'{over}' is not a dimension of table '{self.name}'")
        tl = self.table.total_label
        if not (self.frame[over].astype(str) == tl).any():
            raise ConfigError(f"dimension '{over}' of table '{self.name}' has no Total")
        others = [d for d in self.dims if d != over]
        f = self.frame
        is_tot = f[over].astype(str) == tl
        totals = f[is_tot].set_index(others)[["count", "status"]] if others else f[is_tot]
        if others:
            joined = f.join(totals, on=others, rsuffix="_total")
        else:
            joined = f.assign(
                count_total=totals["count"].iloc[0], status_total=totals["status"].iloc[0]
            )
        shown = (CellStatus.PUBLISHED, CellStatus.ZERO)
        ok = (
            joined["status"].isin(shown)
            & (joined["status_total"] == CellStatus.PUBLISHED)
            & (joined["count_total"].fillna(0) >= self.rules.threshold)
        )
        num = joined["count"].astype(float)
        den = joined["count_total"].astype(float)
        pct = np.where(ok, 100.0 * num / den.where(den > 0, np.nan), np.nan)
        out = f[list(self.dims)].copy()
        out["percent"] = np.round(pct, decimals)
        out["display"] = [
            f"{p:.{decimals}f}" if ok_i else _pct_marker(s, self.rules)
            for p, ok_i, s in zip(out["percent"], ok, joined["status"], strict=True)
        ]
        return out

    def legend(self, lang: Literal["en", "nl"] = "en") -> str:
        """The legend to print under the table."""
        return legend(self.rules, lang)


def _display(status: CellStatus, value: float, rules: DisclosureRules) -> Any:
    marker = rules.marker(status)
    return int(value) if marker is None else marker


def _pct_marker(status: str, rules: DisclosureRules) -> str:
    marker = rules.marker(CellStatus(status))
    # a shown count whose total is hidden or too small: no share, only "x"
    return "x" if marker is None else marker


def concat_display(tables: Sequence[ProtectedTable]) -> pd.DataFrame:
    """All display frames stacked, with a ``table`` column (for CSV export)."""
    return pd.concat([t.display_frame().assign(table=t.name) for t in tables], ignore_index=True)
