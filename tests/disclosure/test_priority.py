"""Cost weights: complementary cells are drawn from cheap categories before headline cells.

Every expected pattern below is worked out by hand from the cube costs of
``thbmonitor.disclosure.suppression`` (cost of a cell = (count + 1) x (1 + 2 per margin
dimension) x its cost weight) and checked for safety with the joint LP audit; the intervals
are hand-solved from the table's equations.
"""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.disclosure import CountTable, DisclosureRules, audit_release, protect_release
from thbmonitor.errors import InputError


def hidden(rel, name: str) -> set[tuple]:
    f = rel[name].frame
    hid = f[f["status"].isin(["primary", "secondary", "group"])]
    return {tuple(r) for r in hid[list(rel[name].dims)].itertuples(index=False, name=None)}


LINE = pd.DataFrame({"age": ["minor", "18-22", "23+", "unknown"], "count": [12, 4, 40, 15]})


def test_one_way_complement_moves_from_headline_to_unknown():
    """Ages minor 12, 18-22 4, 23+ 40, unknown 15 (total 71). The 4 needs one complement.
    Without weights the smallest sufficient cell is the minors' 12 (cost 13 < 16): the
    headline is hidden. With minor x20 and unknown x0.2 the unknown costs 3.2 and the minors
    260, so the unknown is hidden instead. Hand check of safety: 18-22 + unknown = 71 - 12 - 40
    = 19 with unknown >= 10 gives 18-22 in [0, 9] (width 9 >= 3)."""
    plain = protect_release([CountTable.from_cells("t", LINE, ["age"])], DisclosureRules())
    assert hidden(plain, "t") == {("18-22",), ("minor",)}

    weights = {"age": {"minor": 20.0, "unknown": 0.2}}
    table = CountTable.from_cells("t", LINE, ["age"], cost_weights=weights)
    rel = protect_release([table], DisclosureRules())
    assert hidden(rel, "t") == {("18-22",), ("unknown",)}
    (a,) = [c for c in rel.audit.intervals if c.status == "primary"]
    assert (a.lower, a.upper) == (0, 9)
    assert audit_release(rel.tables).passed


GRID = pd.DataFrame(
    [
        ("minor", "2019", 11),
        ("minor", "2020", 13),
        ("18-22", "2019", 30),
        ("18-22", "2020", 4),
        ("23+", "2019", 80),
        ("23+", "2020", 90),
        ("unknown", "2019", 14),
        ("unknown", "2020", 16),
    ],
    columns=["age", "year", "count"],
)


def test_two_way_cube_moves_from_minors_row_to_unknown_row():
    """Age x year with both margins; 18-22 in 2020 is 4. The cheapest rectangle through it
    within inner cells uses the minors row: 14 + 12 + 31 = 57 (unknown row 17 + 15 + 31 = 63,
    23+ row 203). With minor x20, unknown x0.2 and margins x20 the unknown rectangle costs
    (17 + 15) x 0.2 + 31 = 37.4 and the minors one 551: the minors row stays published.
    Hand check: a = 18-22/2020, b = unknown/2020, c = unknown/2019, d = 18-22/2019 with
    a + b = 123 - 13 - 90 = 20, c + d = 135 - 11 - 80 = 44, a + d = 34, b + c = 30 and
    b, c, d >= 10 give a in [0, 9]. The minors row (m20 + a = 17, m19 + d = 41, a + d = 34,
    m20, m19 >= 10) gives a in [3, 7]."""
    plain = protect_release([CountTable.from_cells("t", GRID, ["age", "year"])])
    assert hidden(plain, "t") == {
        ("18-22", "2020"),
        ("minor", "2020"),
        ("minor", "2019"),
        ("18-22", "2019"),
    }
    (a0,) = [c for c in plain.audit.intervals if c.status == "primary"]
    assert (a0.lower, a0.upper) == (3, 7)

    weights = {"age": {"minor": 20.0, "unknown": 0.2, "Total": 20.0}, "year": {"Total": 20.0}}
    table = CountTable.from_cells("t", GRID, ["age", "year"], cost_weights=weights)
    rel = protect_release([table])
    assert hidden(rel, "t") == {
        ("18-22", "2020"),
        ("unknown", "2020"),
        ("unknown", "2019"),
        ("18-22", "2019"),
    }
    (a,) = [c for c in rel.audit.intervals if c.status == "primary"]
    assert (a.lower, a.upper) == (0, 9)
    assert audit_release(rel.tables).passed


