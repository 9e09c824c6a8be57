"""The release ledger: what earlier releases published, kept as constraints for new audits.

A JSON file; per release and table: universe, dimensions, categories (Totals included) and the
shown values in C order (an int, or a marker string). Only published values are stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thbmonitor.disclosure.protected import ProtectedTable
from thbmonitor.disclosure.table import Grid, cell_key
from thbmonitor.errors import InputError

__all__ = ["Ledger", "LedgerTable"]

FORMAT = "thbmonitor-disclosure-ledger/1"


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

    def grid(self) -> Grid:
        """The table as a grid; hidden cells are NaN."""
        shape = tuple(len(c) for c in self.categories)
        values = np.full(shape, np.nan)
        keys = np.empty(shape, dtype=object)
        for flat, idx in enumerate(np.ndindex(*shape)):
            coords = {d: self.categories[k][idx[k]] for k, d in enumerate(self.dims)}
            keys[idx] = cell_key(self.universe, coords, self.total_label)
            s = self.shown[flat]
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

    def bounds(self) -> dict[str, tuple[float, float]]:
        """What each cell's shown value tells: a number, a range, or nothing."""
        g = self.grid()
        t = float(self.threshold)
        out: dict[str, tuple[float, float]] = {}
        for key, s in zip(g.keys.ravel(), self.shown, strict=True):
            if isinstance(s, int):
                out[str(key)] = (float(s), float(s))
            elif s == "–":
                out[str(key)] = (0.0, 0.0)
            elif s == f"<{self.threshold}":
                out[str(key)] = (float(self.small_lower), t - 1.0)
            elif s == "x":
                out[str(key)] = (t, np.inf)
            else:  # "." not available
                out[str(key)] = (0.0, np.inf)
        return out


@dataclass(frozen=True)
class Ledger:
    """Every table published so far."""

    tables: tuple[LedgerTable, ...] = ()

    @property
    def releases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.release for t in self.tables))

    def with_release(self, release: str, tables: Sequence[ProtectedTable]) -> Ledger:
        """A new ledger with the tables of ``release`` added (refuses a release name twice)."""
        if release in self.releases:
            raise InputError(f"release '{release}' is already in the ledger")
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
                )
            )
        return Ledger((*self.tables, *new))

    def save(self, path: str | Path) -> None:
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
                    "shown": list(t.shown),
                    "small_lower": t.small_lower,
                }
                for t in self.tables
            ],
        }
        Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Ledger:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the disclosure ledger {path}: {exc}") from exc
        if doc.get("format") != FORMAT:
            raise InputError(f"{path} is not a thbmonitor disclosure ledger ({FORMAT})")
        tables = tuple(
            LedgerTable(
                t["release"],
                t["name"],
                t["universe"],
                tuple(t["dims"]),
                tuple(tuple(c) for c in t["categories"]),
                t["total_label"],
                int(t["threshold"]),
                tuple(t["shown"]),
                int(t.get("small_lower", 0)),
            )
            for t in doc["tables"]
        )
        return cls(tables)
