"""Stable person ids: what reconciliation keeps, issues, merges and splits."""

from __future__ import annotations

import pandas as pd

from thbmonitor.linkage.identity import format_id, next_id_number, reconcile


def _clusters(pairs: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["registration_id", "cluster"])


def _previous(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["registration_id", "person_id"])


def test_first_run_issues_ids_in_registration_order() -> None:
    rec = reconcile(_clusters([("r2", 0), ("r1", 1), ("r3", 1)]), _previous([]), 1)
    ids = dict(zip(rec.assignment["registration_id"], rec.assignment["person_id"], strict=True))
    assert ids == {"r1": "P00000001", "r3": "P00000001", "r2": "P00000002"}
    assert (rec.n_kept, rec.n_new, rec.n_merged, rec.n_split) == (0, 2, 0, 0)


def test_rerun_keeps_ids_adds_new_and_records_merges_and_splits() -> None:
    previous = _previous(
        [("r1", "P1"), ("r2", "P1"), ("r3", "P2"), ("r4", "P3"), ("r5", "P4"), ("r6", "P4")]
    )
    # r1+r2 stay together with a new r7 (kept); P2 and P3 merge; P4 splits; r8 is new
    clusters = _clusters(
        [
            ("r1", 10),
            ("r2", 10),
            ("r7", 10),
            ("r3", 11),
            ("r4", 11),
            ("r5", 12),
            ("r6", 13),
            ("r8", 14),
        ]
    )
    rec = reconcile(clusters, previous, next_number=5)
    ids = dict(zip(rec.assignment["registration_id"], rec.assignment["person_id"], strict=True))
    assert ids["r7"] == ids["r1"] == ids["r2"] == "P1"
    assert ids["r3"] == ids["r4"] == "P2"  # the older id survives the merge
    assert ids["r5"] == "P4"  # the first-registered part keeps the id ...
    assert ids["r6"] not in {"P1", "P2", "P3", "P4"}  # ... the other part gets a new one
    assert {ids["r6"], ids["r8"]} == {format_id(5), format_id(6)}
    changes = set(map(tuple, rec.changes.to_numpy()))
    assert ("P3", "P2", "merged") in changes
    assert ("P4", ids["r6"], "split") in changes
    assert (rec.n_kept, rec.n_new, rec.n_merged, rec.n_split) == (3, 2, 1, 1)


def test_next_id_number_follows_the_largest_issued() -> None:
    assert next_id_number(pd.Series([], dtype=object)) == 1
    assert next_id_number(pd.Series(["P00000003", "P00000012"])) == 13
