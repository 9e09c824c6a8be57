"""The monitor's declarations for disclosure control: which cells are hidden last (cost
weights), which lines are structural, and that the headline rows stay published.

Counts are checked against the independent pandas computation of the test world
(``conftest.units``); safety against the joint LP audit (``audit_release``).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, audit_release, protect_release
from thbmonitor.disclosure.primary import primary_statuses
from thbmonitor.engine import Store
from thbmonitor.monitor import build_tables
from thbmonitor.monitor.published import _is_headline, rules_from_settings
from thbmonitor.monitor.tables import COSTLY, MonitorTable, _structural
from thbmonitor.profiles import load_profile


@pytest.fixture(scope="module")
def tables(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> list[MonitorTable]:
    store, _, _ = world
    return build_tables(store, Settings(window_first=2016, window_last=2020))


def _by_key(tables: list[MonitorTable]) -> dict[str, MonitorTable]:
    return {t.key: t for t in tables}


def test_minors_and_totals_are_costly_unknowns_cheap(tables: list[MonitorTable]) -> None:
    t = _by_key(tables)
    age = t["reg_year_age"].table.cost_weights["age_band"]
    assert age["minor"] == COSTLY and age["Total"] == COSTLY and age["unknown"] < 1
    assert t["reg_year_age"].table.cost_weights["year"] == {"Total": COSTLY}
    # victim-years have no total over the years: no weight for a Total that does not exist
    assert "year" not in t["vic_year_age"].table.cost_weights
    # 'unknown', or 'no or unknown' where a small unknown was merged: cheap either way
    shelter = t["help_shelter_res"].table.cost_weights["shelter"]
    assert shelter.get("unknown", shelter.get("no_or_unknown", 1.0)) < 1


def test_victims_headline_rows_published(
    tables: list[MonitorTable], expected: dict[str, pd.DataFrame]
) -> None:
    """Victims per year and minor victims per year (counts from pandas) are published in
    vic_year_age wherever they are at least 10: the unknown age band (small every year)
    takes its complements from the 18-22 band, not from the minors; the audit passes."""
    victims = [t for t in tables if t.unit == "victims"]
    rel = protect_release([t.table for t in victims], rules_from_settings(Settings()))
    assert audit_release(rel.tables).passed
    f = rel["vic_year_age"].frame
    u = expected["victims"]
    for year in ("2016", "2017", "2018", "2019", "2020"):
        in_year = u[u["year"] == year]
        for band, n in (
            ("Total", len(in_year)),
            ("minor", int((in_year["age_band"] == "minor").sum())),
        ):
            row = f[(f["year"].astype(str) == year) & (f["age_band"] == band)].iloc[0]
            assert int(row["count"]) == n
            if n >= 10:
                assert row["status"] == "published", (year, band)


def test_structural_sector_lines_raise_no_group_risk(tables: list[MonitorTable]) -> None:
    """The monitor's group x sector tables declare the sectors of one group structural.
    Hand-made counts: agriculture 40 and construction 30 are all labour, illicit activities
    25 all criminal and criminal all illicit activities (100% lines, by the code list),
    prostitution 38 domestic and 2 cross-border (95%: an observed share, not a definition).
    Declared, the prostitution line and the two sexual groups (100% prostitution, observed)
    are group-disclosure risks; without the declaration the four structural lines are too."""
    assert "Agriculture" in _by_key(tables)["per_group_sector"].table.structural["sector"]
    cells = pd.DataFrame(
        [
            ("labour", "Agriculture", 40),
            ("labour", "Construction", 30),
            ("criminal", "IllicitActivities", 25),
            ("domestic_sexual", "Prostitution", 38),
            ("cross_border_sexual", "Prostitution", 2),
        ],
        columns=["group", "sector", "count"],
    )
    rules = rules_from_settings(Settings())

    def flagged(structural: dict[str, list[str]]) -> set[str]:
        table = CountTable.from_cells(
            "per_group_sector", cells, ["group", "sector"], structural=structural
        )
        _, risks = primary_statuses([table.grid()], rules)
        return {"=".join(p) for r in risks for p in json.loads(r.total)[1]}

    declared = _structural(["group", "sector"], load_profile("nl"))
    # the sexual groups (all prostitution here) are observed shares and stay checked
    sexual = {"group=domestic_sexual", "group=cross_border_sexual"}
    assert flagged(declared) == {"sector=Prostitution", *sexual}
    assert flagged({}) == {
        "sector=Agriculture",
        "sector=Construction",
        "sector=IllicitActivities",
        "sector=Prostitution",
        "group=criminal",
        *sexual,
    }


def test_headline_cells() -> None:
    key = json.dumps(["victims 2016-2020", [["age_band", "minor"], ["year", "2020"]]])
    minors = {"minor"}
    assert _is_headline(key, minors)
    assert _is_headline(json.dumps(["persons 2016-2020", []]), minors)
    assert not _is_headline(json.dumps(["victims 2016-2020", [["group", "labour"]]]), minors)
    assert not _is_headline(json.dumps(["victims 2016-2020", [["age_band", "18-22"]]]), minors)


def test_every_yearly_total_and_the_minors_are_published(tables: list[MonitorTable]) -> None:
    """The headline cells (CountTable.keep: totals per year and of the window) are never
    hidden as complements, and the minors per year (costly) are not hidden here either: in the
    registrations and victims universes each yearly total of at least 10 is published, and
    the audit passes."""
    rules = rules_from_settings(Settings())
    for unit, p in (("registrations", "reg"), ("victims", "vic")):
        group = [t for t in tables if t.unit == unit]
        rel = protect_release([t.table for t in group], rules)
        assert audit_release(rel.tables).passed
        f = rel[f"{p}_year_group"].frame
        totals = f[(f["group"] == "Total") & (f["year"] != "Total")]
        assert len(totals) == 5  # the window 2016-2020
        for _, row in totals.iterrows():
            if row["count"] >= 10:
                assert row["status"] == "published", (unit, row["year"])
        minors = rel[f"{p}_minor_year_group"].frame
        m = minors[minors["group"] == "Total"]
        assert ((m["count"] < 10) | (m["status"] == "published")).all()
