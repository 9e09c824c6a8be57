"""Primary rules, group disclosure, markers, percentages, legend and table building."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thbmonitor.disclosure import (
    CellStatus,
    CountTable,
    DisclosureRules,
    audit_release,
    protect_release,
)
from thbmonitor.errors import ConfigError, InputError

from .intruder import intruder_ranges


def records(seed: int = 1, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "form": rng.choice(
                ["sexual", "labour", "criminal", "other"], n, p=[0.5, 0.3, 0.17, 0.03]
            ),
            "sex": rng.choice(["F", "M"], n, p=[0.6, 0.4]),
            "age": rng.choice(["<18", "18-23", "24+"], n, p=[0.15, 0.25, 0.6]),
        }
    )


def test_margins_equal_pandas_crosstab():
    """from_records' margins are pandas.crosstab(..., margins=True, margins_name="Total")."""
    rec = records()
    t = CountTable.from_records("form_sex", rec, ["form", "sex"])
    ref = pd.crosstab(rec["form"], rec["sex"], margins=True, margins_name="Total")
    got = t.frame.set_index(["form", "sex"])["count"]
    for form in ref.index:
        for sex in ref.columns:
            assert got[(form, sex)] == ref.loc[form, sex]
    assert len(t.frame) == ref.size


def test_primary_rule_markers_and_threshold_setting():
    """Counts 1..T-1 show '<T', zeros '–', the rest their value; T is a setting."""
    cells = pd.DataFrame({"f": ["a", "b", "c", "d"], "count": [0, 4, 12, 40]})
    t = CountTable.from_cells("f", cells, ["f"])
    rel = protect_release([t], DisclosureRules(dominance=None))
    shown = dict(zip(rel["f"].frame["f"], rel["f"].frame["display"], strict=True))
    assert shown["a"] == "–" and shown["b"] == "<10" and shown["d"] == 40
    assert shown["c"] == "x"  # 4 = 56 - 12 - 40 otherwise
    rel5 = protect_release([t], DisclosureRules(threshold=5, dominance=None))
    shown5 = dict(zip(rel5["f"].frame["f"], rel5["f"].frame["display"], strict=True))
    assert shown5["b"] == "<5"


def test_zeros_disclosive_setting_hides_zeros():
    cells = pd.DataFrame({"f": ["a", "b", "c"], "count": [0, 30, 40]})
    t = CountTable.from_cells("f", cells, ["f"])
    rel = protect_release([t], DisclosureRules(zeros_disclosive=True, dominance=None))
    frame = rel["f"].frame.set_index("f")
    assert frame.loc["a", "display"] == "<10"
    assert frame.loc["a", "status"] == CellStatus.PRIMARY
    assert rel.audit.passed


def test_group_disclosure_all_twelve_eritreans_were_minors():
    """The class-disclosure example of the SDC notes (R3): "all 12 Eritrean victims were
    minors". The 12 and the adults' zero must not both be shown; an intruder must not be able
    to prove that >= 90 % of the group are minors."""
    cells = pd.DataFrame(
        {
            "nat": ["ER", "ER", "NL", "NL", "NG", "NG"],
            "age": ["minor", "adult", "minor", "adult", "minor", "adult"],
            "count": [12, 0, 30, 120, 15, 45],
        }
    )
    t = CountTable.from_cells("nat_age", cells, ["nat", "age"])
    rel = protect_release([t])
    f = rel["nat_age"].frame.set_index(["nat", "age"])
    assert f.loc[("ER", "minor"), "display"] == "x"
    assert f.loc[("ER", "adult"), "display"] == "<10"  # the zero no longer tells "none"
    assert rel.audit.passed and all(g.ok for g in rel.audit.groups)
    # independent check from the shown table only: minors' share of ER is not provably >= .9
    ranges = intruder_ranges(rel.tables)
    er_minor = [v for k, v in ranges.items() if dict(k[1]) == {"nat": "ER", "age": "minor"}]
    ((lo, _hi, _),) = er_minor
    assert lo < 0.9 * 12


def test_group_rule_can_be_switched_off():
    cells = pd.DataFrame({"nat": ["ER", "ER"], "age": ["minor", "adult"], "count": [12, 0]})
    t = CountTable.from_cells("nat_age", cells, ["nat", "age"])
    rel = protect_release([t], DisclosureRules(dominance=None))
    assert (rel["nat_age"].frame["status"] != CellStatus.GROUP).all()


