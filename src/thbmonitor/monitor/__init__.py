"""The monitor: tables of registrations and victims, change over time, and help received.

``build_tables(store, settings)`` gives true counts with margins; ``chapters(store, settings)``
gives the report chapters with protected tables and the results.json figures.
"""

from __future__ import annotations

from thbmonitor.monitor.change import (
    CountComparison,
    ShareComparison,
    Trend,
    compare_counts,
    compare_shares,
    count_trend,
    wilson_interval,
)
from thbmonitor.monitor.chapters import chapters
from thbmonitor.monitor.published import Protect, Published, default_protect, rules_from_settings
from thbmonitor.monitor.tables import MonitorTable, build_tables

__all__ = [
    "CountComparison",
    "MonitorTable",
    "Protect",
    "Published",
    "ShareComparison",
    "Trend",
    "build_tables",
    "chapters",
    "compare_counts",
    "compare_shares",
    "count_trend",
    "default_protect",
    "rules_from_settings",
    "wilson_interval",
]
