"""Eurostat's THB data collection: one long CSV of the year's registered victims and suspects.

``eurostat_thb_<year>.csv``, columns ``indicator, sex, age, citizenship, exploitation,
organisation, year, value, flag``; one row per figure, a dimension not broken down has the
total code. The collection's convention: ``0`` is a known zero, an empty value is not known,
a protected cell has an empty value and flag ``C`` (confidential).

Identified and presumed victims are apart in Eurostat's collection; the store does not say
which registrations are identified, so both rows are delivered as not known (empty value, no
flag) and registered victims (the two together) carry the figures.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from thbmonitor.disclosure import CellStatus
from thbmonitor.export import tables as T
from thbmonitor.export.codes import Eurostat
from thbmonitor.export.release import Cell, Delivered
from thbmonitor.profiles import Profile

__all__ = [
    "COLUMNS",
    "CONFIDENTIAL",
    "EurostatRow",
    "delivered_value",
    "eurostat_csv",
    "eurostat_rows",
]

COLUMNS = (
    "indicator", "sex", "age", "citizenship", "exploitation", "organisation", "year", "value",
    "flag",
)  # fmt: skip
CONFIDENTIAL = "C"


@dataclass(frozen=True)
class EurostatRow:
    indicator: str
    sex: str
    age: str
    citizenship: str
    exploitation: str
    organisation: str
    year: int
    value: str  # "" (not known or confidential) or a whole number
    flag: str  # "" or "C"
    table: str = ""  # the delivery table and cell it comes from (not written)
    cell: tuple[tuple[str, str], ...] = ()


def delivered_value(cell: Cell | None, threshold: int, receiver_rule: str = "") -> tuple[str, bool]:
    """(value, confidential) of a cell: a shown count, ``0`` for a true zero, empty for not
    known; a hidden cell is empty and confidential. A count from 1 to threshold - 1 that the
    report shows (persons of unknown sex: derivable from its headline) is delivered only when
    the receiver applies its own rule (``receiver_rule``), else it is confidential too."""
    if cell is None or cell.status == CellStatus.NOT_AVAILABLE:
        return "", False
    if cell.status == CellStatus.ZERO:
        return "0", False
    if cell.hidden or cell.count is None:
        return "", True
    if cell.count < threshold and not receiver_rule:
        return "", True
    return str(cell.count), False


def eurostat_rows(delivered: Delivered, profile: Profile, codes: Eurostat) -> list[EurostatRow]:
    """The rows of the year's Eurostat file, in delivery order."""
    year = delivered.year
    tot = codes.total
    rows: list[EurostatRow] = []

    def add(
        indicator: str,
        table: str | None,
        coords: dict[str, str],
        **dims: str,
    ) -> None:
        cell = delivered.cell(table, **coords) if table is not None else None
        value, confidential = delivered_value(cell, delivered.threshold)
        rows.append(
            EurostatRow(
                indicator,
                dims.get("sex", codes.sex_total),
                dims.get("age", tot),
                dims.get("citizenship", tot),
                dims.get("exploitation", tot),
                dims.get("organisation", tot),
                year,
                value,
                CONFIDENTIAL if confidential else "",
                table or "",
                tuple(sorted(coords.items())),
            )
        )

    reg = codes.registered
    add(reg, T.SEX, {})
    add(codes.identified, None, {})
    add(codes.presumed, None, {})
    for sex, code in codes.sex.items():
        add(reg, T.SEX, {"sex": sex}, sex=code)
    bands = profile.age_bands
    ages = [(bands.minor, codes.age_minor), (T.adult_code(profile), codes.age_adult)]
    if codes.age_unknown is not None:
        ages.append((bands.unknown, codes.age_unknown))
    for band, code in ages:
        add(reg, T.AGE, {"age_band": band}, age=code)
    for group, code in codes.citizenship.items():
        add(reg, T.CITIZENSHIP, {"nationality_group": group}, citizenship=code)
    for cls, code in codes.exploitation.items():
        add(reg, T.EXPLOITATION, {"exploitation": cls}, exploitation=code)
    for cls, code in codes.organisation.items():
        add(reg, T.ORGANISATION, {"organisation": cls}, organisation=code)
    add(codes.suspected, T.SUSPECTS, {})
    for sex, code in codes.sex.items():
        add(codes.suspected, T.SUSPECTS, {"sex": sex}, sex=code)
    return rows


def eurostat_csv(rows: list[EurostatRow]) -> str:
    """The CSV text of the rows (comma-separated, a header, ``\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [r.indicator, r.sex, r.age, r.citizenship, r.exploitation, r.organisation, r.year,
             r.value, r.flag]
        )  # fmt: skip
    return buf.getvalue()
