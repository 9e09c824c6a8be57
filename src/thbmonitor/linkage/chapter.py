"""The linkage chapter of the report: persons found, registrations merged, police coverage.

Counts in tables pass through disclosure control (:mod:`thbmonitor.disclosure`); the
coverage percentages are computed from the protected counts only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, DisclosureRules, Ledger, Release, protect_release
from thbmonitor.engine import Store
from thbmonitor.errors import LinkageError
from thbmonitor.report.model import Chapter, Headline, Table, Text

log = logging.getLogger(__name__)

Protect = Callable[[Sequence[CountTable]], Release]

UNIVERSE = "linked_persons"
SOURCE = Text(
    "Registrations of presumed victims and the police register, linked on pseudonymised "
    "identifiers; thbmonitor.",
    "Meldingen van mogelijke slachtoffers en het politieregister, gekoppeld op "
    "gepseudonimiseerde identificatoren; thbmonitor.",
)
LINKED = {True: "linked", False: "not_linked"}
COLUMN_TEXT = {
    "nationality_group": Text("Nationality group", "Nationaliteitsgroep"),
    "residence_status": Text("Residence status", "Verblijfsstatus"),
    "police": Text("Police register", "Politieregister"),
    "linked": Text("Linked", "Gekoppeld"),
    "not_linked": Text("Not linked", "Niet gekoppeld"),
    "Total": Text("Total", "Totaal"),
    "coverage_pct": Text("Linked (%)", "Gekoppeld (%)"),
}
METHOD = Text(
    en=(
        "Registrations are linked into persons with a Fellegi-Sunter model (Splink, trained "
        "without labelled pairs by expectation maximisation) on pseudonymised identifiers "
        "only: names are compared by the Dice similarity of keyed Bloom-filter encodings, "
        "with levels for swapped first and last names; birth dates by keyed tokens, with "
        "levels for day and month swapped, 1 January defaults, a year off by one and "
        "estimated dates of undocumented minors. Candidate pairs come from blocking keys on "
        "tokens, phonetic codes and MinHash bands of the encodings, so that two "
        "registrations with two corrupted fields still meet. Pairs at or above the linkage "
        "threshold are clustered; a cluster is kept only where the average evidence between "
        "its parts supports it, so that chains of weak links do not merge different persons. "
        "Person ids are kept from earlier runs. Persons are linked to police-register events "
        "with a separate model at a threshold chosen for precision; each event goes to at "
        "most one person. Coverage is the share of persons linked to at least one police "
        "event; non-residents without papers are less often in the register."
    ),
    nl=(
        "Meldingen worden tot personen gekoppeld met een Fellegi-Sunter-model (Splink, "
        "zonder gelabelde paren geschat met expectation maximisation) op uitsluitend "
        "gepseudonimiseerde identificatoren: namen worden vergeleken met de Dice-"
        "gelijkenis van Bloom-filtercoderingen met sleutel, met niveaus voor verwisselde "
        "voor- en achternaam; geboortedata met tokens, met niveaus voor verwisselde dag en "
        "maand, 1 januari als standaarddatum, een jaar verschil en geschatte data van "
        "minderjarigen zonder papieren. Kandidaatparen komen uit blokkeersleutels op "
        "tokens, fonetische codes en MinHash-banden van de coderingen, zodat twee meldingen "
        "met twee verminkte velden elkaar toch vinden. Paren boven de koppeldrempel worden "
        "geclusterd; een cluster blijft alleen bestaan als het gemiddelde bewijs tussen de "
        "delen het steunt, zodat ketens van zwakke koppelingen geen verschillende personen "
        "samenvoegen. Persoonsnummers van eerdere runs blijven behouden. Personen worden met "
        "een apart model aan gebeurtenissen in het politieregister gekoppeld, met een drempel "
        "gekozen voor precisie; elke gebeurtenis hoort bij hoogstens een persoon. Dekking is "
        "het aandeel personen met minstens een gekoppelde politiegebeurtenis; niet-ingezetenen "
        "zonder papieren staan minder vaak in het register."
    ),
)


def default_protect(settings: Settings) -> Protect:
    """Protect the chapter's tables on their own with the run's disclosure rules and ledger."""
    rules = DisclosureRules(
        threshold=settings.disclosure_threshold,
        zeros_disclosive=settings.disclosure_zeros_disclosive,
        dominance=settings.disclosure_dominance,
    )
    ledger = Ledger.load(Path(settings.disclosure_ledger)) if settings.disclosure_ledger else None

    def protect(tables: Sequence[CountTable]) -> Release:
        return protect_release(tables, rules, ledger=ledger)

    return protect


def _last_run(store: Store, kind: str) -> dict[str, Any] | None:
    rows = store.df(
        "SELECT run_id, method, n_registrations, n_persons, n_persons_kept, n_persons_new, "
        "n_persons_merged, notes FROM linkage_runs ORDER BY run_id DESC"
    )
    for row in rows.to_dict("records"):
        if json.loads(str(row["notes"] or "{}")).get("kind") == kind:
            return {str(k): v for k, v in row.items()}
    return None


def _persons(store: Store) -> pd.DataFrame:
    """One row per person: first registration's nationality group and residence status, and
    whether the person is linked to a police event."""
    return store.df(
        """
        WITH first AS (
            SELECT p.person_id, r.nationality_group, r.residence_status,
                   row_number() OVER (PARTITION BY p.person_id
                                      ORDER BY r.registration_date, r.registration_id) AS k
            FROM registration_person p JOIN registrations r USING (registration_id)
        )
        SELECT f.person_id, f.nationality_group, f.residence_status,
               f.person_id IN (SELECT person_id FROM person_police) AS linked
        FROM first f WHERE k = 1
        """
    )


def report_chapter(
    store: Store, settings: Settings, protect: Protect | None = None
) -> tuple[Chapter, dict[str, Any]]:
    """The linkage chapter and its results.json entries.

    ``protect`` protects the chapter's count tables (pass the release-wide one for a joint
    audit); by default they are protected on their own.
    """
    run = _last_run(store, "registrations")
    if run is None:
        raise LinkageError("no linkage run in the store; run 'thbmonitor link' first")
    police_run = _last_run(store, "police")
    persons = _persons(store)
    persons["police"] = persons["linked"].map(LINKED)
    tables = [
        CountTable.from_records(
            f"link_coverage_{dim}",
            persons,
            [dim, "police"],
            categories={"police": list(LINKED.values())},
            universe=UNIVERSE,
        )
        for dim in ("nationality_group", "residence_status")
    ]
    release = (protect or default_protect(settings))(tables)
    release.audit.raise_if_disclosive()
    report_tables = []
    for dim in ("nationality_group", "residence_status"):
        protected = release[f"link_coverage_{dim}"]
        wide = protected.display_frame().pivot(index=dim, columns="police", values="value")
        shares = protected.percentages(over="police")
        pct = shares[shares["police"] == "linked"].set_index(dim)["display"]
        frame = wide.join(pct.rename("coverage_pct")).reset_index()
        frame = frame[[dim, "linked", "not_linked", "Total", "coverage_pct"]]
        is_total = frame[dim].astype(str) == "Total"
        frame = pd.concat([frame[~is_total], frame[is_total]], ignore_index=True)
        report_tables.append(
            Table(
                key=f"link_coverage_{dim}"[:31],
                title=Text(
                    f"Persons linked to the police register, by {dim.replace('_', ' ')}",
                    "Personen gekoppeld aan het politieregister, naar "
                    + COLUMN_TEXT[dim].nl.lower(),
                ),
                frame=frame,
                source=SOURCE,
                columns={c: COLUMN_TEXT[c] for c in frame.columns if c in COLUMN_TEXT},
            )
        )
    n_reg, n_pers = int(run["n_registrations"]), int(run["n_persons"])
    n_linked = int(persons["linked"].sum())
    results = {
        "registrations": n_reg,
        "persons": n_pers,
        "registrations_merged": n_reg - n_pers,
        "persons_kept": _int(run["n_persons_kept"]),
        "persons_new": _int(run["n_persons_new"]),
        "persons_merged": _int(run["n_persons_merged"]),
        "police_linked_persons": n_linked if police_run is not None else None,
        "police_coverage_pct": round(100.0 * n_linked / max(len(persons), 1), 1),
        "linkage_threshold": settings.linkage_threshold,
        "police_link_threshold": settings.police_link_threshold,
        "method": run["method"],
    }
    headlines = (
        Headline(
            "linkage.persons",  # dotted path into results.json (results["linkage"])
            Text(
                f"{n_reg:,} registrations belong to {{value}} distinct persons; "
                f"{n_reg - n_pers:,} registrations were merged into a person registered before.",
                f"{n_reg:,} meldingen horen bij {{value}} unieke personen; "
                f"{n_reg - n_pers:,} meldingen zijn samengevoegd met een eerder gemelde persoon.",
            ),
            n_pers,
        ),
        Headline(
            "linkage.police_coverage_pct",
            Text(
                "{value} of persons could be linked to the police register.",
                "{value} van de personen kon aan het politieregister worden gekoppeld.",
            ),
            results["police_coverage_pct"],
        ),
    )
    review = review_table(store)
    if review is not None:
        report_tables.append(review[0])
        results["review"] = review[1]
    chapter = Chapter(
        key="linkage",
        title=Text("Record linkage", "Koppeling van registraties"),
        intro=Text(
            "How registrations from different organisations and years were brought together "
            "into persons, and how many persons could be followed in the police register.",
            "Hoe meldingen van verschillende organisaties en jaren tot personen zijn "
            "samengevoegd, en hoeveel personen in het politieregister te volgen zijn.",
        ),
        method=METHOD,
        headlines=headlines,
        tables=tuple(report_tables),
    )
    return chapter, results


REVIEW_KINDS = {
    "registration": Text("Registration pairs", "Paren meldingen"),
    "police": Text("Person and police event", "Persoon en politiegebeurtenis"),
    "population": Text(
        "Person and population-register event", "Persoon en gebeurtenis in het bevolkingsregister"
    ),
}
REVIEW_COLUMNS = {
    "pair_kind": Text("Pairs", "Paren"),
    "judged": Text("Judged pairs", "Beoordeelde paren"),
    "precision_judged_pct": Text("Precision, judged pairs (%)", "Precisie, beoordeelde paren (%)"),
    "precision_judged_ci_pct": Text("95% interval", "95%-interval"),
    "recall_judged_pct": Text("Recall, judged pairs (%)", "Recall, beoordeelde paren (%)"),
    "recall_judged_ci_pct": Text("95% interval", "95%-interval"),
    "precision_all_pct": Text("Precision, all scored pairs (%)", "Precisie, alle paren (%)"),
    "precision_all_ci_pct": Text("95% interval", "95%-interval"),
    "recall_all_pct": Text("Recall, all scored pairs (%)", "Recall, alle paren (%)"),
    "recall_all_ci_pct": Text("95% interval", "95%-interval"),
}
REVIEW_NOTE = Text(
    "Pairs judged in clerical review by the office holding the identifiers ('thbmonitor link "
    "--labels'), against the linkage as it was when they were judged (judged pairs are fixed "
    "in every later linkage). Judged pairs: the most uncertain pairs and pairs drawn at random "
    "by score band; Wilson intervals. All scored pairs: from the random pairs only, weighted by "
    "the size of their score band (combined ratio estimator, Cochran 1977); recall among the "
    "pairs the model scored, not counting pairs no blocking key brought together. '.': no "
    "judged pair to base it on.",
    "Paren die de organisatie met de identificatoren bij handmatige controle beoordeelde "
    "('thbmonitor link --labels'), vergeleken met de koppeling zoals die bij de beoordeling "
    "was (beoordeelde paren liggen in elke latere koppeling vast). Beoordeelde paren: de "
    "onzekerste paren en paren die per scoreklasse aselect zijn getrokken; Wilson-intervallen. "
    "Alle paren: alleen uit de aselecte paren, gewogen naar de omvang van hun scoreklasse "
    "(gecombineerde ratioschatter, Cochran 1977); recall onder de paren die het model "
    "scoorde, zonder paren die geen blokkeersleutel samenbracht. '.': geen beoordeeld paar "
    "om het op te baseren.",
)


def review_table(store: Store) -> tuple[Table, list[dict[str, Any]]] | None:
    """The clerical review's figures (:func:`thbmonitor.linkage.review.stored_evaluation`)
    as a table and as results.json ``linkage.review``; ``None`` before any review."""
    from thbmonitor.linkage.review import stored_evaluation

    evaluations = stored_evaluation(store)
    if not evaluations:
        return None
    rows, results = [], []
    for e in evaluations:
        row: dict[str, Any] = {"pair_kind": REVIEW_KINDS[e.kind].en, "judged": e.n}
        entry: dict[str, Any] = {"pair_kind": e.kind, "judged": e.n}
        for name, figure in (
            ("precision_judged", e.precision),
            ("recall_judged", e.recall),
            ("precision_all", e.precision_all),
            ("recall_all", e.recall_all),
        ):
            if figure is None:
                row[f"{name}_pct"], row[f"{name}_ci_pct"] = ".", "."
                entry[name] = None
            else:
                row[f"{name}_pct"] = 100 * figure.value
                row[f"{name}_ci_pct"] = (100 * figure.low, 100 * figure.high)
                entry[name] = {"value": figure.value, "lower": figure.low, "upper": figure.high}
        rows.append(row)
        results.append(entry)
    frame = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    table = Table(
        key="link_review",
        title=Text("Linkage quality in clerical review", "Kwaliteit van de koppeling bij controle"),
        frame=frame,
        source=SOURCE,
        note=REVIEW_NOTE,
        columns=REVIEW_COLUMNS,
        legend=False,
        decimals={c: 1 for c in REVIEW_COLUMNS if c.endswith("_pct")},
    )
    return table, results


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
