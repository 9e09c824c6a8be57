"""Disclosure rules (settings), cell statuses, markers and the table legend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from thbmonitor.errors import ConfigError

__all__ = ["CellStatus", "DisclosureRules", "legend"]


class CellStatus(StrEnum):
    """Why a cell is shown or hidden."""

    PUBLISHED = "published"  # the true count is shown
    PRIMARY = "primary"  # a count 1..T-1 (or a disclosive zero): shown as "<T"
    GROUP = "group"  # dominates its group (group disclosure): shown as "x"
    SECONDARY = "secondary"  # hidden so that other cells cannot be recomputed: "x"
    ZERO = "zero"  # a true zero that is not disclosive: "–"
    NOT_AVAILABLE = "not_available"  # no data: "."

    @property
    def suppressed(self) -> bool:
        return self in (CellStatus.PRIMARY, CellStatus.GROUP, CellStatus.SECONDARY)


ZERO_MARKER = "–"
NA_MARKER = "."
X_MARKER = "x"


@dataclass(frozen=True)
class DisclosureRules:
    """Settings of disclosure control; pass them explicitly, there are no globals.

    threshold: counts ``1 <= n < threshold`` are unsafe (primary suppression, marker ``<T``).
    zeros_disclosive: if true, zeros are suppressed like small counts (``<T``), else shown ``–``.
    dominance: group disclosure share G; a line (group) where one category holds at least
        ``G`` of the group total is protected. ``None`` switches the rule off.
    protection: the minimum width of the interval an intruder can derive for a primary cell;
        a value below 1 is a fraction of the threshold (0.3 -> 3 for T = 10, as tau-Argus
        ``FREQ(10, 30)``), otherwise an absolute count (GaussSuppression ``rangeMin``).
    cost: what secondary suppression minimises per hidden cell: its ``"value"`` (count + 1),
        one per cell (``"cells"``), or ``"log"`` (1 + ln(1 + count): few cells, small ones
        first); see :func:`thbmonitor.disclosure.suppression.cell_costs`.
    margin_weight: extra cost factor per margin dimension, so that totals are hidden last.
    total_label: the category label that marks a margin.
    time_limit: seconds the optimiser (:mod:`thbmonitor.disclosure.optimal`) may take per
        protection, as a guard: the optimiser stops at a work limit (rounds of cuts and
        branch-and-bound nodes), so that the same tables give the same pattern on any
        machine, and the heuristic then takes over from its last pattern. A search stopped
        by this guard instead is flagged (``Release.search.reproducible``). 0 uses the
        heuristic only.
    unknown_primary: whether small counts of an ``unknown`` category are sensitive (hidden
        as ``<T``); if false they are shown: a count of persons whose attribute is unknown
        tells nothing about anyone's attribute. Which categories are ``unknown`` is said by
        each table (:attr:`CountTable.unknown`).
    """

    threshold: int = 10
    zeros_disclosive: bool = False
    dominance: float | None = 0.9
    protection: float = 0.3
    cost: Literal["value", "cells", "log"] = "log"
    margin_weight: float = 2.0
    total_label: str = "Total"
    time_limit: float = 20.0
    unknown_primary: bool = True

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise ConfigError("disclosure threshold must be at least 2")
        if self.dominance is not None and not 0.5 < self.dominance <= 1.0:
            raise ConfigError("disclosure dominance must lie in (0.5, 1] or be None")
        if self.protection < 0:
            raise ConfigError("disclosure protection must be non-negative")
        if self.cost not in ("value", "cells", "log"):
            raise ConfigError("disclosure cost must be 'value', 'cells' or 'log'")
        if not (self.time_limit >= 0 and math.isfinite(self.time_limit)):
            raise ConfigError("disclosure time_limit must be a non-negative number of seconds")
        if self.margin_weight < 0:
            raise ConfigError("disclosure margin_weight must be non-negative")

    @property
    def primary_marker(self) -> str:
        return f"<{self.threshold}"

    @property
    def small_lower(self) -> int:
        """The least value a ``<T`` cell can have as far as anyone reading the markers knows:
        0 if zeros can be hidden as ``<T`` (disclosive zeros, or the group rule), else 1."""
        return 0 if self.zeros_disclosive or self.dominance is not None else 1

    @property
    def required_width(self) -> int:
        """Minimum width (upper - lower) of a primary cell's feasible interval."""
        if self.protection < 1:
            return max(1, math.ceil(self.protection * self.threshold - 1e-9))
        return max(1, math.ceil(self.protection - 1e-9))

    def marker(self, status: CellStatus) -> str | None:
        """The marker shown instead of a count, or None if the count is shown."""
        return {
            CellStatus.PUBLISHED: None,
            CellStatus.PRIMARY: self.primary_marker,
            CellStatus.GROUP: X_MARKER,
            CellStatus.SECONDARY: X_MARKER,
            CellStatus.ZERO: ZERO_MARKER,
            CellStatus.NOT_AVAILABLE: NA_MARKER,
        }[status]


def legend(rules: DisclosureRules, lang: Literal["en", "nl"] = "en") -> str:
    """The legend printed under every table, in English or Dutch."""
    t = rules.threshold
    if lang == "en":
        return (
            f"<{t} = {rules.small_lower} to {t - 1}, not shown to protect privacy; "
            "x = not shown, so that hidden figures cannot be derived; "
            "– = nil (zero); . = not available. "
            "Totals are true totals and may differ from the sum of the shown figures."
        )
    if lang == "nl":
        return (
            f"<{t} = {rules.small_lower} tot en met {t - 1}, niet getoond ter bescherming van "
            "de privacy; "
            "x = niet getoond, zodat verborgen cijfers niet te herleiden zijn; "
            "– = nihil (nul); . = gegevens ontbreken. "
            "Totalen zijn echte totalen en kunnen afwijken van de som van de getoonde cijfers."
        )
    raise ConfigError(f"unknown legend language {lang!r}; use 'en' or 'nl'")
