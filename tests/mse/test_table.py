"""Input validation of capture-history tables: clear errors, no values in messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thbmonitor.errors import EstimationError, InputError
from thbmonitor.mse import CaptureTable, MultipleSystemsEstimator, read_capture_histories


def _frame(counts: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"A": [1, 0, 1], "B": [0, 1, 1], "count": counts},
    )


@pytest.mark.parametrize("bad", [-3, 2.5, "seventy"])
def test_bad_counts_are_rejected_without_echoing_values(bad: object) -> None:
    with pytest.raises(InputError) as exc:
        CaptureTable.from_frame(_frame([5, bad, 2]))
    msg = str(exc.value)
    assert "row(s) 2" in msg and "'count'" in msg
    assert str(bad) not in msg


def test_non_binary_list_value() -> None:
    df = _frame([5, 4, 2])
    df.loc[1, "B"] = 7
    with pytest.raises(InputError, match="Field 'B' must be 0 or 1; row"):
        CaptureTable.from_frame(df)


def test_all_zero_history_is_rejected() -> None:
    df = pd.concat([_frame([5, 4, 2]), pd.DataFrame({"A": [0], "B": [0], "count": [9]})])
    with pytest.raises(InputError, match="all-zero capture history"):
        CaptureTable.from_frame(df.reset_index(drop=True))


def test_no_overlap_warns_and_cannot_be_estimated() -> None:
    df = pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [5, 4]})
    with pytest.warns(UserWarning, match="do not overlap"):
        tab = CaptureTable.from_frame(df)
    with pytest.raises(EstimationError, match="do not overlap"):
        MultipleSystemsEstimator().fit(tab)


def test_empty_list_warns() -> None:
    df = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "C": [0, 0, 0], "count": [5, 4, 2]})
    with pytest.warns(UserWarning, match=r"List\(s\) \['C'\] have no registrations"):
        CaptureTable.from_frame(df)


def test_empty_table_and_all_zero_counts() -> None:
    with pytest.raises(InputError, match="no rows"):
        CaptureTable.from_frame(_frame([1, 1, 1]).iloc[0:0])
    with pytest.warns(UserWarning):
        tab = CaptureTable.from_frame(_frame([0, 0, 0]))
    with pytest.raises(EstimationError, match="All counts are zero"):
        MultipleSystemsEstimator().fit(tab)


def test_individual_records_without_count_column() -> None:
    df = pd.DataFrame({"A": [1, 1, 0, 1], "B": [0, 1, 1, 1]})
    tab = CaptureTable.from_frame(df)
    assert tab.observed == 4
    assert tab.full_counts()[[1, 2, 3]].tolist() == [1.0, 1.0, 2.0]


def test_read_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="File not found"):
        read_capture_histories(tmp_path / "nope.csv")


def test_read_with_some_covariates_sums_over_the_others(ref_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.warns(UserWarning, match="summed over"):
        tab = read_capture_histories(ref_path / "simdat_covariates_Cruyff.csv", covariates=["Y"])
    assert tab.lists == ("R1", "R2", "R3", "R4")
    assert tab.observed == 1043
    assert np.array_equal(np.sort(tab.covariates["Y"].unique()), [1, 2, 3, 4])


def test_read_csv_without_pandas_matches_from_frame(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The standard-library reader gives the same table as pandas' read_csv + from_frame, with
    a byte-order mark, quoted fields, blank lines and numeric covariates."""
    text = '\ufeffA,B,"C",year,count\n1,0,1,2019,5\n\n0,1,1,2020,"4"\n1,1,0,2019,2\n'
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    ours = read_capture_histories(path, covariates=["year"])
    ref = CaptureTable.from_frame(pd.read_csv(path), covariates=["year"])
    assert ours.lists == ref.lists == ("A", "B", "C")
    assert np.array_equal(ours.histories, ref.histories)
    assert np.array_equal(ours.counts, ref.counts)
    pd.testing.assert_frame_equal(ours.covariates, ref.covariates)
    with pytest.warns(UserWarning, match=r"\['year'\] are neither 0/1 lists"):
        assert read_capture_histories(path).covariates.shape == (0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no header line"),
        ("A,B,count\n1,0,3\n0,1,2,9\n", r"row\(s\) 2 have more fields"),
        ("A,A,count\n1,0,3\n", "more than once"),
        ("A,B,count\n1,0,3\n0,1,\n", r"Field 'count' .* row\(s\) 2 are not"),
        ("A,B,count\n", "no rows"),
    ],
)
def test_read_csv_refusals_name_rows_not_values(tmp_path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as exc:
        read_capture_histories(path)
    assert "9" not in str(exc.value)