def test_percentages_never_from_hidden_counts():
    """R9: no percentage whose numerator or denominator is hidden."""
    rec = records()
    rel = protect_release([CountTable.from_records("form_sex", rec, ["form", "sex"])])
    pt = rel["form_sex"]
    pct = pt.percentages("sex")
    merged = pct.merge(pt.frame[["form", "sex", "count", "status"]], on=["form", "sex"])
    hidden = merged["status"].isin(["primary", "secondary", "group"])
    assert merged.loc[hidden, "percent"].isna().all()
    assert not merged.loc[hidden, "display"].str.match(r"^\d").any()
    shown = merged["percent"].notna()
    tot = pt.frame.set_index(["form", "sex"])["count"]
    for _, r in merged[shown].iterrows():
        assert r["percent"] == pytest.approx(100 * r["count"] / tot[(r["form"], "Total")], abs=0.05)
    for _, r in merged[shown].iterrows():
        total_status = pt.frame.set_index(["form", "sex"]).loc[(r["form"], "Total"), "status"]
        assert total_status == "published"


def test_display_published_counts_and_legend():
    rec = records()
    rel = protect_release([CountTable.from_records("form_age", rec, ["form", "age"])])
    pt = rel["form_age"]
    disp = pt.display_frame()
    assert list(disp.columns) == ["form", "age", "value"]
    counts = pt.published_counts()
    merged = counts.merge(pt.frame, on=["form", "age"])
    hidden = merged["status"].isin(["primary", "secondary", "group"])
    assert merged.loc[hidden, "count_x"].isna().all()
    assert (merged.loc[~hidden, "count_x"] == merged.loc[~hidden, "count_y"]).all()
    for lang, word in (("en", "<10 = 0 to 9"), ("nl", "<10 = 0 tot en met 9")):
        text = pt.legend(lang)
        assert word in text and "x =" in text and "– =" in text and ". =" in text


def test_not_available_cells():
    """NaN counts are shown '.', never checked, and the margins stay the true totals."""
    cells = pd.DataFrame({"f": ["a", "b", "c"], "count": [np.nan, 30, 40]})
    frame = CountTable.from_cells("f", cells, ["f"]).frame
    frame.loc[frame["f"] == "Total", "count"] = 85  # the registry knows the total
    rel = protect_release([CountTable("f", frame, ("f",), universe="u")])
    f = rel["f"].frame.set_index("f")
    assert f.loc["a", "display"] == "." and f.loc["Total", "display"] == 85
    assert rel.audit.passed


def test_bad_input_is_refused_without_values():
    cells = pd.DataFrame({"f": ["a", "b", "Total"], "count": [3, 30, 34]})
    with pytest.raises(InputError, match="margin") as err:
        CountTable("f", cells, ("f",)).grid()
    assert "34" not in str(err.value) and "33" not in str(err.value)
    with pytest.raises(InputError, match="cross-classification"):
        CountTable("g", cells.iloc[:2].assign(g=["x", "y"]), ("f", "g")).grid()
    with pytest.raises(ConfigError):
        DisclosureRules(threshold=1)
    a = CountTable.from_cells("a", cells.iloc[:2], ["f"])
    b = CountTable.from_cells("b", cells.iloc[:2].assign(count=[3, 31]), ["f"])
    with pytest.raises(InputError, match="different counts"):
        protect_release([a, b])


def test_three_way_table_is_protected_and_passes_independent_intruder():
    rec = records(seed=7, n=300)
    t = CountTable.from_records("fsa", rec, ["form", "sex", "age"])
    rel = protect_release([t])
    assert rel.audit.passed
    assert audit_release(rel.tables).passed
    for lo, hi, marker in intruder_ranges(rel.tables).values():
        assert hi > lo, marker


def hidden_coords(rel, name: str) -> set[tuple]:
    f = rel[name].frame
    hid = f[f["status"].isin(["primary", "secondary", "group"])]
    return {tuple(r) for r in hid[list(rel[name].dims)].itertuples(index=False, name=None)}


