"""UNODC's Global Report on Trafficking in Persons: the data portal's long layout.

``unodc_glotip_<year>.csv``, columns ``Iso3_code, Country, Indicator, Dimension, Category,
Sex, Age, Year, Unit of measurement, VALUE, Source``: detected victims by sex and age (girls,
boys, women, men), by form of exploitation and by citizenship; suspected persons (persons
brought into formal contact) by sex; and SDG 16.2.2, registered victims per 100,000 and the
hidden-number estimate with its 95% interval per 100,000 (the report's published rates).

A value that disclosure control withholds is empty, and its Source says so; a count from 1 to 9
never goes out unless the profile says UNODC applies its own rule to small counts
(``receiver_rule``), and then the Source of those rows says so. When victims by sex and age
have no safe suppression pattern (see :mod:`thbmonitor.export.release`) sex and age are
delivered apart, and the Source of those rows says why.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from thbmonitor.export import tables as T
from thbmonitor.export.codes import Unodc
from thbmonitor.export.eurostat import delivered_value
from thbmonitor.export.release import Cell, Delivered
from thbmonitor.profiles import Profile

__all__ = ["COLUMNS", "UnodcRow", "unodc_csv", "unodc_rows"]

COLUMNS = (
    "Iso3_code", "Country", "Indicator", "Dimension", "Category", "Sex", "Age", "Year",
    "Unit of measurement", "VALUE", "Source",
)  # fmt: skip
WITHHELD = "value withheld by disclosure control"


@dataclass(frozen=True)
class UnodcRow:
    indicator: str
    dimension: str
    category: str
    sex: str
    age: str
    unit: str
    value: str
    source: str
    table: str = ""  # the delivery table and cell it comes from (not written)
    cell: tuple[tuple[str, str], ...] = ()


def unodc_rows(
    delivered: Delivered, profile: Profile, codes: Unodc, sdg: dict[str, Any] | None
) -> list[UnodcRow]:
    """The rows of the year's UNODC file. ``sdg`` is the report's ``sdg_16_2_2.by_year`` entry
    of the year (None: no rates)."""
    tot = codes.total
    dims = codes.dimensions
    rows: list[UnodcRow] = []

    def add(
        indicator: str,
        table: str,
        coords: dict[str, str],
        *,
        dimension: str = dims["total"],
        category: str = tot,
        sex: str = tot,
        age: str = tot,
        note: str | None = None,
    ) -> None:
        cell: Cell = delivered.cell(table, **coords)
        value, confidential = delivered_value(cell, delivered.threshold, codes.receiver_rule)
        notes = [codes.source]
        if confidential:
            notes.append(WITHHELD)
        elif codes.receiver_rule and value and 0 < int(value) < delivered.threshold:
            # a small count that goes out because UNODC protects it itself (a zero is a
            # known zero, and without such a rule no small count goes out at all)
            notes.append(f"UNODC applies its own rule to small counts ({codes.receiver_rule})")
        if note:
            notes.append(note)
        rows.append(
            UnodcRow(
                indicator, dimension, category, sex, age, codes.unit, value, "; ".join(notes),
                table, tuple(sorted(coords.items())),
            )
        )  # fmt: skip

    victims = codes.victims
    add(victims, T.SEX, {})
    minor, adult = profile.age_bands.minor, T.adult_code(profile)
    ages = {minor: codes.age["minor"], adult: codes.age["adult"]}
    joint = delivered.has(T.SEX_AGE)
    note = None if joint else delivered.sex_age_note
    for sex, label in codes.sex.items():
        add(victims, T.SEX, {"sex": sex}, sex=label, note=note)
        if joint:
            for band, age in ages.items():
                add(victims, T.SEX_AGE, {"sex": sex, "age_band": band}, sex=label, age=age)
    for band, age in ages.items():
        add(victims, T.AGE, {"age_band": band}, age=age, note=note)
    add(victims, T.AGE, {"age_band": profile.age_bands.unknown}, age=codes.age["unknown"])
    for cls, label in codes.exploitation.items():
        add(victims, T.EXPLOITATION, {"exploitation": cls}, dimension=dims["exploitation"],
            category=label)  # fmt: skip
    for group, label in codes.citizenship.items():
        add(victims, T.CITIZENSHIP, {"nationality_group": group}, dimension=dims["citizenship"],
            category=label)  # fmt: skip
    add(codes.suspects, T.SUSPECTS, {})
    for sex, label in codes.sex.items():
        add(codes.suspects, T.SUSPECTS, {"sex": sex}, sex=label)
    rows += _sdg_rows(codes, sdg)
    return rows


def _sdg_rows(codes: Unodc, sdg: dict[str, Any] | None) -> list[UnodcRow]:
    """Registered and estimated victims per 100,000 (the report's published rates)."""
    out = []
    keys = {
        "registered": "registered_per_100k",
        "estimated": "estimated_per_100k",
        "lower": "estimated_lower_per_100k",
        "upper": "estimated_upper_per_100k",
    }
    for category, key in keys.items():
        rate = None if sdg is None else sdg.get(key)
        source = codes.source if rate is not None else f"{codes.source}; not available"
        out.append(
            UnodcRow(
                codes.sdg, codes.dimensions["sdg"], codes.sdg_categories[category], codes.total,
                codes.total, codes.rate_unit, "" if rate is None else f"{rate:.2f}", source,
            )
        )  # fmt: skip
    return out


def unodc_csv(rows: list[UnodcRow], year: int, codes: Unodc) -> str:
    """The CSV text of the rows (comma-separated, a header, ``\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [codes.iso3, codes.country, r.indicator, r.dimension, r.category, r.sex, r.age,
             year, r.unit, r.value, r.source]
        )  # fmt: skip
    return buf.getvalue()
