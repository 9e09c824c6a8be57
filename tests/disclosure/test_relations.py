"""Linear relations between tables of different universes, in the protection and the audit.

Universe A tabulates x with a total; universe B counts the same units under another name,
without a total (as the hidden-number chapter's observed counts repeat the victims per
year). The relation ``A(x) = B(x)`` lets an intruder read A's hidden cells from B's shown
ones: the joint audit must hold it, and a release protected with it must not leak.
"""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.disclosure import (
    CountTable,
    DisclosureRules,
    Relations,
    audit_release,
    cell_key,
    protect_release,
)
from thbmonitor.errors import InputError

from .intruder import intruder_ranges

COUNTS = {"x1": 5, "x2": 40, "x3": 50}


def tables() -> list[CountTable]:
    cells = pd.DataFrame({"x": list(COUNTS), "count": list(COUNTS.values())})
    a = CountTable.from_cells("a", cells, ["x"], universe="A")
    b = CountTable.from_cells("b", cells, ["x"], universe="B", margins=())
    return [a, b]


def same_units() -> Relations:
    return Relations(
        tuple(((cell_key("A", {"x": x}), 1.0), (cell_key("B", {"x": x}), -1.0)) for x in COUNTS)
    )


def test_a_release_protected_without_the_relation_fails_the_audit_with_it() -> None:
    rules = DisclosureRules(dominance=None)
    alone = [*protect_release(tables()[:1], rules).tables,
             *protect_release(tables()[1:], rules).tables]  # fmt: skip
    assert audit_release(alone, rules=rules).passed
    joint = audit_release(alone, rules=rules, relations=same_units())
    assert not joint.passed and joint.exact_disclosures


def test_protected_with_the_relation_the_release_is_safe_against_an_intruder_using_it() -> None:
    rules = DisclosureRules(dominance=None)
    rel = protect_release(tables(), rules, relations=same_units())
    assert audit_release(rel.tables, rules=rules, relations=same_units()).passed
    # the independent integer intruder, told that A(x) = B(x)
    extra = [
        {("A", frozenset({("x", x)})): 1.0, ("B", frozenset({("x", x)})): -1.0} for x in COUNTS
    ]
    ranges = intruder_ranges(rel.tables, 10, extra=extra)
    assert all(hi - lo >= 3 for lo, hi, marker in ranges.values() if marker.startswith("<"))


def test_a_relation_that_does_not_hold_is_refused() -> None:
    wrong = Relations((((cell_key("A", {"x": "x1"}), 1.0), (cell_key("B", {"x": "x2"}), -1.0)),))
    with pytest.raises(InputError, match="does not hold"):
        protect_release(tables(), relations=wrong)


def test_a_negative_latent_count_is_refused() -> None:
    latent = CountTable.from_cells(
        "slack", pd.DataFrame({"r": ["s"], "count": [-1]}), ["r"], margins=(), universe="L",
        latent=True,
    )  # fmt: skip
    with pytest.raises(InputError, match="negative"):
        protect_release(tables(), relations=Relations((), (latent,)))
