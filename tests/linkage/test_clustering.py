"""Clustering: the average-linkage veto breaks chains that connected components merge."""

from __future__ import annotations

import numpy as np
import pytest

from thbmonitor.linkage.clustering import cluster, components, weight_of


def test_weight_of_is_log2_odds() -> None:
    assert weight_of(0.5) == 0.0
    assert weight_of(0.8) == pytest.approx(2.0)


def test_chain_of_weak_links_is_split_where_components_merge() -> None:
    """A-B and B-C pass the threshold (weight 5 > 3.17 for p = 0.9) but A-C is strongly
    against (-12): connected components give one cluster; the veto keeps A+B and C apart
    (mean over C's pairs with {A,B} = (5 - 12) / 2 < 0)."""
    left, right = np.array([0, 1, 0]), np.array([1, 2, 2])
    weight = np.array([8.0, 5.0, -12.0])
    cc = components(3, left[weight > 3.17], right[weight > 3.17])
    assert len(set(cc)) == 1
    got = cluster(3, left, right, weight, weight_of(0.9), veto_weight=0.0)
    assert got.labels[0] == got.labels[1] != got.labels[2]
    assert (got.checked, got.split) == (1, 1)


def test_missing_pairs_are_scored_and_cliques_are_left_alone() -> None:
    """A-B, B-C strong and A-C never blocked: the scorer is asked for A-C only."""
    asked: list[tuple[int, int]] = []

    def scorer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        asked.extend(zip(a.tolist(), b.tolist(), strict=True))
        return np.full(len(a), 2.0)

    left, right, weight = np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([9.0, 9.0, 9.0])
    got = cluster(5, left, right, weight, weight_of(0.9), scorer=scorer)
    assert asked == [(0, 2)]
    assert got.labels[0] == got.labels[1] == got.labels[2]
    assert got.labels[3] == got.labels[4] != got.labels[0]
    plain = cluster(5, left, right, weight, weight_of(0.9), veto_weight=None)
    assert plain.checked == 0
