"""The monitor's report chapters and results.json entries, from protected tables only.

:func:`chapters` builds every table (:func:`~thbmonitor.monitor.tables.build_tables`),
protects them as one release (or hands them to the caller's ``protect`` so that the whole
report is protected and audited jointly), and lays out the chapters: key findings,
registrations and victims, forms of exploitation, people, reporting organisations, help, and
change over time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import EstimationError
from thbmonitor.monitor import texts
from thbmonitor.monitor.help_model import METHOD as HELP_MODEL_METHOD
from thbmonitor.monitor.help_model import help_model, publishable
from thbmonitor.monitor.labels import category_label, dimension_label
from thbmonitor.monitor.published import (
    Protect,
    Published,
    cell_key_loss,
    default_protect,
    help_chart,
    perturb_monitor,
    protect_by_universe,
    rules_from_settings,
    trial_protect,
)
from thbmonitor.monitor.results import help_model_results, monitor_results
from thbmonitor.monitor.sdg import registered_cells
from thbmonitor.monitor.tables import TOTAL, MonitorTable, build_release
from thbmonitor.profiles import Profile, load_profile
from thbmonitor.report.model import Chapter, Headline, Table, Text
from thbmonitor.store import resolve_window

__all__ = ["chapters"]

log = logging.getLogger(__name__)

CHAPTER_ORDER = ("key_findings", "victims", "groups", "people", "organisations", "help", "change")
_UNIT_TITLE = {
    "registrations": Text("Registrations", "Meldingen"),
    "victims": Text("Victims", "Slachtoffers"),
    "persons": Text("Victims (distinct persons in the window)",
                    "Slachtoffers (unieke personen in de periode)"),
}  # fmt: skip


def chapters(
    store: Store, settings: Settings, protect: Protect | None = None
) -> tuple[list[Chapter], dict[str, Any]]:
    """The monitor's chapters (protected tables) and its results.json entries.

    ``protect`` receives the count tables of one universe at a time (registrations,
    victim-years, persons in the window: their cells never overlap) and returns the protected
    release; by default with the settings' rules and ledger. Pass a function that also
    collects them for a joint audit with the other stages' tables (the pipeline's
    ``Publication``). If a universe has no safe pattern, its core tables and those others that
    keep the pattern safe are published; the withheld ones are listed in
    ``results["withheld_tables"]`` and in the method text.
    """
    settings = resolve_window(store, settings)
    tables, relations = build_release(store, settings)
    noise: Text | None = None
    cell_key: dict[str, Any] | None = None
    if settings.disclosure_method == "cell_key":
        protected, ptable = perturb_monitor(tables, settings)
        # a protect that keeps the release (the pipeline's Publication) records them too
        add_perturbed = getattr(protect, "add_perturbed", None)
        if add_perturbed is not None:
            add_perturbed(list(protected.values()))
        withheld: list[str] = []
        threshold = settings.disclosure_threshold
        d, v = ptable.max_deviation, ptable.variance
        noise = texts.cell_key_legend(d)
        cell_key = {
            "max_deviation": d,
            "variance": v,
            "perturbation_table": ptable.describe().round(6).to_dict("records"),
            "information_loss": cell_key_loss(protected),
        }
    else:
        tied = settings.disclosure_unit_ties
        protected, withheld, threshold = protect_by_universe(
            tables,
            protect or default_protect(settings),
            trial_protect(settings, tied),
            relations=relations if tied else None,
        )
    profile = load_profile(settings.profile)
    pub = Published(tables, protected, settings.language, threshold, profile, noise)
    results = monitor_results(pub, settings)
    results["disclosure_cell_key"] = cell_key
    results["key_findings"] = _key_figures(results, settings)
    results["withheld_tables"] = withheld
    # the tables as protected: their shown cells are those kept (protect_by_universe may relax)
    relaxed = [t.key for t in tables if t.table.shown and t.key in protected
               and not protected[t.key].table.shown]  # fmt: skip
    tables = [replace(t, table=protected[t.key].table) if t.key in protected else t for t in tables]
    results["disclosure_merges"] = merges_made(tables, threshold)
    # published registered victims for SDG 16.2.2; the pipeline adds rates (sdg.sdg_chapter)
    results["sdg_16_2_2"] = registered_cells(pub, settings)
    span = f"{settings.window_first}-{settings.window_last}"
    by_chapter: dict[str, list[Table]] = {k: [] for k in CHAPTER_ORDER}
    for t in tables:
        if t.key in protected:
            by_chapter[t.chapter].append(
                pub.report_table(t.key, _title(t, span, profile), _note(t, profile))
            )
    by_chapter["victims"].append(
        pub.share_table(
            "vic_year_group",
            "group",
            "vic_year_group_pct",
            Text(
                f"Victims: share of each group per year (%), {span}",
                f"Slachtoffers: aandeel van elke groep per jaar (%), {span}",
            ),
        )
    )
    by_chapter["change"].append(_change_table(results, settings.language, profile))
    model_rows = _help_model_rows(store, settings, threshold)
    results["help_model"] = help_model_results(model_rows, HELP_MODEL_METHOD)
    if not model_rows.empty:
        by_chapter["help"].append(
            _help_model_table(model_rows, settings.language, threshold, profile)
        )
    out = []
    for key in CHAPTER_ORDER:
        out.append(
            Chapter(
                key=f"monitor_{key}",
                title=texts.title(key, profile),
                intro=_intro(key, span, profile),
                method=_method(
                    key,
                    withheld,
                    by_chapter_tables(tables, key),
                    _protection(settings),
                    threshold,
                    profile,
                    relaxed,
                ),
                headlines=_headlines(key, results, settings, profile),
                tables=tuple(by_chapter[key]),
                charts=_charts(key, pub, profile),
            )
        )
    log.info("monitor: %d tables in %d chapters", len(tables), len(out))
    return out, results


def _title(t: MonitorTable, span: str, profile: Profile) -> Text:
    dims = [*t.rows, t.columns]
    unit = _UNIT_TITLE[t.unit]
    if t.key.startswith(("reg_minor", "vic_minor")):
        unit = Text(f"{unit.en}: minors", f"{unit.nl}: minderjarigen")
    if t.chapter == "help":
        measure = dimension_label(t.columns, profile)
        by = dimension_label(t.rows[0], profile)
        return Text(
            f"{measure.en} by {by.en.lower()}, {span}", f"{measure.nl} naar {by.nl.lower()}, {span}"
        )
    names = [dimension_label(d, profile) for d in dims]
    return Text(
        f"{unit.en} by {' and '.join(n.en.lower() for n in names)}, {span}",
        f"{unit.nl} naar {' en '.join(n.nl.lower() for n in names)}, {span}",
    )


def _note(t: MonitorTable, profile: Profile) -> Text | None:
    dims = t.table.dims
    if "nationality_group" in dims and "group" in dims:
        # a profile whose groups hold a nationality rule says what it means here
        if texts.wording("nationality_group_note", profile) is None:
            return None
        return texts.fill(texts.NATGROUP_NOTE, profile)
    if "region" in dims:
        return texts.fill(texts.REGION_NOTE, profile)
    if "nationality" in dims:
        return Text(
            "The largest foreign nationalities of the window (primary nationality).",
            "De grootste buitenlandse nationaliteiten van de periode (eerste nationaliteit).",
        )
    return None


def _intro(key: str, span: str, profile: Profile) -> Text | None:
    intros = {
        "victims": Text(
            f"Registrations and distinct victims per year, {span}, by the monitor's groups.",
            f"Meldingen en unieke slachtoffers per jaar, {span}, naar de groepen van de monitor.",
        ),
        "people": Text(
            "Sex, age band, nationality, residence status and region; minors as a spotlight; "
            "victims registered in more than one year. Nationality group and residence status "
            "are shown by year, not by group: {by_year_reason}; the largest foreign "
            "nationalities are shown by group.",
            "Geslacht, leeftijdsgroep, nationaliteit, verblijfsstatus en regio; minderjarigen "
            "apart belicht; slachtoffers die in meer dan één jaar gemeld zijn. "
            "Nationaliteitsgroep en verblijfsstatus staan per jaar, niet per groep: "
            "{by_year_reason}; de grootste buitenlandse nationaliteiten staan per groep.",
        ),
        "help": Text(
            "Does help follow need or status? Shelter, {scheme_long} and care "
            "referral by residence status, region and age band.",
            "Volgt hulp de behoefte of de status? Opvang, {scheme_long} en verwijzing "
            "naar zorg naar verblijfsstatus, regio en leeftijdsgroep.",
        ),
    }
    intro = intros.get(key)
    return None if intro is None else texts.fill(intro, profile)


def by_chapter_tables(tables: Sequence[MonitorTable], chapter: str) -> list[MonitorTable]:
    return [t for t in tables if t.chapter == chapter]


def merges_made(tables: Sequence[MonitorTable], threshold: int) -> dict[str, Any]:
    """What disclosure control changed in the tables instead of hiding headline figures
    (results.json ``disclosure.merges`` and ``disclosure.shown_small``): the category merges,
    with the tables they were made in, and the small counts shown because the published
    headline figures give them away (unknown sex per year)."""
    merges: dict[Any, dict[str, Any]] = {}
    for t in tables:
        for m in t.merges:
            merges.setdefault(m, {**m.describe, "tables": []})["tables"].append(t.key)
    shown = []
    for t in tables:
        for cell in t.table.shown:
            n = t.count(**{str(k): str(v) for k, v in cell.items()})
            if 0 < n < threshold:
                shown.append({"table": t.key, **{str(k): str(v) for k, v in cell.items()}})
    return {"merges": list(merges.values()), "shown_small": shown}


def _adjustments(
    tables: Sequence[MonitorTable],
    threshold: int,
    profile: Profile,
    relaxed: Sequence[str] = (),
) -> Text | None:
    """The method text's account of merges, of small counts shown, and of the tables whose
    women and men per year could not all be kept (``relaxed``) (en + nl)."""
    made = merges_made(tables, threshold)
    en: list[str] = []
    nl: list[str] = []
    for m in made["merges"]:
        parts = [category_label(c, "en", profile) for c in m["categories"]]
        parts_nl = [category_label(c, "nl", profile) for c in m["categories"]]
        into = Text(
            category_label(m["into"], "en", profile), category_label(m["into"], "nl", profile)
        )
        dim = dimension_label(m["dimension"], profile)
        en.append(
            f"{dim.en}: the categories {' and '.join(parts)} are merged into '{into.en}' "
            f"(tables {', '.join(m['tables'])}): the last counts less than {threshold} "
            "somewhere, and would otherwise be hidden together with the cells that protect it."
        )
        nl.append(
            f"{dim.nl}: de categorieën {' en '.join(parts_nl)} zijn samengevoegd tot "
            f"'{into.nl}' (tabellen {', '.join(m['tables'])}): de laatste telt ergens minder "
            f"dan {threshold} en zou anders verborgen zijn, samen met de cellen die haar "
            "beschermen."
        )
    years = sorted({c["year"] for c in made["shown_small"] if "year" in c})
    if years:
        which = ", ".join("the window" if y == TOTAL else y for y in years)
        which_nl = ", ".join("de periode" if y == TOTAL else y for y in years)
        en.append(
            f"Persons of unknown sex are shown even where fewer than {threshold} ({which}): "
            "women and men per year are published, and the unknown are the total minus both."
        )
        nl.append(
            f"Personen van onbekend geslacht staan er ook bij minder dan {threshold} ({which_nl}):"
            " vrouwen en mannen per jaar worden gepubliceerd, en de onbekenden zijn het totaal "
            "min beide."
        )
    mine = [k for k in relaxed if k in {t.key for t in tables}]
    if mine:
        en.append(
            f"In {', '.join(mine)} women and men per year are not kept published whatever "
            f"the cost: showing both would give away the persons of unknown sex (fewer than "
            f"{threshold}), and with those shown no safe pattern exists (a hidden small count "
            "of unknown sex elsewhere, e.g. over the window or of persons, would be narrowed "
            "by them). The unknown sex is "
            "hidden like any small count, and a cell of women or men that protects it is "
            "hidden too."
        )
        nl.append(
            f"In {', '.join(mine)} worden vrouwen en mannen per jaar niet tot elke prijs "
            "gepubliceerd: beide tonen zou de personen van onbekend geslacht verraden (minder "
            f"dan {threshold}), en met die getoond bestaat geen veilig patroon (een verborgen "
            "klein aantal van onbekend geslacht elders, bv. over de periode of van personen, "
            "zou erdoor worden ingeperkt). Het onbekende "
            "geslacht is verborgen zoals elk klein aantal, en een cel van vrouwen of mannen die "
            "het beschermt ook."
        )
    if not en:
        return None
    return Text(" ".join(en), " ".join(nl))


def _protection(settings: Settings) -> Text:
    if settings.disclosure_method == "cell_key":
        return texts.cell_key_method(
            settings.disclosure_max_deviation, settings.disclosure_variance
        )
    rules = rules_from_settings(settings)
    return texts.protection(
        rules.threshold,
        rules.unknown_primary,
        rules.dominance or 1.0,
        rules.zeros_disclosive,
        rules.required_width,
    )


def _method(
    key: str,
    withheld: list[str],
    tables: Sequence[MonitorTable],
    protection: Text,
    threshold: int,
    profile: Profile,
    relaxed: Sequence[str] = (),
) -> Text | None:
    text = _method_text(key, protection, profile)
    note = _adjustments(tables, threshold, profile, relaxed)
    if note is not None:
        text = note if text is None else _join(text, note)
    if not withheld or key not in ("victims", "people", "organisations", "groups", "help"):
        return text
    note = Text(
        f"Disclosure control found no safe pattern for all tables; {len(withheld)} "
        "breakdown table(s) are not published: " + ", ".join(withheld) + ".",
        f"De beveiliging vond geen veilig patroon voor alle tabellen; {len(withheld)} "
        "uitsplitsing(en) zijn niet gepubliceerd: " + ", ".join(withheld) + ".",
    )
    return note if text is None else _join(text, note)


def _method_text(key: str, protection: Text, profile: Profile) -> Text | None:
    if key == "change":
        return texts.CHANGE_METHOD
    if key == "help":
        return _join(texts.fill(texts.HELP_METHOD, profile), protection)
    if key in ("victims", "groups", "people", "organisations"):
        return _join(texts.definitions(profile), protection)
    return None


def _join(a: Text, b: Text) -> Text:
    return Text(f"{a.en} {b.en}", f"{a.nl} {b.nl}")


# ---- key findings -------------------------------------------------------------------------


def _key_figures(results: dict[str, Any], settings: Settings) -> dict[str, Any]:
    last = str(settings.window_last)
    yoy = (results["change"].get("victims") or {}).get("year_on_year") or {}
    help_ = results["help"]
    return {
        "registrations": results["registrations_by_year"][last],
        "victims": results["victims_by_year"][last],
        "victims_difference": yoy.get("difference"),
        "persons": results["persons_in_window"],
        "persons_more_than_one_year": results["persons_registered_in_more_than_one_year"],
        "minors": results["minors_by_year"][last],
        "shelter_pct": help_["shelter"]["yes_pct"],
        "victim_scheme_granted_pct": help_["victim_scheme_granted"]["yes_pct"],
    }


def _fmt(x: float | None, lang: str, digits: int = 2) -> str:
    if x is None:
        return "."
    text = f"{x:.{digits}f}"
    return text.replace(".", ",") if lang == "nl" else text


def _p(p: float, lang: str) -> str:
    return "p < 0.001" if p < 0.001 and lang == "en" else (
        "p < 0,001" if p < 0.001 else f"p = {_fmt(p, lang, 3)}"
    )  # fmt: skip


def _p_cell(p: float) -> float | str:
    """A p-value for a table cell: four decimals, or '<0.0001' rather than a misleading 0."""
    return "<0.0001" if p < 0.0001 else round(p, 4)


def _headlines(
    key: str, results: dict[str, Any], settings: Settings, profile: Profile
) -> tuple[Headline, ...]:
    if key != "key_findings":
        return ()
    k = results["key_findings"]
    y, span = settings.window_last, f"{settings.window_first}-{settings.window_last}"
    out = []
    candidates = [
        ("registrations", Text(f"Registrations of presumed victims in {y}: {{value}}.",
                               f"Meldingen van mogelijke slachtoffers in {y}: {{value}}.")),
        ("victims", Text(f"Distinct victims registered in {y}: {{value}}.",
                         f"Unieke slachtoffers gemeld in {y}: {{value}}.")),
        ("persons", Text(f"Distinct victims registered in {span}: {{value}}.",
                         f"Unieke slachtoffers gemeld in {span}: {{value}}.")),
        ("persons_more_than_one_year",
         Text(f"Victims registered in more than one year of {span}: {{value}}.",
              f"Slachtoffers gemeld in meer dan één jaar van {span}: {{value}}.")),
        ("minors", Text(f"Minors among the victims of {y}: {{value}}.",
                        f"Minderjarigen onder de slachtoffers van {y}: {{value}}.")),
        ("shelter_pct", Text(f"Victims of {span} placed in shelter: {{value}}.",
                             f"Slachtoffers van {span} in opvang geplaatst: {{value}}.")),
        ("victim_scheme_granted_pct",
         Text(f"Victims of {span} {{scheme_granted}}: {{value}}.",
              f"Slachtoffers van {span} {{scheme_granted}}: {{value}}.")),
    ]  # fmt: skip
    for name, text in candidates:
        if k.get(name) is not None:
            out.append(Headline(f"key_findings.{name}", texts.fill(text, profile), k[name]))
    yoy = (results["change"].get("victims") or {}).get("year_on_year")
    if yoy is not None and k.get("victims_difference") is not None:
        lang_en = "beyond chance" if yoy["significant"] else "within chance"
        lang_nl = "groter dan toeval" if yoy["significant"] else "binnen het toeval"
        text = Text(
            f"Victims changed by {{value}} from {yoy['earlier_year']} to {yoy['later_year']} "
            f"(rate ratio {_fmt(yoy['ratio'], 'en')}, 95% CI {_fmt(yoy['ratio_lower'], 'en')}"
            f"-{_fmt(yoy['ratio_upper'], 'en')}; {_p(yoy['p_value'], 'en')}: {lang_en}).",
            f"Het aantal slachtoffers veranderde met {{value}} van {yoy['earlier_year']} naar "
            f"{yoy['later_year']} (verhouding {_fmt(yoy['ratio'], 'nl')}, 95%-BI "
            f"{_fmt(yoy['ratio_lower'], 'nl')}-{_fmt(yoy['ratio_upper'], 'nl')}; "
            f"{_p(yoy['p_value'], 'nl')}: {lang_nl}).",
        )
        out.append(Headline("key_findings.victims_difference", text, k["victims_difference"]))
    return tuple(out)


# ---- help model ----------------------------------------------------------------------------


def _help_model_rows(store: Store, settings: Settings, threshold: int) -> pd.DataFrame:
    """The help model's rows that describe no group smaller than the threshold."""
    try:
        window = (settings.window_first, settings.window_last)
        model = help_model(store, window, profile=load_profile(settings.profile))
    except EstimationError as exc:
        log.warning("monitor: help model not fitted (%s)", exc)
        return pd.DataFrame()
    return publishable(model.summary, threshold)


