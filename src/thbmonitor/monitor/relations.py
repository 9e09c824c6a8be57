"""The linear ties between the monitor's three counting units, for the joint audit.

The monitor counts the same registrations three ways (:mod:`thbmonitor.monitor.units`):
registrations, victim-years (a person once per year, with the attributes of their first
registration that year) and persons in the window (with the attributes of their first
registration in the window). Published side by side, the units are tied by definition, and an
intruder holding the whole release can use every tie. These are all the ties this module knows
and hands to the audit (:class:`thbmonitor.disclosure.Relations`); each holds for every cell
of the tables named, margins included:

1. ``vic(y, c) <= reg(y, c)``: a victim-year is one of that year's registrations in the same
   cell (its first), for every pair of year tables ``vic_*``/``reg_*`` with the same dimensions.
2. ``per(c) <= reg(c)``: a person is one of the window's registrations in the same cell, for
   every pair of window tables ``per_*``/``reg_*`` with the same dimensions.
3. New and returning victims. With ``F(y, x)`` the persons whose first registration of the
   window is in year ``y`` (attribute ``x`` of that registration) and ``L(y, x)`` the
   victim-years of ``y`` that are not their person's first (never in the first year):
   ``vic(y, x) = F(y, x) + L(y, x)`` and ``per(x) = sum_y F(y, x)``, for every dimension that
   both a victims' year table and a persons' table show (``F`` and ``L`` are latent: never
   published, known to be non-negative and additive).
4. Persons registered in two or more years (``per_years_registered``, ``P2``):
   ``P2(g) <= sum_{y < last} F(y, g)`` (nobody first registered in the last year has a second
   year), ``sum_y L(y) >= P2`` (each has a returning year), ``L(y) <= P2`` (a returning
   victim in ``y`` is one of them), ``sum_y L(y) <= (years - 1) P2``, and
   ``L(y) <= sum_{y' < y} F(y')`` (a returning victim was new in an earlier year). With
   nobody registered in three or more years, ``sum_y L = P2`` and the persons in the window
   are exactly the sum of the yearly victims minus ``P2``.

Not held (weaker than the ties above, or needing tables the monitor does not publish): ties
through the cross-classification of new victims by year, group and a second attribute
(``per(g, x) = sum_y F(y, g, x)``). An inequality ``sum >= 0`` enters the system as an equation
with a latent slack cell (one per inequality, in the latent table ``units_slack``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pandas as pd

from thbmonitor.disclosure import CountTable, Relations, cell_key
from thbmonitor.disclosure.primary import shared_values
from thbmonitor.monitor.tables import TOTAL, MonitorTable

__all__ = ["unit_relations"]

Terms = dict[str, float]


class _Ties:
    """Equations over cell keys, with a slack cell per inequality (values for the check)."""

    def __init__(self, values: Mapping[str, float], span: str) -> None:
        self.values = dict(values)
        self.span = span
        self.equations: list[tuple[tuple[str, float], ...]] = []
        self.slacks: list[tuple[str, float]] = []  # (name, true value)
        self.names: set[str] = set()

    def known(self, terms: Terms) -> bool:
        return all(k in self.values for k in terms)

    def equal(self, terms: Terms) -> None:
        """sum(coefficient * cell) == 0."""
        if self.known(terms):
            self.equations.append(tuple(sorted(terms.items())))

    def at_least(self, terms: Terms, name: str) -> None:
        """sum(coefficient * cell) >= 0: the sum is a latent slack cell."""
        if not self.known(terms) or name in self.names:
            return
        self.names.add(name)
        slack = cell_key(f"slack {self.span}", {"relation": name})
        value = sum(c * self.values[k] for k, c in terms.items())
        self.slacks.append((name, value))
        self.equations.append(tuple(sorted({**terms, slack: -1.0}.items())))

    def slack_table(self) -> CountTable | None:
        if not self.slacks:
            return None
        cells = pd.DataFrame(
            {"relation": [n for n, _ in self.slacks], "count": [v for _, v in self.slacks]}
        )
        return CountTable.from_cells(
            "units_slack",
            cells,
            ["relation"],
            margins=(),
            universe=f"slack {self.span}",
            latent=True,
        )


def _coords(key: str) -> dict[str, str]:
    return dict(json.loads(key)[1])


def _label(key: str) -> str:
    universe, pairs = json.loads(key)
    return universe.split(" ")[0] + ":" + ",".join(f"{d}={v}" for d, v in pairs)


def _cellwise(ties: _Ties, small: MonitorTable, big: MonitorTable) -> None:
    """small(c) <= big(c) for every cell of ``small`` (same dimensions)."""
    for key in small.table.grid().keys.ravel():
        other = cell_key(big.table.universe, _coords(str(key)))
        ties.at_least({other: 1.0, str(key): -1.0}, f"{_label(str(key))}<=reg")


def _first_years(
    name: str,
    dim: str,
    frame: pd.DataFrame,
    years: Sequence[str],
    categories: Sequence[str],
    universe: str,
) -> CountTable:
    return CountTable.from_cells(
        name,
        frame.assign(year=frame["year"].astype(str)),
        ["year", dim],
        margins=[dim],
        categories={"year": list(years), dim: list(categories)},
        universe=universe,
        latent=True,
    )


def unit_relations(
    tables: Sequence[MonitorTable],
    new_victims: Mapping[str, pd.DataFrame],
    window: tuple[int, int],
) -> Relations:
    """The ties between the units of the monitor's ``tables`` (see the module docstring).

    ``new_victims`` maps a dimension to the persons in the window by the year of their first
    registration and that dimension (columns ``year``, the dimension and ``count``; values
    cleaned into the code lists as the tables' are): the true values of the latent ``F``.
    """
    span = f"{window[0]}-{window[1]}"
    years = [str(y) for y in range(window[0], window[1] + 1)]
    by_key = {t.key: t for t in tables}
    values = shared_values([t.table.grid() for t in tables])
    ties = _Ties(values, span)
    latent: list[CountTable] = []
    # 1 and 2: a victim-year and a person are each one registration in the same cell
    for t in tables:
        unit, _, rest = t.key.partition("_")
        if unit in ("vic", "per") and f"reg_{rest}" in by_key:
            reg = by_key[f"reg_{rest}"]
            if set(reg.table.dims) == set(t.table.dims):
                _cellwise(ties, t, reg)
    # 3: new and returning victims per dimension shown by victims per year and by persons
    vic_u, per_u = f"victims {span}", f"persons {span}"
    new_u, back_u = f"new victims {span}", f"returning victims {span}"
    later = years[1:]
    for dim, frame in new_victims.items():
        vic = by_key.get(f"vic_year_{_short(dim)}")
        if vic is None:
            continue
        cats = [str(c) for c in vic.table.grid().categories[1] if str(c) != TOTAL]
        if not any(cell_key(per_u, {dim: c}) in values for c in cats):
            continue
        new = _first_years(f"units_new_{dim}", dim, frame, years, cats, new_u)
        new_values = shared_values([new.grid()])
        back_cells = []
        for y in later:
            for c in cats:
                f = new_values[cell_key(new_u, {"year": y, dim: c})]
                v = values[cell_key(vic_u, {"year": y, dim: c})]
                back_cells.append({"year": y, dim: c, "count": v - f})
        latent.append(new)
        ties.values.update(new_values)
        if later:
            back = _first_years(
                f"units_returning_{dim}", dim, pd.DataFrame(back_cells), later, cats, back_u
            )
            latent.append(back)
            ties.values.update(shared_values([back.grid()]))
        for c in [*cats, TOTAL]:
            for y in years:
                terms = {cell_key(vic_u, {"year": y, dim: c}): 1.0,
                         cell_key(new_u, {"year": y, dim: c}): -1.0}  # fmt: skip
                if y in later:
                    terms[cell_key(back_u, {"year": y, dim: c})] = -1.0
                ties.equal(terms)
            terms = {cell_key(per_u, {dim: c}): 1.0}
            terms.update({cell_key(new_u, {"year": y, dim: c}): -1.0 for y in years})
            ties.equal(terms)
    # 4: persons registered in two or more years
    p2 = by_key.get("per_years_registered")
    if p2 is not None and later and "group" in new_victims:
        groups = [str(c) for c in p2.table.grid().categories[1] if str(c) != TOTAL]
        for g in [*groups, TOTAL]:
            terms = {cell_key(new_u, {"year": y, "group": g}): 1.0 for y in years[:-1]}
            terms[cell_key(per_u, {"years_registered": "2+", "group": g})] = -1.0
            ties.at_least(terms, f"P2(group={g})<=new before the last year")
        p2_total = cell_key(per_u, {"years_registered": "2+"})
        returning = {cell_key(back_u, {"year": y}): 1.0 for y in later}
        ties.at_least({**returning, p2_total: -1.0}, "returning>=P2")
        ties.at_least({p2_total: float(len(later)), **{k: -1.0 for k in returning}},
                      "returning<=(years-1)P2")  # fmt: skip
        for i, y in enumerate(later):
            back_y = cell_key(back_u, {"year": y})
            ties.at_least({p2_total: 1.0, back_y: -1.0}, f"returning({y})<=P2")
            earlier = {cell_key(new_u, {"year": e}): 1.0 for e in years[: i + 1]}
            ties.at_least({**earlier, back_y: -1.0}, f"returning({y})<=new before")
    slack = ties.slack_table()
    if slack is not None:
        latent.append(slack)
    return Relations(tuple(ties.equations), tuple(latent))


def _short(dim: str) -> str:
    from thbmonitor.monitor.tables import SHORT

    return "group" if dim == "group" else SHORT[dim]
