"""The monitor chapters' fixed texts: titles, introductions and method notes (en + nl).

Where a text names a country's own things (its residence scheme for victims, the rule of its
groups, its regions, its big cities) it says ``{key}`` and takes the profile's ``[wording]``
(profile.toml), else the neutral wording of :data:`WORDING`: the code names no country.
"""

from __future__ import annotations

from thbmonitor.profiles import WORDING_KEYS, Profile
from thbmonitor.report.model import Text

T = Text

# The monitor's neutral wording of what a country names its own way; a profile's [wording]
# replaces any of them. Those missing here are made from the profile itself (see wording).
WORDING: dict[str, Text] = {
    # the residence scheme for victims: short (in lists and titles), with its article, and as
    # the key finding says it
    "scheme": T("residence scheme", "verblijfsregeling"),
    "scheme_long": T("the residence scheme for victims", "de verblijfsregeling voor slachtoffers"),
    "scheme_granted": T(
        "granted the residence scheme for victims",
        "met verblijfsregeling voor slachtoffers verleend",
    ),
    # why persons by nationality group and residence status are tabulated by year only
    "by_year_reason": T(
        "by group they would add more small cells than a release can protect",
        "per groep zouden ze meer kleine cellen geven dan een publicatie kan beveiligen",
    ),
    # what the regions of the profile's regions.csv are
    "region_unit": T("region", "regio"),
}

TITLES: dict[str, Text] = {
    "key_findings": T("Key findings", "Belangrijkste bevindingen"),
    "victims": T("Registrations and victims", "Meldingen en slachtoffers"),
    "groups": T("Forms of exploitation", "Vormen van uitbuiting"),
    "people": T("Who are the victims", "Wie zijn de slachtoffers"),
    "organisations": T("Reporting organisations", "Melders"),
    "help": T("Help: shelter, {scheme} and care", "Hulp: opvang, {scheme} en zorg"),
    "change": T("Change over time", "Ontwikkeling in de tijd"),
}


def wording(key: str, profile: Profile) -> Text | None:
    """The profile's wording of ``key`` ([wording] in profile.toml), else the monitor's neutral
    one; None where the text has nothing to say for this profile (a note on a rule it lacks)."""
    if key not in WORDING_KEYS:
        raise KeyError(key)
    own = profile.wording.get(key)
    if own is not None:
        return Text(*own)
    if key == "groups_definition":
        return _groups_definition(profile)
    if key == "scheme_fixed":
        return _scheme_fixed(profile)
    if key == "reference_status":
        code = profile.help_reference_status
        if code is None:
            return None
        en, nl = _labels([code], profile)
        return Text(f"'{en[0]}'", f"'{nl[0]}'")
    if key == "big_cities":
        names = ", ".join(profile.big_city_names)
        return Text(names, names) if names else None
    return WORDING.get(key)  # nationality_group_note: none unless the profile has one


def fill(text: Text, profile: Profile) -> Text:
    """``text`` with each ``{key}`` of the wording replaced (other braces are left alone)."""
    en, nl = text.en, text.nl
    for key in WORDING_KEYS:
        mark = "{" + key + "}"
        if mark in en or mark in nl:
            words = wording(key, profile) or Text("", "")
            en, nl = en.replace(mark, words.en), nl.replace(mark, words.nl)
    return Text(en, nl)


def _labels(codes: tuple[str, ...] | list[str], profile: Profile) -> tuple[list[str], list[str]]:
    en = [profile.label(c, "en") or c for c in codes]
    nl = [profile.label(c, "nl") or c for c in codes]
    return en, nl


