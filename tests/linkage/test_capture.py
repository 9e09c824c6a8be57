"""Capture histories: the synthetic world's own table is reproduced from its truth."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.errors import LinkageError
from thbmonitor.linkage import history_table
from thbmonitor.linkage.capture import LISTS


def test_history_table_from_truth_equals_the_worlds_capture_histories(world) -> None:
    """Reference: truth/capture_histories.csv, written by the synthetic world's generator
    (thbmonitor.synth, another engineer's code) from its own person ids. Linking by the truth
    must give exactly that table, in the shared/reference/mse format."""
    regs = pd.read_csv(
        world.root / "registrations.csv",
        usecols=["registration_id", "reporting_organisation", "registration_date"],
    )
    regs["registration_year"] = regs["registration_date"].str[:4].astype(int)
    frame = world.truth_registrations.merge(regs, on="registration_id")
    got = history_table(frame)
    assert list(got.columns) == [*LISTS, "year", "count"]
    expected = world.capture_histories
    cols = [*LISTS, "year"]
    pd.testing.assert_frame_equal(
        got.sort_values(cols).reset_index(drop=True),
        expected[[*cols, "count"]].sort_values(cols).reset_index(drop=True),
        check_dtype=False,
    )
    assert (got[list(LISTS)].sum(axis=1) > 0).all()  # never the all-zero history


def test_covariates_take_the_first_registration_of_the_year() -> None:
    frame = pd.DataFrame(
        {
            "person_id": ["a", "a", "b"],
            "reporting_organisation": ["Police", "KMar", "Police"],
            "registration_year": [2016, 2016, 2016],
            "sex": ["F", "M", "F"],
        }
    )
    got = history_table(frame, covariates=("year", "sex"))
    row = got[(got["Police"] == 1) & (got["KMar"] == 1)].iloc[0]
    assert (row["sex"], row["count"]) == ("F", 1)
    assert got["count"].sum() == 2


def test_unknown_reporting_organisation_is_refused() -> None:
    frame = pd.DataFrame(
        {"person_id": ["a"], "reporting_organisation": ["Mystery"], "registration_year": [2016]}
    )
    with pytest.raises(LinkageError, match="not among the lists"):
        history_table(frame)
