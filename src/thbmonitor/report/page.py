"""The HTML report: one self-contained file, rendered from Jinja2 templates with inline SVG.

The page loads nothing: CSS is inline, charts are inline SVG, there are no scripts, fonts or
images, and a Content-Security-Policy forbids any request should one slip in. Fixed UI strings
come from ``locale/<lang>.json``; content texts come from the :class:`~.model.Text` objects.
Each headline figure sits in an element with ``data-key`` and ``data-value`` (the raw value as
JSON) so that a browser test can compare the page with ``results.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from thbmonitor.errors import ReportError
from thbmonitor.report.charts import chart_id, render_chart
from thbmonitor.report.formatting import (
    LANGUAGES,
    column_decimals,
    format_cell,
    format_value,
    is_number,
)
from thbmonitor.report.jsonsafe import to_jsonable
from thbmonitor.report.model import Chapter, Chart, Headline, Report, Table
from thbmonitor.report.tables import has_default_index

PLACEHOLDER = "{value}"


@cache
def locale(lang: str) -> dict[str, str]:
    """The fixed UI strings of ``lang`` (``en`` or ``nl``)."""
    check_language(lang)
    text = resources.files("thbmonitor.report").joinpath(f"locale/{lang}.json").read_text("utf-8")
    strings: dict[str, str] = json.loads(text)
    return strings


def check_language(lang: str) -> None:
    """Raise :class:`ReportError` unless ``lang`` is a supported language."""
    if lang not in LANGUAGES:
        raise ReportError(
            f"Unknown report language {lang!r}; choose one of {', '.join(LANGUAGES)}."
        )


def anchor(prefix: str, key: str) -> str:
    """An HTML id made from a key."""
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


@dataclass
class _Cell:
    text: str
    kind: str  # num | marker | text


@dataclass
class _TableView:
    id: str
    number: int
    title: str
    header: list[str]
    header_levels: int
    rows: list[list[_Cell]]
    source: str
    note: str
    legend: bool


@dataclass
class _ChartView:
    id: str
    number: int
    title: str
    svg: Markup
    header: list[str]
    rows: list[list[_Cell]]


@dataclass
class _ChapterView:
    id: str
    title: str
    intro: str
    method: str
    headlines: list[Markup] = field(default_factory=list)
    tables: list[_TableView] = field(default_factory=list)
    charts: list[_ChartView] = field(default_factory=list)


def headline_markup(headline: Headline, lang: str) -> Markup:
    """A headline sentence with its figure in a ``data-key``/``data-value`` element."""
    raw = json.dumps(to_jsonable(headline.value), ensure_ascii=False, allow_nan=False)
    shown = format_value(headline.value, lang, headline.key)
    figure = Markup('<strong class="figure" data-key="{}" data-value="{}">{}</strong>').format(
        headline.key, raw, shown
    )
    text = str(escape(headline.text(lang)))
    if headline.value is None and PLACEHOLDER not in text:
        return Markup(text)
    if PLACEHOLDER in text:
        return Markup(text.replace(PLACEHOLDER, str(figure), 1).replace(PLACEHOLDER, shown))
    return Markup(f"{text} {figure}")


def _labels(table: Table, lang: str) -> tuple[list[str], list[str]]:
    frame = table.frame
    index_names: list[str] = []
    if not has_default_index(frame):
        index_names = [
            table.columns[str(n)](lang)
            if str(n) in table.columns
            else ("" if n is None else str(n))
            for n in frame.index.names
        ]
    columns = []
    for column in frame.columns:
        name = " / ".join(map(str, column)) if isinstance(column, tuple) else str(column)
        columns.append(table.columns[name](lang) if name in table.columns else name)
    return index_names, columns


def table_view(table: Table, number: int, lang: str) -> _TableView:
    """Formatted cells of a table, ready for the template."""
    frame = table.frame
    index_names, columns = _labels(table, lang)
    decimals: dict[object, int | None] = {}
    for column in frame.columns:
        values = frame[column].tolist()
        fixed = table.decimals.get(str(column))
        has_float = any(is_number(v) and not float(v).is_integer() for v in values)
        decimals[column] = column_decimals(values, fixed) if (has_float or fixed) else None
    rows: list[list[_Cell]] = []
    for position in range(len(frame)):
        row: list[_Cell] = []
        if index_names:
            label = frame.index[position]
            parts = label if isinstance(label, tuple) else (label,)
            row.extend(_Cell(str(p), "row") for p in parts)
        for column in frame.columns:
            value = frame[column].iloc[position]
            text, kind = format_cell(value, lang, column, decimals[column])
            row.append(_Cell(text, kind))
        rows.append(row)
    return _TableView(
        id=anchor("table", table.key),
        number=number,
        title=table.title(lang),
        header=index_names + columns,
        header_levels=len(index_names),
        rows=rows,
        source=table.source(lang),
        note=table.note(lang) if table.note else "",
        legend=table.legend,
    )


def chart_view(chart: Chart, number: int, lang: str, ui: dict[str, str]) -> _ChartView:
    """The SVG of a chart and the table of its figures."""
    data = chart.data
    has_band = "lower" in data.columns and "upper" in data.columns
    header = [chart.x_label(lang) if chart.x_label else ui["col_x"]]
    multi = "series" in data.columns and data["series"].nunique() > 1
    with_series = "series" in data.columns and (multi or bool(chart.series_labels))
    if with_series:
        header.append(ui["col_series"])
    header.append(chart.y_label(lang) if chart.y_label else ui["col_value"])
    if has_band:
        header += [ui["col_lower"], ui["col_upper"]]
    values = [v for c in ("y", "lower", "upper") if c in data.columns for v in data[c].tolist()]
    places = column_decimals(values)
    rows: list[list[_Cell]] = []
    for record in data.to_dict("records"):
        x = record["x"]
        row = [_Cell(str(x), "row")]
        if with_series:
            name = record.get("series", "")
            label = chart.series_labels[name](lang) if name in chart.series_labels else str(name)
            row.append(_Cell(label, "text"))
        for column in ["y", "lower", "upper"] if has_band else ["y"]:
            text, kind = format_cell(record.get(column), lang, "", places)
            if column == "y" and kind == "marker":
                text = ui["chart_gap_cell"]
            row.append(_Cell(text, kind))
        rows.append(row)
    return _ChartView(
        id=chart_id(chart.key),
        number=number,
        title=chart.title(lang),
        svg=Markup(render_chart(chart, lang, ui)),
        header=header,
        rows=rows,
    )


def _fact_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "–".join(str(v) for v in value) if len(value) == 2 else ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("thbmonitor.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Report, lang: str) -> str:
    """The whole report as one self-contained HTML document in ``lang``."""
    ui = locale(lang)
    chapters: list[_ChapterView] = []
    findings: list[tuple[str, str, list[Markup]]] = []
    table_number = figure_number = 0
    for chapter in report.chapters:
        view = _chapter_view(chapter, lang)
        for chart in chapter.charts:
            figure_number += 1
            view.charts.append(chart_view(chart, figure_number, lang, ui))
        for table in chapter.tables:
            table_number += 1
            view.tables.append(table_view(table, table_number, lang))
        chapters.append(view)
        if view.headlines:
            findings.append((view.id, view.title, view.headlines))
    facts = [
        (ui.get(f"fact_{key}", key.replace("_", " ").capitalize()), _fact_text(value))
        for key, value in report.facts.items()
    ]
    version = str(report.facts.get("version", ""))
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            ui=ui,
            title=report.title(lang),
            facts=facts,
            findings=findings,
            chapters=chapters,
            footer=ui["footer"].format(version=version).replace("  ", " "),
            markers=[
                ("<10", ui["marker_lt10"]),
                ("x", ui["marker_x"]),
                ("–", ui["marker_zero"]),
                (".", ui["marker_na"]),
            ],
        )
    )


def _chapter_view(chapter: Chapter, lang: str) -> _ChapterView:
    return _ChapterView(
        id=anchor("ch", chapter.key),
        title=chapter.title(lang),
        intro=chapter.intro(lang) if chapter.intro else "",
        method=chapter.method(lang) if chapter.method else "",
        headlines=[headline_markup(h, lang) for h in chapter.headlines],
    )
