"""The record layouts of the input files: registrations, police register, population register
and population denominators.

The code lists (sex, forms of exploitation, sectors, residence statuses, reporting organisations,
crime types), the monitor's groups, age bands, nationality groups and regions are a country's
conventions and live in its profile (:mod:`thbmonitor.profiles`), not here: each layout is built
for a profile (:func:`registration_fields`), and the module's constants are those of the
default profile (``nl``), for the parts that always use it (the registry, the synthetic world).
Code values follow the IOM Human Trafficking Case Data Standard (HTCDS v2.0) names where they
exist; each profile maps them (``codes.csv``, column ``htcds``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from thbmonitor.errors import ConfigError
from thbmonitor.profiles import Profile, default_profile


class PoliceRole(StrEnum):
    """The role of a person in a police-register event (the follow-up's two outcomes)."""

    VICTIM = "victim"
    SUSPECT = "suspect"


class PopulationEvent(StrEnum):
    """Events of the population register (e.g. the Dutch BRP).

    ``resident``: the person is registered as a resident from this date; every resident has such
    a record, so a victim linked to any record is *covered*: their police events can be seen.
    ``death`` and ``emigration`` end follow-up (competing events).
    """

    RESIDENT = "resident"
    DEATH = "death"
    EMIGRATION = "emigration"


# Nationality codes: ISO 3166-1 alpha-2 plus XX (unknown) and XS (stateless).
UNKNOWN_NATIONALITY = "XX"


# ---- record layouts ----------------------------------------------------------------------

# separator of multiselect fields (nationality, forms of exploitation) in the store and in files
# of the monitor's own layout (a profile's input files may use another: profile.layout)
MULTI_SEPARATOR = ";"


@dataclass(frozen=True)
class Field:
    """One column of an input file."""

    name: str
    kind: str  # "str", "date", "int", "year", "count", "bool", "code", "codes", "nationalities"
    required: bool
    help: str
    codes: tuple[str, ...] = ()  # of a coded field: filled in from a profile (see _coded)
    htcds: str | None = None  # the HTCDS field name it maps to, where one exists
    identifying: bool = False  # a direct identifier: pseudonymised at the door, never stored


# coded fields whose codes the code relies on: a profile spells them as it likes (codes.csv,
# column spellings) but keeps these codes
_FIXED: dict[str, tuple[str, ...]] = {
    "role": tuple(r.value for r in PoliceRole),
    "event_type": tuple(e.value for e in PopulationEvent),
}


def _coded(profile: Profile, fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields with the codes of the profile's code lists."""
    out = []
    for f in fields:
        codes = profile.list_of(f.name)
        if f.kind in ("code", "codes") and codes is not None:
            fixed = _FIXED.get(f.name)
            if fixed is not None and set(codes.codes) != set(fixed):
                raise ConfigError(
                    f"profile {profile.name}: the code list of {f.name} must hold the codes "
                    f"{', '.join(fixed)} (the follow-up relies on them); give your files' "
                    "values as their spellings in codes.csv"
                )
            f = replace(f, codes=codes.codes)
        out.append(f)
    return tuple(out)


_REGISTRATION: tuple[Field, ...] = (
    Field("registration_id", "str", True, "Unique id of the registration (report)."),
    Field(
        "reporting_organisation",
        "code",
        True,
        "Organisation that reported the presumed victim.",
        (),
        "cas_ReferringOrganisation",
    ),
    Field("registration_date", "date", True, "Date of the registration (YYYY-MM-DD)."),
    Field("first_names", "str", False, "First name(s).", (), "prs_FirstName", True),
    Field(
        "last_name",
        "str",
        False,
        "Last name, with particles (e.g. 'van der').",
        (),
        "prs_SecondName",
        True,
    ),
    Field("date_of_birth", "date", False, "Date of birth (YYYY-MM-DD).", (), "prs_Birthdate", True),
    Field(
        "date_of_birth_estimated",
        "bool",
        False,
        "1 if the date of birth is an estimate (e.g. an undocumented minor).",
    ),
    Field("identity_number", "str", False, "Identity or document number.", (), None, True),
    Field("sex", "code", True, "Sex: F, M or U.", (), "prs_Gender"),
    Field(
        "nationality",
        "nationalities",
        True,
        "Nationality, ISO 3166-1 alpha-2; several separated by ';' (XX unknown).",
        (),
        "prs_Citizenship",
    ),
    Field(
        "residence_status",
        "code",
        True,
        "Residence status at registration.",
        (),
    ),
    Field("municipality", "str", False, "Municipality of residence or of exploitation."),
    Field(
        "forms_of_exploitation",
        "codes",
        True,
        "Form(s) of exploitation, the main one first, separated by ';'.",
        (),
        "vic_TypeOfExploitation",
    ),
    Field("sector", "code", False, "Sector of exploitation.", ()),
    Field(
        "age_at_exploitation",
        "int",
        False,
        "Age at the start of exploitation, in years.",
        (),
        "vic_AgeWhenTrafficked",
    ),
    Field("shelter", "bool", False, "1 if placed in (categorical) shelter."),
    Field(
        "victim_scheme_applied",
        "bool",
        False,
        "1 if a residence permit under the country's scheme for victims was applied for.",
    ),
    Field(
        "victim_scheme_granted",
        "bool",
        False,
        "1 if a residence permit under the country's scheme for victims was granted.",
    ),
    Field("care_referral", "bool", False, "1 if referred to care."),
    Field(
        "consent", "bool", False, "1 if the victim consented to registration.", (), "con_Consent"
    ),
)

# The identifiers a register holds for the person of an event (pseudonymised at the door).
_REGISTER_PERSON: tuple[Field, ...] = (
    Field("first_names", "str", False, "First name(s).", (), None, True),
    Field("last_name", "str", False, "Last name.", (), None, True),
    Field("date_of_birth", "date", False, "Date of birth (YYYY-MM-DD).", (), None, True),
    Field("identity_number", "str", False, "Identity or document number.", (), None, True),
    Field("sex", "code", False, "Sex: F, M or U.", ()),
    Field("event_date", "date", True, "Date of the event."),
)

_POLICE: tuple[Field, ...] = (
    Field("event_id", "str", True, "Unique id of the police-register event."),
    *_REGISTER_PERSON,
    Field("role", "code", True, "Role of the person: victim or suspect.", ()),
    Field("crime_type", "code", True, "Crime type of the event.", ()),
)

_POPULATION: tuple[Field, ...] = (
    Field("event_id", "str", True, "Unique id of the population-register event."),
    *_REGISTER_PERSON,
    Field("event_type", "code", True, "resident, death or emigration.", ()),
)

POPULATION_DENOMINATOR_KEY: tuple[str, ...] = ("year", "sex", "age_band")
# the registration's yes/no fields on help and consent, read alike by the file and record paths
HELP_FLAGS: tuple[str, ...] = (
    "shelter",
    "victim_scheme_applied",
    "victim_scheme_granted",
    "care_referral",
    "consent",
)


def population_sexes(profile: Profile) -> tuple[str, ...]:
    """The sexes of the population denominators: the profile's sexes without the unknown."""
    sexes = profile.code_lists[profile.field_lists["sex"]]
    return tuple(c for c in sexes.codes if c != sexes.unknown)


def denominator_fields(profile: Profile) -> tuple[Field, ...]:
    """The resident population by year, sex and age band: the denominators of rates per
    100,000 (SDG 16.2.2). Sex and age band are the profile's, without their unknown values."""
    sexes = population_sexes(profile)
    bands = profile.age_bands.known
    return (
        Field("year", "year", True, "Calendar year (YYYY) the population refers to."),
        Field("sex", "code", True, f"Sex: {' or '.join(sexes)}.", sexes),
        Field("age_band", "code", True, f"Age band: {', '.join(bands)}.", bands),
        Field("population", "count", True, "Resident population (whole number of persons)."),
    )


def check_profile(profile: Profile) -> Profile:
    """The profile, if every layout can be built from it (else a ConfigError naming why)."""
    for layout in (registration_fields, police_fields, population_fields, denominator_fields):
        layout(profile)
    return profile


def registration_fields(profile: Profile) -> tuple[Field, ...]:
    return _coded(profile, _REGISTRATION)


def police_fields(profile: Profile) -> tuple[Field, ...]:
    return _coded(profile, _POLICE)


def population_fields(profile: Profile) -> tuple[Field, ...]:
    return _coded(profile, _POPULATION)


_DEFAULT = default_profile()
REGISTRATION_FIELDS: tuple[Field, ...] = registration_fields(_DEFAULT)
POLICE_FIELDS: tuple[Field, ...] = police_fields(_DEFAULT)
POPULATION_FIELDS: tuple[Field, ...] = population_fields(_DEFAULT)
POPULATION_DENOMINATOR_FIELDS: tuple[Field, ...] = denominator_fields(_DEFAULT)
POPULATION_SEXES: tuple[str, ...] = population_sexes(_DEFAULT)
POPULATION_AGE_BANDS: tuple[str, ...] = _DEFAULT.age_bands.known
# reporters who need no consent to register a victim (the default profile's; see profile.toml)
CONSENT_NOT_REQUIRED: frozenset[str] = _DEFAULT.consent_not_required

IDENTIFYING_FIELDS: frozenset[str] = frozenset(
    f.name for f in REGISTRATION_FIELDS + POLICE_FIELDS + POPULATION_FIELDS if f.identifying
)
