"""The codes of the yearly deliveries, read from the country profile's ``deliveries.toml``.

The receiving bodies' code lists (Eurostat's THB collection, UNODC's data portal) must be
checked against their live definitions, so they live in the profile folder, next to the
country's own code lists, and a user edits them there. The file maps the profile's codes
(sex, age bands, nationality groups, forms of exploitation, reporting organisations) to the
receiver's; :func:`delivery_codes` checks that every code it names exists in the profile and
that every code of the profile that a delivery needs is mapped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thbmonitor.errors import ConfigError
from thbmonitor.profiles import Profile

__all__ = ["FILE", "DeliveryCodes", "Eurostat", "Sdmx", "Unodc", "delivery_codes"]

FILE = "deliveries.toml"


@dataclass(frozen=True)
class Sdmx:
    """The SDMX dataflow of the Eurostat figures and its component ids."""

    agency: str
    dataflow: str
    version: str
    freq: str
    unit: str
    not_known: str  # OBS_STATUS of a figure that is not known
    components: Mapping[str, str]  # Eurostat CSV column -> component id


@dataclass(frozen=True)
class Eurostat:
    """Eurostat's codes: indicators, and per dimension the profile's code -> Eurostat's."""

    geo: str
    registered: str
    identified: str
    presumed: str
    suspected: str
    total: str  # a dimension not broken down
    sex_total: str
    sex: Mapping[str, str]  # profile sex code -> code (unknown sex: in the total only)
    age_minor: str
    age_adult: str
    age_unknown: str | None  # None: persons of unknown age are in the total only
    citizenship: Mapping[str, str]  # nationality group -> code
    exploitation: Mapping[str, str]  # class -> code (classes in delivery order)
    forms: Mapping[str, str]  # profile form code -> class
    form_missing: str  # the class of a registration without a form
    organisation: Mapping[str, str]  # class -> code
    organisations: Mapping[str, str]  # profile organisation code -> class
    suspect_role: str
    suspect_crime: str
    sdmx: Sdmx


@dataclass(frozen=True)
class Unodc:
    """UNODC's labels of the data portal's long layout."""

    iso3: str
    country: str
    source: str
    unit: str
    rate_unit: str
    total: str
    victims: str
    suspects: str
    sdg: str
    receiver_rule: str  # "" or the receiver's own rule for small counts (e.g. "<5")
    sex: Mapping[str, str]
    age: Mapping[str, str]  # minor, adult, unknown -> label
    dimensions: Mapping[str, str]
    exploitation: Mapping[str, str]  # class -> label
    citizenship: Mapping[str, str]  # nationality group -> label
    sdg_categories: Mapping[str, str]


@dataclass(frozen=True)
class DeliveryCodes:
    eurostat: Eurostat
    unodc: Unodc
    labels: Mapping[str, tuple[str, str]]  # delivery category -> (en, nl)


def delivery_codes(profile: Profile) -> DeliveryCodes:
    """The delivery codes of a profile (its folder's ``deliveries.toml``), checked."""
    path = profile.path / FILE
    if not path.is_file():
        raise ConfigError(
            f"profile {profile.name}: no {FILE} in {profile.path}; copy one from a shipped "
            "profile ('thbmonitor profile copy nl DIR') and edit its codes"
        )
    return _load(path, profile)


def _load(path: Path, profile: Profile) -> DeliveryCodes:
    where = f"profile {profile.name}: {FILE}"
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML ({exc})") from None
    try:
        codes = _build(doc, profile)
    except KeyError as exc:
        raise ConfigError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return codes


def _map(table: Any, name: str) -> dict[str, str]:
    if not isinstance(table, Mapping):
        raise ValueError(f"{name} must be a table of code = code")
    return {str(k): str(v) for k, v in table.items()}


def _covers(mapping: Mapping[str, str], codes: tuple[str, ...], name: str) -> None:
    """Every code of the profile mapped, and nothing mapped that the profile lacks."""
    missing = [c for c in codes if c not in mapping]
    extra = [c for c in mapping if c not in codes]
    if missing:
        raise ValueError(f"{name} maps no code for {', '.join(missing)}")
    if extra:
        raise ValueError(f"{name} names {', '.join(extra)}, not codes of the profile")


