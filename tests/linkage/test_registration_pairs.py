"""The scored registration pairs kept in the store (``registration_pairs``), written by link."""

from __future__ import annotations

import numpy as np

from thbmonitor.store import IDENTIFIER_COLUMNS, open_store


def test_the_scored_pairs_are_kept_with_ids_and_scores_only(linked) -> None:
    with open_store(str(linked.store_path), read_only=True) as store:
        pairs = store.df("SELECT * FROM registration_pairs")
        person = store.df("SELECT registration_id, person_id FROM registration_person")
    assert list(pairs.columns) == [
        "run_id",
        "registration_id_l",
        "registration_id_r",
        "match_weight",
        "match_probability",
        "same_person",
    ]
    assert not set(pairs.columns) & set(IDENTIFIER_COLUMNS)
    assert len(pairs) == linked.summary.dedupe.n_edges > 0
    assert (pairs["run_id"] == linked.summary.run_id).all()
    assert (pairs["registration_id_l"] < pairs["registration_id_r"]).all()
    assert not pairs.duplicated(["registration_id_l", "registration_id_r"]).any()
    p = pairs["match_probability"].to_numpy()
    assert ((p >= 0.01 - 1e-9) & (p <= 1.0)).all()  # the model's predict floor
    # the weight is the log2 odds of the probability
    w = pairs["match_weight"].to_numpy()
    mid = (p > 1e-6) & (p < 1 - 1e-6)
    np.testing.assert_allclose(w[mid], np.log2(p[mid] / (1 - p[mid])), atol=1e-6)
    # same_person agrees with registration_person
    pid = person.set_index("registration_id")["person_id"]
    same = (
        pid.loc[pairs["registration_id_l"]].to_numpy()
        == pid.loc[pairs["registration_id_r"]].to_numpy()
    )
    assert (same == pairs["same_person"].to_numpy()).all()


def test_the_scores_agree_with_the_worlds_truth(linked) -> None:
    """Reference: the synthetic world's truth/registration_person.csv. Pairs the model is sure
    of are nearly all the same person, pairs it rejects nearly all different persons."""
    with open_store(str(linked.store_path), read_only=True) as store:
        pairs = store.df("SELECT * FROM registration_pairs")
    truth = linked.world.truth_registrations.set_index("registration_id")["person_id"]
    true = (
        truth.loc[pairs["registration_id_l"]].to_numpy()
        == truth.loc[pairs["registration_id_r"]].to_numpy()
    )
    sure = pairs["match_probability"].to_numpy() >= 0.99
    unlikely = pairs["match_probability"].to_numpy() < 0.1
    assert true[sure].mean() >= 0.97
    assert true[unlikely].mean() <= 0.1
