"""The hidden-number chapter: multiple systems estimation on the linked persons' histories.

The yearly series comes from one log-linear model over the histories of all years with
list-by-year and list-by-covariate interactions (form of exploitation, age band, nationality
group; :mod:`thbmonitor.mse.yearly`), because catchability differs between those groups and a
model per year on the pooled histories is biased by it. The forms of exploitation are the
same model's estimates summed over the window's years (person-years). If that model cannot be
fitted, covariates are dropped one at a time, and as a last resort each year is fitted alone
(:func:`estimate_by_stratum`); the method text says what was fitted. The observed counts behind
every estimate go through the release's disclosure control: an estimate whose observed count
is suppressed is not shown either. For the last year of the window the models are shown side
by side with the heterogeneity models (sensitivity), and at other linkage thresholds
(:mod:`thbmonitor.mse.linkage_sensitivity`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Release
from thbmonitor.engine import Store
from thbmonitor.errors import EstimationError
from thbmonitor.mse.estimator import MultipleSystemsEstimator, fit_settings
from thbmonitor.mse.heterogeneity import sensitivity_table
from thbmonitor.mse.linkage_propagation import METHOD_SENTENCE as PROPAGATED_SENTENCE
from thbmonitor.mse.linkage_propagation import Propagated, propagate_linkage
from thbmonitor.mse.linkage_sensitivity import METHOD_SENTENCE, linkage_rows, linkage_table
from thbmonitor.mse.results import records
from thbmonitor.mse.series import (
    MIN_LEVEL,
    YEARLY_COVARIATES,
    YearlySeries,
    estimate_series,
    group_series,
)
from thbmonitor.mse.strata import estimate_by_stratum
from thbmonitor.mse.table import CaptureTable
from thbmonitor.report.model import Chapter, Chart, Headline, Table, Text
from thbmonitor.store import resolve_window

log = logging.getLogger(__name__)

Protect = Callable[[Sequence[CountTable]], Release]


SOURCE = Text(
    "Linked registrations of presumed victims by reporting organisation; thbmonitor MSE.",
    "Gekoppelde meldingen van mogelijke slachtoffers per meldende organisatie; thbmonitor MSE.",
)
METHOD = Text(
    en=(
        "Multiple systems estimation (capture-recapture) treats each reporting organisation "
        "as a list. For each year, the distinct victims' capture histories are fitted by "
        "Poisson log-linear models; the model is chosen by {method} (two-list interactions, "
        "p-value threshold {pthresh} for stepwise selection, after Chan, Silverman & Vincent "
        "2021), after checking that its maximum-likelihood estimate exists and is "
        "identifiable. Intervals are 95% profile-likelihood intervals given the model{boot}. "
        "The estimate assumes a closed population within the year and that list dependence is "
        "captured by the interactions; the sensitivity table shows how much the answer depends "
        "on that choice, including models for heterogeneous catchability (Chao's lower bound, "
        "Darroch's Mh)."
    ),
    nl=(
        "Meervoudige systeemschatting (vangst-hervangst) behandelt elke meldende organisatie "
        "als een lijst. Per jaar worden de vangstpatronen van de unieke slachtoffers met "
        "Poisson log-lineaire modellen beschreven; het model wordt gekozen met {method} "
        "(interacties tussen twee lijsten, p-waardegrens {pthresh} bij stapsgewijze selectie, "
        "naar Chan, Silverman & Vincent 2021), nadat is nagegaan dat de "
        "meest-aannemelijke schatting bestaat en identificeerbaar is. Intervallen zijn 95%-"
        "profiel-likelihoodintervallen gegeven het model{boot}. De schatting veronderstelt een "
        "gesloten populatie binnen het jaar en dat afhankelijkheid tussen lijsten door de "
        "interacties wordt gevangen; de gevoeligheidstabel laat zien hoeveel het antwoord van "
        "die keuze afhangt, ook met modellen voor heterogene vangstkans (Chao, Darroch Mh)."
    ),
)

COVARIATE_NAMES = {
    "monitor_group": ("form of exploitation", "vorm van uitbuiting"),
    "age_band": ("age band", "leeftijdsgroep"),
    "nationality_group": ("nationality group", "nationaliteitsgroep"),
    "sex": ("sex", "geslacht"),
}
YEARLY_METHOD = Text(
    en=(
        "Multiple systems estimation (capture-recapture) treats each reporting organisation "
        "as a list. The distinct victims' capture histories of all years are fitted together "
        "by one Poisson log-linear model in which every list has its own effect in every year "
        "and in every level of {covs} (list-by-covariate interactions, as in the Dutch "
        "estimates of Cruyff et al. and their R package mse): the chance to be registered "
        "differs between these groups, and pooling them would bias the estimate. Every "
        "combination of year and {covs} has its own size; combinations in which nobody was "
        "registered add no hidden victims. Interactions between two lists, the same in all "
        "years and groups, are chosen on this model by {selection}; a model is only used if its "
        "maximum-likelihood estimate exists (Fienberg-Rinaldo check) and converges. Selected: "
        "{model}.{shared} A year's estimate "
        "is the sum over its combinations, a form of exploitation's the sum over the "
        "person-years of {first}-{last}; the 95% intervals are log-normal from the delta "
        "method with the model's joint covariance, given the model. The estimate assumes a "
        "closed population within the year and that list dependence is captured by the "
        "interactions. The sensitivity table fits the last year alone, without covariates, "
        "side by side with models for heterogeneous catchability (Chao's lower bound, "
        "Darroch's Mh){boot}."
    ),
    nl=(
        "Meervoudige systeemschatting (vangst-hervangst) behandelt elke meldende organisatie "
        "als een lijst. De vangstpatronen van de unieke slachtoffers van alle jaren worden "
        "samen beschreven met een Poisson log-lineair model waarin elke lijst een eigen "
        "effect heeft in elk jaar en in elke categorie van {covs} (interacties tussen lijst "
        "en covariaat, zoals in de Nederlandse schattingen van Cruyff e.a. en hun R-pakket "
        "mse): de kans om geregistreerd te worden verschilt tussen deze groepen, en ze "
        "samennemen zou de schatting vertekenen. Elke combinatie van jaar en {covs} heeft "
        "een eigen omvang; combinaties waarin niemand geregistreerd is, voegen geen "
        "verborgen slachtoffers toe. Interacties tussen twee lijsten, gelijk in alle jaren en "
        "groepen, worden op dit model gekozen met {selection}; een model wordt alleen gebruikt "
        "als de meest-aannemelijke schatting bestaat (toets van Fienberg en Rinaldo) en "
        "convergeert. Gekozen: {model}.{shared} De "
        "schatting van een jaar is de som over zijn combinaties, die van een vorm van "
        "uitbuiting de som over de persoonsjaren {first}-{last}; de 95%-intervallen zijn "
        "log-normaal volgens de deltamethode met de gezamenlijke covariantie van het model, "
        "gegeven het model. De schatting veronderstelt een gesloten populatie binnen het jaar "
        "en dat afhankelijkheid tussen lijsten door de interacties wordt gevangen. De "
        "gevoeligheidstabel schat het laatste jaar apart, zonder covariaten, naast modellen "
        "voor heterogene vangstkans (Chao, Darroch Mh){boot}."
    ),
)
SELECTION = {
    "stepwise": (
        "forward selection with a Poisson p-value threshold of {pthresh} (the test of "
        "Chan, Silverman & Vincent 2021)",
        "voorwaartse selectie met p-waardegrens {pthresh} (de toets van Chan, Silverman & "
        "Vincent 2021)",
    ),
    "bic": ("forward selection by BIC", "voorwaartse selectie op BIC"),
    "aic": (
        "forward selection by AIC (the last stage of Cruyff's model_search)",
        "voorwaartse selectie op AIC (de laatste stap van Cruyffs model_search)",
    ),
    "main": (
        "none (lists independent given year and covariates)",
        "geen (lijsten onafhankelijk gegeven jaar en covariaten)",
    ),
}


def _histories(store: Store) -> tuple[pd.DataFrame, list[str]]:
    from thbmonitor.linkage import capture_histories
    from thbmonitor.linkage.capture import store_lists

    frame = capture_histories(store, covariates=("year", *YEARLY_COVARIATES))
    lists = [c for c in store_lists(store) if c in frame.columns]
    return frame, lists


def _protected_observed(
    protect: Protect, series: pd.DataFrame, by: str, universe: str
) -> pd.Series:
    """The observed count of each stratum as published (None where suppressed)."""
    cells = series[[by, "observed"]].rename(columns={"observed": "count"})
    table = CountTable.from_cells(
        f"hidden_number_observed_{by}", cells, [by], universe=universe, margins=()
    )
    published = protect([table])[table.name].published_counts()
    return published.set_index(by)["count"]


def _series_table(
    key: str, title: Text, series: pd.DataFrame, by: str, shown: pd.Series, label: Text
) -> tuple[Table, pd.DataFrame]:
    rows = []
    for _, r in series.iterrows():
        observed = shown.get(r[by])
        ok = observed is not None and not pd.isna(observed) and r["status"] == "ok"
        rows.append(
            {
                by: r[by],
                "observed": int(observed)
                if observed is not None and not pd.isna(observed)
                else "x",
                "estimate": round(r["estimate"]) if ok else ".",
                "lower": round(r["lower"]) if ok and np.isfinite(r["lower"]) else ".",
                "upper": round(r["upper"]) if ok and np.isfinite(r["upper"]) else ".",
                "model": r["model"] if ok else ".",
            }
        )
    frame = pd.DataFrame(rows)
    columns = {
        by: label,
        "observed": Text("Registered (distinct persons)", "Geregistreerd (unieke personen)"),
        "estimate": Text("Estimated total", "Geschat totaal"),
        "lower": Text("95% lower", "95% onder"),
        "upper": Text("95% upper", "95% boven"),
        "model": Text("Model (interactions)", "Model (interacties)"),
    }
    table = Table(key, title, frame, SOURCE, columns=columns)
    return table, frame


def _bayes_rows(table: CaptureTable, seed: int | None) -> list[dict[str, Any]]:
    """LCMCR (latent classes, K = 10; 10,000 burn-in, 2,000 draws thinned by 20, longer than
    LCMCR's defaults, which mixed too slowly on the synthetic world's years) and dga (model
    averaging over decomposable graphs, 3-5 lists) on the last year, for the sensitivity
    table."""
    from thbmonitor.mse.dga import fit_dga
    from thbmonitor.mse.lcmcr import fit_lcmcr

    rows: list[dict[str, Any]] = []
    fits = (
        (
            "lcmcr",
            "latent classes (K = 10)",
            lambda: fit_lcmcr(table, samples=2000, burnin=10000, thin=20, seed=seed or 0),
        ),
        ("dga", "average over decomposable graphs", lambda: fit_dga(table)),
    )
    for method, model, fit in fits:
        try:
            res = fit()
        except EstimationError as exc:
            log.warning("no %s estimate for the sensitivity table: %s", method, exc)
            continue
        iv = res.interval
        warning = getattr(res, "warning", None)  # the sampler's convergence (lcmcr)
        if warning:
            log.warning("lcmcr in the sensitivity table: %s", warning)
        rows.append(
            {
                "method": method,
                "model": model,
                "estimate": res.estimate,
                "lower": iv.lower,
                "upper": iv.upper,
                "interval_method": "posterior (credible)"
                + ("; the sampler may not have converged" if warning else ""),
            }
        )
    return rows


def _sensitivity(
    collapsed: CaptureTable,
    settings: Settings,
    year: int,
    series: YearlySeries,
    propagated: Propagated | None = None,
) -> Table:
    found = sensitivity_table(
        collapsed, maxorder=settings.mse_maxorder, pthresh=settings.mse_pthresh
    )
    if series.fit is not None:
        row = series.fit.by_year[series.fit.by_year["year"] == year]
        if not row.empty:
            covs = ", ".join(series.fit.covariates) or "year"
            extra = {
                "method": "covariates",
                "model": f"{' + '.join(series.fit.model) or 'main effects'} | lists x (year, "
                f"{covs})",
                "estimate": float(row["estimate"].iloc[0]),
                "lower": float(row["lower"].iloc[0]),
                "upper": float(row["upper"].iloc[0]),
                "interval_method": series.fit.interval_method,
            }
            found = pd.concat([pd.DataFrame([extra]), found], ignore_index=True)
    found = pd.concat([found, pd.DataFrame(_bayes_rows(collapsed, settings.seed))])
    if propagated is not None:
        found = pd.concat(
            [
                found,
                pd.DataFrame(
                    [
                        {
                            "method": "linkage-propagated",
                            "model": f"{settings.mse_method}, per linkage draw",
                            "estimate": propagated.estimate,
                            "lower": propagated.lower,
                            "upper": propagated.upper,
                            "interval_method": f"multiple imputation ({propagated.draws} "
                            "linkages), Rubin",
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
    found = found.reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "method": found["method"],
            "model": found["model"],
            "estimate": found["estimate"].round(0),
            "lower": found["lower"].round(0),
            "upper": found["upper"].round(0),
            "interval": found["interval_method"],
        }
    )
    return Table(
        "hidden_number_sensitivity",
        Text(
            f"Hidden number {year}: models side by side (sensitivity)",
            f"Verborgen aantal {year}: modellen naast elkaar (gevoeligheid)",
        ),
        frame,
        SOURCE,
        note=Text(
            "covariates: the model of the yearly series (all years, list-by-covariate "
            "interactions); the other rows fit this year alone without covariates. main: "
            "independence of lists; stepwise, bic, aic: model selection; heterogeneity: "
            "models for catchability that differs between persons; lcmcr: Bayesian latent "
            "classes of persons with their own catchability (as R's LCMCR); dga: Bayesian "
            "average over decomposable models (as R's dga); linkage-propagated: the "
            "selected model over linkages drawn from the match probabilities.",
            "covariates: het model van de jaarreeks (alle jaren, interacties tussen lijst en "
            "covariaat); de andere rijen schatten dit jaar apart zonder covariaten. main: "
            "onafhankelijke lijsten; stepwise, bic, aic: modelselectie; heterogeneity: "
            "modellen voor vangstkansen die tussen personen verschillen; lcmcr: Bayesiaanse "
            "latente klassen van personen met een eigen vangstkans (zoals R's LCMCR); dga: "
            "Bayesiaans gemiddelde over decomposeerbare modellen (zoals R's dga); "
            "linkage-propagated: het gekozen model over koppelingen getrokken volgens de "
            "koppelkansen.",
        ),
        columns={
            "method": Text("Method", "Methode"),
            "model": Text("Model", "Model"),
            "estimate": Text("Estimated total", "Geschat totaal"),
            "lower": Text("95% lower", "95% onder"),
            "upper": Text("95% upper", "95% boven"),
            "interval": Text("Interval", "Interval"),
        },
        legend=False,
    )


def report_chapter(
    store: Store, settings: Settings, protect: Protect
) -> tuple[Chapter, dict[str, Any]]:
    """The hidden-number chapter and the results.json entry ``hidden_number``."""
    settings = resolve_window(store, settings)
    histories, lists = _histories(store)
    fit = fit_settings(settings)
    table = CaptureTable.from_frame(histories, lists=lists, covariates=["year", *YEARLY_COVARIATES])
    series = estimate_series(table, seed=settings.seed, **fit)
    by_year = series.by_year
    first, last = settings.window_first, settings.window_last
    if series.fit is not None and "monitor_group" in series.fit.covariates:
        by_group = group_series(series.fit, first, last)
    else:
        in_window = (table.covariates["year"] >= first) & (table.covariates["year"] <= last)
        window = table.subset(in_window.to_numpy())
        by_group = estimate_by_stratum(window, "monitor_group", seed=settings.seed, **fit)

    shown_year = _protected_observed(protect, by_year, "year", "capture_persons_year")
    shown_group = _protected_observed(
        protect, by_group, "monitor_group", f"capture_person_years_{first}_{last}"
    )
    year_table, year_frame = _series_table(
        "hidden_number_by_year",
        Text(
            "Registered and estimated victims per year",
            "Geregistreerde en geschatte slachtoffers per jaar",
        ),
        by_year,
        "year",
        shown_year,
        Text("Year", "Jaar"),
    )
    group_table, _ = _series_table(
        "hidden_number_by_group",
        Text(
            f"Registered and estimated victims by form of exploitation, {first}-{last}",
            f"Geregistreerde en geschatte slachtoffers per vorm van uitbuiting, {first}-{last}",
        ),
        by_group,
        "monitor_group",
        shown_group,
        Text("Form of exploitation", "Vorm van uitbuiting"),
    )

    tables = [year_table, group_table]
    last_year = table.subset((table.covariates["year"] == last).to_numpy()).collapse()
    overall: dict[str, Any] = {}
    estimator: MultipleSystemsEstimator | None = None
    propagated: Propagated | None = None
    try:
        estimator = MultipleSystemsEstimator(
            bootstrap=settings.mse_bootstrap, seed=settings.seed, **fit
        ).fit(last_year)
        overall = estimator.to_dict()
        propagated = propagate_linkage(store, settings, last)
        tables.append(_sensitivity(last_year, settings, last, series, propagated))
    except EstimationError as exc:
        overall = {"error": str(exc)}
    link_table, by_linkage = linkage_table(
        linkage_rows(store, settings, last, last_year, estimator), last, protect
    )
    tables.append(link_table)

    chart = _chart(year_frame)
    headlines = []
    latest = year_frame[year_frame["year"] == last]
    if not latest.empty and _shown(latest["estimate"].iloc[0]):
        est, obs = int(latest["estimate"].iloc[0]), latest["observed"].iloc[0]
        low, high = latest["lower"].iloc[0], latest["upper"].iloc[0]

        def nl(number: int) -> str:
            return f"{number:,}".replace(",", ".")

        obs_en = f"{obs:,}" if _shown(obs) else "fewer than the threshold"
        obs_nl = nl(obs) if _shown(obs) else "te weinig"
        band_en = f" (95% interval {low:,}–{high:,})" if _shown(low) and _shown(high) else ""
        band_nl = f" (95%-interval {nl(low)}–{nl(high)})" if band_en else ""
        headlines.append(
            Headline(
                "key_findings.hidden_number_estimate",
                Text(
                    f"An estimated {{value}} victims in {last}{band_en}, of whom {obs_en} were "
                    "registered.",
                    f"Naar schatting {{value}} slachtoffers in {last}{band_nl}, van wie er "
                    f"{obs_nl} geregistreerd zijn.",
                ),
                est,
            )
        )
    method = _method_text(settings, series, first, last)
    method = Text(f"{method.en} {METHOD_SENTENCE.en}", f"{method.nl} {METHOD_SENTENCE.nl}")
    if propagated is not None:
        method = Text(
            f"{method.en} {PROPAGATED_SENTENCE.en.format(draws=propagated.draws)}",
            f"{method.nl} {PROPAGATED_SENTENCE.nl.format(draws=propagated.draws)}",
        )
    chapter = Chapter(
        key="hidden_number",
        title=Text(
            "Hidden numbers: victims never registered",
            "Verborgen aantallen: nooit geregistreerde slachtoffers",
        ),
        intro=Text(
            "How many victims are there in all, registered or not? Estimated from the overlap "
            "between the reporting organisations.",
            "Hoeveel slachtoffers zijn er in totaal, geregistreerd of niet? Geschat uit de "
            "overlap tussen de meldende organisaties.",
        ),
        method=method,
        headlines=tuple(headlines),
        tables=tuple(tables),
        charts=(chart,),
    )
    results = {
        "key_findings": {h.key.split(".", 1)[1]: h.value for h in headlines},
        "lists": lists,
        "method": series.fit.method if series.fit is not None else settings.mse_method,
        "single_year_method": settings.mse_method,
        "by_year": _published_series(year_frame, "year"),
        "by_group": _published_series(group_table.frame, "monitor_group"),
        "last_year": {"year": last, **_clean(overall)},
        "yearly_model": _model_entry(series),
        "linkage_sensitivity": by_linkage,
        "linkage_propagated": None if propagated is None else propagated.to_dict(),
    }
    return chapter, results


def _method_text(settings: Settings, series: YearlySeries, first: int, last: int) -> Text:
    if series.fit is None:
        boot = (
            f"; the last year also with a BCa bootstrap of {settings.mse_bootstrap} replicates "
            "that repeats the model selection"
            if settings.mse_bootstrap
            else ""
        )
        boot_nl = (
            f"; het laatste jaar ook met een BCa-bootstrap van {settings.mse_bootstrap} herhalingen"
            if settings.mse_bootstrap
            else ""
        )
        return Text(
            METHOD.en.format(method=settings.mse_method, pthresh=settings.mse_pthresh, boot=boot),
            METHOD.nl.format(
                method=settings.mse_method, pthresh=settings.mse_pthresh, boot=boot_nl
            ),
        )
    fit = series.fit
    names = [COVARIATE_NAMES.get(c, (c, c)) for c in fit.covariates]
    covs_en = _join([n[0] for n in names], "and") if names else "no further covariate"
    covs_nl = _join([n[1] for n in names], "en") if names else "geen verdere covariaat"
    sel_en, sel_nl = SELECTION[fit.method]
    model = " + ".join(fit.model) or "main effects"
    boot = (
        f", the last year alone also with a BCa bootstrap of {settings.mse_bootstrap} "
        "replicates (results.json)"
        if settings.mse_bootstrap
        else ""
    )
    boot_nl = (
        f", het laatste jaar apart ook met een BCa-bootstrap van {settings.mse_bootstrap} "
        "herhalingen (results.json)"
        if settings.mse_bootstrap
        else ""
    )
    shared = ", ".join(fit.shared_levels)
    shared_en = (
        f" Levels with fewer than {MIN_LEVEL} registered persons ({shared}) share the list "
        "effects of their covariate's largest level."
        if shared
        else ""
    )
    shared_nl = (
        f" Categorieën met minder dan {MIN_LEVEL} geregistreerde personen ({shared}) delen de "
        "lijsteffecten van de grootste categorie van hun covariaat."
        if shared
        else ""
    )
    common = {"model": model, "first": first, "last": last}
    return Text(
        YEARLY_METHOD.en.format(
            covs=covs_en,
            selection=sel_en.format(pthresh=settings.mse_pthresh),
            boot=boot,
            shared=shared_en,
            **common,
        ),
        YEARLY_METHOD.nl.format(
            covs=covs_nl,
            selection=sel_nl.format(pthresh=settings.mse_pthresh),
            boot=boot_nl,
            shared=shared_nl,
            **common,
        ).replace("main effects", "hoofdeffecten"),
    )


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _model_entry(series: YearlySeries) -> dict[str, Any]:
    """The yearly series' model for results.json."""
    if series.fit is None:
        return {"kind": "per year, no covariates", "note": series.note}
    fit = series.fit
    return {
        "kind": "all years, list x year and list x covariate interactions",
        "covariates": list(fit.covariates),
        "interactions": list(fit.model),
        "selection": fit.method,
        "interval": fit.interval_method,
        "path": records(fit.path),
        "note": series.note,
    }


