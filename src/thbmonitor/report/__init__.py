"""The report: a :class:`~.model.Report` rendered as HTML (en/nl), CSV, XLSX and results.json.

The renderers know nothing about statistics: stages build :mod:`thbmonitor.report.model`
objects from protected figures, and :func:`write_report` turns them into files.
"""

from __future__ import annotations

from thbmonitor.report.model import Chapter, Chart, Headline, Report, Table, Text
from thbmonitor.report.page import render_html
from thbmonitor.report.publish import check_report, write_report
from thbmonitor.report.verify import ReportCheck, verify_report

__all__ = [
    "Chapter",
    "Chart",
    "Headline",
    "Report",
    "ReportCheck",
    "Table",
    "Text",
    "check_report",
    "render_html",
    "verify_report",
    "write_report",
]