def test_one_way_complement_is_the_cheapest_sufficient_cell():
    """Cells 3, 12, 40, 25 (total 80): hiding the 3 needs one more cell. The smallest, 12,
    suffices: 3 + x = 15 with x >= 10 ('x') gives the 3 the interval [0, 5], width 5 >= 3
    (hand check), so the optimal pattern hides {3, 12} only."""
    cells = pd.DataFrame({"f": ["a", "b", "c", "d"], "count": [3, 12, 40, 25]})
    rel = protect_release([CountTable.from_cells("f", cells, ["f"])], DisclosureRules())
    assert hidden_coords(rel, "f") == {("a",), ("b",)}


def test_two_way_pattern_is_the_cheapest_cycle():
    """Rows A (3, 20, 30), B (15, 40, 50), C (25, 35, 60). The 3 needs a hidden partner in its
    row, in its column and a fourth cell closing the rectangle; of all rectangles through it
    within the inner cells, A2 + B1 + B2 = 20 + 15 + 40 = 75 is the smallest total (A2 + C1 + C2
    = 80, A3 + B1 + B3 = 95, ...; rectangles through margins cost more), and it gives the 3
    the interval [0, 8] (hand check: B1 = 18 - a >= 10)."""
    rows = [
        ("A", "1", 3),
        ("A", "2", 20),
        ("A", "3", 30),
        ("B", "1", 15),
        ("B", "2", 40),
        ("B", "3", 50),
        ("C", "1", 25),
        ("C", "2", 35),
        ("C", "3", 60),
    ]
    cells = pd.DataFrame(rows, columns=["r", "c", "count"])
    rel = protect_release([CountTable.from_cells("t", cells, ["r", "c"])], DisclosureRules())
    assert hidden_coords(rel, "t") == {("A", "1"), ("A", "2"), ("B", "1"), ("B", "2")}
    (a,) = [c for c in rel.audit.intervals if c.status == "primary"]
    assert (a.lower, a.upper) == (0, 8)


def test_published_records_are_json_ready_and_hide_suppressed_counts():
    import json

    rec = records()
    rel = protect_release([CountTable.from_records("form_sex", rec, ["form", "sex"])])
    cells = rel["form_sex"].published_records()
    json.dumps(cells)  # plain ints, strings and None only
    truth = rel["form_sex"].frame
    for cell, (_, row) in zip(cells, truth.iterrows(), strict=True):
        if row["status"] in ("primary", "secondary", "group"):
            assert cell["count"] is None and cell["marker"] in ("<10", "x")
        else:
            assert cell["count"] == row["count"]


def test_pattern_does_not_depend_on_hash_seed(tmp_path):
    """The same tables give the same pattern in processes with different string hashing."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, pandas as pd\n"
        "from thbmonitor.disclosure import CountTable, protect_release\n"
        "rng = np.random.default_rng(3)\n"
        "rec = pd.DataFrame({d: rng.choice(list('abcdef'), 300, p=[.4, .3, .15, .1, .03, .02])"
        " for d in ('f', 's', 'g')})\n"
        "ts = [CountTable.from_records(n, rec, list(n)) for n in ('fs', 'fg', 'sg')]\n"
        "rel = protect_release(ts)\n"
        "print(''.join(s[0] for t in rel.tables for s in t.frame['status']))\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outs.append(res.stdout)
    assert outs[0] == outs[1] and "s" in outs[0]


def test_a_zero_hidden_for_group_disclosure_cannot_be_proven_zero():
    """Row 'other': 0, 0, 30 (100% in c). The zeros are hidden (<10) so that the line's
    dominance cannot be proven; the legend says <10 is 0 to 9, so the audit must not let an
    intruder prove them 0 either (the column totals would, with everything else shown)."""
    cells = pd.DataFrame(
        [
            ("main", "a", 40), ("main", "b", 35), ("main", "c", 50),
            ("other", "a", 0), ("other", "b", 0), ("other", "c", 30),
            ("more", "a", 25), ("more", "b", 45), ("more", "c", 60),
        ],
        columns=["row", "col", "count"],
    )  # fmt: skip
    rel = protect_release([CountTable.from_cells("t", cells, ["row", "col"])])
    f = rel["t"].frame
    zeros = f[(f["row"] == "other") & (f["col"].isin(["a", "b"]))]
    assert (zeros["status"] == "primary").all()
    again = audit_release(rel.tables)
    assert again.passed
    for c in again.intervals:
        if c.status == "primary":
            assert c.upper - c.lower >= 1