def _shown(value: Any) -> bool:
    """Whether a table cell holds a number (not a marker)."""
    return isinstance(value, int | np.integer)


def _published_series(frame: pd.DataFrame, by: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _, r in frame.iterrows():
        out[str(r[by])] = {
            k: (int(r[k]) if _shown(r[k]) else None)
            for k in ("observed", "estimate", "lower", "upper")
        } | {"model": r["model"] if r["model"] != "." else None}
    return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """The estimator's dict, JSON-safe (the models table as records)."""
    out = dict(d)
    if isinstance(out.get("models"), pd.DataFrame):
        out["models"] = records(out["models"])
    return out


def _chart(frame: pd.DataFrame) -> Chart:
    rows = []
    for _, r in frame.iterrows():
        x = float(r["year"])
        obs = r["observed"] if _shown(r["observed"]) else np.nan
        rows.append({"x": x, "series": "registered", "y": obs, "lower": np.nan, "upper": np.nan})
        ok = _shown(r["estimate"])
        rows.append(
            {
                "x": x,
                "series": "estimated",
                "y": r["estimate"] if ok else np.nan,
                "lower": r["lower"] if ok and _shown(r["lower"]) else np.nan,
                "upper": r["upper"] if ok and _shown(r["upper"]) else np.nan,
            }
        )
    return Chart(
        "hidden_number_series",
        Text(
            "Registered and estimated victims per year",
            "Geregistreerde en geschatte slachtoffers per jaar",
        ),
        pd.DataFrame(rows),
        kind="line",
        x_label=Text("Year", "Jaar"),
        y_label=Text("Victims", "Slachtoffers"),
        series_labels={
            "registered": Text("Registered", "Geregistreerd"),
            "estimated": Text("Estimated (95% interval)", "Geschat (95%-interval)"),
        },
    )
