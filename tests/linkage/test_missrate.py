"""The police linkage's miss rate from its own model (linkage.missrate)."""

from __future__ import annotations

import pytest

from thbmonitor.errors import LinkageError
from thbmonitor.linkage.missrate import missed_share


def _comparison(name: str, m: list[float], u: list[float]) -> dict:
    levels: list[dict] = [{"is_null_level": True}]
    levels += [{"m_probability": a, "u_probability": b} for a, b in zip(m, u, strict=True)]
    return {"output_column_name": name, "comparison_levels": levels}


MODEL = [
    _comparison("a", [0.9, 0.1], [0.01, 0.99]),  # Bayes factors 90 and 0.101
    _comparison("b", [0.8, 0.2], [0.1, 0.9]),  # Bayes factors 8 and 0.222
]


def test_missed_share_sums_the_true_pairs_scoring_below_the_floor() -> None:
    """By hand (Fellegi & Sunter 1969: posterior odds = prior odds x Bayes factor), prior 0.01
    (odds 1/99): the four vectors score 0.879 (a1 b1), 0.168 (a1 b2), 0.008 and 0.0002 (a2).
    Below 0.1: a2, probability 0.1; below 0.5 also a1 b2: 0.1 + 0.9 x 0.2 = 0.28."""
    assert missed_share(MODEL, 0.01, 0.1, {}) == pytest.approx(0.1)
    assert missed_share(MODEL, 0.01, 0.5, {}) == pytest.approx(0.28)


def test_a_null_level_takes_its_share_with_a_bayes_factor_of_one() -> None:
    """b missing on half the true pairs: its levels keep 0.4 and 0.1, the null level (factor 1)
    has 0.5. a1 with b missing scores 90/99 / (1 + 90/99) = 0.476: below 0.5, so the share
    below 0.5 is 0.1 (a2) + 0.9 x (0.1 + 0.5) = 0.64; below 0.1 it stays 0.1."""
    assert missed_share(MODEL, 0.01, 0.5, {"b": 0.5}) == pytest.approx(0.64)
    assert missed_share(MODEL, 0.01, 0.1, {"b": 0.5}) == pytest.approx(0.1)


def test_a_model_without_usable_probabilities_is_refused() -> None:
    broken = [_comparison("a", [0.9, 0.1], [0.0, 1.0])]
    with pytest.raises(LinkageError, match="comparison 'a'"):
        missed_share(broken, 0.01, 0.1, {})
    with pytest.raises(LinkageError, match="prior"):
        missed_share(MODEL, 0.0, 0.1, {})
