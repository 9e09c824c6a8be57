"""SDG indicator 16.2.2: victims of trafficking per 100,000 inhabitants, by year, sex and age.

The UN SDG metadata define the indicator as "Number of victims of human trafficking per
100,000 population, by sex, age and form of exploitation", computed as the number of victims
divided by the resident population, times 100,000. The monitor gives it for registered victims
(distinct persons per year) and for the multiple-systems estimate of all victims (with its 95%
interval divided by the same population), by year over the window and by sex and by age band
for the last year. Denominators come from the store's ``population_denominators`` table
(ingest kind ``population_denominators``).

Rates are derived from *published* counts only: a registered count that disclosure control
suppressed gives a rate with the same marker, and an estimate the hidden-number chapter does
not show gives no rate (``.``), so no rate reveals a count the report hides.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure.rules import NA_MARKER
from thbmonitor.engine import Store
from thbmonitor.monitor.labels import category_label
from thbmonitor.monitor.published import Published
from thbmonitor.monitor.tables import TOTAL
from thbmonitor.profiles import load_profile
from thbmonitor.report.model import Chapter, Table, Text
from thbmonitor.schema import POPULATION_AGE_BANDS, POPULATION_SEXES

__all__ = [
    "DEFINITION",
    "per_100k",
    "rate_cell",
    "read_denominators",
    "registered_cells",
    "sdg_chapter",
    "sdg_results",
]

log = logging.getLogger(__name__)

DEFINITION = (
    "Number of victims of human trafficking per 100,000 population, by sex, age and form of "
    "exploitation (UN SDG indicator 16.2.2)"
)
DECIMALS = 2
Cell = int | str  # a published count, or the marker shown instead of it

SOURCE = Text(
    "Registrations of presumed victims; thbmonitor MSE; resident population "
    "(population_denominators).",
    "Meldingen van mogelijke slachtoffers; thbmonitor MSE; bevolking (population_denominators).",
)


def per_100k(count: float, population: float) -> float:
    """``count * 100,000 / population`` (the SDG 16.2.2 rate)."""
    return count * 1e5 / population


def rate_cell(count: Cell | None, population: int | None) -> float | str:
    """The rate of a published count; a marker stays the same marker (no rate from a hidden
    count); no count or no population gives ``.`` (not available)."""
    if isinstance(count, str):
        return count
    if count is None or population is None or population <= 0:
        return NA_MARKER
    return round(per_100k(count, population), DECIMALS)


# ---- inputs ---------------------------------------------------------------------------------


def _display(pub: Published, key: str, **coords: str) -> Cell:
    """A cell as published: its count, or its marker (``.`` if the table was withheld)."""
    if key not in pub.published:
        return NA_MARKER
    frame = pub.protected(key).frame
    mask = pd.Series(True, index=frame.index)
    for d in pub.tables[key].table.dims:
        mask &= frame[d].astype(str) == str(coords.get(d, TOTAL))
    hit = frame.loc[mask, "display"]
    if len(hit) != 1:
        return NA_MARKER
    value = hit.iloc[0]
    return value if isinstance(value, str) else int(value)


def registered_cells(pub: Published, settings: Settings) -> dict[str, Any]:
    """Registered victims (distinct persons per year) as published: by year, and by sex and by
    age band in the last year. Values are counts or markers (JSON-ready)."""
    years = [str(y) for y in range(settings.window_first, settings.window_last + 1)]
    last = years[-1]
    return {
        "by_year": {y: _display(pub, "vic_year_group", year=y) for y in years},
        "last_year": last,
        "by_sex": {s: _display(pub, "vic_year_sex", year=last, sex=s) for s in POPULATION_SEXES},
        "by_age_band": {
            a: _display(pub, "vic_year_age", year=last, age_band=a) for a in POPULATION_AGE_BANDS
        },
        "by_group": {
            g: _display(pub, "vic_year_group", year=last, group=g)
            for g in load_profile(settings.profile).groups
        },
    }


def read_denominators(store: Store) -> pd.DataFrame:
    """The store's ``year, sex, age_band, population`` rows (empty if none were ingested)."""
    return store.df(
        "SELECT year, sex, age_band, population FROM population_denominators "
        "ORDER BY year, sex, age_band"
    )


def _population(den: pd.DataFrame, year: int, **where: str) -> int | None:
    """The population of a year (and sex or age band): None unless every cell of it is there."""
    rows = den[den["year"] == year]
    for col, value in where.items():
        rows = rows[rows[col] == value]
    sexes = [where["sex"]] if "sex" in where else list(POPULATION_SEXES)
    bands = [where["age_band"]] if "age_band" in where else list(POPULATION_AGE_BANDS)
    if len(rows) != len(sexes) * len(bands):
        return None
    return int(rows["population"].sum())


# ---- results --------------------------------------------------------------------------------


def _json_cell(count: Cell | None) -> tuple[int | None, str | None]:
    if isinstance(count, str):
        return None, count
    return count, None


