"""The count tables of the deliveries for one year, tied to the report's cells.

Every delivery table counts registered victims (victim-years: the monitor's ``victims`` unit,
attributes from the person's first registration of the year) in the report's universe
(``victims <window>``) and uses the report's dimension names and codes wherever the categories
coincide, so that a delivery cell that the report publishes *is* the report's cell (one key,
one status: :mod:`thbmonitor.disclosure.table`). Cells the report does not have are tied to
its cells by linear relations (:class:`~thbmonitor.disclosure.Relations`), which the joint
audit holds:

* ``age_band = adult``: the sum of the profile's bands from 18 on (when there are several);
* ``organisation``: the receiver's types of organisation, each the sum of the profile's
  reporting organisations it takes;
* ``exploitation``: the receiver's forms (sexual, labour, other, unknown) cut across the
  monitor's groups (``other_unknown`` holds both other and unknown forms), so they are tied
  through a latent table group x form whose margins are the report's groups and the delivered
  forms; its cells that are empty by definition (the profile's rules put no form of that class
  in that group) are known zeros to an intruder and are given as such.

The sex x age table (girls, boys, women, men) is its own table (:data:`SEX_AGE`): its inner
cells are new, and persons of unknown sex split by age may leave it without a safe pattern
(see :func:`thbmonitor.export.release.protect_deliveries`).

Suspected persons come from the police register (a universe of their own): distinct persons
(by identity token; an event without one counts alone) with at least one event of the
profile's suspect role and crime type in the year, by sex.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from thbmonitor.disclosure import CountTable, Relations
from thbmonitor.disclosure.relations import Equation
from thbmonitor.disclosure.table import cell_key
from thbmonitor.engine import Store
from thbmonitor.export.codes import Eurostat
from thbmonitor.monitor.units import unit_tables
from thbmonitor.profiles import Profile

__all__ = [
    "AGE",
    "CITIZENSHIP",
    "EXPLOITATION",
    "ORGANISATION",
    "SEX",
    "SEX_AGE",
    "SUSPECTS",
    "DeliveryTables",
    "adult_code",
    "delivery_tables",
]

SEX = "dlv_sex"
AGE = "dlv_age"
CITIZENSHIP = "dlv_natgroup"
EXPLOITATION = "dlv_exploitation"
ORGANISATION = "dlv_org"
SUSPECTS = "dlv_suspects"
SEX_AGE = "dlv_sex_age"
LATENT_FORMS = "dlv_group_exploitation"


@dataclass(frozen=True)
class DeliveryTables:
    """The tables of one year's deliveries (true counts) and their relations to the report."""

    year: int
    universe: str  # the report's universe of victim-years
    tables: tuple[CountTable, ...]  # protected with the relations, in the report's release
    relations: Relations
    sex_age: CountTable  # protected after the others (it may have no safe pattern)


def adult_code(profile: Profile) -> str:
    """The age category of everyone 18 and over: the profile's one adult band, or ``adult``
    (the sum of its adult bands)."""
    adults = profile.age_bands.known[1:]
    if len(adults) == 1:
        return adults[0]
    return "adult" if "adult" not in profile.age_bands.codes else "adult_18_plus"


def _victims(store: Store, year: int, profile: Profile, codes: Eurostat) -> pd.DataFrame:
    """One row per victim-year of ``year`` with its attributes as the report counts them
    (values outside the profile's code lists become its unknown or other category)."""
    with unit_tables(store, (year, year), profile) as units:
        frame = store.df(
            f"""
            SELECT u.sex, u.age_band, u.nationality_group, u.reporting_organisation,
                   u."group",
                   NULLIF(split_part(COALESCE(r.forms_of_exploitation, ''), ';', 1), '')
                       AS main_form
            FROM {units["victims"]} u
            JOIN registrations r ON r.registration_id = u.record_id
            """
        )
    sex = profile.list_of("sex")
    org = profile.list_of("reporting_organisation")
    assert sex is not None and org is not None
    fallback = {
        "sex": (sex.codes, sex.unknown),
        "age_band": (profile.age_bands.codes, profile.age_bands.unknown),
        "nationality_group": (profile.nationality.groups, profile.nationality.unknown),
        "reporting_organisation": (org.codes, org.other),
        "group": (profile.groups, profile.group_default),
    }
    for column, (known, other) in fallback.items():
        frame[column] = frame[column].where(frame[column].isin(known), other)
    adult = adult_code(profile)
    frame["age_band"] = frame["age_band"].where(
        frame["age_band"].isin([profile.age_bands.minor, profile.age_bands.unknown]), adult
    )
    frame["organisation"] = frame["reporting_organisation"].map(codes.organisations)
    forms = frame["main_form"].map(codes.forms)
    frame["exploitation"] = forms.fillna(codes.form_missing)
    frame["year"] = str(year)
    return frame


def _suspects(store: Store, year: int, profile: Profile, codes: Eurostat) -> pd.DataFrame:
    """One row per suspected person of ``year`` with the sex of their first event."""
    frame = store.df(
        """
        SELECT sex FROM (
            SELECT COALESCE(tok_identity, 'event:' || event_id) AS person, sex,
                   ROW_NUMBER() OVER (
                       PARTITION BY COALESCE(tok_identity, 'event:' || event_id)
                       ORDER BY event_date, event_id
                   ) AS k
            FROM police_events
            WHERE event_year = ? AND role = ? AND crime_type = ?
        ) WHERE k = 1
        """,
        [year, codes.suspect_role, codes.suspect_crime],
    )
    sex = profile.list_of("sex")
    assert sex is not None
    frame["sex"] = frame["sex"].where(frame["sex"].isin(sex.codes), sex.unknown)
    frame["year"] = str(year)
    return frame


