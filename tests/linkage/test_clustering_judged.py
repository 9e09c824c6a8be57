"""Clustering with clerical-review judgements: matches joined, non-matches kept apart."""

from __future__ import annotations

import numpy as np

from thbmonitor.linkage.clustering import cluster, weight_of

T = weight_of(0.9)


def _pairs(*pairs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([a for a, _ in pairs], dtype=np.int64), np.array(
        [b for _, b in pairs], dtype=np.int64
    )


def test_a_sure_chain_is_cut_where_a_non_match_is_judged() -> None:
    """A-B-C are all strong links (a clique): without judgements one person; with A-C judged a
    non-match, A and C are apart and B goes with the stronger side (A)."""
    left, right = np.array([0, 1, 0]), np.array([1, 2, 2])
    weight = np.array([12.0, 8.0, 9.0])
    plain = cluster(3, left, right, weight, T)
    assert len(set(plain.labels)) == 1
    got = cluster(3, left, right, weight, T, cannot=_pairs((2, 0)))
    assert got.labels[0] == got.labels[1] != got.labels[2]
    assert got.conflicts == 0


def test_a_judged_match_joins_a_pair_the_model_rejects_or_never_scored() -> None:
    left, right, weight = np.array([0, 2]), np.array([1, 3]), np.array([-9.0, 10.0])
    got = cluster(5, left, right, weight, T, must=_pairs((0, 1), (3, 4)))
    assert got.labels[0] == got.labels[1]
    assert got.labels[2] == got.labels[3] == got.labels[4]
    assert len(set(got.labels)) == 2


def test_a_judged_match_survives_the_veto_and_contradictions_are_counted() -> None:
    """B-C judged a match although C is strongly against A (A-B strong): the veto would keep
    C out; the judgement joins it and A stays (mean not asked). With A-C judged a non-match
    as well, the judgements contradict: the non-match stands and one conflict is counted."""
    left, right = np.array([0, 1, 0]), np.array([1, 2, 2])
    weight = np.array([10.0, 1.0, -30.0])
    got = cluster(3, left, right, weight, T, must=_pairs((1, 2)))
    assert got.labels[1] == got.labels[2]
    both = cluster(3, left, right, weight, T, must=_pairs((0, 1), (1, 2)), cannot=_pairs((0, 2)))
    assert both.labels[0] != both.labels[2]
    assert both.conflicts == 1


def test_non_matches_hold_in_components_too_large_to_re_cluster_whole() -> None:
    """A chain of 80 strong links is cut at raised thresholds; a judged non-match between two
    nodes still left together is then enforced."""
    n = 80
    left, right = np.arange(n - 1), np.arange(1, n)
    weight = np.full(n - 1, 30.0)
    got = cluster(n, left, right, weight, T, max_component=60, cannot=_pairs((10, 11)))
    assert got.labels[10] != got.labels[11]
