"""Information loss of a release, hand-counted on small tables."""

from __future__ import annotations

import pandas as pd

from thbmonitor.disclosure import CountTable, DisclosureRules, information_loss, protect_release


def test_cells_and_units_hidden_hand_counted() -> None:
    """Row a: 4 + 30 = 34, row b: 25 + 40 = 65, total 99. The 4 is small; its complements
    are the other corners of the cheapest rectangle (30, 25, 40: three cells hidden with it,
    as the 2 x 2 table allows no less). Hidden inner cells hold 4 + 30 + 25 + 40 = 99 units:
    the shown total 99 minus no shown inner cell."""
    cells = pd.DataFrame(
        [("a", "x", 4), ("a", "y", 30), ("b", "x", 25), ("b", "y", 40)],
        columns=["r", "c", "count"],
    )
    rel = protect_release(
        [CountTable.from_cells("t", cells, ["r", "c"])], DisclosureRules(dominance=None)
    )
    loss = information_loss(rel.tables)
    t = loss["tables"]["t"]
    assert t["cells"] == 9 and t["primary"] == 1
    hidden_inner = int(
        rel["t"].frame.query("r != 'Total' and c != 'Total'")["status"].ne("published").sum()
    )
    assert t["hidden_inner_cells"] == hidden_inner
    f = rel["t"].frame
    shown_inner = f.query("r != 'Total' and c != 'Total' and status == 'published'")
    assert t["units_in_hidden_cells"] == 99 - int(shown_inner["count"].sum())
    assert loss["release"]["cells"] == 9
    assert loss["release"]["hidden_share"] == round((t["primary"] + t["complementary"]) / 9, 4)


def test_units_are_not_reported_when_the_total_is_hidden() -> None:
    """A total of 7 is itself small: the units in hidden cells would tell it."""
    cells = pd.DataFrame({"x": ["a", "b"], "count": [3, 4]})
    rel = protect_release([CountTable.from_cells("t", cells, ["x"])])
    loss = information_loss(rel.tables)
    assert loss["tables"]["t"]["units_in_hidden_cells"] is None
    assert loss["release"]["tables_without_units"] == 1
