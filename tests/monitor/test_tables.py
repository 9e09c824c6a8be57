"""Every table's counts (inner cells and margins) against an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.monitor import build_tables
from thbmonitor.monitor.tables import MonitorTable

WINDOW = (2016, 2020)
HELP = ("shelter", "b8_applied", "b8_granted", "care_referral")
REGION = {
    "amsterdam": "Noord-Holland",
    "rotterdam": "Zuid-Holland",
    "den haag": "Zuid-Holland",
    "eindhoven": "Noord-Brabant",
    "venlo": "Limburg",
}  # the test world's municipalities; 'Nowhere' and missing are unknown


def _attributes(regs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "year": regs["registration_year"].astype(str),
            "group": regs["monitor_group"].fillna("other_unknown"),
            "sex": regs["sex"].fillna("U"),
            "age_band": regs["age_band"].fillna("unknown"),
            "nationality_group": regs["nationality_group"].fillna("unknown"),
            "nationality": regs["nationality_primary"].fillna("XX"),
            "residence_status": regs["residence_status"].fillna("Unknown"),
            "reporting_organisation": regs["reporting_organisation"].fillna("Other"),
            "sector": regs["sector"].fillna("Unknown"),
            "region": regs["municipality"].map(
                lambda m: (
                    REGION.get(m.strip().lower(), "unknown") if isinstance(m, str) else "unknown"
                )
            ),
        },
        index=regs.index,
    )
    return out


def _answer(any_yes: pd.Series, any_no: pd.Series) -> pd.Series:
    """'yes' if any registration says yes, else 'no' if any says no, else 'unknown'."""
    out = pd.Series("unknown", index=any_yes.index)
    out[any_no.astype(bool)] = "no"
    out[any_yes.astype(bool)] = "yes"
    return out


def units(regs: pd.DataFrame, mapping: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three counting units, computed with pandas only."""
    r = regs[regs["registration_year"].between(*WINDOW)].copy()
    r = r.merge(mapping, on="registration_id", how="left")
    r["person_id"] = r["person_id"].fillna("unlinked:" + r["registration_id"])
    r = r.sort_values(["registration_date", "registration_id"]).reset_index(drop=True)
    for m in HELP:
        r[f"{m}_yes"] = r[m].eq(True)
        r[f"{m}_no"] = r[m].eq(False)
    out = {}
    for unit, keys in (
        ("registrations", ["registration_id"]),
        ("victims", ["person_id", "registration_year"]),
        ("persons", ["person_id"]),
    ):
        first = r.groupby(keys, sort=False).head(1).reset_index(drop=True)
        attrs = _attributes(first)
        grouped = r.groupby(keys)
        flags = grouped[[f"{m}_{a}" for m in HELP for a in ("yes", "no")]].any()
        n_years = grouped["registration_year"].nunique()
        idx = pd.MultiIndex.from_frame(first[keys]) if len(keys) > 1 else pd.Index(first[keys[0]])
        for m in HELP:
            attrs[m] = _answer(
                flags[f"{m}_yes"].reindex(idx).set_axis(attrs.index),
                flags[f"{m}_no"].reindex(idx).set_axis(attrs.index),
            )
        n = n_years.reindex(idx).set_axis(attrs.index)
        attrs["years_registered"] = n.map(lambda v: "3+" if v >= 3 else str(v))
        out[unit] = attrs
    return out


@pytest.fixture(scope="module")
def tables(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> list[MonitorTable]:
    store, _, _ = world
    return build_tables(store, Settings())


@pytest.fixture(scope="module")
def expected(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    _, regs, mapping = world
    return units(regs, mapping)


def test_every_cell_matches_pandas(
    tables: list[MonitorTable], expected: dict[str, pd.DataFrame]
) -> None:
    """Each cell, margins included, equals the number of pandas units with its coordinates."""
    assert len(tables) >= 40
    checked = 0
    for t in tables:
        u = expected[t.unit]
        for _, cell in t.frame.iterrows():
            mask = pd.Series(True, index=u.index)
            for d in t.table.dims:
                if cell[d] != "Total":
                    mask &= u[d] == cell[d]
            if "nationality" in t.table.dims and cell["nationality"] == "Total":
                mask &= u["nationality"].isin(t.table.frame["nationality"].unique())
            if "group" in t.table.dims and t.key.endswith("natgroup"):
                mask &= u["group"] != "domestic_sexual"
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
    assert by_key["per_group_sex"].count() < by_key["vic_year_group"].count()
    assert by_key["per_years_registered"].count(years_registered="2") > 0


def test_group_counts_add_up_to_year_total(tables: list[MonitorTable]) -> None:
    """A person is in one group per year (the first registration's): groups sum to the total."""
    t = next(t for t in tables if t.key == "vic_year_group")
    f = t.frame
    for y in map(str, range(2016, 2021)):
        inner = f[(f["year"] == y) & (f["group"] != "Total")]["count"].sum()
        assert inner == t.count(year=y)
