"""Bilingual names of the monitor's dimensions and categories (display only; codes stay codes)."""

from __future__ import annotations

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
    "region": T("Region (province)", "Regio (provincie)"),
    "years_registered": T("Years with a registration", "Jaren met een melding"),
    "shelter": T("Shelter", "Opvang"),
    "b8_applied": T("B8 applied for", "B8 aangevraagd"),
    "b8_granted": T("B8 granted", "B8 verleend"),
    "care_referral": T("Referred to care", "Verwezen naar zorg"),
}

_CATEGORIES: dict[str, Text] = {
    "Total": T("Total", "Totaal"),
    "domestic_sexual": T("Domestic sexual exploitation", "Binnenlandse seksuele uitbuiting"),
    "cross_border_sexual": T(
        "Cross-border sexual exploitation", "Grensoverschrijdende seksuele uitbuiting"
    ),
    "labour": T("Labour exploitation", "Arbeidsuitbuiting"),
    "criminal": T("Criminal exploitation", "Criminele uitbuiting"),
    "other_unknown": T("Other or unknown", "Overig of onbekend"),
    "F": T("Female", "Vrouw"),
    "M": T("Male", "Man"),
    "U": T("Unknown", "Onbekend"),
    "minor": T("Minor (under 18)", "Minderjarig (onder 18)"),
    "18-22": T("18-22", "18-22"),
    "23+": T("23 and over", "23 en ouder"),
    "unknown": T("Unknown", "Onbekend"),
    "Unknown": T("Unknown", "Onbekend"),
    "NL": T("Dutch", "Nederlands"),
    "other_EU": T("Other EU", "Overig EU"),
    "non_EU": T("Non-EU", "Buiten de EU"),
    "other": T("Other", "Overig"),
    "XX": T("Unknown", "Onbekend"),
    "DutchNational": T("Dutch national", "Nederlander"),
    "EUCitizen": T("EU citizen", "EU-burger"),
    "NonEUPermit": T("Non-EU, with permit", "Buiten EU, met vergunning"),
    "AsylumSeeker": T("Asylum seeker", "Asielzoeker"),
    "B8": T("B8 residence scheme", "B8-verblijfsregeling"),
    "NoLegalStatus": T("No legal status", "Geen rechtmatig verblijf"),
    "Police": T("Police", "Politie"),
    "KMar": T("Royal Marechaussee", "Koninklijke Marechaussee"),
    "LabourInspectorate": T("Labour Inspectorate", "Arbeidsinspectie"),
    "NGOCare": T("Care / NGO", "Zorg / ngo"),
    "Other": T("Other", "Overig"),
    "OtherOrUnknown": T("Other or unknown", "Overig of onbekend"),
    "no_or_unknown": T("No or unknown", "Nee of onbekend"),
    "Prostitution": T("Prostitution", "Prostitutie"),
    "PrivateSexualServices": T("Private sexual services", "Escort, thuis, hotel"),
    "RemoteInteractiveServices": T("Online sexual services", "Online seksuele diensten"),
    "Agriculture": T("Agriculture", "Land- en tuinbouw"),
    "Construction": T("Construction", "Bouw"),
    "Hospitality": T("Hospitality", "Horeca"),
    "DomesticWork": T("Domestic work", "Huishoudelijk werk"),
    "Manufacturing": T("Manufacturing", "Industrie"),
    "Transportation": T("Transport", "Transport"),
    "IllicitActivities": T("Illicit activities", "Criminele activiteiten"),
    "Begging": T("Begging", "Bedelarij"),
    "yes": T("Yes", "Ja"),
    "no": T("No", "Nee"),
    "2+": T("2 or more", "2 of meer"),
}


def category_label(code: object, lang: str) -> str:
    """The display name of a category code (the code itself when it has none)."""
    text = _CATEGORIES.get(str(code))
    return text(lang) if text is not None else str(code)


def dimension_label(name: str) -> Text:
    return DIMENSIONS.get(name, Text(name, name))
