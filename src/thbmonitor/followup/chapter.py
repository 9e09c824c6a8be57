"""The follow-up chapter: re-victimisation and suspect registration after entry, protected.

Estimates are shares of persons, so a share is shown only where the persons counted and the
events behind it are both at least the disclosure threshold (or the events are zero); other
shares get the marker of a suppressed count. Person counts (coverage, victim-offender overlap)
go through the release's disclosure control like every other count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Release
from thbmonitor.engine import Store
from thbmonitor.followup.analysis import FollowUpResult, analyse_followup, results_section
from thbmonitor.followup.cohort import CohortRule
from thbmonitor.followup.linkdraws import followup_over_draws
from thbmonitor.followup.overlap import suspect_flags
from thbmonitor.followup.risk_tables import competing_table, risk_table
from thbmonitor.followup.source import (
    CohortSource,
    candidate_events,
    cohort_source,
    population_register_present,
)
from thbmonitor.linkage.missrate import police_miss_rate
from thbmonitor.report.model import Chapter, Chart, Headline, Table, Text

Protect = Callable[[Sequence[CountTable]], Release]

BREAKDOWNS = ("minor", "monitor_group", "sex", "nationality_group", "residence_status")
RISK_FACTORS = ("minor", "sex", "nationality_group", "monitor_group")
ESTIMATOR_NAMES = {
    "crude": Text("Share followed t years", "Aandeel t jaar gevolgd"),
    "kaplan_meier": Text("Kaplan-Meier", "Kaplan-Meier"),
    "aalen_johansen": Text("Aalen-Johansen", "Aalen-Johansen"),
}
SOURCE = Text(
    "Registrations of presumed victims linked to the police and population registers.",
    "Registraties van mogelijke slachtoffers gekoppeld aan politie- en bevolkingsregister.",
)
METHOD = Text(
    en=(
        "Each distinct victim enters at the date of first registration. A new event is a "
        "police registration as victim of a crime at least one day after entry; police "
        "registrations of trafficking within {days} days of entry are the index case and do "
        "not count. Follow-up ends at the data end ({end}), death or emigration. Three "
        "estimators are shown side by side with 95% intervals: (a) the share with an event "
        "within t years among persons who could be followed t years (Wilson interval); (b) "
        "Kaplan-Meier 1 - S(t), treating death and emigration as censoring (Greenwood "
        "variance, log(-log) interval); (c) Aalen-Johansen cumulative incidence with death and "
        "emigration as competing events. Victims not found in the police register are left out "
        "of the estimates and reported as coverage. Shares resting on fewer than {threshold} "
        "persons or events are not shown."
    ),
    nl=(
        "Elk uniek slachtoffer telt vanaf de datum van de eerste registratie. Een nieuwe "
        "gebeurtenis is een politieregistratie als slachtoffer van een misdrijf ten minste een "
        "dag daarna; politieregistraties van mensenhandel binnen {days} dagen zijn de "
        "indexzaak en tellen niet mee. De follow-up eindigt op de einddatum van de gegevens "
        "({end}), bij overlijden of emigratie. Drie schatters staan naast elkaar met 95%-"
        "intervallen: (a) het aandeel met een gebeurtenis binnen t jaar onder wie t jaar "
        "gevolgd kon worden (Wilson-interval); (b) Kaplan-Meier 1 - S(t), met overlijden en "
        "emigratie als censurering; (c) Aalen-Johansen cumulatieve incidentie met overlijden "
        "en emigratie als concurrerende gebeurtenissen. Slachtoffers die niet in het "
        "politieregister zijn gevonden, tellen niet mee in de schattingen en staan in de "
        "dekkingstabel. Aandelen op minder dan {threshold} personen of gebeurtenissen worden "
        "niet getoond."
    ),
)


LINK_DRAWS = Text(
    en=(
        " The overall figures and their intervals carry the uncertainty of the police "
        "linkage: the cohort is estimated {draws} times, each time on a set of links drawn "
        "from the linkage's match probabilities (an event goes to a candidate person with that "
        "person's probability, to nobody with the rest; pairs judged in clerical review are "
        "fixed), and the {draws} results are combined by Rubin's rules on the logit scale, so "
        "that the interval widens by what the linkage leaves uncertain. Breakdowns by group "
        "and crime type use the links at or above the threshold ({threshold}).{miss}"
    ),
    nl=(
        " De totaalcijfers en hun intervallen houden rekening met de onzekerheid van de "
        "koppeling met het politieregister: het cohort wordt {draws} keer geschat, telkens op "
        "een set koppelingen getrokken uit de koppelkansen (een gebeurtenis gaat naar een "
        "kandidaat-persoon met diens kans, met de rest naar niemand; paren die bij handmatige "
        "controle zijn beoordeeld liggen vast), en de {draws} uitkomsten worden met de regels "
        "van Rubin op logitschaal gecombineerd, zodat het interval breder wordt naarmate de "
        "koppeling onzekerder is. Uitsplitsingen naar groep en soort misdrijf gebruiken de "
        "koppelingen op of boven de drempel ({threshold}).{miss}"
    ),
)


MISSED = Text(
    en=(
        " Events whose identifiers score below 0.1 for their person cannot be drawn: by the "
        "linkage model's own m and u probabilities (Fellegi-Sunter) about {rate} of a "
        "person's events. Each draw's figures are corrected for them: for every person seen "
        "with exactly one event by year t, {rate} / (1 - {rate}) more persons had one that "
        "was missed, and they are added (a first-order correction for events missed "
        "independently; the rate leaves out events that no blocking rule brings to their "
        "person)."
    ),
    nl=(
        " Gebeurtenissen waarvan de identificerende gegevens voor hun persoon lager dan 0,1 "
        "scoren, kunnen niet getrokken worden: volgens de eigen m- en u-kansen van het "
        "koppelmodel (Fellegi-Sunter) ongeveer {rate_nl} van de gebeurtenissen van een "
        "persoon. De cijfers van elke trekking zijn daarvoor gecorrigeerd: op elke persoon "
        "met precies één gebeurtenis tot jaar t hadden {rate_nl} / (1 - {rate_nl}) personen "
        "meer er een die gemist werd, en die worden erbij geteld (een correctie van de eerste "
        "orde voor onafhankelijk gemiste gebeurtenissen; de kans laat gebeurtenissen buiten "
        "beschouwing die geen blokkeerregel bij hun persoon brengt)."
    ),
)
NOT_MISSED = Text(
    en=" Events whose identifiers link to nobody at all cannot be drawn and still lower the "
    "figures.",
    nl=" Gebeurtenissen waarvan de identificerende gegevens met niemand koppelen, kunnen niet "
    "getrokken worden en drukken de cijfers nog steeds.",
)


def _format(text: Text, **values: Any) -> Text:
    return Text(text.en.format(**values), text.nl.format(**values))


def _mask(frame: pd.DataFrame, threshold: int, marker: str) -> pd.DataFrame:
    """Percentages with intervals, or the marker where too few persons or events lie behind."""
    small = (frame["n_at_risk"] < threshold) | (
        (frame["n_events"] > 0) & (frame["n_events"] < threshold)
    )
    out = frame.copy()
    out["shown"] = ~small & frame["estimate"].notna()
    for col in ("estimate", "lower", "upper"):
        out[col] = np.where(out["shown"], 100.0 * frame[col], np.nan)
    return out


def _cell(row: pd.Series, marker: str) -> Any:
    return round(float(row["estimate"]), 1) if row["shown"] else marker


def _interval(row: pd.Series) -> tuple[float, float] | str:
    """The 95% interval as a pair the renderers localise (``.`` where the share is hidden)."""
    if not row["shown"]:
        return "."
    return (round(float(row["lower"]), 1), round(float(row["upper"]), 1))


def _overall_table(key: str, title: Text, masked: pd.DataFrame, marker: str) -> Table:
    rows = []
    for t in sorted(masked["t"].unique()):
        row: dict[str, Any] = {"years": int(t)}
        for name in ESTIMATOR_NAMES:
            r = masked[(masked["estimator"] == name) & (masked["t"] == t)].iloc[0]
            row[f"{name}_pct"] = _cell(r, marker)
            row[f"{name}_ci_pct"] = _interval(r)
        rows.append(row)
    columns = {"years": Text("Years after entry", "Jaren na instroom")}
    for name, label in ESTIMATOR_NAMES.items():
        columns[f"{name}_pct"] = Text(f"{label.en} (%)", f"{label.nl} (%)")
        columns[f"{name}_ci_pct"] = Text("95% interval (%)", "95%-interval (%)")
    return Table(key, title, pd.DataFrame(rows), SOURCE, columns=columns)


def _milestones(table: pd.DataFrame) -> list[int]:
    """The horizons shown in group tables: 1, 5 and 7 years, as far as the follow-up reaches."""
    have = set(table["t"].astype(int))
    return [t for t in (1, 5, 7) if t in have] or sorted(have)[-1:]


def _group_table(key: str, title: Text, masked: pd.DataFrame, marker: str) -> Table:
    km = masked[masked["estimator"] == "kaplan_meier"]
    rows = []
    for (breakdown, group), sub in km.groupby(["breakdown", "group"], sort=False):
        row: dict[str, Any] = {"breakdown": breakdown, "group": group}
        for t in _milestones(km):
            r = sub[sub["t"] == t].iloc[0]
            row[f"km_{t}y_pct"] = _cell(r, marker)
            row[f"km_{t}y_ci_pct"] = _interval(r)
        rows.append(row)
    columns = {
        "breakdown": Text("Breakdown", "Uitsplitsing"),
        "group": Text("Group", "Groep"),
    }
    for t in _milestones(km):
        columns[f"km_{t}y_pct"] = Text(f"Within {t} years (%)", f"Binnen {t} jaar (%)")
        columns[f"km_{t}y_ci_pct"] = Text("95% interval (%)", "95%-interval (%)")
    return Table(key, title, pd.DataFrame(rows), SOURCE, columns=columns)


def _curve_chart(key: str, title: Text, masked: pd.DataFrame) -> Chart:
    parts = []
    for name in ("kaplan_meier", "aalen_johansen"):
        sub = masked[(masked["breakdown"] == "all") & (masked["estimator"] == name)]
        start = pd.DataFrame(
            {"x": [0.0], "series": [name], "y": [0.0], "lower": [0.0], "upper": [0.0]}
        )
        body = pd.DataFrame(
            {
                "x": sub["t"].to_numpy(dtype=float),
                "series": name,
                "y": sub["estimate"].to_numpy(dtype=float),
                "lower": sub["lower"].to_numpy(dtype=float),
                "upper": sub["upper"].to_numpy(dtype=float),
            }
        )
        parts += [start, body]
    return Chart(
        key,
        title,
        pd.concat(parts, ignore_index=True),
        kind="line",
        x_label=Text("Years after entry", "Jaren na instroom"),
        y_label=Text("Cumulative incidence (%)", "Cumulatieve incidentie (%)"),
        series_labels={k: v for k, v in ESTIMATOR_NAMES.items() if k != "crude"},
    )


def _protected_counts(
    protect: Protect, persons: pd.DataFrame, flags: pd.DataFrame
) -> tuple[Table, Table]:
    """Coverage (linked to the police register) and victim-offender overlap, protected."""
    linked = persons.assign(
        linked=persons["linked"].map({True: "linked", False: "not_linked"}),
    )
    cov_nat = CountTable.from_records(
        "followup_coverage_nationality",
        linked,
        ["nationality_group", "linked"],
        universe="followup_persons",
    )
    cov_res = CountTable.from_records(
        "followup_coverage_residence",
        linked,
        ["residence_status", "linked"],
        universe="followup_persons",
    )
    overlap = flags.assign(
        suspect_before=flags["suspect_before"].map({True: "yes", False: "no"}),
        suspect_after=flags["suspect_after"].map({True: "yes", False: "no"}),
    )
    over = CountTable.from_records(
        "followup_offender_overlap",
        overlap,
        ["suspect_before", "suspect_after"],
        universe="followup_cohort",
    )
    release = protect([cov_nat, cov_res, over])
    coverage = pd.concat(
        [
            release["followup_coverage_nationality"]
            .display_frame()
            .rename(columns={"nationality_group": "group"})
            .assign(breakdown="nationality_group"),
            release["followup_coverage_residence"]
            .display_frame()
            .rename(columns={"residence_status": "group"})
            .assign(breakdown="residence_status"),
        ],
        ignore_index=True,
    )
    coverage = coverage.pivot_table(
        index=["breakdown", "group"], columns="linked", values="value", aggfunc="first", sort=False
    ).reset_index()
    coverage.columns.name = None
    cov_table = Table(
        "followup_coverage",
        Text(
            "Victims found in the police register (coverage)",
            "Slachtoffers gevonden in het politieregister (dekking)",
        ),
        coverage,
        SOURCE,
        columns={
            "breakdown": Text("Breakdown", "Uitsplitsing"),
            "group": Text("Group", "Groep"),
            "linked": Text("Found", "Gevonden"),
            "not_linked": Text("Not found", "Niet gevonden"),
            "Total": Text("Total", "Totaal"),
        },
    )
    ov = release["followup_offender_overlap"].display_frame()
    ov = ov.pivot_table(
        index="suspect_before", columns="suspect_after", values="value", aggfunc="first"
    ).reset_index()
    ov.columns.name = None
    ov_table = Table(
        "followup_offender_overlap",
        Text(
            "Victims registered as suspect before and after entry",
            "Slachtoffers geregistreerd als verdachte voor en na instroom",
        ),
        ov,
        SOURCE,
        note=Text(
            "Rows: suspect before entry; columns: suspect after entry.",
            "Rijen: verdachte voor instroom; kolommen: verdachte na instroom.",
        ),
    )
    return cov_table, ov_table


def _masked_results(masked: pd.DataFrame, threshold: int) -> dict[str, Any]:
    """results.json sections from a masked table: hidden shares and small counts are null."""
    hidden = masked.assign(
        estimate=masked["estimate"] / 100, lower=masked["lower"] / 100, upper=masked["upper"] / 100
    )
    section = results_section(hidden)
    for rows in section.values():
        for column in ("n_at_risk", "n_events"):
            rows[column] = [None if 0 < v < threshold else v for v in rows[column]]
    return section


def _method(settings: Settings, end: str, threshold: int, linkage: dict[str, Any]) -> Text:
    text = _format(METHOD, days=settings.index_exclusion_days, end=end, threshold=threshold)
    if not linkage:
        return text
    rate = linkage.get("miss_rate") or 0.0
    miss = NOT_MISSED
    if rate > 0:
        en = f"{100 * rate:.1f}%"
        miss = _format(MISSED, rate=en, rate_nl=en.replace(".", ","))
    common = {"draws": settings.followup_link_draws, "threshold": settings.police_link_threshold}
    extra = Text(
        LINK_DRAWS.en.format(**common, miss=miss.en),
        LINK_DRAWS.nl.format(**common, miss=miss.nl),
    )
    return Text(text.en + extra.en, text.nl + extra.nl)


def _headlines(revict: dict[str, Any]) -> list[Headline]:
    """Re-victimisation within 5 and 7 years: the Aalen-Johansen cumulative incidence (death and
    emigration compete; over the link draws where there are any), the chapter's estimate of
    record. 1 - Kaplan-Meier would count the dead and emigrated as if they could still become
    victims and so overstates the share (47.8% against 45.1% at 5 years in the default demo)."""
    aj = revict.get("aalen_johansen", {})
    headlines = []
    for years in (5, 7):
        if years not in aj.get("t", []):
            continue
        at = aj["t"].index(years)
        if aj["estimate"][at] is None:
            continue
        band_en = f"{100 * aj['lower'][at]:.1f}–{100 * aj['upper'][at]:.1f}%"
        band_nl = band_en.replace(".", ",")
        headlines.append(
            Headline(
                f"key_findings.revictimisation_{years}y_pct",
                Text(
                    "{value} of victims were registered by the police as victim of a new "
                    f"crime within {years} years (cumulative incidence with death and "
                    f"emigration as competing events, Aalen-Johansen; 95% interval {band_en}).",
                    "{value} van de slachtoffers werd binnen "
                    f"{years} jaar door de politie geregistreerd als slachtoffer van een nieuw "
                    "misdrijf (cumulatieve incidentie met overlijden en emigratie als "
                    f"concurrerende gebeurtenissen, Aalen-Johansen; 95%-interval {band_nl}).",
                ),
                round(100 * aj["estimate"][at], 1),
            )
        )
    return headlines


def _over_link_draws(
    store: Store,
    settings: Settings,
    source: CohortSource,
    found: FollowUpResult,
    rule: CohortRule,
) -> tuple[FollowUpResult, dict[str, Any]]:
    """The overall rows of both cohorts over link draws (:mod:`.linkdraws`), and
    results.json ``followup_linkage``; ``found`` unchanged when there is nothing to draw."""
    candidates = candidate_events(store, source.persons)
    if candidates.empty:
        return found, {}
    times = tuple(float(t) for t in range(1, settings.followup_years + 1))
    suspect_rule = CohortRule(
        role="suspect", exclusion_days=rule.exclusion_days, exclusion_types=rule.exclusion_types
    )
    miss_rate = police_miss_rate(store) if settings.followup_miss_correction else None
    section: dict[str, Any] = {
        "method": "rubin-over-link-draws",
        "police_link_threshold": settings.police_link_threshold,
        "miss_rate": round(miss_rate or 0.0, 4),
    }
    tables = {}
    for key, cohort_rule, table in (
        ("revictimisation", rule, found.revictimisation),
        ("suspect_registration", suspect_rule, found.suspect_registration),
    ):
        drawn = followup_over_draws(
            source.persons,
            candidates,
            settings.data_end,
            rule=cohort_rule,
            times=times,
            draws=settings.followup_link_draws,
            seed=settings.seed,
            covered_by_police=not population_register_present(store),
            miss_rate=miss_rate or 0.0,
        )
        at_threshold = results_section(table)
        section[key] = drawn.results() | {
            "threshold_links": {
                name: {c: rows[c] for c in ("t", "estimate", "lower", "upper")}
                for name, rows in at_threshold.items()
            }
        }
        overall = table["breakdown"] == "all"
        tables[key] = pd.concat(
            [drawn.table[table.columns], table.loc[~overall]], ignore_index=True
        )
    found = dataclasses.replace(
        found,
        revictimisation=tables["revictimisation"],
        suspect_registration=tables["suspect_registration"],
    )
    return found, section


def report_chapter(
    store: Store, settings: Settings, protect: Protect
) -> tuple[Chapter, dict[str, Any]]:
    """The follow-up chapter and the results.json keys ``revictimisation`` and
    ``suspect_registration`` (and ``followup_risk_factors``, ``followup_cohort``)."""
    marker = f"<{settings.disclosure_threshold}"
    threshold = settings.disclosure_threshold
    source = cohort_source(store, settings)
    end = settings.data_end
    rule = CohortRule(role="victim", exclusion_days=settings.index_exclusion_days)
    found = analyse_followup(
        source.persons,
        source.events,
        end,
        by=BREAKDOWNS,
        risk_factors=RISK_FACTORS,
        rule=rule,
        times=tuple(float(t) for t in range(1, settings.followup_years + 1)),
        min_level=threshold,
    )
    linkage: dict[str, Any] = {}
    if settings.followup_link_draws:
        found, linkage = _over_link_draws(store, settings, source, found, rule)
    victim_inc = _mask(found.revictimisation, threshold, marker)
    suspect_inc = _mask(found.suspect_registration, threshold, marker)
    type_inc = _mask(found.by_crime_type, threshold, marker)
    linked_persons = source.persons[source.persons["linked"]]
    flags = suspect_flags(linked_persons, source.events, end)
    coverage, overlap = _protected_counts(protect, source.persons, flags)
    risk, risk_results = risk_table(found, SOURCE)
    competing, competing_results = competing_table(found, SOURCE)
    revict = _masked_results(victim_inc, threshold)
    headlines = _headlines(revict)
    tables = [
        _overall_table(
            "followup_revictimisation",
            Text(
                "Re-victimisation: cumulative incidence",
                "Hernieuwd slachtofferschap: cumulatieve incidentie",
            ),
            victim_inc[victim_inc["breakdown"] == "all"],
            marker,
        ),
        _group_table(
            "followup_revictimisation_groups",
            Text(
                "Re-victimisation by group (Kaplan-Meier)",
                "Hernieuwd slachtofferschap per groep (Kaplan-Meier)",
            ),
            victim_inc[victim_inc["breakdown"] != "all"],
            marker,
        ),
        _group_table(
            "followup_revictimisation_crime",
            Text(
                "Re-victimisation by crime type (Kaplan-Meier)",
                "Hernieuwd slachtofferschap per soort misdrijf (Kaplan-Meier)",
            ),
            type_inc,
            marker,
        ),
        _overall_table(
            "followup_suspect",
            Text(
                "Registration as suspect: cumulative incidence",
                "Registratie als verdachte: cumulatieve incidentie",
            ),
            suspect_inc[suspect_inc["breakdown"] == "all"],
            marker,
        ),
        _group_table(
            "followup_suspect_groups",
            Text(
                "Registration as suspect by group (Kaplan-Meier)",
                "Registratie als verdachte per groep (Kaplan-Meier)",
            ),
            suspect_inc[suspect_inc["breakdown"] != "all"],
            marker,
        ),
        overlap,
        coverage,
    ]
    if risk is not None:
        tables.append(risk)
    if competing is not None:
        tables.append(competing)
    charts = (
        _curve_chart(
            "followup_revictimisation_curve",
            Text("Re-victimisation after entry", "Hernieuwd slachtofferschap na instroom"),
            victim_inc,
        ),
        _curve_chart(
            "followup_suspect_curve",
            Text("Registration as suspect after entry", "Registratie als verdachte na instroom"),
            suspect_inc,
        ),
    )
    covered = (
        "the population register" if population_register_present(store) else ("the police register")
    )
    covered_nl = (
        "het bevolkingsregister"
        if covered.endswith("population register")
        else ("het politieregister")
    )
    chapter = Chapter(
        key="followup",
        title=Text(
            "Follow-up: what happens to victims afterwards",
            "Follow-up: hoe het slachtoffers daarna vergaat",
        ),
        intro=Text(
            f"{found.n_cohort:,} of {found.n_persons:,} victims were found in {covered} and "
            "are followed from their first registration.",
            f"{found.n_cohort:,} van de {found.n_persons:,} slachtoffers zijn gevonden in "
            f"{covered_nl} en worden gevolgd vanaf hun eerste registratie.",
        ),
        method=_method(settings, end, threshold, linkage),
        headlines=tuple(headlines),
        tables=tuple(tables),
        charts=charts,
    )
    results = {
        "key_findings": {h.key.split(".", 1)[1]: h.value for h in headlines},
        "revictimisation": revict,
        "suspect_registration": _masked_results(suspect_inc, threshold),
        "followup_risk_factors": risk_results,
        **competing_results,
        "followup_cohort": {"persons": found.n_persons, "covered": found.n_cohort},
    }
    if linkage:
        results["followup_linkage"] = linkage
    return chapter, results