def _rate_json(value: float | str) -> float | None:
    return value if isinstance(value, float) else None


def sdg_results(
    registered: dict[str, Any], hidden_by_year: dict[str, Any], denominators: pd.DataFrame
) -> dict[str, Any]:
    """The ``sdg_16_2_2`` entry of results.json from published figures and denominators.

    ``registered`` is :func:`registered_cells`; ``hidden_by_year`` the hidden-number chapter's
    published ``by_year`` (estimate, lower, upper, or None where not shown).
    """
    by_year: dict[str, Any] = {}
    for y, count in registered["by_year"].items():
        pop = _population(denominators, int(y))
        hidden = hidden_by_year.get(str(y)) or {}
        est, low, up = (hidden.get(k) for k in ("estimate", "lower", "upper"))
        shown = est is not None and low is not None and up is not None
        n, marker = _json_cell(count)
        by_year[str(y)] = {
            "population": pop,
            "registered": n,
            "registered_marker": marker,
            "registered_per_100k": _rate_json(rate_cell(count, pop)),
            "estimated": est if shown else None,
            "estimated_per_100k": _rate_json(rate_cell(est if shown else None, pop)),
            "estimated_lower_per_100k": _rate_json(rate_cell(low if shown else None, pop)),
            "estimated_upper_per_100k": _rate_json(rate_cell(up if shown else None, pop)),
        }
    last = int(registered["last_year"])
    strata: dict[str, Any] = {}
    for dim, cells in (("sex", registered["by_sex"]), ("age_band", registered["by_age_band"])):
        strata[dim] = {}
        for code, count in cells.items():
            pop = _population(denominators, last, **{dim: code})
            n, marker = _json_cell(count)
            strata[dim][code] = {
                "population": pop,
                "registered": n,
                "registered_marker": marker,
                "registered_per_100k": _rate_json(rate_cell(count, pop)),
            }
    strata["group"] = {}
    for code, count in registered.get("by_group", {}).items():
        pop = _population(denominators, last)
        n, marker = _json_cell(count)
        strata["group"][code] = {
            "population": pop,
            "registered": n,
            "registered_marker": marker,
            "registered_per_100k": _rate_json(rate_cell(count, pop)),
        }
    return {
        "definition": DEFINITION,
        "denominators": "population_denominators" if not denominators.empty else None,
        "by_year": by_year,
        "last_year": {
            "year": last,
            "by_sex": strata["sex"],
            "by_age_band": strata["age_band"],
            "by_form": strata["group"],
        },
        "note": (
            "Registered victims are distinct persons per year; estimated victims are the "
            "hidden-number chapter's yearly multiple-systems estimates with 95% intervals, "
            "divided by the same population. The chapter publishes no estimates by sex or age "
            "band, so those strata have registered rates only. Victims of unknown sex or age "
            "band count in the yearly rates but in no stratum. Rates by form of exploitation "
            "(the monitor's groups) divide by the whole population of the year."
        ),
    }


# ---- report ---------------------------------------------------------------------------------


def _year_table(registered: dict[str, Any], hidden: dict[str, Any], den: pd.DataFrame) -> Table:
    rows = []
    for y, count in registered["by_year"].items():
        pop = _population(den, int(y))
        h = hidden.get(str(y)) or {}
        est, low, up = (h.get(k) for k in ("estimate", "lower", "upper"))
        shown = est is not None and low is not None and up is not None
        rate_low, rate_up = rate_cell(low, pop), rate_cell(up, pop)
        interval: Any = (
            (rate_low, rate_up)
            if shown and isinstance(rate_low, float) and isinstance(rate_up, float)
            else NA_MARKER
        )
        rows.append(
            {
                "year": y,
                "population": pop if pop is not None else NA_MARKER,
                "registered": count,
                "registered_per_100k": rate_cell(count, pop),
                "estimated": est if shown else NA_MARKER,
                "estimated_per_100k": rate_cell(est if shown else None, pop),
                "interval_per_100k": interval,
            }
        )
    return Table(
        "sdg_16_2_2_by_year",
        Text(
            "Victims per 100,000 inhabitants (SDG 16.2.2)",
            "Slachtoffers per 100.000 inwoners (SDG 16.2.2)",
        ),
        pd.DataFrame(rows),
        SOURCE,
        note=Text(
            "Registered: distinct persons per year. Estimated: multiple-systems estimate of all "
            "victims (hidden-number chapter); the 95% interval is the estimate's interval "
            "divided by the same population. A rate is never computed from a suppressed count.",
            "Geregistreerd: unieke personen per jaar. Geschat: meervoudige systeemschatting van "
            "alle slachtoffers (hoofdstuk verborgen aantallen); het 95%-interval is dat van de "
            "schatting gedeeld door dezelfde bevolking. Een cijfer per 100.000 wordt nooit uit "
            "een onderdrukt aantal berekend.",
        ),
        columns={
            "year": Text("Year", "Jaar"),
            "population": Text("Population", "Bevolking"),
            "registered": Text("Registered victims", "Geregistreerde slachtoffers"),
            "registered_per_100k": Text("Registered per 100,000", "Geregistreerd per 100.000"),
            "estimated": Text("Estimated victims", "Geschatte slachtoffers"),
            "estimated_per_100k": Text("Estimated per 100,000", "Geschat per 100.000"),
            "interval_per_100k": Text("95% interval per 100,000", "95%-interval per 100.000"),
        },
        decimals={"registered_per_100k": DECIMALS, "estimated_per_100k": DECIMALS,
                  "interval_per_100k": DECIMALS},
    )  # fmt: skip


