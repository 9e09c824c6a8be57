"""Linear relations between the cells of a release that hold by definition.

Margins are not the only arithmetic an intruder can use. Counts of different units or windows
of the same registrations are tied too: a victim-year has at least one registration that
year; the persons of a window are the victim-years minus the later years of the same
persons. Such a tie is a linear equation over cell keys, possibly with *latent* cells
(non-negative counts that are never published, e.g. the later victim-years). The audit and the
suppression optimiser add every equation to the release's linear system, so that no hidden
cell can be recomputed through them.

Every equation must hold on the true counts: :meth:`Relations.check` refuses one that does
not (a wrong definition would make the audit's system infeasible, or worse, too lenient).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from thbmonitor.disclosure.primary import describe_key
from thbmonitor.disclosure.table import CountTable
from thbmonitor.errors import InputError

__all__ = ["Equation", "Relations"]

Equation = tuple[tuple[str, float], ...]  # sum(coefficient * count of cell key) == 0


@dataclass(frozen=True)
class Relations:
    """Equations between cells of a release and the latent tables they use.

    ``equations``: each a tuple of (cell key, coefficient), meaning the weighted sum of the
    counts is zero. ``latent``: tables (``CountTable(latent=True)``) of counts that are never
    published; their margins add up like any table's.
    """

    equations: tuple[Equation, ...] = ()
    latent: tuple[CountTable, ...] = ()

    def __post_init__(self) -> None:
        for t in self.latent:
            if not t.latent:
                raise InputError(f"table '{t.name}' is used as a latent table but not latent")

    def __add__(self, other: Relations) -> Relations:
        """Both sets of relations; an equation or a latent table (by name) given twice is
        kept once."""
        names = {t.name for t in self.latent}
        equations = tuple(dict.fromkeys(self.equations + other.equations))
        return Relations(
            equations, self.latent + tuple(t for t in other.latent if t.name not in names)
        )

    def usable(self, keys: Iterable[str]) -> tuple[Equation, ...]:
        """The equations whose cells are all among ``keys`` (a table left out of a release
        takes its relations with it)."""
        have = set(keys)
        return tuple(eq for eq in self.equations if all(k in have for k, _ in eq))

    def check(self, values: Mapping[str, float]) -> None:
        """Raise :class:`InputError` unless every usable equation holds on the true counts
        and every latent count is non-negative."""
        for t in self.latent:
            if (t.frame[t.count] < 0).any():
                raise InputError(
                    f"latent table '{t.name}' has a negative count: a relation between "
                    "published tables is defined wrongly"
                )
        for eq in self.usable(values):
            parts = [values[k] for k, _ in eq]
            if any(np.isnan(p) for p in parts):
                continue
            total = sum(c * p for (_, c), p in zip(eq, parts, strict=True))
            if abs(total) > 1e-6:
                raise InputError(
                    "a relation between published tables does not hold on the counts "
                    f"(it involves {describe_key(eq[0][0])}); the tables or the relation "
                    "are defined wrongly"
                )