def _build(doc: Mapping[str, Any], profile: Profile) -> DeliveryCodes:
    reporter, eu, un, sdmx = doc["reporter"], doc["eurostat"], doc["unodc"], doc["sdmx"]
    sex_list = profile.list_of("sex")
    assert sex_list is not None
    sex = _map(eu["sex"]["codes"], "[eurostat.sex] codes")
    _covers(sex, tuple(c for c in sex_list.codes if c != sex_list.unknown), "[eurostat.sex]")
    citizenship = _map(eu["citizenship"]["codes"], "[eurostat.citizenship] codes")
    _covers(citizenship, profile.nationality.groups, "[eurostat.citizenship]")
    exploitation = _map(eu["exploitation"]["codes"], "[eurostat.exploitation] codes")
    forms = _map(eu["exploitation"]["forms"], "[eurostat.exploitation.forms]")
    _covers(forms, profile.field_codes("forms_of_exploitation"), "[eurostat.exploitation.forms]")
    missing = str(eu["exploitation"]["missing"])
    for cls in (*forms.values(), missing):
        if cls not in exploitation:
            raise ValueError(f"[eurostat.exploitation] class {cls!r} has no code")
    organisation = _map(eu["organisation"]["codes"], "[eurostat.organisation] codes")
    organisations = _map(
        eu["organisation"]["organisations"], "[eurostat.organisation.organisations]"
    )
    _covers(
        organisations,
        profile.field_codes("reporting_organisation"),
        "[eurostat.organisation.organisations]",
    )
    for cls in organisations.values():
        if cls not in organisation:
            raise ValueError(f"[eurostat.organisation] class {cls!r} has no code")
    suspects = eu["suspects"]
    if suspects["role"] not in profile.field_codes("role"):
        raise ValueError("[eurostat.suspects] role is not a code of the profile")
    if suspects["crime_type"] not in profile.field_codes("crime_type"):
        raise ValueError("[eurostat.suspects] crime_type is not a code of the profile")
    age = eu["age"]
    components = _map(sdmx["components"], "[sdmx.components]")
    columns = ("indicator", "sex", "age", "citizenship", "exploitation", "organisation")
    _covers(components, columns, "[sdmx.components]")
    eurostat = Eurostat(
        geo=str(reporter["geo"]),
        registered=str(eu["registered"]),
        identified=str(eu["identified"]),
        presumed=str(eu["presumed"]),
        suspected=str(eu["suspected"]),
        total=str(eu["total"]),
        sex_total=str(eu["sex"]["total"]),
        sex=sex,
        age_minor=str(age["minor"]),
        age_adult=str(age["adult"]),
        age_unknown=str(age["unknown"]) if "unknown" in age else None,
        citizenship=citizenship,
        exploitation=exploitation,
        forms=forms,
        form_missing=missing,
        organisation=organisation,
        organisations=organisations,
        suspect_role=str(suspects["role"]),
        suspect_crime=str(suspects["crime_type"]),
        sdmx=Sdmx(
            agency=str(sdmx["agency"]),
            dataflow=str(sdmx["dataflow"]),
            version=str(sdmx["version"]),
            freq=str(sdmx["freq"]),
            unit=str(sdmx["unit"]),
            not_known=str(sdmx["not_known"]),
            components=components,
        ),
    )
    un_sex = _map(un["sex"], "[unodc] sex")
    _covers(un_sex, tuple(sex), "[unodc] sex")
    un_age = _map(un["age"], "[unodc] age")
    _covers(un_age, ("minor", "adult", "unknown"), "[unodc] age")
    un_expl = _map(un["exploitation"], "[unodc] exploitation")
    _covers(un_expl, tuple(exploitation), "[unodc] exploitation")
    un_cit = _map(un["citizenship"], "[unodc] citizenship")
    _covers(un_cit, profile.nationality.groups, "[unodc] citizenship")
    dims = _map(un["dimensions"], "[unodc] dimensions")
    _covers(dims, ("total", "sex_age", "exploitation", "citizenship", "sdg"), "[unodc] dimensions")
    sdg = _map(un["sdg_categories"], "[unodc] sdg_categories")
    _covers(sdg, ("registered", "estimated", "lower", "upper"), "[unodc] sdg_categories")
    unodc = Unodc(
        iso3=str(reporter["iso3"]),
        country=str(reporter["name"]),
        source=str(un["source"]),
        unit=str(un["unit"]),
        rate_unit=str(un["rate_unit"]),
        total=str(un["total"]),
        victims=str(un["victims"]),
        suspects=str(un["suspects"]),
        sdg=str(un["sdg"]),
        receiver_rule=str(un.get("receiver_rule", "")),
        sex=un_sex,
        age=un_age,
        dimensions=dims,
        exploitation=un_expl,
        citizenship=un_cit,
        sdg_categories=sdg,
    )
    labels = {}
    for key, pair in doc.get("labels", {}).items():
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"[labels] {key} must be [English, Dutch]")
        labels[str(key)] = (str(pair[0]), str(pair[1]))
    own = {"adult", *exploitation, *organisation}
    unlabelled = sorted(own - set(labels))
    if unlabelled:
        raise ValueError(f"[labels] has no display name for {', '.join(unlabelled)}")
    return DeliveryCodes(eurostat, unodc, labels)
