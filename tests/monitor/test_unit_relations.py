"""The ties between the monitor's counting units, and an intruder who uses them.

An intruder holding the whole release (registrations, victim-years and persons in the window)
knows how the units are defined (the method text says it) and so knows, for every cell c:
victim-years <= registrations (a victim-year is its first registration that year), persons <=
registrations of the window, and that the persons are the victim-years minus the returning
ones (``per(x) = sum_y new(y, x)``, ``vic(y, x) = new(y, x) + returning(y, x)``, with the
persons registered in two or more years bounding the returning ones). The intruder below
writes these ties from the published tables alone (independently of
thbmonitor.monitor.relations) and takes the LP bounds of every hidden cell over all published
tables. Protected without the ties, the release gives a hidden cell away; protected with them,
no hidden cell is narrower than the rules require.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.disclosure.intruder import intruder_ranges

from thbmonitor.config import Settings
from thbmonitor.disclosure import ProtectedTable, cell_key
from thbmonitor.engine import Store
from thbmonitor.monitor.chapters import chapters as monitor_chapters
from thbmonitor.monitor.published import (
    default_protect,
    protect_by_universe,
    trial_protect,
)
from thbmonitor.monitor.tables import MonitorTable, build_release
from thbmonitor.pipeline import Publication

from .conftest import WINDOW, make_registrations, write_store

SPAN = f"{WINDOW[0]}-{WINDOW[1]}"
YEARS = [str(y) for y in range(WINDOW[0], WINDOW[1] + 1)]
Cell = tuple[str, frozenset[tuple[str, str]]]


def cell(unit: str, **coords: str) -> Cell:
    return (f"{unit} {SPAN}", frozenset((d, v) for d, v in coords.items() if v != "Total"))


def intruder_ties(
    tables: Mapping[str, ProtectedTable],
) -> tuple[list[dict[Cell, float]], list[dict[Cell, float]]]:
    """(equations, inequalities) an intruder writes from the published tables' names, dims
    and categories and the definitions of the units; latent cells have their own universes."""
    eqs: list[dict[Cell, float]] = []
    ges: list[dict[Cell, float]] = []
    for name, pt in tables.items():
        unit, _, rest = name.partition("_")
        reg = tables.get(f"reg_{rest}")
        if unit not in ("vic", "per") or reg is None:
            continue
        for row in pt.frame[list(pt.dims)].astype(str).to_dict("records"):
            u = "victims" if unit == "vic" else "persons"
            ges.append({cell("registrations", **row): 1.0, cell(u, **row): -1.0})
    for name, pt in tables.items():
        if not name.startswith("vic_year_"):
            continue
        dim = next(d for d in pt.dims if d != "year")
        cats = sorted({str(c) for c in pt.frame[dim]})
        inner = [c for c in cats if c != "Total"]
        if not any(
            cell("persons", **{dim: c}) in {cell("persons", **r) for r in _rows(tables)}
            for c in inner
        ):
            continue
        for y in YEARS:
            # additivity of the latent new and returning victims over the dimension
            eqs.append({cell("new", year=y, **{dim: "Total"}): 1.0,
                        **{cell("new", year=y, **{dim: c}): -1.0 for c in inner}})  # fmt: skip
            if y != YEARS[0]:
                eqs.append({cell("back", year=y, **{dim: "Total"}): 1.0,
                            **{cell("back", year=y, **{dim: c}): -1.0 for c in inner}})  # fmt: skip
        for c in cats:
            per = {cell("persons", **{dim: c}): 1.0}
            per.update({cell("new", year=y, **{dim: c}): -1.0 for y in YEARS})
            eqs.append(per)
            for y in YEARS:
                vic = {cell("victims", year=y, **{dim: c}): 1.0,
                       cell("new", year=y, **{dim: c}): -1.0}  # fmt: skip
                if y != YEARS[0]:
                    vic[cell("back", year=y, **{dim: c})] = -1.0
                eqs.append(vic)
    p2 = cell("persons", years_registered="2+")
    back = {cell("back", year=y): 1.0 for y in YEARS[1:]}
    ges.append({**back, p2: -1.0})
    ges.append({p2: len(YEARS) - 1.0, **{k: -1.0 for k in back}})
    for i, y in enumerate(YEARS[1:]):
        ges.append({p2: 1.0, cell("back", year=y): -1.0})
        ges.append({**{cell("new", year=e): 1.0 for e in YEARS[: i + 1]},
                    cell("back", year=y): -1.0})  # fmt: skip
    groups = {str(c) for c in tables["per_years_registered"].frame["group"]}
    for g in groups:
        ges.append({**{cell("new", year=y, group=g): 1.0 for y in YEARS[:-1]},
                    cell("persons", years_registered="2+", group=g): -1.0})  # fmt: skip
    return eqs, ges


def _rows(tables: Mapping[str, ProtectedTable]) -> list[dict[str, str]]:
    out = []
    for name, pt in tables.items():
        if name.startswith(("per_", "help_")):
            out += pt.frame[list(pt.dims)].astype(str).to_dict("records")
    return out


def narrow_cells(
    tables: Mapping[str, ProtectedTable], monitor: list[MonitorTable]
) -> list[tuple[str, int, int, int]]:
    """Hidden cells that the intruder narrows below what the rules require: (cell, lower,
    upper, true count). Primary cells need a width of 3 (30% of 10), a hidden zero and a
    complementary cell a width of 1."""
    eqs, ges = intruder_ties(tables)
    ranges = intruder_ranges(list(tables.values()), 10, extra=eqs, at_least=ges, integer=False)
    values = {}
    for t in monitor:
        g = t.table.grid()
        values.update(zip(g.keys.ravel(), g.values.ravel(), strict=True))
    out = []
    for (universe, pairs), (lo, hi, marker) in ranges.items():
        true = int(values[cell_key(universe, dict(pairs))])
        need = 3 if marker.startswith("<") and true > 0 else 1
        if hi - lo < need:
            out.append((f"{universe} {sorted(pairs)}", lo, hi, true))
    return out


@pytest.fixture(scope="module")
def release(
    world: tuple[Store, pd.DataFrame, pd.DataFrame], settings: Settings
) -> tuple[list[MonitorTable], object]:
    store, _, _ = world
    return build_release(store, settings)


def protect(tables: list[MonitorTable], settings: Settings, relations: object):
    trial = trial_protect(settings, relations is not None)
    protected, withheld, _ = protect_by_universe(
        tables, default_protect(settings), trial, relations=relations
    )
    assert not withheld
    return protected


def test_the_latent_counts_are_the_units_computed_with_pandas(
    release: tuple[list[MonitorTable], object], expected: dict[str, pd.DataFrame]
) -> None:
    """New victims per year (the persons by year of first registration) and returning victims
    (victim-years minus new ones) match the units computed independently with pandas."""
    _, relations = release
    latent = {t.name: t for t in relations.latent}  # type: ignore[attr-defined]
    persons, victims = expected["persons"], expected["victims"]
    for dim in ("group", "sex", "age_band", "region"):
        new = latent[f"units_new_{dim}"].frame.set_index(["year", dim])["count"]
        back = latent[f"units_returning_{dim}"].frame.set_index(["year", dim])["count"]
        truth_new = persons.groupby(["year", dim]).size()
        truth_vic = victims.groupby(["year", dim]).size()
        for (y, c), n in truth_vic.items():
            assert new.get((y, c), 0) == truth_new.get((y, c), 0)
            if y != YEARS[0]:
                assert back[(y, c)] == n - truth_new.get((y, c), 0)
            else:
                assert n == truth_new.get((y, c), 0)  # nobody returns in the first year


def test_without_the_ties_an_intruder_narrows_a_hidden_cell(
    release: tuple[list[MonitorTable], object], settings: Settings
) -> None:
    tables, _ = release
    protected = protect(tables, settings, None)
    assert narrow_cells(protected, tables), "the ties should matter on this world"


def test_with_the_ties_no_hidden_cell_is_narrowed(
    release: tuple[list[MonitorTable], object], settings: Settings
) -> None:
    tables, relations = release
    protected = protect(tables, settings, relations)
    assert narrow_cells(protected, tables) == []


def test_unknown_sex_that_the_ties_would_give_away_is_hidden_and_said(tmp_path: Path) -> None:
    """Two victims of unknown sex in 2020, both new in the window (so 2 persons of unknown
    sex): women and men per year would show them (2), and the ties bound the persons of
    unknown sex in the window by the victims of unknown sex per year summed (0 + ... + 2),
    so the small person count cannot get the width the rules ask (3). By design the release
    then protects the unknown sex like any small count, and the method text says so; the
    joint audit with the ties passes."""
    regs, mapping = make_registrations(seed=5, n_persons=1500)
    regs["sex"] = np.random.default_rng(1).choice(["F", "M"], size=len(regs))
    persons = mapping.set_index("registration_id")["person_id"]
    pid = regs["registration_id"].map(persons)
    counts = pid.value_counts()
    # persons with one registration only, in 2020: new victims of that year
    once = regs.index[(regs["registration_year"] == 2020) & pid.map(counts).eq(1)]
    regs.loc[once[:2], "sex"] = "U"
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    settings = Settings(window_first=WINDOW[0], window_last=WINDOW[1])
    assert settings.disclosure_unit_ties
    tables, _ = build_release(store, settings)
    release = Publication(settings)
    chapters, _ = monitor_chapters(store, settings, release)
    release.audit(record=False)
    vic = next(t for t in release.tables if t.name == "vic_year_sex").frame
    u = vic[(vic["year"] == "2020") & (vic["sex"] == "U")].iloc[0]
    assert (u["count"], u["status"]) == (2, "primary")
    people = next(c for c in chapters if c.key == "monitor_people")
    assert people.method is not None and "vic_year_sex" in people.method.en
    assert "women and men per year are not kept published" in people.method.en
    protected = {t.name: t for t in release.tables if t.name in {m.key for m in tables}}
    assert narrow_cells(protected, tables) == []
    store.close()
