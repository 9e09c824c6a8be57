"""The delivery workbook: one sheet per delivered table, labelled in the chosen language.

For the people who paste figures into a questionnaire: each sheet lists the categories of one
breakdown (label in the report's language, the receiver's code) and the figure, written by the
report's own workbook writer (:func:`thbmonitor.report.workbook.write_workbook`, with its legend,
note and source). The figures are those of the delivery file: a withheld figure (flag ``C``) is
``x``, a figure that is not known ``.``, a known zero ``0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from thbmonitor.disclosure.rules import NA_MARKER, X_MARKER
from thbmonitor.export import tables as T
from thbmonitor.export.codes import DeliveryCodes
from thbmonitor.export.eurostat import CONFIDENTIAL, EurostatRow
from thbmonitor.export.unodc import WITHHELD, UnodcRow
from thbmonitor.monitor.published import SOURCE
from thbmonitor.profiles import Profile
from thbmonitor.report.model import Table, Text
from thbmonitor.report.workbook import write_workbook

__all__ = ["delivery_sheets", "write_delivery_workbook"]

TITLES: dict[str, Text] = {
    T.SEX: Text("Registered victims by sex", "Geregistreerde slachtoffers naar geslacht"),
    T.AGE: Text("Registered victims by age", "Geregistreerde slachtoffers naar leeftijd"),
    T.CITIZENSHIP: Text("Registered victims by citizenship",
                        "Geregistreerde slachtoffers naar nationaliteit"),
    T.EXPLOITATION: Text("Registered victims by form of exploitation",
                         "Geregistreerde slachtoffers naar uitbuitingsvorm"),
    T.ORGANISATION: Text("Registered victims by type of registering organisation",
                         "Geregistreerde slachtoffers naar type meldende organisatie"),
    T.SEX_AGE: Text("Registered victims by sex and age",
                    "Geregistreerde slachtoffers naar geslacht en leeftijd"),
    T.SUSPECTS: Text("Suspected persons by sex", "Verdachten naar geslacht"),
    "": Text("Identified and presumed victims (not known)",
             "Geïdentificeerde en vermoedelijke slachtoffers (onbekend)"),
    "sdg": Text("SDG 16.2.2: victims per 100,000 population",
                "SDG 16.2.2: slachtoffers per 100.000 inwoners"),
}  # fmt: skip
COLUMNS = {
    "category": Text("Category", "Categorie"),
    "code": Text("Code of the receiver", "Code van de ontvanger"),
    "value": Text("Figure", "Cijfer"),
}
NOTE = Text(
    "x = withheld by disclosure control (flag C in the delivery file); . = not known; "
    "0 = none. The figures are those of the delivery file.",
    "x = niet geleverd vanwege onthullingsbeveiliging (vlag C in het leveringsbestand); "
    ". = onbekend; 0 = geen. De cijfers zijn die van het leveringsbestand.",
)
TOTAL = Text("Total", "Totaal")


def _label(code: str, profile: Profile, codes: DeliveryCodes) -> Text:
    if code in codes.labels:
        return Text(*codes.labels[code])
    return Text(profile.label(code, "en") or code, profile.label(code, "nl") or code)


def _category(row: EurostatRow | UnodcRow, profile: Profile, codes: DeliveryCodes) -> Text:
    parts = [_label(code, profile, codes) for dim, code in row.cell if dim != "year"]
    if not parts:
        return TOTAL
    return Text(", ".join(p.en for p in parts), ", ".join(p.nl for p in parts))


def _figure(value: str, withheld: bool) -> int | float | str:
    if withheld:
        return X_MARKER
    if not value:
        return NA_MARKER
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number


def delivery_sheets(
    rows: Sequence[EurostatRow] | Sequence[UnodcRow],
    profile: Profile,
    codes: DeliveryCodes,
    year: int,
    prefix: str,
    lang: str,
) -> list[Table]:
    """One :class:`Table` per delivered table (in delivery order) of a file's rows, its
    categories labelled in ``lang``."""
    groups: dict[tuple[str, str], list[tuple[str, str, int | float | str]]] = {}
    for r in rows:
        if isinstance(r, EurostatRow):
            key = (r.indicator, r.table)
            dims = (r.sex, r.age, r.citizenship, r.exploitation, r.organisation)
            totals = (codes.eurostat.total, codes.eurostat.sex_total)
            code = ", ".join(d for d in dims if d not in totals) or r.indicator
            withheld = r.flag == CONFIDENTIAL
            label = _category(r, profile, codes)(lang) if r.table else r.indicator
        else:
            key = (r.indicator, r.table or "sdg")
            parts = (r.category, r.sex, r.age)
            code = ", ".join(p for p in parts if p != codes.unodc.total) or codes.unodc.total
            withheld = WITHHELD in r.source
            label = _category(r, profile, codes)(lang) if r.table else r.category
        groups.setdefault(key, []).append((label, code, _figure(r.value, withheld)))
    out = []
    for number, ((indicator, table), items) in enumerate(groups.items(), start=1):
        title = TITLES.get(table, Text(indicator, indicator))
        out.append(
            Table(
                key=f"{prefix}_{number}",
                title=Text(f"{title.en}, {year}", f"{title.nl}, {year}"),
                frame=pd.DataFrame(items, columns=list(COLUMNS)),
                source=SOURCE,
                note=NOTE,
                columns=dict(COLUMNS),
            )
        )
    return out


def write_delivery_workbook(
    path: Path,
    rows: Sequence[EurostatRow] | Sequence[UnodcRow],
    profile: Profile,
    codes: DeliveryCodes,
    year: int,
    prefix: str,
    lang: str,
) -> None:
    """Write the workbook of a delivery file's rows, labelled in ``lang`` (en or nl)."""
    write_workbook(delivery_sheets(rows, profile, codes, year, prefix, lang), path, lang)
