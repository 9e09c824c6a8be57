"""What a report is made of: the contract between the analysis stages and the renderers.

Every stage (monitor, linkage, follow-up, hidden numbers) contributes one or more
:class:`Chapter` objects. A chapter holds text, :class:`Table` objects whose frames are already
*protected* (disclosure control has run: cells are ints or the markers ``<10``, ``x``, ``–``,
``.``), :class:`Chart` objects drawn only from protected figures, and :class:`Headline` figures.
The renderers (HTML, CSV, XLSX, results.json) know nothing about the statistics; the stages know
nothing about HTML.

Text is bilingual: every user-facing string is a :class:`Text` with ``en`` and ``nl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Text:
    """A user-facing string in English and Dutch."""

    en: str
    nl: str

    def __call__(self, lang: str) -> str:
        return self.nl if lang == "nl" else self.en


@dataclass(frozen=True)
class Table:
    """A published table. ``frame`` is protected: values are ints, floats or marker strings.

    ``key`` is the file name stem of its CSV and the XLSX sheet name (at most 31 characters).
    Count columns hold counts only; a column holding percentages has a name saying so
    (ending in ``_pct`` or ``(%)``), and never a share computed from a suppressed count.
    ``columns`` optionally gives bilingual display names for the frame's columns.
    A cell may hold an interval as a pair ``(lower, upper)`` of numbers: the renderers show it
    as ``lower–upper`` in the column's number format and language. ``decimals`` fixes the
    displayed decimals of a column (the CSV keeps full values).
    """

    key: str
    title: Text
    frame: pd.DataFrame
    source: Text
    note: Text | None = None
    columns: dict[str, Text] = field(default_factory=dict)
    legend: bool = True  # show the disclosure-control legend under the table
    decimals: dict[str, int] = field(default_factory=dict)  # display decimals of float columns


@dataclass(frozen=True)
class Chart:
    """A chart drawn from protected figures only.

    ``data`` is long: columns ``x``, ``series``, ``y`` and optionally ``lower``/``upper`` (a
    band); suppressed points are NaN and are drawn as gaps. ``kind`` is ``line`` or ``bar``.
    """

    key: str
    title: Text
    data: pd.DataFrame
    kind: str = "line"
    x_label: Text | None = None
    y_label: Text | None = None
    series_labels: dict[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Headline:
    """A key finding: a sentence with its figure, also carried into results.json."""

    key: str
    text: Text
    value: Any = None


@dataclass(frozen=True)
class Chapter:
    key: str
    title: Text
    intro: Text | None = None
    method: Text | None = None
    headlines: tuple[Headline, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()


@dataclass
class Report:
    """The whole publication: chapters in order, the machine-readable results, and run facts."""

    title: Text
    chapters: list[Chapter]
    results: dict[str, Any]  # results.json: every headline figure, JSON-serialisable
    facts: dict[str, Any] = field(default_factory=dict)  # run settings, version, data window