def delivery_tables(
    store: Store, window: tuple[int, int], year: int, profile: Profile, codes: Eurostat
) -> DeliveryTables:
    """The delivery tables of ``year`` (inside the report's ``window``) with their relations."""
    universe = f"victims {window[0]}-{window[1]}"
    victims = _victims(store, year, profile, codes)
    adult = adult_code(profile)
    sex_list = profile.list_of("sex")
    assert sex_list is not None
    ages = [profile.age_bands.minor, adult, profile.age_bands.unknown]
    cats: dict[str, list[str]] = {
        "year": [str(year)],
        "sex": list(sex_list.codes),
        "age_band": ages,
        "nationality_group": list(profile.nationality.groups),
        "exploitation": list(codes.exploitation),
        "organisation": list(codes.organisation),
        "group": list(profile.groups),
    }

    def table(
        name: str, dims: list[str], frame: pd.DataFrame = victims, of: str = universe
    ) -> CountTable:
        return CountTable.from_records(
            name,
            frame,
            dims,
            margins=[d for d in dims if d != "year"],
            categories={d: cats[d] for d in dims},
            universe=of,
        )

    tables = (
        table(SEX, ["year", "sex"]),
        table(AGE, ["year", "age_band"]),
        table(CITIZENSHIP, ["year", "nationality_group"]),
        table(EXPLOITATION, ["year", "exploitation"]),
        table(ORGANISATION, ["year", "organisation"]),
        table(
            SUSPECTS,
            ["year", "sex"],
            _suspects(store, year, profile, codes),
            f"suspected persons {year}",
        ),
    )
    relations = _adult_relation(universe, year, profile, adult)
    relations += _organisation_relations(universe, year, codes.organisations)
    relations += _form_relations(universe, year, victims, profile, codes)
    sex_age = table(SEX_AGE, ["year", "sex", "age_band"])
    return DeliveryTables(year, universe, tables, relations, sex_age)


def _adult_relation(universe: str, year: int, profile: Profile, adult: str) -> Relations:
    """adult = the sum of the profile's adult bands (nothing when there is one band)."""
    bands = profile.age_bands.known[1:]
    if bands == (adult,):
        return Relations()
    y = str(year)
    eq: Equation = (
        (cell_key(universe, {"year": y, "age_band": adult}), 1.0),
        *((cell_key(universe, {"year": y, "age_band": b}), -1.0) for b in bands),
    )
    return Relations((eq,))


def _organisation_relations(
    universe: str, year: int, organisations: Mapping[str, str]
) -> Relations:
    """Each delivered type of organisation = the sum of the profile's organisations in it."""
    y = str(year)
    out: list[Equation] = []
    for cls in dict.fromkeys(organisations.values()):
        members = [o for o, c in organisations.items() if c == cls]
        out.append(
            (
                (cell_key(universe, {"year": y, "organisation": cls}), 1.0),
                *(
                    (cell_key(universe, {"year": y, "reporting_organisation": o}), -1.0)
                    for o in members
                ),
            )
        )
    return Relations(tuple(out))


def _possible_pairs(profile: Profile, codes: Eurostat) -> set[tuple[str, str]]:
    """(group, form class) pairs that the profile's rules allow."""
    pairs = {(profile.monitor_group([], []), codes.form_missing)}
    for form, cls in codes.forms.items():
        for nationalities in ([profile.country], []):
            pairs.add((profile.monitor_group([form], nationalities), cls))
    return pairs


def _form_relations(
    universe: str, year: int, victims: pd.DataFrame, profile: Profile, codes: Eurostat
) -> Relations:
    """The latent table group x form class of the year, tied to the report's groups and the
    delivered forms; its cells that the profile's rules leave empty are known zeros."""
    latent_universe = f"{universe} {year} group x exploitation (latent)"
    latent = CountTable.from_records(
        LATENT_FORMS,
        victims,
        ["group", "exploitation"],
        categories={"group": list(profile.groups), "exploitation": list(codes.exploitation)},
        universe=latent_universe,
    )
    latent = CountTable(latent.name, latent.frame, latent.dims, latent.universe, latent=True)
    y = str(year)
    eqs: list[Equation] = []
    for g in profile.groups:
        eqs.append(
            (
                (cell_key(latent_universe, {"group": g}), 1.0),
                (cell_key(universe, {"year": y, "group": g}), -1.0),
            )
        )
    for cls in codes.exploitation:
        eqs.append(
            (
                (cell_key(latent_universe, {"exploitation": cls}), 1.0),
                (cell_key(universe, {"year": y, "exploitation": cls}), -1.0),
            )
        )
    possible = _possible_pairs(profile, codes)
    counts = latent.frame.set_index(["group", "exploitation"])[latent.count]
    for g in profile.groups:
        for cls in codes.exploitation:
            if (g, cls) not in possible and counts.get((g, cls), 0) == 0:
                eqs.append(((cell_key(latent_universe, {"group": g, "exploitation": cls}), 1.0),))
    return Relations(tuple(eqs), (latent,))