def _and(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _groups_definition(profile: Profile) -> Text:
    """The groups of a profile that has no sentence of its own: their names in order."""
    en, nl = _labels(list(profile.groups), profile)
    return Text(
        _and([g[:1].lower() + g[1:] for g in en], "and")
        + " (the main, first listed, form of exploitation decides)",
        _and([g[:1].lower() + g[1:] for g in nl], "en")
        + " (de hoofdvorm van uitbuiting, als eerste vermeld, beslist)",
    )


def _scheme_fixed(profile: Profile) -> Text | None:
    """The help model's note on the statuses left out of the residence scheme's models."""
    if not profile.scheme_fixed_statuses:
        return None
    en, nl = (
        [f"'{c}'" for c in labels]
        for labels in _labels(list(profile.scheme_fixed_statuses), profile)
    )
    return Text(
        "For the residence scheme for victims, the residence statuses "
        f"{_and(en, 'and')} are left out (their answer follows from the status); whether it "
        "was granted is modelled among applicants.",
        "Voor de verblijfsregeling voor slachtoffers zijn de verblijfsstatussen "
        f"{_and(nl, 'en')} weggelaten (hun antwoord volgt uit de status); of ze verleend is, "
        "is geschat onder de aanvragers.",
    )


def title(key: str, profile: Profile) -> Text:
    return fill(TITLES[key], profile)


def definitions(profile: Profile) -> Text:
    """The definitions of registration, victim, person and the profile's groups."""
    return fill(DEFINITIONS, profile)


DEFINITIONS = T(
    "A registration is one report of a presumed victim by a reporting organisation. A victim "
    "in year Y is a distinct person (as linked across registrations) with at least one "
    "registration in Y; a person registered in several years counts once in each of them. A "
    "person's attributes in a year (group, sex, age band, nationality, residence status, "
    "municipality, reporting organisation, sector) are those of their first registration that "
    "year (earliest date, then lowest registration id), so a person is in exactly one group "
    "per year and the groups add up to the year's total. Tables over the whole window count "
    "each person once, with the attributes of their first registration in the window. The "
    "monitor's groups: {groups_definition}. A registration that was not linked counts as its "
    "own person.",
    "Een melding is één melding van een mogelijk slachtoffer door een melder. Een slachtoffer "
    "in jaar J is een unieke persoon (gekoppeld over meldingen heen) met ten minste één melding "
    "in J; wie in meerdere jaren gemeld is, telt in elk van die jaren één keer mee. De "
    "kenmerken van een persoon in een jaar (groep, geslacht, leeftijdsgroep, nationaliteit, "
    "verblijfsstatus, gemeente, melder, sector) zijn die van de eerste melding in dat jaar "
    "(vroegste datum, dan laagste meldingsnummer); zo valt een persoon per jaar in precies één "
    "groep en tellen de groepen op tot het jaartotaal. Tabellen over de hele periode tellen "
    "elke persoon één keer, met de kenmerken van de eerste melding in de periode. De groepen "
    "van de monitor: {groups_definition}. Een niet gekoppelde melding telt als een eigen "
    "persoon.",
)


def protection(
    threshold: int = 10,
    unknown_primary: bool = True,
    dominance: float = 0.9,
    zeros_disclosive: bool = False,
    width: int = 3,
) -> Text:
    """The method text of disclosure control by suppression (en + nl): what is sensitive, the
    unknown setting, and what the joint audit guarantees."""
    t, g = threshold, round(100 * dominance)
    zero_en = (
        "every zero is shown as <{t} too"
        if zeros_disclosive
        else "a zero is shown as such (–) unless it would tell that a whole group is in one "
        "category"
    ).format(t=t)
    zero_nl = (
        "elke nul staat ook als <{t}"
        if zeros_disclosive
        else "een nul staat er als zodanig (–), tenzij die zou verraden dat een hele groep in "
        "één categorie valt"
    ).format(t=t)
    if unknown_primary:
        unk_en = (
            "Counts of persons whose attribute is unknown are protected like any other (setting "
            "disclosure_unknown_primary = true), unless the published headline figures give them "
            "away; a small unknown category may be merged into a neighbouring one (below)."
        )
        unk_nl = (
            "Aantallen personen van wie een kenmerk onbekend is, zijn beveiligd als elk ander "
            "aantal (instelling disclosure_unknown_primary = true), tenzij de gepubliceerde "
            "hoofdcijfers ze al prijsgeven; een kleine categorie onbekend kan zijn samengevoegd "
            "met een naburige (zie hieronder)."
        )
    else:
        unk_en = (
            f"Counts of persons whose attribute is unknown are shown even below {t} (setting "
            "disclosure_unknown_primary = false): they tell nothing about anyone's attribute."
        )
        unk_nl = (
            f"Aantallen personen van wie een kenmerk onbekend is, staan er ook onder de {t} "
            "(instelling disclosure_unknown_primary = false): ze zeggen niets over iemands "
            "kenmerk."
        )
    return T(
        f"Disclosure control. Sensitive (primary) cells: counts from 1 to {t - 1}, shown as "
        f"<{t} ({zero_en}); and a category holding {g}% or more of a group (for example all "
        f"victims of one group in one sector), shown as x. {unk_en} Further cells are hidden "
        "(x) so that no hidden count can be derived: the cheapest such pattern is found by "
        "optimisation, with the yearly totals, the totals over the window, women and men per "
        "year and the minors hidden last and unknown or other categories first; the totals "
        f"per year and over the window are never hidden (unless below {t}). Guarantee: all "
        "tables of this report (and of earlier releases in the disclosure ledger) were "
        "audited together by linear programming, using every sum that ties them (totals, "
        "and the same cells in several "
        f"tables): from everything published, each hidden small count lies in a range at least "
        f"{width} wide, no hidden count can be derived exactly, and no hidden category can be "
        f"shown to hold {g}% of its group. No percentage, rate or test uses a hidden count.",
        f"Beveiliging. Gevoelige (primaire) cellen: aantallen van 1 tot en met {t - 1}, "
        f"weergegeven als <{t} ({zero_nl}); en een categorie met {g}% of meer van een groep "
        f"(bijvoorbeeld alle slachtoffers van een groep in één sector), weergegeven als x. "
        f"{unk_nl} Andere cellen zijn verborgen (x) zodat geen verborgen aantal af te leiden "
        "is: het goedkoopste patroon daarvoor is gevonden door optimalisatie, waarbij de "
        "jaartotalen, de totalen over de periode, vrouwen en mannen per jaar en de "
        "minderjarigen het laatst en onbekende of overige categorieën het eerst verborgen "
        f"worden; de totalen per jaar en over de periode worden nooit verborgen (tenzij onder "
        f"de {t}). Garantie: alle "
        "tabellen van dit rapport (en van eerdere publicaties in het beveiligingslogboek) zijn "
        "samen gecontroleerd met lineaire programmering, met elke som die ze verbindt (totalen, "
        "en dezelfde cellen in meerdere tabellen): uit alles wat gepubliceerd is, ligt elk "
        f"verborgen klein aantal in een bereik van ten minste {width} breed, is geen verborgen "
        f"aantal exact af te leiden en is van geen verborgen categorie aan te tonen dat die {g}% "
        "van haar groep bevat. Geen percentage, ratio of toets gebruikt een verborgen aantal.",
    )


def cell_key_legend(max_deviation: int) -> Text:
    """The note under every perturbed table (there are no markers to explain)."""
    d = max_deviation
    return T(
        f"Every count is perturbed by a small noise of at most {d} (cell-key method), the same "
        "for the same cell in every table; totals are perturbed on their own, so a table need "
        "not add up.",
        f"Elk aantal is verstoord met een kleine ruis van hooguit {d} (celsleutelmethode), "
        "dezelfde voor dezelfde cel in elke tabel; totalen zijn apart verstoord, dus een tabel "
        "hoeft niet op te tellen.",
    )


def cell_key_method(max_deviation: int, variance: float) -> Text:
    """The method text of the cell-key method (en + nl): what the noise is and what it means
    for shares, rates and tests."""
    d, v = max_deviation, variance
    v_en, v_nl = f"{v:g}", f"{v:g}".replace(".", ",")
    return T(
        "Disclosure control by the cell-key method (as the ABS, Destatis and the ONS use it): "
        "each registration has a random record key, assigned once when it is ingested; a "
        "cell's key is the sum of its records' keys modulo 1, and the noise added to the cell "
        f"is read with that key from a published perturbation table: at most {d} up or down, "
        f"mean 0, variance {v_en} (less for counts below {d}). So the same cell has the same "
        "value in every table and every run, a zero stays zero, and no count is hidden; small "
        "counts may be shown as 0 or a little more, and totals are perturbed as cells of "
        "their own, so a table need not add up. Shares, rates, changes and tests are "
        f"computed from the published counts: each count may differ from the true one by up "
        f"to {d}, which matters for small counts and small differences, and adds to their "
        "uncertainty the variance "
        f"{v_en} per count.",
        "Beveiliging met de celsleutelmethode (zoals het ABS, Destatis en het ONS die "
        "gebruiken): elke melding heeft een willekeurige recordsleutel, eenmalig toegekend bij "
        "het inlezen; de sleutel van een cel is de som van de sleutels van haar records modulo "
        "1, en de ruis op de cel wordt met die sleutel gelezen uit een gepubliceerde "
        f"verstoringstabel: hooguit {d} omhoog of omlaag, gemiddeld 0, variantie {v_nl} "
        f"(minder voor aantallen onder {d}). Zo "
        "heeft dezelfde cel dezelfde waarde in elke tabel en elke run, blijft een nul nul en "
        "wordt geen aantal verborgen; kleine aantallen kunnen als 0 of iets meer staan, en "
        "totalen zijn als eigen cellen verstoord, dus een tabel hoeft niet op te tellen. "
        "Aandelen, ratio's, veranderingen en toetsen zijn berekend uit de gepubliceerde "
        f"aantallen: elk aantal kan tot {d} van het ware afwijken, wat telt bij kleine aantallen "
        f"en kleine verschillen, en voegt per aantal de variantie {v_nl} aan hun onzekerheid "
        "toe.",
    )


CHANGE_METHOD = T(
    "Year-on-year change of a count: difference with a 95% Wald interval "
    "(d ± 1.96·√(x1 + x2)), and the rate ratio with an exact 95% interval from the conditional "
    "binomial distribution (given the sum, the later count is Binomial(n, ½) under equal "
    "rates; Clopper-Pearson interval mapped by p/(1 − p); two-sided exact test), as R's "
    "poisson.test. Trend over the window: Poisson regression of the count on the year (log "
    "link), reported as the rate ratio per year with a 95% interval. If the Pearson statistic "
    "shows overdispersion (P(χ²(df) ≥ X²) < 0.05) the trend is taken from the quasi-Poisson "
    "model instead (dispersion X²/df, t-based interval and test); the table says which. "
    "Change of a share: the difference with Newcombe's hybrid score interval (from two Wilson "
    "intervals) and a two-proportion z-test.",
    "Verandering van een aantal ten opzichte van het vorige jaar: het verschil met een 95%-"
    "Wald-interval (d ± 1,96·√(x1 + x2)) en de verhouding met een exact 95%-interval uit de "
    "voorwaardelijke binomiale verdeling (gegeven de som is het latere aantal Binomiaal(n, ½) "
    "bij gelijke intensiteit; Clopper-Pearson-interval omgerekend met p/(1 − p); tweezijdige "
    "exacte toets), zoals R's poisson.test. Trend over de periode: Poisson-regressie van het "
    "aantal op het jaar (log-link), als verhouding per jaar met 95%-interval. Wijst de "
    "Pearson-toets op overdispersie (P(χ²(df) ≥ X²) < 0,05), dan komt de trend uit het quasi-"
    "Poissonmodel (dispersie X²/df, interval en toets met de t-verdeling); de tabel vermeldt "
    "welk model. Verandering van een aandeel: het verschil met Newcombes hybride score-"
    "interval (uit twee Wilson-intervallen) en een z-toets voor twee proporties.",
)

HELP_METHOD = T(
    "Help per person over the window: shelter, {scheme} applied, {scheme} granted or care "
    "referral is "
    "'yes' if any of the person's registrations in the window records it, 'no' if none does "
    "and at least one records 'no', otherwise 'unknown'. The percentage is 'yes' of all "
    "persons in the row (unknown included). Breakdowns by residence status, region and age "
    "band use the person's first registration in the window: they show whether help follows "
    "need or status.",
    "Hulp per persoon over de periode: opvang, {scheme} aangevraagd, {scheme} verleend of "
    "verwijzing naar "
    "zorg is 'ja' als een van de meldingen van de persoon in de periode het vermeldt, 'nee' als "
    "geen enkele het doet en ten minste één 'nee' vermeldt, anders 'onbekend'. Het percentage "
    "is 'ja' van alle personen in de rij (onbekend meegeteld). De uitsplitsing naar "
    "verblijfsstatus, regio en leeftijdsgroep volgt de eerste melding in de periode: zo is te "
    "zien of hulp de behoefte volgt of de status.",
)

HELP_MODEL_METHOD = T(
    "Adjusted relative risks: for each kind of help, a modified Poisson regression (Zou 2004, "
    "Am J Epidemiol 159:702) of the person's answer (yes or no; unknown left out) on minor "
    "(against adult), residence status (against {reference_status}), big city ({big_cities}, "
    "against another or no municipality), sex and group "
    "(against the largest), with robust (sandwich) 95% intervals. A relative risk of 1.5 "
    "means 50% more often, the other characteristics being equal. {scheme_fixed}Levels or "
    "reference groups with fewer than {threshold} persons are not shown.",
    "Gecorrigeerde relatieve risico's: per soort hulp een gemodificeerde Poisson-regressie "
    "(Zou 2004, Am J Epidemiol 159:702) van het antwoord van de persoon (ja of nee; onbekend "
    "weggelaten) op minderjarig (tegenover volwassen), verblijfsstatus (tegenover "
    "{reference_status}), grote stad ({big_cities}, tegenover een andere "
    "of geen gemeente), geslacht en groep (tegenover de grootste), met robuuste (sandwich) "
    "95%-intervallen. Een relatief risico van 1,5 betekent 50% vaker, bij verder gelijke "
    "kenmerken. {scheme_fixed}Kenmerken of referentiegroepen met minder dan "
    "{threshold} personen staan er niet in.",
)


def help_model_method(profile: Profile) -> Text:
    """The help model's method note for the profile (``{threshold}`` left to fill)."""
    en, nl = HELP_MODEL_METHOD.en, HELP_MODEL_METHOD.nl
    fixed = wording("scheme_fixed", profile)
    en = en.replace("{scheme_fixed}", "" if fixed is None else fixed.en + " ")
    nl = nl.replace("{scheme_fixed}", "" if fixed is None else fixed.nl + " ")
    if wording("big_cities", profile) is None:  # no big cities: no such term in the model
        en, nl = en.replace("({big_cities}, ", "("), nl.replace("({big_cities}, ", "(")
    if profile.help_reference_status is None:  # the model takes the largest status
        en = en.replace("{reference_status}", "the largest")
        nl = nl.replace("{reference_status}", "de grootste")
    return fill(Text(en, nl), profile)


HELP_MODEL_TERMS: dict[str, Text] = {
    "minor": T("Minor", "Minderjarig"),
    "residence_status": T("Residence status", "Verblijfsstatus"),
    "big_city": T("Big city", "Grote stad"),
    "sex": T("Sex", "Geslacht"),
    "group": T("Group", "Groep"),
}

REGION_NOTE = T(
    "Region is the {region_unit} of the registered municipality; a municipality not on the "
    "monitor's list, or none, is 'unknown'.",
    "Regio is de {region_unit} van de geregistreerde gemeente; een gemeente die niet op de lijst "
    "van de monitor staat, of geen gemeente, is 'onbekend'.",
)

NATGROUP_NOTE = T("{nationality_group_note}", "{nationality_group_note}")
