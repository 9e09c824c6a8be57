"""Every table's counts (inner cells and margins) against an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.monitor import build_tables
from thbmonitor.monitor.tables import MonitorTable


@pytest.fixture(scope="module")
def tables(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> list[MonitorTable]:
    store, _, _ = world
    return build_tables(store, Settings(window_first=2016, window_last=2020))


def test_every_cell_matches_pandas(
    tables: list[MonitorTable], expected: dict[str, pd.DataFrame]
) -> None:
    """Each cell, margins included, equals the number of pandas units with its coordinates
    (a merged category: with any of its categories)."""
    assert len(tables) >= 40
    checked = 0
    for t in tables:
        u = expected[t.unit]
        parts = {(m.dimension, m.into): list(m.categories) for m in t.merges}
        for _, cell in t.frame.iterrows():
            mask = pd.Series(True, index=u.index)
            for d in t.table.dims:
                if cell[d] != "Total":
                    mask &= u[d].isin(parts.get((d, cell[d]), [cell[d]]))
            if "group" in t.table.dims and "domestic_sexual" not in set(t.frame["group"]):
                mask &= u["group"] != "domestic_sexual"  # left out by design
            assert int(cell["count"]) == int(mask.sum()), (t.key, dict(cell))
            checked += 1
    assert checked > 1500


def test_known_totals(tables: list[MonitorTable], expected: dict[str, pd.DataFrame]) -> None:
    by_key = {t.key: t for t in tables}
    regs_2018 = (expected["registrations"]["year"] == "2018").sum()
    assert by_key["reg_year_group"].count(year="2018") == regs_2018
    # victims per year <= registrations per year; persons in window <= sum of victim-years
    for y in map(str, range(2016, 2021)):
        assert by_key["vic_year_group"].count(year=y) <= by_key["reg_year_group"].count(year=y)
    victim_years = sum(by_key["vic_year_group"].count(year=str(y)) for y in range(2016, 2021))
    assert by_key["per_group_sex"].count() < victim_years
    assert by_key["per_years_registered"].count(years_registered="2+") > 0
    assert by_key["per_group_sector"].count(group="labour") == by_key["per_group_sex"].count(
        group="labour"
    )
    # victim-years are not summed over the window
    assert "Total" not in set(by_key["vic_year_group"].frame["year"])


def test_group_counts_add_up_to_year_total(tables: list[MonitorTable]) -> None:
    """A person is in one group per year (the first registration's): groups sum to the total."""
    t = next(t for t in tables if t.key == "vic_year_group")
    f = t.frame
    for y in map(str, range(2016, 2021)):
        inner = f[(f["year"] == y) & (f["group"] != "Total")]["count"].sum()
        assert inner == t.count(year=y)
