"""The registration record, the police-register record and every code list, in one place.

Code values use the IOM Human Trafficking Case Data Standard (HTCDS v2.0) names where they exist
(``prs_Gender``, ``vic_TypeOfExploitation``, ``vic_TypeOfSexExploitation``,
``vic_ForcedLabourIndustry``, ``org_Type``) and add the national ones HTCDS lacks: criminal
exploitation (NL art. 273f Sr), the monitor's split of sexual exploitation into domestic and
cross-border (derived from nationality, as the Dutch monitor does), and Dutch residence statuses
including B8 (the residence scheme for victims of trafficking).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# ---- code lists --------------------------------------------------------------------------


class Sex(StrEnum):
    """Sex as registered (HTCDS prs_Gender collapsed to sex at registration)."""

    FEMALE = "F"  # HTCDS Feminine
    MALE = "M"  # HTCDS Masculine
    UNKNOWN = "U"  # HTCDS NonSpecifiedUnknown


class Exploitation(StrEnum):
    """Form of exploitation (HTCDS vic_TypeOfExploitation + the national CriminalExploitation)."""

    SEXUAL = "SexualExploitation"
    LABOUR = "ForcedLabour"
    CRIMINAL = "CriminalExploitation"  # national extension (NL art. 273f Sr)
    ORGAN_REMOVAL = "OrganRemoval"
    FORCED_MARRIAGE = "ForcedMarriage"
    FORCED_BEGGING = "ForcedBegging"
    SERVITUDE = "Servitude"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class MonitorGroup(StrEnum):
    """The Dutch Victims Monitor's groups of exploitation."""

    DOMESTIC_SEXUAL = "domestic_sexual"  # sexual exploitation of a victim with Dutch nationality
    CROSS_BORDER_SEXUAL = "cross_border_sexual"  # sexual exploitation, other nationalities
    LABOUR = "labour"
    CRIMINAL = "criminal"
    OTHER_UNKNOWN = "other_unknown"  # organ removal, forced marriage, begging, other, unknown


class Sector(StrEnum):
    """Sector of exploitation (HTCDS vic_TypeOfSexExploitation and vic_ForcedLabourIndustry)."""

    PROSTITUTION = "Prostitution"  # licensed / visible sex industry
    PRIVATE_SEXUAL_SERVICES = "PrivateSexualServices"  # escort, home, hotel
    REMOTE_INTERACTIVE = "RemoteInteractiveServices"
    AGRICULTURE = "Agriculture"
    CONSTRUCTION = "Construction"
    HOSPITALITY = "Hospitality"
    DOMESTIC_WORK = "DomesticWork"
    MANUFACTURING = "Manufacturing"
    TRANSPORTATION = "Transportation"
    ILLICIT_ACTIVITIES = "IllicitActivities"  # criminal exploitation: drugs, theft, fraud
    BEGGING = "Begging"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class ResidenceStatus(StrEnum):
    """Residence status at registration (national list; HTCDS has guidance only)."""

    DUTCH_NATIONAL = "DutchNational"
    EU_CITIZEN = "EUCitizen"
    NON_EU_PERMIT = "NonEUPermit"
    ASYLUM_SEEKER = "AsylumSeeker"
    B8 = "B8"  # residence scheme for victims of trafficking
    NO_LEGAL_STATUS = "NoLegalStatus"
    UNKNOWN = "Unknown"


class ReportingOrganisation(StrEnum):
    """The reporting organisations: the lists of capture-recapture (HTCDS org_Type + national)."""

    POLICE = "Police"  # HTCDS LawEnforcement
    KMAR = "KMar"  # Royal Marechaussee (border police)
    LABOUR_INSPECTORATE = "LabourInspectorate"
    NGO_CARE = "NGOCare"  # HTCDS NGO / HealthServiceOrganisation
    OTHER = "Other"


# Reporters who must report and so need no consent to register a victim (NL: police, Royal
# Marechaussee and labour inspectorate); any other reporter needs the victim's consent.
CONSENT_NOT_REQUIRED: frozenset[str] = frozenset(
    {
        ReportingOrganisation.POLICE.value,
        ReportingOrganisation.KMAR.value,
        ReportingOrganisation.LABOUR_INSPECTORATE.value,
    }
)


class NationalityGroup(StrEnum):
    NL = "NL"
    OTHER_EU = "other_EU"
    NON_EU = "non_EU"
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    MINOR = "minor"  # < 18
    AGE_18_22 = "18-22"
    AGE_23_PLUS = "23+"
    UNKNOWN = "unknown"


class PoliceRole(StrEnum):
    VICTIM = "victim"
    SUSPECT = "suspect"


class CrimeType(StrEnum):
    """Crime type of a police-register event (the monitor's breakdown of new crimes)."""

    PROPERTY = "property"
    VIOLENCE = "violence"
    SEXUAL = "sexual"
    TRAFFICKING = "trafficking"
    OTHER = "other"


class PopulationEvent(StrEnum):
    """Events of the population register (e.g. the Dutch BRP).

    ``resident``: the person is registered as a resident from this date; every resident has such
    a record, so a victim linked to any record is *covered*: their police events can be seen.
    ``death`` and ``emigration`` end follow-up (competing events).
    """

    RESIDENT = "resident"
    DEATH = "death"
    EMIGRATION = "emigration"


# EU member states (ISO 3166-1 alpha-2), without NL which is its own group.
EU_COUNTRIES: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

# Nationality codes accepted: ISO 3166-1 alpha-2 plus XX (unknown) and XS (stateless).
UNKNOWN_NATIONALITY = "XX"


