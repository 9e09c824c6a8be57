"""Disclosure control: primary and secondary suppression, the joint LP audit, a release ledger.

Typical use::

    tables = [CountTable.from_records("form_sex", victims, ["form", "sex"]), ...]
    release = protect_release(tables, DisclosureRules(threshold=10), ledger=Ledger.load(p))
    release.audit.raise_if_disclosive()
    release["form_sex"].display_frame()

A table can say which cells to hide last and which lines are structural::

    CountTable.from_records("year_age", victims, ["year", "age"],
                            cost_weights={"age": {"minor": 20, "unknown": 0.2, "Total": 20}})
    CountTable.from_records("group_sector", victims, ["group", "sector"],
                            structural={"sector": ["Agriculture"]})  # a labour sector
"""

from thbmonitor.disclosure.audit import AuditResult, CellInterval, GroupCheck
from thbmonitor.disclosure.ledger import Ledger, LedgerTable
from thbmonitor.disclosure.loss import information_loss
from thbmonitor.disclosure.primary import GroupRisk
from thbmonitor.disclosure.protected import ProtectedTable
from thbmonitor.disclosure.relations import Relations
from thbmonitor.disclosure.release import Release, audit_release, protect_release
from thbmonitor.disclosure.rules import CellStatus, DisclosureRules, legend
from thbmonitor.disclosure.table import CountTable, cell_key, tables_from_frame

__all__ = [
    "AuditResult",
    "CellInterval",
    "CellStatus",
    "CountTable",
    "DisclosureRules",
    "GroupCheck",
    "GroupRisk",
    "Ledger",
    "LedgerTable",
    "ProtectedTable",
    "Relations",
    "Release",
    "audit_release",
    "cell_key",
    "information_loss",
    "legend",
    "protect_release",
    "tables_from_frame",
]
