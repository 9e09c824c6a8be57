"""The deliveries as part of the report's release: protected with it, audited jointly.

An intruder holds the report and every delivery of the same store, so the delivery tables are
protected inside the report's :class:`~thbmonitor.pipeline.Publication`: the report's cells
stay as the report shows them (a delivery cell that is a report cell has the report's status),
and the new cells get primary and secondary suppression against everything published. The
pipeline's joint audit then checks report and deliveries together.

Every format (Eurostat, SDMX-CSV, UNODC, the workbook) is drawn from the same protected
tables, so that two formats of one year never show two patterns of the same cells.

Girls, boys, women and men: with the headline rule of the report (women and men per year kept,
persons of unknown sex shown even when few, since the total minus women and men gives them
away), the persons of unknown sex split by age are cells bounded by that small shown count:
when it is 1 or 2, no suppression pattern leaves an interval of the required width, and the
sex x age table has none. The table is then not delivered; sex and age go out as separate
breakdowns (women, men; minors, adults: the report's own cells), and the deliveries say so
(:attr:`Delivered.sex_age_note`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from thbmonitor.disclosure import CellStatus, ProtectedTable, Release
from thbmonitor.errors import DisclosureError
from thbmonitor.export.tables import SEX_AGE, DeliveryTables

__all__ = ["Cell", "Delivered", "protect_deliveries"]

log = logging.getLogger(__name__)

SEX_AGE_NOTE = (
    "Victims by sex and age (girls, boys, women, men) are not delivered: with the persons of "
    "unknown sex as few as the report shows them, no suppression pattern protects that table. "
    "Sex and age are delivered as separate breakdowns."
)


@dataclass(frozen=True)
class Cell:
    """A delivered cell: its count where shown (0 for a true zero) and its status."""

    count: int | None
    status: CellStatus

    @property
    def hidden(self) -> bool:
        return self.status.suppressed


@dataclass(frozen=True)
class Delivered:
    """The protected delivery tables of one year."""

    year: int
    tables: Mapping[str, ProtectedTable]
    threshold: int
    sex_age_note: str | None = None  # why the sex x age table is not delivered, if it is not
    withheld: tuple[str, ...] = ()  # tables without a safe pattern: every figure protected

    def cell(self, table: str, **coords: str) -> Cell:
        """The cell of ``table`` at ``coords`` (dimensions not named are the Total); a cell
        of a withheld table is protected."""
        if table in self.withheld:
            return Cell(None, CellStatus.SECONDARY)
        pt = self.tables[table]
        frame = pt.frame
        mask = frame.index == frame.index
        for d in pt.dims:
            value = coords.get(d, "Total" if d != "year" else str(self.year))
            mask &= frame[d].astype(str).to_numpy() == str(value)
        rows = frame[mask]
        if len(rows) != 1:
            raise KeyError(f"no single cell {coords} in delivery table '{table}'")
        status = CellStatus(rows["status"].iloc[0])
        shown = status in (CellStatus.PUBLISHED, CellStatus.ZERO)
        return Cell(int(rows["count"].iloc[0]) if shown else None, status)

    def has(self, table: str) -> bool:
        return table in self.tables


Protect = Callable[..., Release]


def protect_deliveries(release: Protect, tables: DeliveryTables, threshold: int) -> Delivered:
    """Protect the delivery tables in ``release`` (the report's Publication, which keeps
    them for its joint audit); the sex x age table last, left out if it has no safe pattern.

    If the tables have no safe pattern together (the report's cells are fixed, so a new cell
    that they pin down cannot always be hidden), each is protected in turn and one without a
    safe pattern is withheld: all its figures go out as protected (:attr:`Delivered.withheld`).
    """
    out: dict[str, ProtectedTable] = {}
    withheld: list[str] = []
    try:
        out.update((pt.name, pt) for pt in release(list(tables.tables), tables.relations).tables)
    except DisclosureError:
        for table in tables.tables:
            try:
                out.update((pt.name, pt) for pt in release([table], tables.relations).tables)
            except DisclosureError:
                log.warning("export: no safe pattern for '%s'; withheld", table.name)
                withheld.append(table.name)
    note = None
    try:
        second = release([tables.sex_age])
    except DisclosureError:
        log.warning("export: no safe pattern for victims by sex and age; delivered apart")
        note = SEX_AGE_NOTE
    else:
        out.update({pt.name: pt for pt in second.tables if pt.name == SEX_AGE})
    return Delivered(tables.year, out, threshold, note, tuple(withheld))