def nationality_group(code: str | None) -> NationalityGroup:
    """The monitor's nationality group of an ISO 3166-1 alpha-2 code."""
    if not code or code in (UNKNOWN_NATIONALITY,):
        return NationalityGroup.UNKNOWN
    if code == "NL":
        return NationalityGroup.NL
    if code in EU_COUNTRIES:
        return NationalityGroup.OTHER_EU
    return NationalityGroup.NON_EU


def age_band(age: int | None) -> AgeBand:
    """The monitor's age band (minor, 18-22, 23+) of an age in whole years."""
    if age is None:
        return AgeBand.UNKNOWN
    if age < 18:
        return AgeBand.MINOR
    if age <= 22:
        return AgeBand.AGE_18_22
    return AgeBand.AGE_23_PLUS


def monitor_group(forms: list[str], nationalities: list[str]) -> MonitorGroup:
    """The monitor's group of a registration.

    Rule (documented in the report): the *first* listed form is the main form, as reported by
    the reporting organisation. Sexual exploitation is domestic when any nationality is Dutch
    (the Dutch monitor's definition: "Dutch victims of sexual exploitation"), cross-border
    otherwise.
    """
    main = forms[0] if forms else Exploitation.UNKNOWN.value
    if main == Exploitation.SEXUAL:
        if "NL" in nationalities:
            return MonitorGroup.DOMESTIC_SEXUAL
        return MonitorGroup.CROSS_BORDER_SEXUAL
    if main == Exploitation.LABOUR:
        return MonitorGroup.LABOUR
    if main == Exploitation.CRIMINAL:
        return MonitorGroup.CRIMINAL
    return MonitorGroup.OTHER_UNKNOWN


# ---- record layouts ----------------------------------------------------------------------

MULTI_SEPARATOR = ";"  # separator of multiselect fields (nationality, forms of exploitation)


@dataclass(frozen=True)
class Field:
    """One column of an input file."""

    name: str
    kind: str  # "str", "date", "int", "year", "count", "bool", "code", "codes", "nationalities"
    required: bool
    help: str
    codes: tuple[str, ...] = ()
    htcds: str | None = None  # the HTCDS field name it maps to, where one exists
    identifying: bool = False  # a direct identifier: pseudonymised at the door, never stored


def _codes(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in enum)


REGISTRATION_FIELDS: tuple[Field, ...] = (
    Field("registration_id", "str", True, "Unique id of the registration (report)."),
    Field(
        "reporting_organisation",
        "code",
        True,
        "Organisation that reported the presumed victim.",
        _codes(ReportingOrganisation),
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
    Field("sex", "code", True, "Sex: F, M or U.", _codes(Sex), "prs_Gender"),
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
        _codes(ResidenceStatus),
    ),
    Field("municipality", "str", False, "Municipality of residence or of exploitation."),
    Field(
        "forms_of_exploitation",
        "codes",
        True,
        "Form(s) of exploitation, the main one first, separated by ';'.",
        _codes(Exploitation),
        "vic_TypeOfExploitation",
    ),
    Field("sector", "code", False, "Sector of exploitation.", _codes(Sector)),
    Field(
        "age_at_exploitation",
        "int",
        False,
        "Age at the start of exploitation, in years.",
        (),
        "vic_AgeWhenTrafficked",
    ),
    Field("shelter", "bool", False, "1 if placed in (categorical) shelter."),
    Field("b8_applied", "bool", False, "1 if the B8 residence scheme was applied for."),
    Field("b8_granted", "bool", False, "1 if the B8 residence scheme was granted."),
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
    Field("sex", "code", False, "Sex: F, M or U.", _codes(Sex)),
    Field("event_date", "date", True, "Date of the event."),
)

POLICE_FIELDS: tuple[Field, ...] = (
    Field("event_id", "str", True, "Unique id of the police-register event."),
    *_REGISTER_PERSON,
    Field("role", "code", True, "Role of the person: victim or suspect.", _codes(PoliceRole)),
    Field("crime_type", "code", True, "Crime type of the event.", _codes(CrimeType)),
)

POPULATION_FIELDS: tuple[Field, ...] = (
    Field("event_id", "str", True, "Unique id of the population-register event."),
    *_REGISTER_PERSON,
    Field("event_type", "code", True, "resident, death or emigration.", _codes(PopulationEvent)),
)

# The resident population by year, sex and age band: the denominators of rates per 100,000
# (SDG 16.2.2). Sex and age band use the code lists above without their unknown values.
POPULATION_SEXES: tuple[str, ...] = (Sex.FEMALE.value, Sex.MALE.value)
POPULATION_AGE_BANDS: tuple[str, ...] = tuple(a.value for a in AgeBand if a != AgeBand.UNKNOWN)

POPULATION_DENOMINATOR_FIELDS: tuple[Field, ...] = (
    Field("year", "year", True, "Calendar year (YYYY) the population refers to."),
    Field("sex", "code", True, "Sex: F or M.", POPULATION_SEXES),
    Field("age_band", "code", True, "Age band: minor, 18-22 or 23+.", POPULATION_AGE_BANDS),
    Field("population", "count", True, "Resident population (whole number of persons)."),
)
POPULATION_DENOMINATOR_KEY: tuple[str, ...] = ("year", "sex", "age_band")

IDENTIFYING_FIELDS: frozenset[str] = frozenset(
    f.name for f in REGISTRATION_FIELDS + POLICE_FIELDS + POPULATION_FIELDS if f.identifying
)
