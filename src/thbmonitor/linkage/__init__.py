"""Record linkage: registrations into persons, persons to the police and population registers.

Built on Splink (Fellegi-Sunter, unsupervised EM, DuckDB) with what the domain needs on top:
comparisons and blocking keys on pseudonymised identifiers only (:mod:`.comparisons`,
:mod:`.prepare`), clustering that resists chains of weak links (:mod:`.clustering`), person ids
that stay stable across yearly runs (:mod:`.identity`), capture histories for multiple-systems
estimation (:mod:`.capture`), linkage to the police register (:mod:`.police`) and quality
measures against a known truth (:mod:`.quality`).
"""

from __future__ import annotations

from thbmonitor.linkage.capture import capture_histories, history_table
from thbmonitor.linkage.chapter import report_chapter
from thbmonitor.linkage.persons import LinkageSummary, export_persons, link_registrations
from thbmonitor.linkage.police import PoliceLinkSummary, coverage_table, link_police
from thbmonitor.linkage.quality import capture_cell_errors, quality, single_list_error

__all__ = [
    "LinkageSummary",
    "PoliceLinkSummary",
    "capture_cell_errors",
    "capture_histories",
    "coverage_table",
    "export_persons",
    "history_table",
    "link_police",
    "link_registrations",
    "quality",
    "report_chapter",
    "single_list_error",
]