def _help_model_table(rows: pd.DataFrame, lang: str, threshold: int, profile: Profile) -> Table:
    """Adjusted relative risks of help (not counts: no disclosure legend)."""
    terms = texts.HELP_MODEL_TERMS
    frame = pd.DataFrame(
        {
            "measure": [dimension_label(m, profile)(lang) for m in rows["measure"]],
            "term": [terms[t](lang) if t in terms else t for t in rows["term"]],
            "level": [category_label(v, lang, profile) for v in rows["level"]],
            "reference": [category_label(v, lang, profile) for v in rows["reference"]],
            "rr": rows["rr"].astype(float),
            "ci_95": list(zip(rows["lower"].astype(float), rows["upper"].astype(float),
                              strict=True)),
            "p_value": [_p_cell(float(p)) for p in rows["p"]],
        }
    )  # fmt: skip
    method = texts.help_model_method(profile)
    note = Text(*(m.replace("{threshold}", str(threshold)) for m in (method.en, method.nl)))
    return Table(
        key="help_model",
        title=Text("Help, adjusted relative risks", "Hulp, gecorrigeerde relatieve risico's"),
        frame=frame,
        source=Text("Computed from the registrations of the monitoring window.",
                    "Berekend uit de meldingen van de periode."),
        note=note,
        columns={
            "measure": Text("Help", "Hulp"),
            "term": Text("Characteristic", "Kenmerk"),
            "level": Text("Level", "Waarde"),
            "reference": Text("Compared with", "Vergeleken met"),
            "rr": Text("Relative risk", "Relatief risico"),
            "ci_95": Text("95% interval", "95%-interval"),
            "p_value": Text("p-value", "p-waarde"),
        },
        legend=False,
        decimals={"rr": 2, "ci_95": 2},
    )  # fmt: skip


