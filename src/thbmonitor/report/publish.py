"""Writing a report to disk: report.html, results.json, tables/<key>.csv and tables.xlsx.

Everything is first written into a hidden staging folder and published only when all files
are complete, in one exchange of folders where the system allows
(:func:`thbmonitor.output_folder.publish`), so a failed or killed run never leaves half a
report (an earlier report in ``out_dir`` stays as it was). The folder must be new, empty or
thbmonitor's own (:mod:`thbmonitor.output_folder`); the user's files in it are never deleted.
Before anything is written the report is checked: language, table keys, chart data, and that
every headline figure equals its value in ``results`` (the browser test compares the page with
results.json the same way).
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any

from thbmonitor.errors import ReportError
from thbmonitor.output_folder import (
    check_output_folder,
    locked,
    owned_files,
    publish,
    staging_for,
)
from thbmonitor.report.jsonsafe import dumps, lookup, results_document, to_jsonable
from thbmonitor.report.model import Report, Table
from thbmonitor.report.page import check_language, render_html
from thbmonitor.report.tables import check_table_keys, csv_text, table_cells
from thbmonitor.report.workbook import write_workbook

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
RESULTS_NAME = "results.json"
XLSX_NAME = "tables.xlsx"
TABLES_DIR = "tables"


def same_value(a: Any, b: Any) -> bool:
    """Equality of JSON values, floats to 12 significant digits."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        if isinstance(a, int | float) and isinstance(b, int | float):
            return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def check_report(report: Report, lang: str) -> None:
    """Raise :class:`ReportError` if the report cannot be published as it is."""
    check_language(lang)
    tables = [t for chapter in report.chapters for t in chapter.tables]
    check_table_keys(tables)
    chart_keys: set[str] = set()
    for chapter in report.chapters:
        for chart in chapter.charts:
            if chart.kind not in ("line", "bar"):
                raise ReportError(f"Chart {chart.key!r}: kind must be 'line' or 'bar'.")
            missing = {"x", "y"} - set(chart.data.columns)
            if missing:
                raise ReportError(
                    f"Chart {chart.key!r}: data lacks column(s) {', '.join(sorted(missing))}."
                )
            if chart.key in chart_keys:
                raise ReportError(f"Chart key {chart.key!r} is used twice.")
            chart_keys.add(chart.key)
    results = to_jsonable(report.results, "$.results")
    for chapter in report.chapters:
        for headline in chapter.headlines:
            if headline.value is None:
                continue
            try:
                expected = lookup(results, headline.key)
            except KeyError:
                raise ReportError(
                    f"Headline {headline.key!r} of chapter {chapter.key!r} has no entry in "
                    "results; every figure the report shows must be in results.json (use a "
                    "dotted key such as 'key_findings.name')."
                ) from None
            if not same_value(to_jsonable(headline.value), expected):
                raise ReportError(
                    f"Headline {headline.key!r} of chapter {chapter.key!r} differs from its "
                    "value in results; give both the same figure."
                )


def write_report(
    report: Report, out_dir: Path, lang: str, *, force: bool = False
) -> dict[str, Path]:
    """Write the report's files into ``out_dir`` (created if needed); return their paths.

    Keys of the returned dict: ``html``, ``results``, ``xlsx`` and ``csv:<table key>``.
    ``out_dir`` must be new, empty or written by thbmonitor, unless ``force``
    (:mod:`thbmonitor.output_folder`); files the user put there are never deleted.
    """
    check_report(report, lang)
    out_dir = Path(out_dir)
    tables: list[Table] = [t for chapter in report.chapters for t in chapter.tables]
    names = [f"{TABLES_DIR}/{table.key}.csv" for table in tables]
    names += [XLSX_NAME, RESULTS_NAME, HTML_NAME]  # the page last: it links the rest
    check_output_folder(out_dir, force=force, names=names)
    with locked(out_dir):
        check_output_folder(out_dir, force=force, names=names)  # again, now that it is ours
        stale = sorted(
            f for f in owned_files(out_dir) if f.startswith(f"{TABLES_DIR}/") and f not in names
        )
        staging = staging_for(out_dir)
        try:
            (staging.path / TABLES_DIR).mkdir()
            for table in tables:
                header, rows = table_cells(table)
                path = staging.path / TABLES_DIR / f"{table.key}.csv"
                path.write_text(csv_text(header, rows), encoding="utf-8", newline="")
            write_workbook(tables, staging.path / XLSX_NAME, lang)
            document = results_document(report.results, report.facts)
            (staging.path / RESULTS_NAME).write_text(dumps(document), encoding="utf-8")
            (staging.path / HTML_NAME).write_text(render_html(report, lang), encoding="utf-8")
        except BaseException:
            shutil.rmtree(staging.path, ignore_errors=True)
            raise
        publish(staging, out_dir, names, stale)
    paths: dict[str, Path] = {
        "html": out_dir / HTML_NAME,
        "results": out_dir / RESULTS_NAME,
        "xlsx": out_dir / XLSX_NAME,
    }
    for table in tables:
        paths[f"csv:{table.key}"] = out_dir / TABLES_DIR / f"{table.key}.csv"
    log.info("report written: %d tables, language %s", len(tables), lang)
    return paths
