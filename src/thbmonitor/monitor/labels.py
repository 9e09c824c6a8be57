"""Bilingual names of the monitor's dimensions and categories (display only; codes stay codes)."""

from __future__ import annotations

from thbmonitor.profiles import Profile, default_profile
from thbmonitor.report.model import Text

__all__ = ["DIMENSIONS", "category_label", "dimension_label"]

T = Text

DIMENSIONS: dict[str, Text] = {
    "year": T("Year", "Jaar"),
    "group": T("Group", "Groep"),
    "sex": T("Sex", "Geslacht"),
    "age_band": T("Age band", "Leeftijdsgroep"),
    "nationality_group": T("Nationality group", "Nationaliteitsgroep"),
    "nationality": T("Nationality", "Nationaliteit"),
    "residence_status": T("Residence status", "Verblijfsstatus"),
    "reporting_organisation": T("Reporting organisation", "Melder"),
    "sector": T("Sector", "Sector"),
    "region": T("Region", "Regio"),
    "years_registered": T("Years with a registration", "Jaren met een melding"),
    "shelter": T("Shelter", "Opvang"),
    "victim_scheme_applied": T(
        "Residence scheme for victims applied for",
        "Verblijfsregeling voor slachtoffers aangevraagd",
    ),
    "victim_scheme_granted": T(
        "Residence scheme for victims granted", "Verblijfsregeling voor slachtoffers verleend"
    ),
    "care_referral": T("Referred to care", "Verwezen naar zorg"),
}

# Labels of the monitor's own categories; a country's codes, groups, age bands and nationality
# groups are labelled by its profile (codes.csv, profile.toml)
_GENERIC: dict[str, Text] = {
    "Total": T("Total", "Totaal"),
    "unknown": T("Unknown", "Onbekend"),
    "other": T("Other", "Overig"),
    "XX": T("Unknown", "Onbekend"),
    "OtherOrUnknown": T("Other or unknown", "Overig of onbekend"),
    "no_or_unknown": T("No or unknown", "Nee of onbekend"),
    "yes": T("Yes", "Ja"),
    "no": T("No", "Nee"),
    "2+": T("2 or more", "2 of meer"),
}


def category_label(code: object, lang: str, profile: Profile | None = None) -> str:
    """The display name of a category code: the monitor's own, else the profile's (default:
    the default profile), else the code itself."""
    text = _GENERIC.get(str(code))
    if text is not None:
        return text(lang)
    label = (profile or default_profile()).label(str(code), lang)
    return label if label is not None else str(code)


def dimension_label(name: str, profile: Profile | None = None) -> Text:
    """The display name of a dimension: the profile's where it names it (``dimension_labels``;
    default: the default profile), else the monitor's own, else the name itself."""
    own = (profile or default_profile()).dimension_labels.get(name)
    if own is not None:
        return Text(*own)
    return DIMENSIONS.get(name, Text(name, name))