# ---- change table and charts ----------------------------------------------------------------


def _change_table(results: dict[str, Any], lang: str, profile: Profile) -> Table:
    rows = []
    minor = profile.age_bands.minor
    names = {"registrations": "registrations", "victims": "victims", "victims_minors": minor}
    names.update({f"victims_{g}": g for g in profile.groups})
    for series, label in names.items():
        entry = results["change"].get(series) or {}
        yoy, tr = entry.get("year_on_year"), entry.get("trend")
        rows.append(
            {
                "series": _series_label(label, lang, profile),
                "earlier": yoy["earlier"] if yoy else ".",
                "later": yoy["later"] if yoy else ".",
                "difference": yoy["difference"] if yoy else ".",
                "ratio": round(yoy["ratio"], 3) if yoy and yoy["ratio"] is not None else ".",
                "ratio_ci": _ci(yoy, "ratio_lower", "ratio_upper", lang),
                "p_value": _p_cell(yoy["p_value"]) if yoy else ".",
                "trend_rate_ratio": round(tr["rate_ratio_per_year"], 3) if tr else ".",
                "trend_ci": _ci(tr, "lower", "upper", lang),
                "trend_p_value": _p_cell(tr["p_value"]) if tr else ".",
                "trend_model": tr["method"] if tr else ".",
            }
        )
    frame = pd.DataFrame(rows).set_index("series")
    cols = {
        "series": Text("Series", "Reeks"),
        "earlier": Text("Previous year", "Vorig jaar"),
        "later": Text("Last year", "Laatste jaar"),
        "difference": Text("Difference", "Verschil"),
        "ratio": Text("Rate ratio", "Verhouding"),
        "ratio_ci": Text("95% interval", "95%-interval"),
        "p_value": Text("p-value", "p-waarde"),
        "trend_rate_ratio": Text("Trend: ratio per year", "Trend: verhouding per jaar"),
        "trend_ci": Text("Trend: 95% interval", "Trend: 95%-interval"),
        "trend_p_value": Text("Trend: p-value", "Trend: p-waarde"),
        "trend_model": Text("Trend: model", "Trend: model"),
    }
    return Table(
        key="change_over_time",
        title=Text("Change from the previous year and trend over the window",
                   "Verandering ten opzichte van het vorige jaar en trend over de periode"),
        frame=frame,
        source=Text("Computed from the published counts of this report.",
                    "Berekend uit de gepubliceerde aantallen van dit rapport."),
        note=Text("'.': not computed, because a count it needs is not published.",
                  "'.': niet berekend, omdat een benodigd aantal niet gepubliceerd is."),
        columns=cols,
    )  # fmt: skip


