"""The UNODC delivery (GLOTIP data portal's long layout) on the small seeded store."""

from __future__ import annotations

import csv
import dataclasses
import io

from thbmonitor.export import tables as T
from thbmonitor.export.release import SEX_AGE_NOTE, Delivered
from thbmonitor.export.unodc import COLUMNS, WITHHELD, unodc_csv, unodc_rows

from .conftest import NL, UNODC, YEAR, World, report_cell

SDG = {
    "registered_per_100k": 1.23,
    "estimated_per_100k": 4.56,
    "estimated_lower_per_100k": 3.21,
    "estimated_upper_per_100k": 7.89,
}


def _rows(delivered: Delivered, sdg: dict[str, float] | None = SDG) -> list[dict[str, str]]:
    text = unodc_csv(unodc_rows(delivered, NL, UNODC, sdg), YEAR, UNODC)
    return list(csv.DictReader(io.StringIO(text)))


def _find(rows: list[dict[str, str]], indicator: str, **cols: str) -> dict[str, str]:
    want = {"Dimension": "Total", "Category": "Total", "Sex": "Total", "Age": "Total", **cols}
    hits = [r for r in rows if r["Indicator"] == indicator
            and all(r[k] == v for k, v in want.items())]  # fmt: skip
    assert len(hits) == 1, (indicator, cols)
    return hits[0]


def test_layout(world: World) -> None:
    """The data portal's columns; the reporter's ISO3 code and name; the year on every row;
    withheld values are empty and say so in Source."""
    rows = _rows(world.delivered)
    assert tuple(rows[0]) == COLUMNS
    assert {(r["Iso3_code"], r["Country"], r["Year"]) for r in rows} == {
        ("NLD", "Netherlands", str(YEAR))
    }
    for r in rows:
        assert r["VALUE"] == "" or float(r["VALUE"]) >= 0
        if WITHHELD in r["Source"]:
            assert r["VALUE"] == ""


def test_figures_equal_the_report_and_no_small_counts(world: World) -> None:
    """Detected victims, women, men, minors and each nationality group are the report's
    published figures (or withheld where the report hides them); no count from 1 to 9."""
    rows = _rows(world.delivered)
    y = str(YEAR)
    victims = UNODC.victims
    pairs = [
        (_find(rows, victims), report_cell(world, "vic_year_group", year=y)),
        (_find(rows, victims, Sex="Female"), report_cell(world, "vic_year_sex", year=y, sex="F")),
        (_find(rows, victims, Sex="Male"), report_cell(world, "vic_year_sex", year=y, sex="M")),
        (_find(rows, victims, Age="0 to 17 years"),
         report_cell(world, "vic_year_age", year=y, age_band="minor")),
        *((_find(rows, victims, Dimension="by citizenship", Category=UNODC.citizenship[g]),
           report_cell(world, "vic_year_natgroup", year=y, nationality_group=g))
          for g in NL.nationality.groups),
    ]  # fmt: skip
    for row, report in pairs:
        assert row["VALUE"] == ("" if report is None else str(report))
    counts = [int(r["VALUE"]) for r in rows if r["Unit of measurement"] == "Counts" and r["VALUE"]]
    assert counts and not [v for v in counts if 1 <= v <= 9]


def test_girls_boys_women_men(world: World) -> None:
    """Victims by sex and age: where the table has a safe pattern, girls + boys + women + men
    plus the withheld and unknown cells make up the total; each shown one is the true count of
    the protected table."""
    rows = _rows(world.delivered)
    assert world.delivered.has(T.SEX_AGE)
    table = world.delivered.tables[T.SEX_AGE].frame
    for sex, label in UNODC.sex.items():
        for band, age in (("minor", "0 to 17 years"), (T.adult_code(NL), "18 years or over")):
            row = _find(rows, UNODC.victims, Sex=label, Age=age)
            cell = table[(table["sex"] == sex) & (table["age_band"] == band)].iloc[0]
            if cell["status"] == "published":
                assert row["VALUE"] == str(cell["count"])
            else:
                assert row["VALUE"] == "" and WITHHELD in row["Source"]


def test_sex_and_age_apart_when_the_cross_table_cannot_be_protected(world: World) -> None:
    """Without the sex x age table (no safe pattern), women, men, minors and adults go out as
    separate breakdowns and their Source says why; no girls/boys/women/men rows."""
    tables = {k: v for k, v in world.delivered.tables.items() if k != T.SEX_AGE}
    apart = dataclasses.replace(world.delivered, tables=tables, sex_age_note=SEX_AGE_NOTE)
    rows = _rows(apart)
    both = [r for r in rows if r["Sex"] != "Total" and r["Age"] != "Total"]
    assert not both
    women = _find(rows, UNODC.victims, Sex="Female")
    assert SEX_AGE_NOTE in women["Source"]


def test_sdg_rates_are_the_reports(world: World) -> None:
    """SDG 16.2.2 rows carry the report's published rates per 100,000 (two decimals, as the
    report), registered and estimated with its interval; without rates they are empty."""
    rows = _rows(world.delivered)
    sdg = [r for r in rows if r["Indicator"] == UNODC.sdg]
    assert [r["VALUE"] for r in sdg] == ["1.23", "4.56", "3.21", "7.89"]
    assert {r["Unit of measurement"] for r in sdg} == {"Rate per 100,000 population"}
    empty = [r for r in _rows(world.delivered, None) if r["Indicator"] == UNODC.sdg]
    assert [r["VALUE"] for r in empty] == ["", "", "", ""]


def test_the_receivers_rule_is_named_only_on_small_counts_it_lets_out(world: World) -> None:
    """Without a receiver's rule (nl's deliveries.toml) no row says UNODC applies its own rule,
    not even a known zero (the demo's unknown age and citizenship rows said "UNODC applies its
    own rule to small counts ()" on a 0); with ``receiver_rule = "<5"`` only the counts from 1
    to 9 that go out say so, naming the rule."""
    rows = _rows(world.delivered)
    zeros = [r for r in rows if r["VALUE"] == "0"]
    assert zeros  # the check below has zeros to look at
    assert not [r for r in rows if "own rule" in r["Source"]]
    ruled = dataclasses.replace(UNODC, receiver_rule="<5")
    text = unodc_csv(unodc_rows(world.delivered, NL, ruled, SDG), YEAR, ruled)
    for r in csv.DictReader(io.StringIO(text)):
        small = (
            r["Unit of measurement"] == "Counts"
            and r["VALUE"] not in ("", "0")
            and (int(r["VALUE"]) < world.delivered.threshold)
        )
        assert ("UNODC applies its own rule to small counts (<5)" in r["Source"]) == small, r
