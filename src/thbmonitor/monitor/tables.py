"""The monitor's tables as true counts with margins (before disclosure control).

:func:`build_tables` returns one :class:`MonitorTable` per published table. Each wraps a
:class:`thbmonitor.disclosure.CountTable` (long form: one row per cell, margins labelled
``Total``) whose *universe* names the counting unit and the window, e.g.
``"victims 2016-2020"``, so that cells shared by several tables of a release (the same
population and coordinates) are audited as one cell, and tables of another window never are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Relations
from thbmonitor.disclosure.merge import Merge, merge_tables, small_cells
from thbmonitor.engine import Store
from thbmonitor.errors import ConfigError, InputError
from thbmonitor.monitor.units import HELP_MEASURES, count_cells, top_nationalities, unit_tables
from thbmonitor.profiles import Profile, load_profile
from thbmonitor.report.model import Text
from thbmonitor.store import resolve_window

__all__ = [
    "PEOPLE_DIMS",
    "TOP_NATIONALITIES",
    "MonitorTable",
    "build_release",
    "build_tables",
    "categories",
]

TOTAL = "Total"
TOP_NATIONALITIES = 10
PEOPLE_DIMS: tuple[str, ...] = (
    "sex",
    "age_band",
    "nationality_group",
    "residence_status",
    "region",
)
HELP_DIMS: tuple[str, ...] = ("residence_status", "region", "age_band")
ANSWERS: tuple[str, ...] = ("yes", "no", "unknown")
YEARS_REGISTERED: tuple[str, ...] = ("2+",)

UNIT_TEXT: dict[str, Text] = {
    "registrations": Text("registrations", "meldingen"),
    "victims": Text("victims (distinct persons per year)",
                    "slachtoffers (unieke personen per jaar)"),
    "persons": Text("victims (distinct persons in the window)",
                    "slachtoffers (unieke personen in de periode)"),
}  # fmt: skip


@dataclass(frozen=True)
class MonitorTable:
    """One table of the monitor: true counts with margins and how to show it."""

    key: str  # table name (CSV stem / sheet name, at most 31 characters)
    chapter: str  # key of the chapter it belongs to
    unit: str  # registrations | victims | persons
    rows: tuple[str, ...]  # dimensions shown as rows
    columns: str  # dimension shown as columns
    table: CountTable = field(repr=False)
    merges: tuple[Merge, ...] = ()  # the category merges made in this table (method text)
    # cell-key method: the inner cells' sums of record keys (dims + key_sum), else None
    key_sums: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """Long form: dimension columns and ``count``, margins labelled ``Total``."""
        return self.table.frame

    def count(self, **coords: str) -> int:
        """The true count of one cell (unnamed dimensions are their Total)."""
        f = self.table.frame
        mask = pd.Series(True, index=f.index)
        for d in self.table.dims:
            mask &= f[d].astype(str) == str(coords.get(d, TOTAL))
        hit = f.loc[mask, self.table.count]
        if len(hit) != 1:
            raise KeyError(f"no single cell {coords} in table '{self.key}'")
        return int(hit.iloc[0])


def categories(
    settings: Settings, top: Sequence[str] = (), profile: Profile | None = None
) -> dict[str, list[str]]:
    """The full category list of every dimension (so that true zeros are shown), from the
    country profile (default: the settings' profile)."""
    p = profile or load_profile(settings.profile)
    return {
        "year": [str(y) for y in range(settings.window_first, settings.window_last + 1)],
        "group": list(p.groups),
        "sex": list(p.field_codes("sex")),
        "age_band": list(p.age_bands.codes),
        "nationality_group": list(p.nationality.groups),
        "nationality": [*top, "other"],
        "residence_status": list(p.field_codes("residence_status")),
        "reporting_organisation": list(p.field_codes("reporting_organisation")),
        "sector": list(p.field_codes("sector")),
        "region": [*p.region_order, p.region_unknown],
        "years_registered": list(YEARS_REGISTERED),
        **{m: list(ANSWERS) for m in HELP_MEASURES},
    }


# How costly it is to hide a cell as a complement (disclosure.CountTable.cost_weights):
# unknown / other categories are offered first, the minors band (the spotlight of the monitor)
# and every total (yearly totals, group totals) are kept published unless nothing else works.
CHEAP = 0.2
COSTLY = 20.0


@dataclass(frozen=True)
class _Vocabulary:
    """What the tables take from the profile beyond the category lists."""

    # per dimension, the category that takes values outside the code list
    unknown_of: dict[str, str]
    # the categories that say "not known" (CountTable.unknown): under the setting
    # disclosure_unknown_primary = false their small counts are shown. "other" categories (a
    # group, an organisation, a nationality outside the largest) are real categories and stay
    # sensitive.
    not_known: dict[str, str]
    cost_of: dict[str, dict[str, float]]
    # categories in one cell of the other dimension by definition (CountTable.structural)
    structural: Mapping[frozenset[str], Mapping[str, Sequence[str]]]
    # the known sexes (women and men per year are headline figures: see _sex_headline)
    known_sexes: tuple[str, ...] = ()
    # the sector codes 'other' and 'unknown', which a release may merge (see _merges)
    sector_other_unknown: tuple[str, str] | None = None


def _vocabulary(p: Profile) -> _Vocabulary:
    sex, res, org, sector = (
        p.code_lists[p.field_lists[f]]
        for f in ("sex", "residence_status", "reporting_organisation", "sector")
    )

    def given(pairs: dict[str, str | None]) -> dict[str, str]:
        return {d: c for d, c in pairs.items() if c is not None}

    unknown_of = given(
        {
            "group": p.group_default,
            "sex": sex.unknown,
            "age_band": p.age_bands.unknown,
            "nationality_group": p.nationality.unknown,
            "residence_status": res.unknown,
            "reporting_organisation": org.other,
            "sector": sector.unknown,
            "region": p.region_unknown,
            "nationality": "other",
        }
    )
    not_known = given(
        {
            "sex": sex.unknown,
            "age_band": p.age_bands.unknown,
            "nationality_group": p.nationality.unknown,
            "residence_status": res.unknown,
            "sector": sector.unknown,
            "region": p.region_unknown,
            **{m: "unknown" for m in HELP_MEASURES},
        }
    )
    cost_of: dict[str, dict[str, float]] = {
        **{d: {u: CHEAP} for d, u in unknown_of.items()},
        "group": {p.group_default: 0.5},
        "age_band": {p.age_bands.unknown: CHEAP, p.age_bands.minor: COSTLY},
        "sector": {c: CHEAP for c in (sector.unknown, sector.other) if c is not None},
        **{m: {"unknown": CHEAP} for m in HELP_MEASURES},
    }
    known_sexes = tuple(c for c in p.field_codes("sex") if c != sex.unknown)
    pair = (sector.other, sector.unknown)
    other_unknown = (pair[0], pair[1]) if pair[0] is not None and pair[1] is not None else None
    return _Vocabulary(unknown_of, not_known, cost_of, p.structural, known_sexes, other_unknown)


def _unknown(dims: Sequence[str], vocab: _Vocabulary) -> dict[str, list[str]]:
    return {d: [vocab.not_known[d]] for d in dims if d in vocab.not_known}


# The breakdowns per year that readers (and Eurostat, UNODC, SDG 16.2.2) look for first: in a
# table of year by one of these, every known category is as costly as a total.
YEARLY_BREAKDOWNS: tuple[str, ...] = ("sex", "age_band", "group")


def _cost_weights(
    dims: Sequence[str],
    cats: Mapping[str, Sequence[str]],
    margins: Sequence[str],
    vocab: _Vocabulary,
) -> dict[str, dict[str, float]]:
    """The cost weights of a table: cheap unknowns, a costly minors band, costly totals,
    and costly known categories of the yearly breakdowns by sex, age band and group."""
    out: dict[str, dict[str, float]] = {}
    yearly = "year" in dims and len(dims) == 2
    for d in dims:
        w = {c: f for c, f in vocab.cost_of.get(d, {}).items() if c in cats[d]}
        if yearly and d in YEARLY_BREAKDOWNS:
            w.update({c: COSTLY for c in cats[d] if c not in w or w[c] >= 1})
        if d in margins:
            w[TOTAL] = COSTLY
        if w:
            out[d] = w
    return out


def _headline(
    dims: Sequence[str], cats: Mapping[str, Sequence[str]], margins: Sequence[str]
) -> list[dict[str, str]]:
    """The cells of a table that are never hidden as complements (CountTable.keep): the
    total per year and the total of the window, wherever the table holds them. (The minors
    and the breakdowns per year are costly, not kept: with small numbers the relations
    between the units can leave no safe pattern that shows them all.)"""
    if any(d not in margins and d != "year" for d in dims):
        return []
    out: list[dict[str, str]] = [{"year": y} for y in cats["year"]] if "year" in dims else []
    if "year" in margins or "year" not in dims:
        out.append({})
    return out


def _sex_headline(
    cells: pd.DataFrame,
    dims: Sequence[str],
    margins: Sequence[str],
    threshold: int,
    vocab: _Vocabulary,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Women and men per year (and over the window, where the table has it) are headline
    figures (Eurostat, UNODC, SDG 16.2.2): kept published where both are at least the
    threshold. Persons of unknown sex are then that year's total minus women and men, so
    their count is shown too, small or not (CountTable.shown). Returns (keep, shown)."""
    u = vocab.not_known.get("sex")
    if sorted(dims) != ["sex", "year"] or u is None:
        return [], []
    cells = cells.assign(year=cells["year"].astype(str), sex=cells["sex"].astype(str))
    by = cells.groupby(["year", "sex"])["count"].sum()
    years = sorted(set(cells["year"]))
    keep: list[dict[str, str]] = []
    shown: list[dict[str, str]] = []
    lines = [(y, {y}) for y in years]
    if "year" in margins:
        lines.append((TOTAL, set(years)))
    known = vocab.known_sexes
    for label, ys in lines:
        n = {s: sum(float(by.get((y, s), 0)) for y in ys) for s in known}
        if known and all(v >= threshold for v in n.values()):
            keep += [{"year": label, "sex": s} for s in known]
            shown.append({"year": label, "sex": u})
    return keep, shown


# Merges of a small unknown into a neighbouring category (disclosure.merge): made in every
# table of the release that has the dimension when the unknown category has a count from 1 to
# the threshold - 1 in one of them (and unknowns are primary-sensitive), instead of hiding it
# and the cells that would protect it. Only where the merged category still reads well:
# other or unknown sectors, and the answers "no" and "unknown" of help (the share helped, the
# monitor's figure, is "yes" of all persons either way).
def _merges(vocab: _Vocabulary) -> tuple[Merge, ...]:
    """The merges a release may make (see above), with the profile's codes."""
    out = [Merge(m, ("no", "unknown"), "no_or_unknown") for m in HELP_MEASURES]
    if vocab.sector_other_unknown is not None:
        out.insert(0, Merge("sector", vocab.sector_other_unknown, "OtherOrUnknown"))
    return tuple(out)


def release_merges(
    tables: Sequence[MonitorTable], threshold: int, merges: Sequence[Merge]
) -> list[Merge]:
    """The merges that a release needs: those whose unknown category (the last) is small
    somewhere."""
    out = []
    for m in merges:
        unknown = m.categories[-1]
        if any(small_cells(t.table, m.dimension, unknown, threshold) for t in tables):
            out.append(m)
    return out


def apply_merges(tables: Sequence[MonitorTable], merges: Sequence[Merge]) -> list[MonitorTable]:
    """The tables with the merges made (each table records those that changed it)."""
    out = []
    for t in tables:
        made = tuple(m for m in merges if m.applies(t.table))
        if made:
            t = replace(t, table=merge_tables([t.table], made)[0], merges=made)
        out.append(t)
    return out


def _structural(dims: Sequence[str], profile: Profile) -> dict[str, list[str]]:
    """The structural groups of a table with these dimensions (the profile's ``structural``:
    groups whose members are in one category of the other dimension by definition, so that a
    100% share there discloses nothing)."""
    return {d: list(cs) for d, cs in profile.structural.get(frozenset(dims), {}).items()}


def _clean(
    cells: pd.DataFrame, dims: Sequence[str], cats: dict[str, list[str]], vocab: _Vocabulary
) -> pd.DataFrame:
    """Map values outside a code list to its unknown category and re-sum."""
    cells = cells.copy()
    for d in dims:
        if d in vocab.unknown_of:
            known = set(cats[d])
            cells[d] = cells[d].where(cells[d].isin(known), vocab.unknown_of[d])
    sums = [c for c in ("count", "key_sum") if c in cells.columns]
    keys = [c for c in cells.columns if c not in sums]
    return cells.groupby(keys, sort=False)[sums].sum().reset_index()


class _Builder:
    def __init__(
        self, store: Store, settings: Settings, sources: dict[str, str] | None = None
    ) -> None:
        self.store = store
        self.sources = sources or {}
        self.window = (settings.window_first, settings.window_last)
        self.threshold = settings.disclosure_threshold
        self.key_sums = settings.disclosure_method == "cell_key"
        if self.key_sums and not store.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'record_keys'"
        ):
            raise InputError(
                "this store has no record keys, which the cell-key method needs; open it once "
                "for writing (e.g. ingest into it) with this version, or use "
                "disclosure_method = 'suppression'"
            )
        self.span = f"{settings.window_first}-{settings.window_last}"
        top = top_nationalities(store, self.window, TOP_NATIONALITIES)
        self.profile = load_profile(settings.profile)
        self.vocab = _vocabulary(self.profile)
        self.cats = categories(settings, top, self.profile)
        self.top = top
        self.out: list[MonitorTable] = []

    def count(
        self, unit: str, dims: Sequence[str], where: dict[str, Sequence[str]] | None = None
    ) -> pd.DataFrame:
        return count_cells(
            self.store, unit, dims, self.window, where=where, source=self.sources.get(unit),
            key_sums=self.key_sums,
        )  # fmt: skip

    def new_victims(self, dim: str) -> pd.DataFrame:
        """Persons by the year of their first registration in the window and ``dim``
        (the persons unit's year is that of its first registration)."""
        cells = count_cells(self.store, "persons", ["year", dim], self.window,
                            source=self.sources.get("persons"))  # fmt: skip
        return _clean(cells, [dim], self.cats, self.vocab)

    def sums(self, cells: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame | None:
        return cells[[*dims, "key_sum"]] if self.key_sums else None

    def add(
        self,
        key: str,
        chapter: str,
        unit: str,
        dims: Sequence[str],
        *,
        rows: Sequence[str] | None = None,
        only: dict[str, Sequence[str]] | None = None,
        stratify: Sequence[str] = (),
    ) -> None:
        """Add a table; a dimension in ``only`` keeps those categories and gets no margin,
        one in ``stratify`` keeps all its categories and gets no margin either."""
        only = only or {}
        cells = self.count(unit, dims, where=only)
        cells = _clean(cells, [d for d in dims if d not in only], self.cats, self.vocab)
        margins = [d for d in dims if d not in only and d not in stratify]
        cats = {d: list(only.get(d, self.cats[d])) for d in dims}
        keep, shown_small = (
            ([], [])
            if self.key_sums
            else _sex_headline(cells, dims, margins, self.threshold, self.vocab)
        )
        table = CountTable.from_cells(
            key,
            cells,
            list(dims),
            margins=margins,
            categories=cats,
            universe=f"{unit} {self.span}",
            cost_weights=_cost_weights(dims, cats, margins, self.vocab),
            structural=_structural(dims, self.profile),
            unknown=_unknown(dims, self.vocab),
            keep=[*_headline(dims, cats, margins), *keep],
            shown=shown_small,
        )
        rows = tuple(rows) if rows is not None else tuple(dims[:-1])
        shown = [d for d in dims if d not in rows and len(only.get(d, ())) != 1]
        self.out.append(
            MonitorTable(
                key, chapter, unit, rows, shown[-1], table, key_sums=self.sums(cells, dims)
            )
        )

    def nationality(self, key: str, unit: str) -> None:
        """The largest foreign nationalities by group (nationality stratifies: no Total)."""
        foreign = [c for c in self.top if c != self.profile.country]
        if not foreign:
            return
        cells = self.count(unit, ["nationality_primary", "group"],
                           where={"nationality_primary": foreign})  # fmt: skip
        cells = cells.rename(columns={"nationality_primary": "nationality"})
        cells = _clean(cells, ["group"], self.cats, self.vocab)
        table = CountTable.from_cells(
            key,
            cells,
            ["nationality", "group"],
            margins=["group"],
            categories={"nationality": foreign, "group": self.cats["group"]},
            universe=f"{unit} {self.span}",
            cost_weights=_cost_weights(["group"], self.cats, ["group"], self.vocab),
        )
        self.out.append(
            MonitorTable(
                key, "people", unit, ("nationality",), "group", table,
                key_sums=self.sums(cells, ["nationality", "group"]),
            )
        )  # fmt: skip

    def years_registered(self) -> None:
        """Persons registered in two or more years of the window, by group.

        Persons registered in one year only are not a category of this table: published next
        to the totals they would make 'registered once' a dominant (>= 90%) class in every
        group, which group-disclosure control would then have to hide.
        """
        cells = self.count("persons", ["years_registered", "group"])
        n = cells["years_registered"].astype(int)
        cells = cells[n >= 2].copy()
        cells["years_registered"] = "2+"
        cells = _clean(cells, ["years_registered", "group"], self.cats, self.vocab)
        table = CountTable.from_cells(
            "per_years_registered",
            cells,
            ["years_registered", "group"],
            margins=["group"],
            categories={"years_registered": ["2+"], "group": self.cats["group"]},
            universe=f"persons {self.span}",
            cost_weights=_cost_weights(["group"], self.cats, ["group"], self.vocab),
        )
        self.out.append(
            MonitorTable(
                "per_years_registered", "people", "persons", ("years_registered",), "group", table,
                key_sums=self.sums(cells, ["years_registered", "group"]),
            )
        )  # fmt: skip


SHORT: dict[str, str] = {
    "sex": "sex", "age_band": "age", "nationality_group": "natgroup", "residence_status": "res",
    "region": "region", "reporting_organisation": "org", "sector": "sector",
}  # fmt: skip
GROUP_DIMS: tuple[str, ...] = ("sex", "age_band", "region")
# By registrations only: over distinct persons these lines add too many small cells for a
# small country's release to protect (at a quarter of the Dutch size six more tables were
# withheld); persons by nationality group and residence status are tabulated by year.
REGISTRATION_GROUP_DIMS: tuple[str, ...] = ("nationality_group", "residence_status")


def build_tables(store: Store, settings: Settings) -> list[MonitorTable]:
    """Every table of the monitor as true counts with margins (for disclosure control);
    :func:`build_release` gives the ties between their units as well."""
    return build_release(store, settings)[0]


# the dimensions of the victims' year tables, by which new victims per year are counted
# for the ties between the units (thbmonitor.monitor.relations)
NEW_VICTIM_DIMS: tuple[str, ...] = ("group", *PEOPLE_DIMS, "reporting_organisation")


def build_release(store: Store, settings: Settings) -> tuple[list[MonitorTable], Relations]:
    """Every table of the monitor as true counts with margins (for disclosure control),
    and the linear ties between their units (:func:`thbmonitor.monitor.relations.unit_relations`)
    that the joint audit must hold.

    In group x nationality group and group x residence status (of registrations), a group the
    profile defines by nationality (nl's domestic sexual exploitation) is structural: the
    profile's ``[[structural]]`` says so. The largest
    nationalities by group are tabulated too. Victim-years have no total over the window
    (distinct persons in the window have their own tables).
    """
    settings = resolve_window(store, settings)
    window = (settings.window_first, settings.window_last)
    n = store.scalar(
        "SELECT COUNT(*) FROM registrations WHERE registration_year BETWEEN ? AND ?", list(window)
    )
    if not n:
        span = store.rows(
            "SELECT MIN(registration_year), MAX(registration_year) FROM registrations"
        )
        have = "none" if span[0][0] is None else f"{span[0][0]}-{span[0][1]}"
        raise ConfigError(
            f"the store has no registrations in the monitoring window {window[0]}-{window[1]} "
            f"(registration years in the store: {have}); set window_first and window_last"
        )
    profile = load_profile(settings.profile)
    from thbmonitor.monitor.relations import unit_relations

    with unit_tables(store, window, profile) as sources:
        b = _Builder(store, settings, sources)
        tables = _build(b)
        new_victims = {d: b.new_victims(d) for d in NEW_VICTIM_DIMS}
    if settings.disclosure_unknown_primary and settings.disclosure_method != "cell_key":
        # (else small unknowns are shown, or nothing is hidden: nothing to merge)
        merges = _merges(_vocabulary(profile))
        tables = apply_merges(tables, release_merges(tables, settings.disclosure_threshold, merges))
    return tables, unit_relations(tables, new_victims, window)


def _build(b: _Builder) -> list[MonitorTable]:
    prefix = {"registrations": "reg", "victims": "vic", "persons": "per"}
    for unit in ("registrations", "victims"):
        p = prefix[unit]
        # victim-years are not added up over the window (a person would count several times),
        # so the victims' year tables have no total over the years
        # (nor a one-year window: its total would repeat the year)
        one_year = b.window[0] == b.window[1]
        by_year = ("year",) if unit == "victims" or one_year else ()
        b.add(f"{p}_year_group", "victims", unit, ["year", "group"], rows=["group"],
              stratify=by_year)  # fmt: skip
        b.add(f"{p}_minor_year_group", "people", unit, ["age_band", "year", "group"],
              rows=["group"], only={"age_band": [b.profile.age_bands.minor]},
              stratify=by_year)  # fmt: skip
        for dim in (*PEOPLE_DIMS, "reporting_organisation"):
            chapter = "organisations" if dim == "reporting_organisation" else "people"
            b.add(f"{p}_year_{SHORT[dim]}", chapter, unit, ["year", dim], rows=[dim],
                  stratify=by_year)  # fmt: skip
    for unit in ("registrations", "persons"):
        p = prefix[unit]
        extra = REGISTRATION_GROUP_DIMS if unit == "registrations" else ()
        for dim in (*GROUP_DIMS, *extra, "reporting_organisation", "sector"):
            chapter = {"reporting_organisation": "organisations", "sector": "groups"}.get(
                dim, "people"
            )
            b.add(f"{p}_group_{SHORT[dim]}", chapter, unit, ["group", dim], rows=[dim])
        b.nationality(f"{p}_group_nat", unit)
    b.years_registered()
    for measure in HELP_MEASURES:
        for dim in HELP_DIMS:
            b.add(f"help_{measure}_{SHORT[dim]}", "help", "persons", [dim, measure])
    return b.out
