"""Quality measures checked against scikit-learn and a hand-worked B-cubed example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import pair_confusion_matrix

from thbmonitor.errors import LinkageError
from thbmonitor.linkage import capture_cell_errors, quality, single_list_error


def _frame(labels: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"registration_id": [f"r{i}" for i in range(len(labels))], "person_id": labels}
    )


def test_pair_measures_match_sklearn_pair_confusion_matrix() -> None:
    """Pair precision/recall equal those from sklearn.metrics.pair_confusion_matrix, whose
    entries count ordered pairs (C[1,1] = 2 x pairs together in both labelings)."""
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 40, size=300).astype(str)
    pred = truth.copy()
    flip = rng.random(300) < 0.15
    pred[flip] = rng.integers(0, 60, size=int(flip.sum())).astype(str)
    got = quality(_frame(list(pred)), _frame(list(truth)))
    c = pair_confusion_matrix(truth, pred)
    assert got["pair_precision"] == pytest.approx(c[1, 1] / (c[1, 1] + c[0, 1]))
    assert got["pair_recall"] == pytest.approx(c[1, 1] / (c[1, 1] + c[1, 0]))


def test_bcubed_and_exact_clusters_on_a_hand_worked_example() -> None:
    """Truth {a,b,c},{d,e}; predicted {a,b},{c,d,e}.

    B-cubed precision (Bagga & Baldwin 1998), by hand: a 2/2, b 2/2, c 1/3, d 2/3, e 2/3 ->
    (1+1+1/3+2/3+2/3)/5 = 11/15. Recall: a 2/3, b 2/3, c 1/3, d 2/2, e 2/2 -> 11/15.
    Pairs: predicted ab, cd, ce, de; true ab, ac, bc, de; common ab, de -> P = R = 2/4.
    No predicted cluster equals a true one -> exact-cluster P = R = 0.
    """
    truth = _frame(["A", "A", "A", "B", "B"])
    pred = _frame(["x", "x", "y", "y", "y"])
    got = quality(pred, truth)
    assert got["bcubed_precision"] == pytest.approx(11 / 15)
    assert got["bcubed_recall"] == pytest.approx(11 / 15)
    assert got["pair_precision"] == pytest.approx(0.5)
    assert got["pair_recall"] == pytest.approx(0.5)
    assert got["cluster_f1"] == 0.0
    perfect = quality(truth, truth)
    assert perfect["pair_f1"] == perfect["cluster_f1"] == perfect["bcubed_f1"] == 1.0


def test_quality_refuses_different_registrations() -> None:
    with pytest.raises(LinkageError, match="same registrations"):
        quality(_frame(["a", "b"]), _frame(["a", "b", "c"]))


def test_capture_cell_errors_count_persons_per_list_combination() -> None:
    """Truth: P1 = r0 (Police) + r1 (NGOCare); P2 = r2 (Police). A linkage that misses the
    r0-r1 link shows 1 too few Police+NGOCare persons and 1 too many NGOCare-only ones."""
    regs = pd.DataFrame(
        {
            "registration_id": ["r0", "r1", "r2"],
            "reporting_organisation": ["Police", "NGOCare", "Police"],
            "registration_year": [2015, 2015, 2015],
        }
    )
    truth = _frame(["P1", "P1", "P2"])
    pred = _frame(["a", "b", "c"])
    cells = capture_cell_errors(pred, truth, regs)
    both = cells[(cells["Police"] == 1) & (cells["NGOCare"] == 1)].iloc[0]
    assert (both["linked"], both["true"], both["error"]) == (0, 1, -1)
    ngo = cells[(cells["Police"] == 0) & (cells["NGOCare"] == 1)].iloc[0]
    assert (ngo["linked"], ngo["true"]) == (1, 0)
    single = single_list_error(cells)
    assert single == {"linked": 3.0, "true": 1.0, "relative_error": 2.0}
