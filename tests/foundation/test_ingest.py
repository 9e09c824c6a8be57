"""Ingest: all-or-nothing import, every problem at once, idempotent, no plaintext stored."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from thbmonitor.errors import InputError, ValidationError
from thbmonitor.ingest import ingest_file
from thbmonitor.pseudonymise import Encoder
from thbmonitor.schema import REGISTRATION_FIELDS
from thbmonitor.store import open_store

COLUMNS = [f.name for f in REGISTRATION_FIELDS]
GOOD = [
    [
        "R1",
        "Police",
        "2019-03-01",
        "Johanna",
        "van der Zwaluw",
        "1990-02-03",
        "0",
        "",
        "F",
        "NL",
        "DutchNational",
        "Amsterdam",
        "SexualExploitation",
        "Prostitution",
        "25",
        "1",
        "0",
        "0",
        "1",
        "1",
    ],
    [
        "R2",
        "NGOCare",
        "2020-04-01",
        "Anişoara",
        "Popescuță",
        "2004-05-06",
        "1",
        "X99",
        "F",
        "RO;NL",
        "EUCitizen",
        "",
        "ForcedLabour;SexualExploitation",
        "Agriculture",
        "",
        "0",
        "1",
        "1",
        "0",
        "",
    ],
    [
        "R3",
        "KMar",
        "2020-05-01",
        "Chukwuemeka",
        "Okonkwo",
        "",
        "",
        "",
        "M",
        "NG",
        "NoLegalStatus",
        "Schiphol",
        "CriminalExploitation",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
]
IDENTIFYING = [
    "Johanna",
    "Zwaluw",
    "1990-02-03",
    "Popescu",
    "2004-05-06",
    "X99",
    "Chukwuemeka",
    "Okonkwo",
    "johanna",
    "zwaluw",
    "okonkwo",
]


@pytest.fixture
def encoder() -> Encoder:
    return Encoder(b"test-key-0123456789abcdef0123456789")


def write(path, rows) -> None:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)


def test_valid_file_is_imported_with_derived_fields(tmp_path, encoder) -> None:
    write(tmp_path / "r.csv", GOOD)
    with open_store(str(tmp_path / "m.duckdb"), create=True) as store:
        result = ingest_file(store, tmp_path / "r.csv", encoder)
        rows = store.df(
            "SELECT registration_id, registration_year, nationality_group, monitor_group, "
            "birth_year, age_at_exploitation, age_band, shelter, dob_uncertain, dob_missing "
            "FROM registrations ORDER BY registration_id"
        )
    assert result.rows_added == 3 and not result.already_ingested
    assert rows["monitor_group"].tolist() == ["domestic_sexual", "labour", "criminal"]
    # dual nationality RO;NL counts as NL (the monitor's rule for Dutch victims)
    assert rows["nationality_group"].tolist() == ["NL", "NL", "non_EU"]
    assert rows["birth_year"].tolist()[:2] == [1990, 2004]
    # kept only without a birth date (R1 has one): beside it, it would tell the birthday's side
    assert rows["age_at_exploitation"].isna().all()
    assert rows["age_band"].tolist() == ["23+", "minor", "unknown"]  # ages 29, 15, unknown
    assert rows["dob_uncertain"].tolist()[:2] == [False, True]  # R2's date is an estimate
    assert rows["dob_missing"].tolist() == [False, False, True]


def test_same_file_twice_adds_nothing(tmp_path, encoder) -> None:
    write(tmp_path / "r.csv", GOOD)
    with open_store(str(tmp_path / "m.duckdb"), create=True) as store:
        ingest_file(store, tmp_path / "r.csv", encoder)
        again = ingest_file(store, tmp_path / "r.csv", encoder)
        assert again.already_ingested and again.rows_added == 0
        assert store.scalar("SELECT count(*) FROM registrations") == 3


def test_every_problem_at_once_and_nothing_imported(tmp_path, encoder) -> None:
    bad = [row[:] for row in GOOD]
    bad[0][2] = "2019-02-30"  # row 1 registration_date
    bad[1][8] = "female"  # row 2 sex
    bad[1][5] = "2021-01-01"  # row 2 birth after registration
    bad[2][9] = "Nigeria"  # row 3 nationality
    bad[2][0] = "R1"  # row 3 repeats an id
    write(tmp_path / "bad.csv", bad)
    write(tmp_path / "good.csv", GOOD[:1])
    with open_store(str(tmp_path / "m.duckdb"), create=True) as store:
        ingest_file(store, tmp_path / "good.csv", encoder)
        with pytest.raises(ValidationError) as info:
            ingest_file(store, tmp_path / "bad.csv", encoder)
        assert store.scalar("SELECT count(*) FROM registrations") == 1  # nothing lost or added
        assert store.scalar("SELECT count(*) FROM ingested_files") == 1
    found = {(p.row, p.field) for p in info.value.problems}
    assert {
        (1, "registration_date"),
        (2, "sex"),
        (2, "date_of_birth"),
        (3, "nationality"),
        (3, "registration_id"),
    } <= found
    # R1 is also already in the store from good.csv
    assert any(p.row == 1 and "already in the store" in p.reason for p in info.value.problems)
    message = str(info.value)
    for value in ("2019-02-30", "female", "2021-01-01", "Nigeria", "Johanna"):
        assert value not in message


def test_missing_and_unknown_columns(tmp_path, encoder) -> None:
    frame = pd.DataFrame(GOOD, columns=COLUMNS).drop(columns=["sex"])
    frame["favourite_colour"] = "x"
    frame.to_csv(tmp_path / "r.csv", index=False)
    store = open_store(tmp_path / "m.duckdb", create=True)
    with store, pytest.raises(InputError) as info:
        ingest_file(store, tmp_path / "r.csv", encoder)
    assert "sex" in str(info.value) and "favourite_colour" in str(info.value)


def test_xlsx_and_parquet_give_the_same_store(tmp_path, encoder) -> None:
    frame = pd.DataFrame(GOOD, columns=COLUMNS)
    frame.to_excel(tmp_path / "r.xlsx", index=False)
    typed = frame.copy()
    typed["registration_date"] = pd.to_datetime(typed["registration_date"]).dt.date
    typed.to_parquet(tmp_path / "r.parquet", index=False)
    write(tmp_path / "r.csv", GOOD)
    views = []
    for name in ("r.csv", "r.xlsx", "r.parquet"):
        with open_store(str(tmp_path / f"{name}.duckdb"), create=True) as store:
            ingest_file(store, tmp_path / name, encoder)
            frame_out = store.df(
                "SELECT * EXCLUDE (source_sha256, bf_first, bf_last, bf_full), "
                "bf_full::VARCHAR AS bf FROM registrations ORDER BY registration_id"
            )
            views.append(frame_out.astype(str))
    pd.testing.assert_frame_equal(views[0], views[1])
    pd.testing.assert_frame_equal(views[0], views[2])


def test_no_identifier_in_the_store_file(tmp_path, encoder) -> None:
    write(tmp_path / "r.csv", GOOD)
    db = tmp_path / "m.duckdb"
    with open_store(str(db), create=True) as store:
        ingest_file(store, tmp_path / "r.csv", encoder)
        store.execute("CHECKPOINT")
    raw = db.read_bytes()
    for value in IDENTIFYING:
        assert value.encode() not in raw
        assert value.encode("utf-16-le") not in raw


def _with(row: int, **changes: str) -> list[list[str]]:
    rows = [r[:] for r in GOOD]
    for name, value in changes.items():
        rows[row][COLUMNS.index(name)] = value
    return rows


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"registration_date": "2099-12-15"}, "registration_date", "lies in the future"),
        ({"registration_date": "2021-06-02"}, "registration_date", "lies in the future"),
        ({"registration_date": "1899-12-31"}, "registration_date", "lies before 1900"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth", "lies before 1900"),
        ({"date_of_birth": "1908-02-28"}, "date_of_birth", "gives an age above 110"),
        ({"age_at_exploitation": "30"}, "age_at_exploitation", "above the age at the"),
        ({"age_at_exploitation": "111"}, "age_at_exploitation", "whole number from 0 to 110"),
    ],
)
def test_impossible_dates_and_ages_are_refused_by_row_and_field(
    tmp_path, encoder, changes: dict[str, str], field: str, reason: str
) -> None:
    """Issue 11 item 3: one registration dated 2099-12-15 was accepted, moved the default
    window to 2095-2099 and an all-zero report was published."""
    write(tmp_path / "r.csv", _with(0, **changes))
    with open_store(tmp_path / "m.duckdb", create=True) as store:
        with pytest.raises(ValidationError) as info:
            ingest_file(store, tmp_path / "r.csv", encoder, today=date(2021, 6, 1))
        assert store.scalar("SELECT count(*) FROM registrations") == 0
    problems = [(p.row, p.field) for p in info.value.problems if reason in p.reason]
    assert problems == [(1, field)], info.value.problems
    for value in changes.values():
        assert value not in str(info.value)


def test_the_day_of_ingest_itself_is_accepted(tmp_path, encoder) -> None:
    write(tmp_path / "r.csv", _with(0, registration_date="2021-06-01", age_at_exploitation="31"))
    with open_store(tmp_path / "m.duckdb", create=True) as store:
        assert ingest_file(store, tmp_path / "r.csv", encoder, today=date(2021, 6, 1)).rows_added


def test_future_event_dates_are_refused(tmp_path, encoder) -> None:
    frame = pd.DataFrame(
        {
            "event_id": ["E1", "E2"],
            "date_of_birth": ["1990-01-02", "1991-01-02"],
            "event_date": ["2021-05-01", "2030-01-01"],
            "event_type": ["death", "emigration"],
        }
    )
    frame.to_csv(tmp_path / "population.csv", index=False)
    store = open_store(tmp_path / "m.duckdb", create=True)
    with store, pytest.raises(ValidationError) as info:
        ingest_file(store, tmp_path / "population.csv", encoder, today=date(2021, 6, 1))
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "event_date")]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\t", "\n", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused_by_row_and_field(tmp_path, encoder, char: str) -> None:
    """Issue 11 item 8: 'Ams\\0garbage' became 'Ams', and two ids differing after a NUL became
    duplicates."""
    rows = _with(1, municipality=f"Ams{char}garbage", registration_id=f"R1{char}x")
    write(tmp_path / "r.csv", rows)
    store = open_store(tmp_path / "m.duckdb", create=True)
    with store, pytest.raises(ValidationError) as info:
        ingest_file(store, tmp_path / "r.csv", encoder)
    found = [(p.row, p.field) for p in info.value.problems if "control character" in p.reason]
    assert found == [(2, "registration_id"), (2, "municipality")]
    assert not any("repeats" in p.reason for p in info.value.problems)  # not cut to "R1"
    assert "garbage" not in str(info.value)