def test_weight_of_a_shared_cell_is_the_largest_any_table_gives():
    """The age line above is also the margin of an age x sex table without weights for the
    minors: the cell 'age=minor' is one cell, and the age table's factor 20 keeps it costly
    in the linked table too, so the complement of the 18-22 cell is again the unknown (as in
    the one-way hand check); the pattern passes the joint audit."""
    sexes = pd.DataFrame(
        [(a, s, n) for a, n in zip(LINE["age"], LINE["count"], strict=True)
         for s, n in (("F", n // 2), ("M", n - n // 2))],
        columns=["age", "sex", "count"],
    )  # fmt: skip
    one = CountTable.from_cells(
        "age", LINE, ["age"], cost_weights={"age": {"minor": 20.0, "unknown": 0.2}}
    )
    two = CountTable.from_cells("age_sex", sexes, ["age", "sex"])
    rel = protect_release([one, two])
    assert ("minor",) not in hidden(rel, "age")
    assert ("18-22",) in hidden(rel, "age")
    assert ("unknown",) in hidden(rel, "age")
    assert audit_release(rel.tables).passed


def test_invalid_cost_weights_are_refused():
    with pytest.raises(InputError, match="not a dimension"):
        CountTable.from_cells("t", LINE, ["age"], cost_weights={"sex": {"F": 2.0}})
    with pytest.raises(InputError, match="positive"):
        CountTable.from_cells("t", LINE, ["age"], cost_weights={"age": {"minor": 0.0}})
    with pytest.raises(InputError, match="does not have"):
        CountTable.from_cells("t", LINE, ["age"], cost_weights={"age": {"child": 2.0}}).grid()


SECTORS = pd.DataFrame(
    [
        ("labour", "Agriculture", 40),
        ("labour", "Construction", 30),
        ("labour", "Prostitution", 0),
        ("labour", "Escort", 0),
        ("sexual", "Agriculture", 0),
        ("sexual", "Construction", 0),
        ("sexual", "Prostitution", 30),
        ("sexual", "Escort", 25),
    ],
    columns=["group", "sector", "count"],
)


def test_structural_lines_are_not_group_disclosure():
    """Group x sector where every sector belongs to one group by the code list (agriculture
    and construction are labour, prostitution and escort sexual exploitation). Each sector's
    line along group is 100% one group: the dominance rule (0.9) flags all four and hides the
    dominant cells (and the zeros that would confirm them). Declared structural, the four
    lines say nothing beyond the code list: every count (all >= 10) and zero is shown, no group
    is checked, and the joint audit passes. The group lines (labour: 40/70 = 57%, sexual:
    30/55 = 55%) are below 0.9 either way."""
    plain = protect_release([CountTable.from_cells("gs", SECTORS, ["group", "sector"])])
    flagged = plain["gs"].frame
    assert set(flagged.loc[flagged["status"] == "group", "sector"]) == {
        "Agriculture",
        "Construction",
        "Prostitution",
        "Escort",
    }

    table = CountTable.from_cells(
        "gs",
        SECTORS,
        ["group", "sector"],
        structural={"sector": ["Agriculture", "Construction", "Prostitution", "Escort"]},
    )
    rel = protect_release([table])
    assert set(rel["gs"].frame["status"]) == {"published", "zero"}
    assert rel.audit.passed and not rel.audit.groups
    assert audit_release(rel.tables).passed


def test_structural_line_keeps_other_lines_checked():
    """Only the declared sector's line is exempt: construction left undeclared stays a
    dominant (100% labour) group and its labour cell is hidden ('x')."""
    table = CountTable.from_cells(
        "gs",
        SECTORS,
        ["group", "sector"],
        structural={"sector": ["Agriculture", "Prostitution", "Escort"]},
    )
    rel = protect_release([table])
    f = rel["gs"].frame
    assert set(f.loc[f["status"] == "group", "sector"]) == {"Construction"}
    assert rel.audit.passed
    with pytest.raises(InputError, match="not a dimension"):
        CountTable.from_cells("gs", SECTORS, ["group", "sector"], structural={"age": ["x"]})