def _strata_table(registered: dict[str, Any], den: pd.DataFrame, lang: str) -> Table:
    last = int(registered["last_year"])
    rows = []
    strata = (
        ("sex", registered["by_sex"]),
        ("age_band", registered["by_age_band"]),
        ("group", registered.get("by_group", {})),
    )
    for dim, cells in strata:
        for code, count in cells.items():
            # a form of exploitation has no population of its own: the whole population
            where = {} if dim == "group" else {dim: code}
            pop = _population(den, last, **where)
            rows.append(
                {
                    "group": category_label(code, lang),
                    "population": pop if pop is not None else NA_MARKER,
                    "registered": count,
                    "registered_per_100k": rate_cell(count, pop),
                }
            )
    return Table(
        "sdg_16_2_2_by_sex_age",
        Text(
            f"Registered victims per 100,000 inhabitants by sex, age band and form of "
            f"exploitation, {last}",
            f"Geregistreerde slachtoffers per 100.000 inwoners naar geslacht, leeftijd en "
            f"uitbuitingsvorm, {last}",
        ),
        pd.DataFrame(rows),
        SOURCE,
        note=Text(
            "Victims of unknown sex or age band are in no row of those; rates by form of "
            "exploitation divide by the whole population. The hidden-number chapter publishes "
            "no estimates by sex or age band.",
            "Slachtoffers met onbekend geslacht of onbekende leeftijd staan in geen van die "
            "rijen; cijfers per uitbuitingsvorm delen door de hele bevolking. Het hoofdstuk "
            "verborgen aantallen publiceert geen schattingen naar geslacht of leeftijd.",
        ),
        columns={
            "group": Text("Sex / age band / form", "Geslacht / leeftijdsgroep / vorm"),
            "population": Text("Population", "Bevolking"),
            "registered": Text("Registered victims", "Geregistreerde slachtoffers"),
            "registered_per_100k": Text("Registered per 100,000", "Geregistreerd per 100.000"),
        },
        decimals={"registered_per_100k": DECIMALS},
    )


def sdg_chapter(
    store: Store,
    settings: Settings,
    registered: dict[str, Any],
    hidden_number: dict[str, Any],
) -> tuple[Chapter | None, dict[str, Any]]:
    """The SDG 16.2.2 chapter and its results.json entry ``sdg_16_2_2``.

    ``registered`` is :func:`registered_cells` (the monitor's published counts) and
    ``hidden_number`` the hidden-number chapter's results. Without denominators in the store
    there is no chapter, and the entry says so.
    """
    if not registered.get("by_year"):
        return None, {"definition": DEFINITION, "note": "no published registered counts"}
    den = read_denominators(store)
    hidden = hidden_number.get("by_year") or {}
    results = sdg_results(registered, hidden, den)
    if den.empty:
        log.info("sdg 16.2.2: no population denominators in the store; no rates")
        results["note"] = "no population denominators were ingested; no rates"
        return None, results
    tables = (
        _year_table(registered, hidden, den),
        _strata_table(registered, den, settings.language),
    )
    chapter = Chapter(
        key="sdg_16_2_2",
        title=Text(
            "Victims per 100,000 inhabitants (SDG 16.2.2)",
            "Slachtoffers per 100.000 inwoners (SDG 16.2.2)",
        ),
        intro=Text(
            "The UN Sustainable Development Goals indicator 16.2.2: victims of trafficking in "
            "human beings per 100,000 inhabitants, registered and estimated.",
            "Indicator 16.2.2 van de duurzame ontwikkelingsdoelen van de VN: slachtoffers van "
            "mensenhandel per 100.000 inwoners, geregistreerd en geschat.",
        ),
        method=Text(
            f"{DEFINITION}: victims x 100,000 / resident population of the same year (and sex or "
            "age band). Rates are computed from published counts only; a suppressed count "
            "gives a suppressed rate with the same marker.",
            "Aantal slachtoffers van mensenhandel per 100.000 inwoners (VN-indicator 16.2.2): "
            "slachtoffers x 100.000 / bevolking van hetzelfde jaar (en geslacht of "
            "leeftijdsgroep). Alleen gepubliceerde aantallen worden gebruikt; een onderdrukt "
            "aantal geeft een onderdrukt cijfer met hetzelfde teken.",
        ),
        tables=tables,
    )
    return chapter, results
