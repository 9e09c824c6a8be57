"""What the monitor publishes: protected tables, their published counts, report tables and charts.

Everything shown is read from a :class:`thbmonitor.disclosure.ProtectedTable`: a count is
available to the text, the charts and results.json only where its cell is published (or a true
zero); a suppressed cell gives ``None``. Shares are taken only from published counts with a
published denominator of at least the threshold (``ProtectedTable.percentages``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import (
    CellStatus,
    CountTable,
    DisclosureRules,
    Ledger,
    ProtectedTable,
    Relations,
    Release,
    protect_release,
)
from thbmonitor.disclosure.cellkey import (
    PerturbationTable,
    audit_cell_key,
    cell_keys,
    mean_absolute_deviation,
    perturb_table,
)
from thbmonitor.errors import ConfigError, DisclosureError
from thbmonitor.monitor.labels import category_label, dimension_label
from thbmonitor.monitor.tables import TOTAL, UNIT_TEXT, MonitorTable
from thbmonitor.profiles import Profile
from thbmonitor.report.model import Chart, Table, Text

__all__ = [
    "CORE",
    "Protect",
    "Published",
    "cell_key_loss",
    "default_protect",
    "perturb_monitor",
    "protect_by_universe",
    "rules_from_settings",
    "trial_protect",
]

log = logging.getLogger(__name__)

# protect(tables) or protect(tables, relations=...): a release of count tables, protected and
# audited together with the relations between their cells (thbmonitor.disclosure.Relations)
Protect = Callable[..., Release]

SOURCE = Text(
    "Registrations of presumed victims of trafficking; thbmonitor.",
    "Meldingen van mogelijke slachtoffers van mensenhandel; thbmonitor.",
)


def rules_from_settings(settings: Settings) -> DisclosureRules:
    """The disclosure rules of a run (threshold, zeros, dominance) from its settings."""
    return DisclosureRules(
        threshold=settings.disclosure_threshold,
        zeros_disclosive=settings.disclosure_zeros_disclosive,
        dominance=settings.disclosure_dominance,
        time_limit=settings.disclosure_time_limit,
        unknown_primary=settings.disclosure_unknown_primary,
    )


def default_protect(
    settings: Settings, max_rounds: int = 300, time_limit: float | None = None
) -> Protect:
    """Protect the monitor's tables as one release, with the ledger of earlier releases
    (``time_limit`` overrides the setting, e.g. 0 for quick trials by the heuristic)."""
    rules = rules_from_settings(settings)
    if time_limit is not None:
        rules = replace(rules, time_limit=time_limit)
    path = Path(settings.disclosure_ledger) if settings.disclosure_ledger else None
    ledger = Ledger.load(path) if path is not None and path.exists() else None

    def protect(tables: Sequence[CountTable], relations: Relations | None = None) -> Release:
        return protect_release(
            tables, rules, ledger=ledger, max_rounds=max_rounds, relations=relations
        )

    return protect


# Tables published even when the full set of their universe cannot be protected (those of
# them that can: see _largest_safe_set).
CORE: frozenset[str] = frozenset(
    f"{p}_{t}"
    for p in ("reg", "vic")
    for t in ("year_group", "minor_year_group", "year_sex", "year_age", "year_natgroup")
) | frozenset({"per_group_sex", "per_group_age", "per_years_registered"})


def perturb_monitor(
    tables: Sequence[MonitorTable], settings: Settings
) -> tuple[dict[str, ProtectedTable], PerturbationTable]:
    """The cell-key method (setting ``disclosure_method = "cell_key"``): every count of every
    table perturbed by the noise its cell key reads from the perturbation table (D and V from
    the settings); nothing is hidden. The same cell has the same value in every table."""
    ptable = PerturbationTable.build(
        settings.disclosure_max_deviation, settings.disclosure_variance
    )
    rules = rules_from_settings(settings)
    out: dict[str, ProtectedTable] = {}
    for t in tables:
        if t.key_sums is None:
            raise ConfigError(f"table '{t.key}' was built without record keys")
        frame = perturb_table(t.table, cell_keys(t.table, t.key_sums), ptable, rules)
        out[t.key] = ProtectedTable(t.table, frame, rules, ptable.max_deviation)
    problems = audit_cell_key([(p.table, p.frame) for p in out.values()], ptable)
    if problems:  # pragma: no cover - the method cannot produce them; the audit checks it
        raise DisclosureError("the cell-key release fails its audit: " + "; ".join(problems[:5]))
    return out, ptable


def cell_key_loss(protected: Mapping[str, ProtectedTable]) -> dict[str, Any]:
    """Information loss of the cell-key method: per table and for the release, the cells,
    those changed, and the mean absolute deviation from the true counts."""

    def one(frames: Sequence[pd.DataFrame]) -> dict[str, Any]:
        cells = sum(len(f) for f in frames)
        changed = sum(int((f["count"] != f["true_count"]).fillna(False).sum()) for f in frames)
        return {
            "cells": cells,
            "hidden": 0,
            "changed": changed,
            "mean_absolute_deviation": round(mean_absolute_deviation(frames), 4),
        }

    return {
        "release": {"tables": len(protected), **one([p.frame for p in protected.values()])},
        "tables": {k: one([p.frame]) for k, p in protected.items()},
    }


def trial_protect(settings: Settings, tied: bool) -> Protect:
    """The protection of :func:`protect_by_universe`'s trials (``trial``): the heuristic
    alone, quick on one universe; with the units tied (``tied``), the optimiser, which proves
    a set of tables infeasible in a second where the heuristic on the joint system grows for
    minutes."""
    return default_protect(settings, max_rounds=TRIAL_ROUNDS, time_limit=None if tied else 0.0)


# per universe: trials of the non-core tables after a failure (a count, not seconds, so that
# what is withheld is the same on a slow or busy machine as on a fast one)
FALLBACK_TRIALS = 64
TRIAL_ROUNDS = 300  # audit rounds of a trial (as the final protection: a kept table stays safe)


def protect_by_universe(
    tables: Sequence[MonitorTable],
    protect: Protect,
    trial: Protect,
    max_trials: int = FALLBACK_TRIALS,
    relations: Relations | None = None,
) -> tuple[dict[str, ProtectedTable], list[str], int]:
    """Protect the tables universe by universe (their cells never overlap), or all of them
    together when ``relations`` tie the universes (the monitor's units: see
    :mod:`thbmonitor.monitor.relations`).

    If no safe pattern exists for all tables of a group, its core tables (:data:`CORE`)
    are tried first and then each other table in turn with ``trial`` (a protection that
    publishes nothing), keeping those that still leave a safe pattern, in at most
    ``max_trials`` trials per universe of the group; ``protect`` then protects the kept set
    once. Returns the protected tables by key, the keys withheld, and the threshold.
    """
    out: dict[str, ProtectedTable] = {}
    withheld: list[str] = []
    threshold = 10
    universes = list(dict.fromkeys(t.table.universe for t in tables))
    groups = [[t for t in tables if t.table.universe == u] for u in universes]
    if relations is not None and relations.equations:
        groups = [list(tables)]

    def run(p: Protect, members: Sequence[MonitorTable]) -> Release:
        if relations is not None and relations.equations:
            return p([t.table for t in members], relations=relations)
        return p([t.table for t in members])

    for group in groups:
        universe = ", ".join(dict.fromkeys(t.table.universe for t in group))
        try:
            release = run(protect, group)
        except DisclosureError:
            release = None
        # no safe pattern keeps women and men per year: they become costly cells again and
        # the unknown sex is protected like any other small count, in one universe (the
        # units tied) and then in all
        relaxable = list(dict.fromkeys(t.table.universe for t in group if _relax(t) is not t))
        tries = [[u] for u in relaxable] + ([relaxable] if len(relaxable) > 1 else [])
        for us in tries if release is None else ():
            relaxed = [_relax(t) if t.table.universe in us else t for t in group]
            try:
                release = run(protect, relaxed)
            except DisclosureError:
                continue
            log.warning("monitor: women and men per year of '%s' cannot all be kept", ", ".join(us))
            group = relaxed
            break
        if release is None and tries:
            group = [_relax(t) for t in group]
        if release is None:
            trials = max_trials * len(universe.split(", "))  # the limit is per universe
            keep = _largest_safe_set(group, lambda m: run(trial, m), trials)
            dropped = [t.key for t in group if t not in keep]
            log.warning(
                "monitor: no safe suppression pattern for the %d tables of '%s'; "
                "%d table(s) withheld",
                len(group), universe, len(dropped),
            )  # fmt: skip
            release = run(protect, keep)
            withheld += dropped
        release.audit.raise_if_disclosive()
        threshold = release.rules.threshold
        out.update({pt.name: pt for pt in release.tables if pt.name in {t.key for t in group}})
    return out, withheld, threshold


def _relax(t: MonitorTable) -> MonitorTable:
    """The table without its kept sex cells and its shown unknown sex (see
    :func:`thbmonitor.monitor.tables._sex_headline`), or the table itself if it has none."""
    keep = [c for c in t.table.keep if "sex" not in c]
    if len(keep) == len(t.table.keep) and not t.table.shown:
        return t
    return replace(t, table=replace(t.table, keep=tuple(keep), shown=(), _grid=None))


def _priority(t: MonitorTable) -> int:
    """Order of the greedy trials: help by residence status (does help follow status?) first,
    then the breakdown tables, then help by age band and by region."""
    if t.chapter != "help":
        return 1
    return {"res": 0, "age": 2}.get(t.key.rsplit("_", 1)[-1], 3)


def _largest_safe_set(
    group: Sequence[MonitorTable],
    trial: Callable[[Sequence[MonitorTable]], Release],
    max_trials: int,
) -> list[MonitorTable]:
    """Core tables, then every other table that keeps the pattern safe and hides none of the
    headline cells (:func:`_headline_cells`) that the core tables alone publish: a table whose
    protection costs a yearly total or the minors is not worth them. Tables are tried in
    batches, halved where a batch fails (group testing, in the order of :func:`_priority`),
    in at most ``max_trials`` trials of batches: a work limit, so the outcome depends on the
    data and settings only, never on the machine's speed."""
    keep = [t for t in group if t.key in CORE]
    # the minors' band: the one age band of the minors' tables (the profile's first band)
    minors = {
        str(c) for t in group if t.key.endswith("minor_year_group") for c in t.frame["age_band"]
    }
    try:
        headline = _headline_cells(trial(keep), minors)
    except DisclosureError:
        # not even the core tables together (a tiny world, whose headline totals fix a small
        # count through the ties between the units: e.g. one person registered in two
        # years, the victims per year minus the persons): each core table in turn, kept if
        # it still leaves a safe pattern
        core, keep = keep, []
        for t in core:
            try:
                trial([*keep, t])
            except DisclosureError:
                continue
            keep.append(t)
        headline = _headline_cells(trial(keep), minors) if keep else set()

    trials = 0

    def fits(batch: list[MonitorTable]) -> bool:
        nonlocal trials
        trials += 1
        try:
            release = trial([*keep, *batch])
        except DisclosureError:
            return False
        return headline <= _headline_cells(release, minors)

    def add(batch: list[MonitorTable]) -> None:
        """Keep the whole batch if it fits, else each half in turn (a table that does not
        fit alone is left out): few trials when few tables are the problem."""
        if not batch or trials >= max_trials:
            return
        if fits(batch):
            keep.extend(batch)
        elif len(batch) > 1:
            add(batch[: len(batch) // 2])
            add(batch[len(batch) // 2 :])

    add(sorted((t for t in group if t.key not in CORE), key=_priority))
    return [t for t in group if t in keep]


def _headline_cells(release: Release, minors: set[str]) -> set[str]:
    """Keys of the published headline cells of a release: totals by year or over the window,
    of everyone or of the minors (every other coordinate is a Total)."""
    out: set[str] = set()
    for pt in release.tables:
        shown = pt.frame["status"].isin([CellStatus.PUBLISHED, CellStatus.ZERO])
        out.update(k for k, s in zip(pt.keys, shown, strict=True) if s and _is_headline(k, minors))
    return out


def _is_headline(key: str, minors: set[str]) -> bool:
    _, pairs = json.loads(key)
    return all(d == "year" or (d == "age_band" and v in minors) for d, v in pairs)


class Published:
    """The monitor's tables after disclosure control, with lookups of published counts.

    A table that was withheld (not in ``protected``) reads as hidden: every count is None.
    """

    def __init__(
        self,
        tables: Sequence[MonitorTable],
        protected: Mapping[str, ProtectedTable],
        lang: str,
        threshold: int,
        profile: Profile | None = None,
        noise: Text | None = None,
    ) -> None:
        self.tables = {t.key: t for t in tables}
        self.noise = noise  # the cell-key method's legend (a note; no markers), else None
        self.published = dict(protected)
        self.lang = lang
        self.profile = profile  # labels the country's codes (default: the default profile's)
        self.threshold = threshold
        self._cells: dict[str, dict[tuple[str, ...], tuple[str, Any]]] = {}
        self._pcts: dict[tuple[str, str], dict[tuple[str, ...], Any]] = {}

    def label(self, code: object, lang: str | None = None) -> str:
        """The display name of a category (the profile labels the country's codes)."""
        return category_label(code, lang or self.lang, self.profile)

    def text(self, code: object) -> Text:
        return Text(self.label(code, "en"), self.label(code, "nl"))

    def protected(self, key: str) -> ProtectedTable:
        return self.published[key]

    def _coords(self, key: str, coords: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(str(coords.get(d, TOTAL)) for d in self.tables[key].table.dims)

    def count(self, key: str, **coords: str) -> int | None:
        """A cell's count if it is published (a true zero is 0), else ``None``."""
        if key not in self.published:
            return None
        if key not in self._cells:
            f = self.protected(key).frame
            dims = list(self.tables[key].table.dims)
            self._cells[key] = {
                tuple(str(v) for v in row[:-2]): (row[-2], row[-1])
                for row in f[[*dims, "status", "count"]].itertuples(index=False, name=None)
            }
        cell = self._cells[key].get(self._coords(key, coords))
        if cell is None:
            raise KeyError(f"no cell {coords} in table '{key}'")
        status, n = cell
        if status not in (CellStatus.PUBLISHED, CellStatus.ZERO):
            return None
        return int(n)

    def share_pct(self, key: str, over: str, **coords: str) -> float | None:
        """A published percentage of a cell within its line along ``over`` (or ``None``)."""
        if key not in self.published:
            return None
        if (key, over) not in self._pcts:
            pct = self.protected(key).percentages(over)
            dims = list(self.tables[key].table.dims)
            self._pcts[(key, over)] = {
                tuple(str(v) for v in row[:-1]): row[-1]
                for row in pct[[*dims, "percent"]].itertuples(index=False, name=None)
            }
        value = self._pcts[(key, over)].get(self._coords(key, coords))
        return None if value is None or pd.isna(value) else float(value)

    # -- report objects --------------------------------------------------------------------
    def report_table(self, key: str, title: Text, note: Text | None = None) -> Table:
        """The protected table laid out for the report: rows by columns, markers shown."""
        mt = self.tables[key]
        pt = self.protected(key)
        # counts stay ints (formatted by the renderer), markers stay strings
        shown = pt.frame[[*mt.table.dims, "display"]].astype({"display": object})
        wide = shown.pivot_table(
            index=list(mt.rows), columns=mt.columns, values="display", aggfunc="first", sort=False
        )
        wide = _order(wide, mt)
        if mt.chapter == "help":
            pct = pt.percentages(mt.columns)
            pct["shown"] = _pct_cells(pct)
            yes = pct[pct[mt.columns] == "yes"].set_index(list(mt.rows))["shown"]
            wide["yes_pct"] = yes.reindex(wide.index).to_numpy()
        wide.index = pd.MultiIndex.from_tuples(
            [tuple(self.label(v) for v in _as_tuple(i)) for i in wide.index],
            names=list(mt.rows),
        ) if len(mt.rows) > 1 else pd.Index(
            [self.label(v) for v in wide.index], name=mt.rows[0]
        )  # fmt: skip
        columns: dict[str, Text] = {d: dimension_label(d, self.profile) for d in mt.rows}
        for c in wide.columns:
            if c == "yes_pct":
                columns[c] = Text("Yes (%)", "Ja (%)")
            else:
                columns[str(c)] = self.text(c)
        unit = UNIT_TEXT[mt.unit]
        notes = [n for n in (note, self.noise) if n is not None]
        full_note = Text(
            " ".join([f"Unit: {unit.en}.", *(n.en for n in notes)]),
            " ".join([f"Eenheid: {unit.nl}.", *(n.nl for n in notes)]),
        )
        return Table(
            key=key,
            title=title,
            frame=wide,
            source=SOURCE,
            note=full_note,
            columns=columns,
            legend=self.noise is None,
        )

    def share_table(self, key: str, over: str, new_key: str, title: Text) -> Table:
        """Each cell as a percentage of its line's total along ``over`` (published shares only)."""
        mt = self.tables[key]
        pct = self.protected(key).percentages(over)
        pct = pct[pct[over].astype(str) != TOTAL]
        cols = mt.columns
        pct = pct.assign(shown=_pct_cells(pct))
        wide = pct.pivot_table(index=over, columns=cols, values="shown", aggfunc="first",
                               sort=False)  # fmt: skip
        grid = mt.table.grid()
        cats = dict(zip(grid.dims, grid.categories, strict=True))
        wide = wide.loc[[c for c in cats[over] if c in wide.index and c != TOTAL]]
        wide = wide[[c for c in cats[cols] if c in wide.columns]]
        wide.columns = [f"{c}_pct" for c in wide.columns]
        wide.index = pd.Index([self.label(v) for v in wide.index], name=over)
        columns = {over: dimension_label(over, self.profile)}
        columns.update({f"{c}_pct": Text(f"{self.label(c, 'en')} (%)",
                                         f"{self.label(c, 'nl')} (%)")
                        for c in cats[cols]})  # fmt: skip
        unit = UNIT_TEXT[mt.unit]
        extra = [self.noise] if self.noise is not None else []
        return Table(
            key=new_key,
            title=title,
            frame=wide,
            source=SOURCE,
            note=Text(
                " ".join([
                    f"Unit: {unit.en}. Shares of published counts with a published total of "
                    f"at least {self.threshold}; otherwise the marker.", *(n.en for n in extra)
                ]),
                " ".join([
                    f"Eenheid: {unit.nl}. Aandelen uit gepubliceerde aantallen met een "
                    f"gepubliceerd totaal van ten minste {self.threshold}; anders het teken.",
                    *(n.nl for n in extra),
                ]),
            ),
            columns=columns,
            legend=self.noise is None,
        )  # fmt: skip

    def year_chart(
        self, key: str, title: Text, series: Mapping[str, tuple[str, str]], kind: str = "line"
    ) -> Chart:
        """A chart by year from published counts only; ``series``: name -> (table, dim=value)."""
        rows = []
        labels: dict[str, Text] = {}
        for name, (table, coord) in series.items():
            dim, _, value = coord.partition("=")
            coords = {dim: value} if dim else {}
            mt = self.tables[table]
            years = [y for y in mt.table.frame["year"].unique() if str(y) != TOTAL]
            for y in years:
                n = self.count(table, year=str(y), **coords)
                rows.append({"x": int(y), "series": name, "y": np.nan if n is None else n})
            labels[name] = self.text(value) if dim else UNIT_TEXT[mt.unit]
        return Chart(
            key=key,
            title=title,
            data=pd.DataFrame(rows),
            kind=kind,
            x_label=Text("Year", "Jaar"),
            y_label=Text("Number", "Aantal"),
            series_labels=labels,
        )


def help_chart(pub: Published, dim: str, short: str, title: Text) -> Chart:
    """Bars: the published share helped (%) per category of ``dim``, one series per measure."""
    from thbmonitor.monitor.units import HELP_MEASURES

    rows = []
    for m in HELP_MEASURES:
        mt = pub.tables[f"help_{m}_{short}"]
        cats = [c for c in mt.table.grid().categories[0] if c != TOTAL]
        for c in cats:
            pct = pub.share_pct(mt.key, m, **{dim: str(c), m: "yes"})
            rows.append(
                {"x": pub.label(c), "series": m,
                 "y": np.nan if pct is None else pct}
            )  # fmt: skip
    return Chart(
        key=f"monitor_help_{short}",
        title=title,
        data=pd.DataFrame(rows),
        kind="bar",
        x_label=dimension_label(dim, pub.profile),
        y_label=Text("Persons helped (%)", "Geholpen personen (%)"),
        series_labels={m: dimension_label(m, pub.profile) for m in HELP_MEASURES},
    )


def _pct_cells(pct: pd.DataFrame) -> list[Any]:
    """A published percentage as a number, else its marker (never a share of a hidden count)."""
    return [
        float(p) if pd.notna(p) else str(d)
        for p, d in zip(pct["percent"], pct["display"], strict=True)
    ]


def _as_tuple(index_value: object) -> tuple[object, ...]:
    return index_value if isinstance(index_value, tuple) else (index_value,)


def _order(wide: pd.DataFrame, mt: MonitorTable) -> pd.DataFrame:
    """Rows and columns in code-list order, Total last (as in the count table)."""
    grid = mt.table.grid()
    cats = dict(zip(grid.dims, grid.categories, strict=True))
    col_order = [c for c in cats[mt.columns] if c in wide.columns]
    wide = wide[col_order]
    if len(mt.rows) == 1:
        row_order = [r for r in cats[mt.rows[0]] if r in wide.index]
        return wide.loc[row_order]
    return wide
