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
    MARKERS,
    column_decimals,
    format_cell,
    format_number,
    format_value,
    interval_parts,
    is_missing,
    is_number,
    is_percent_column,
)
from thbmonitor.report.jsonsafe import to_jsonable
from thbmonitor.report.model import Chapter, Chart, Headline, Report, Table
from thbmonitor.report.tables import column_name, has_default_index

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
    caption: str
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
        name = column_name(column)
        columns.append(table.columns[name](lang) if name in table.columns else name)
    return index_names, columns


def table_view(table: Table, number: int, lang: str) -> _TableView:
    """Formatted cells of a table, ready for the template."""
    frame = table.frame
    index_names, columns = _labels(table, lang)
    names = [column_name(c) for c in frame.columns]
    values = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    decimals: list[int | None] = []
    for name, cells in zip(names, values, strict=True):
        column_values = interval_parts(cells)
        fixed = table.decimals.get(name)
        has_float = any(is_number(v) and not float(v).is_integer() for v in column_values)
        needs = (has_float and not is_percent_column(name)) or fixed is not None
        decimals.append(column_decimals(column_values, fixed) if needs else None)
    labels = frame.index.tolist()
    # Without a named index, a leading column of labels serves as the row headers.
    label_column = (
        not index_names
        and bool(values)
        and len(frame) > 0
        and all(isinstance(v, str) and v.strip() not in MARKERS for v in values[0])
    )
    rows: list[list[_Cell]] = []
    for position in range(len(frame)):
        row: list[_Cell] = []
        if index_names:
            label = labels[position]
            parts = label if isinstance(label, tuple) else (label,)
            row.extend(_Cell(str(p), "row") for p in parts)
        for j, name in enumerate(names):
            text, kind = format_cell(values[j][position], lang, name, decimals[j])
            row.append(_Cell(text, "row" if label_column and j == 0 else kind))
        rows.append(row)
    return _TableView(
        id=anchor("table", table.key),
        number=number,
        title=table.title(lang),
        header=index_names + columns,
        header_levels=len(index_names) or int(label_column),
        rows=rows,
        source=table.source(lang),
        note=table.note(lang) if table.note else "",
        legend=table.legend,
    )


def chart_view(chart: Chart, number: int, lang: str, ui: dict[str, str]) -> _ChartView:
    """The SVG of a chart and a wide table of its figures: one row per x, one column per series.

    A cell shows the figure and, where the chart has a band, its interval in brackets; a gap
    (NaN) reads "not shown".
    """
    data = chart.data
    has_series = "series" in data.columns
    series = list(dict.fromkeys(data["series"].tolist())) if has_series else [None]
    xs = list(dict.fromkeys(data["x"].tolist()))
    numeric_x = all(is_number(x) for x in xs)
    if numeric_x:
        xs.sort(key=float)
    value_name = chart.y_label(lang) if chart.y_label else ui["col_value"]
    header = [chart.x_label(lang) if chart.x_label else ui["col_x"]]
    for name in series:
        if name in chart.series_labels:
            header.append(chart.series_labels[name](lang))
        else:
            header.append(str(name) if name is not None and str(name) else value_name)
    band = "lower" in data.columns and "upper" in data.columns
    y_by_series = (
        {name: data.loc[data["series"] == name, "y"].tolist() for name in series}
        if has_series
        else {None: data["y"].tolist()}
    )
    y_places = {name: column_decimals(values) for name, values in y_by_series.items()}
    band_places = column_decimals(data["lower"].tolist() + data["upper"].tolist()) if band else 0
    x_places = column_decimals(xs) if numeric_x else 0
    cells: dict[tuple[object, object], dict[Any, Any]] = {
        (r["x"], r.get("series") if has_series else None): r for r in data.to_dict("records")
    }
    rows: list[list[_Cell]] = []
    for x in xs:
        x_text = format_number(float(x), lang, x_places, grouping=False) if numeric_x else str(x)
        row = [_Cell(x_text, "row")]
        for name in series:
            record = cells.get((x, name))
            if record is None:
                row.append(_Cell(".", "marker"))
                continue
            text, kind = format_cell(record["y"], lang, "", y_places[name])
            if kind == "marker":
                row.append(_Cell(ui["chart_gap_cell"], "marker"))
                continue
            if band and not (is_missing(record["lower"]) or is_missing(record["upper"])):
                lower = format_cell(record["lower"], lang, "", band_places)[0]
                upper = format_cell(record["upper"], lang, "", band_places)[0]
                text = f"{text} ({lower}–{upper})"
            row.append(_Cell(text, kind))
        rows.append(row)
    caption = ui["chart_data"] + (f" ({ui['chart_data_band']})" if band else "")
    return _ChartView(
        id=chart_id(chart.key),
        number=number,
        title=chart.title(lang),
        svg=Markup(render_chart(chart, lang, ui)),
        caption=caption,
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
        # A chapter of headlines only is shown whole in the key findings, not again.
        headlines_only = not (chapter.intro or chapter.method or chapter.tables or chapter.charts)
        if not headlines_only:
            chapters.append(view)
        if view.headlines:
            link = "" if headlines_only else view.id
            title = "" if headlines_only and view.title == ui["key_findings"] else view.title
            findings.append((link, title, view.headlines))
    facts = [
        (
            ui.get(f"fact_{key}", key.replace("_", " ").capitalize()),
            locale(value)["lang_name"]
            if key == "language" and value in LANGUAGES
            else _fact_text(value),
        )
        for key, value in report.facts.items()
        if value is not None
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
