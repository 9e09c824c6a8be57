# ruff: noqa: E501  (one text per line reads better than wrapped translations)
"""The web pages' texts in Dutch and English, and validation reasons in both.

Validation reasons come from :mod:`thbmonitor.ingest.validate` in English; :func:`reason`
gives the Dutch form of each (a reason without one is shown in English, never dropped).
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from thbmonitor.profiles import default_profile

PAGES: dict[str, tuple[str, str]] = {
    "app": (
        "Registry of presumed victims of trafficking",
        "Registratie van vermoedelijke slachtoffers van mensenhandel",
    ),
    "skip": ("Skip to main content", "Naar de hoofdinhoud"),
    "login": ("Sign in", "Inloggen"),
    "logout": ("Sign out", "Uitloggen"),
    "username": ("Work e-mail address", "Werk-e-mailadres"),
    "password": ("Password", "Wachtwoord"),
    "login_failed": (
        "The e-mail address or password is not right.",
        "Het e-mailadres of wachtwoord klopt niet.",
    ),
    "locked": (
        "Too many failed sign-ins. Try again in 15 minutes.",
        "Te vaak mislukt in te loggen. Probeer het over 15 minuten opnieuw.",
    ),
    "registrations": ("Registrations", "Registraties"),
    "all_registrations": (
        "All registrations (pseudonymised)",
        "Alle registraties (gepseudonimiseerd)",
    ),
    "new": ("New registration", "Nieuwe registratie"),
    "edit": ("Correct registration", "Registratie corrigeren"),
    "upload": ("Upload a file", "Bestand uploaden"),
    "users": ("Users", "Gebruikers"),
    "audit": ("Audit log", "Auditlog"),
    "password_change": ("Change password", "Wachtwoord wijzigen"),
    "must_change": ("Choose a new password before you go on.", "Kies eerst een nieuw wachtwoord."),
    "save": ("Save registration", "Registratie opslaan"),
    "save_changes": ("Save corrections", "Correcties opslaan"),
    "send": ("Upload", "Uploaden"),
    "upload_layout": (
        "A CSV or XLSX file of registrations in the layout of your organisation's country profile:",
        "Een CSV- of XLSX-bestand met registraties in de indeling van het landprofiel van uw organisatie:",
    ),
    "add_user": ("Add user", "Gebruiker toevoegen"),
    "problems": ("There is a problem", "Er is een probleem"),
    "problems_intro": (
        "Correct the fields below; nothing was stored.",
        "Verbeter de velden hieronder; er is niets opgeslagen.",
    ),
    "stored": ("The registration was stored.", "De registratie is opgeslagen."),
    "corrected": ("The corrections were stored.", "De correcties zijn opgeslagen."),
    "uploaded": ("rows were stored.", "rijen zijn opgeslagen."),
    "uploaded_before": (
        "This file was uploaded before; nothing was added.",
        "Dit bestand is al eerder geüpload; er is niets toegevoegd.",
    ),
    "match": (
        "Your organisation registered a matching person before (same identity number, or same name and date of birth). Check that this is not the same report.",
        "Uw organisatie heeft eerder een overeenkomend persoon geregistreerd (zelfde identiteitsnummer, of zelfde naam en geboortedatum). Controleer of dit niet dezelfde melding is.",
    ),
    "none": ("No registrations yet.", "Nog geen registraties."),
    "identifiers": ("Identifying details", "Identificerende gegevens"),
    "identifiers_note": (
        "Names, date of birth and identity number are pseudonymised at once and never stored or shown. To correct one of them, or the registration date, enter all of them again.",
        "Namen, geboortedatum en identiteitsnummer worden direct gepseudonimiseerd en nooit opgeslagen of getoond. Wilt u er een corrigeren, of de registratiedatum, vul ze dan allemaal opnieuw in.",
    ),
    "registration": ("The registration", "De registratie"),
    "help_given": ("Help", "Hulp"),
    "file": (
        "File (CSV or XLSX, in the registrations layout)",
        "Bestand (CSV of XLSX, in de indeling van het registratiebestand)",
    ),
    "file_problems": (
        "The file has problems; nothing was stored.",
        "Het bestand bevat fouten; er is niets opgeslagen.",
    ),
    "row": ("row", "rij"),
    "field": ("field", "veld"),
    "date": ("registered on", "geregistreerd op"),
    "organisation": ("Organisation", "Organisatie"),
    "role": ("Role", "Rol"),
    "one_time": (
        "One-time password (shown once; the user must change it at first sign-in)",
        "Eenmalig wachtwoord (eenmaal getoond; de gebruiker moet het bij de eerste keer inloggen wijzigen)",
    ),
    "api_token": ("API token (shown once)", "API-token (eenmaal getoond)"),
    "not_found": ("Page not found.", "Pagina niet gevonden."),
    "csrf": (
        "The form had expired or did not come from this site. Go back, reload the page and try again.",
        "Het formulier was verlopen of kwam niet van deze site. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
    ),
    "consent_needed": (
        "Your organisation registers a victim only with the victim's consent: answer yes to the last question.",
        "Uw organisatie registreert een slachtoffer alleen met diens toestemming: beantwoord de laatste vraag met ja.",
    ),
    "yes": ("yes", "ja"),
    "no": ("no", "nee"),
    "unknown": ("unknown", "onbekend"),
    "choose": ("(choose)", "(kies)"),
    "main_form": ("Main form of exploitation", "Belangrijkste vorm van uitbuiting"),
    "other_forms": ("Other forms of exploitation", "Andere vormen van uitbuiting"),
    "language": ("Nederlands", "English"),
    "previous": ("Previous", "Vorige"),
    "next": ("Next", "Volgende"),
    "when": ("When", "Wanneer"),
    "who": ("Who", "Wie"),
    "action": ("Action", "Handeling"),
    "record": ("Record", "Record"),
    "fields_changed": ("Fields", "Velden"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "registration_id": ("Your reference (optional)", "Uw kenmerk (optioneel)"),
    "registration_date": ("Date of registration", "Datum van registratie"),
    "first_names": ("First name(s)", "Voornaam of voornamen"),
    "last_name": ("Last name", "Achternaam"),
    "date_of_birth": ("Date of birth", "Geboortedatum"),
    "date_of_birth_estimated": ("Date of birth is an estimate", "Geboortedatum is geschat"),
    "identity_number": ("Identity or document number", "Identiteits- of documentnummer"),
    "sex": ("Sex", "Geslacht"),
    "nationality": (
        "Nationality (ISO codes, e.g. NL; several separated by ;)",
        "Nationaliteit (ISO-codes, bijv. NL; meerdere gescheiden door ;)",
    ),
    "residence_status": ("Residence status", "Verblijfsstatus"),
    "municipality": ("Municipality", "Gemeente"),
    "forms_of_exploitation": ("Main form of exploitation", "Belangrijkste vorm van uitbuiting"),
    "sector": ("Sector", "Sector"),
    "age_at_exploitation": (
        "Age at the start of exploitation",
        "Leeftijd bij begin van de uitbuiting",
    ),
    "shelter": ("Placed in shelter", "Geplaatst in opvang"),
    # the registry's profile names these its own way ([dimension_labels]; nl: B8)
    "victim_scheme_applied": (
        "Residence scheme for victims applied for",
        "Verblijfsregeling voor slachtoffers aangevraagd",
    ),
    "victim_scheme_granted": (
        "Residence scheme for victims granted",
        "Verblijfsregeling voor slachtoffers verleend",
    ),
    "care_referral": ("Referred to care", "Doorverwezen naar zorg"),
    "consent": (
        "The victim consented to registration",
        "Het slachtoffer heeft toestemming gegeven voor registratie",
    ),
    "reporting_organisation": ("Reporting organisation", "Meldende organisatie"),
    "file": ("File", "Bestand"),
    "Idempotency-Key": ("Idempotency-Key", "Idempotency-Key"),
}

# Dutch forms of the validation reasons (patterns over the English text of ingest/intake)
_REASONS_NL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^is required but empty$"), "is verplicht maar leeg"),
    (re.compile(r"^is not a valid date written YYYY-MM-DD$"), "is geen geldige datum (JJJJ-MM-DD)"),
    (re.compile(r"^is not a whole number from 0 to (\d+)$"), r"is geen geheel getal van 0 tot \1"),
    (re.compile(r"^is not a yes/no value.*$"), "is geen ja/nee-waarde"),
    (re.compile(r"^is not one of the codes: (.*)$"), r"is geen van de codes: \1"),
    (
        re.compile(r"^holds a value that is not one of the codes: (.*)$"),
        r"bevat een waarde die geen van de codes is: \1",
    ),
    (
        re.compile(r"^holds a value that is not an ISO 3166 alpha-2 country code.*$"),
        "bevat een waarde die geen ISO 3166-landcode van twee letters is (bijv. NL)",
    ),
    (re.compile(r"^lies after the registration date$"), "ligt na de registratiedatum"),
    (re.compile(r"^lies before 1900$"), "ligt voor 1900"),
    (
        re.compile(r"^repeats the id of an earlier row in this file$"),
        "herhaalt het kenmerk van een eerdere rij in dit bestand",
    ),
    (re.compile(r"^is not the type of your organisation$"), "is niet het type van uw organisatie"),
    (re.compile(r"^is longer than (\d+) characters$"), r"is langer dan \1 tekens"),
    (
        re.compile(r"^is required: reports by this organisation need the victim's consent$"),
        "is verplicht: meldingen van deze organisatie vragen toestemming van het slachtoffer",
    ),
    (
        re.compile(r"^is already registered by your organisation$"),
        "is al geregistreerd door uw organisatie",
    ),
    (
        re.compile(r"^must be sent again.*$"),
        "moet opnieuw worden ingevuld: identificerende gegevens worden niet bewaard, dus bij een correctie van een ervan of van de registratiedatum worden ze allemaal opnieuw gepseudonimiseerd (leeg laten als onbekend)",
    ),
]


def reason(text: str, lang: str) -> str:
    """A validation reason in the page's language."""
    if lang == "nl":
        for pattern, nl in _REASONS_NL:
            if pattern.match(text):
                return pattern.sub(nl, text)
    return text


def _pick(pair: tuple[str, str] | None, lang: str, fallback: str) -> str:
    if pair is None:
        return fallback
    return pair[1] if lang == "nl" else pair[0]


def page(key: str, lang: str) -> str:
    return _pick(PAGES.get(key), lang, key)


def field_label(name: str, lang: str) -> str:
    """A field's name on the form: the registry's profile's where it names the field its own
    way (e.g. the residence scheme for victims), else the registry's own."""
    own = default_profile().dimension_labels.get(name)
    return _pick(own or FIELDS.get(name), lang, name)


def code_label(code: str, lang: str) -> str:
    """A code's name on the form: the registry's profile's label (codes.csv)."""
    label = default_profile().label(code, lang)
    return code if label is None else label


class Texts:
    """``{{ t.save }}`` in a template: the page text in the request's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return page(key, self.lang)


def language(request: HttpRequest) -> str:
    lang = getattr(request, "LANGUAGE_CODE", "nl")
    return "en" if lang == "en" else "nl"


def context(request: HttpRequest) -> dict[str, Any]:
    lang = language(request)
    return {"t": Texts(lang), "lang": lang, "other_lang": "en" if lang == "nl" else "nl"}