def _series_label(label: str, lang: str, profile: Profile) -> str:
    if label in _UNIT_TITLE:
        return _UNIT_TITLE[label](lang)
    return category_label(label, lang, profile)


def _ci(entry: dict[str, Any] | None, lo: str, hi: str, lang: str) -> str:
    if not entry or entry.get(lo) is None or entry.get(hi) is None:
        return "."
    return f"{_fmt(entry[lo], lang, 3)} – {_fmt(entry[hi], lang, 3)}"


def _charts(key: str, pub: Published, profile: Profile) -> tuple[Any, ...]:
    if key == "victims":
        return (
            pub.year_chart(
                "monitor_registrations_victims",
                Text("Registrations and victims per year", "Meldingen en slachtoffers per jaar"),
                {"registrations": ("reg_year_group", ""), "victims": ("vic_year_group", "")},
            ),
            pub.year_chart(
                "monitor_victims_by_group",
                Text("Victims per year by group", "Slachtoffers per jaar naar groep"),
                {g: ("vic_year_group", f"group={g}") for g in profile.groups},
            ),
        )
    if key == "help":
        return (
            help_chart(pub, "residence_status", "res",
                       Text("Help by residence status (%)", "Hulp naar verblijfsstatus (%)")),
            help_chart(pub, "age_band", "age",
                       Text("Help by age band (%)", "Hulp naar leeftijdsgroep (%)")),
        )  # fmt: skip
    if key == "people":
        return (
            pub.year_chart(
                "monitor_victims_by_age",
                Text("Victims per year by age band", "Slachtoffers per jaar naar leeftijdsgroep"),
                {a: ("vic_year_age", f"age_band={a}") for a in profile.age_bands.known},
            ),
        )
    return ()
