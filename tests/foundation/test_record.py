"""One rule set, checked two ways: the registry's record path (thbmonitor.ingest.record) must
find exactly the problems ingest's frame validation finds, and make exactly the rows ingest's
prepare_rows makes, on the same rows.

The bad values cover every rule of ingest/validate.py and the corners where pandas decides
(Unicode digits and white space, dates outside pandas' timestamps, numbers written oddly);
the good rows are a synthetic world's registrations.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.ingest import prepare_rows
from thbmonitor.ingest.readers import TEXT, read_text_frame
from thbmonitor.ingest.record import check_record, prepare_record
from thbmonitor.ingest.validate import validate
from thbmonitor.pseudonymise import Encoder
from thbmonitor.schema import REGISTRATION_FIELDS
from thbmonitor.synth import WorldParams, generate

KEY = b"record-path-test-key-0123456789abcdef"
TODAY = date(2024, 6, 30)
GOOD = {
    "registration_id": "R1",
    "reporting_organisation": "Police",
    "registration_date": "2021-03-04",
    "first_names": "Anna Maria",
    "last_name": "van der Berg",
    "date_of_birth": "2001-05-06",
    "date_of_birth_estimated": "0",
    "identity_number": "AB-1234",
    "sex": "F",
    "nationality": "NL;PL",
    "residence_status": "Unknown",
    "municipality": "Utrecht",
    "forms_of_exploitation": "SexualExploitation",
    "sector": "",
    "age_at_exploitation": "",
    "shelter": "1",
    "victim_scheme_applied": "",
    "victim_scheme_granted": "",
    "care_referral": "nee",
    "consent": "ja",
}
NUMBERS = [
    "5", "5.0", "5.5", "-1", "111", "110", "0", "+7", ".5", "5.", "1e1", "1E2", "1e400", "inf",
    "-inf", "Infinity", "nan", "NaN", "1_0", "0x5", "١٢", "５", " 5 ", "5\u00a0", "5\x1c", "",
    "  ", "abc", "1,5", "1.5e0", "00012", "3e-1",
]  # fmt: skip
DATES = [
    "2020-02-30", "2020-1-01", "20200101", "1600-01-01", "1677-09-22", "1677-09-21", "1850-06-01",
    "2262-04-11", "2262-04-12", "2300-01-01", "0000-01-01", "2025-01-01", "2024-06-30",
    "2024-07-01", "２０２０-01-01", "٢٠٢٠-01-01", " 2020-01-01\u3000", "2020-01-01\n",
    "2020-01-01\x1f", "\x1e2020-01-01", "2020-13-01", "1899-12-31", "1900-01-01", "",
]  # fmt: skip
BAD_VALUES: dict[str, list[str]] = {
    "registration_id": ["", "  ", "a\tb", "R\x00", "\u00a0", "R\x85", "R\x9f"],
    "reporting_organisation": ["", "police", "Police ", "Nobody", "Police;Police"],
    "registration_date": DATES,
    "first_names": ["Ann\x00a", "\x7f", "Zoë", "123"],
    "last_name": ["\x1b[31m", "Straße"],
    "date_of_birth": [*DATES, "2021-03-05", "1910-03-03", "1911-03-05", "2021-03-04"],
    "date_of_birth_estimated": ["maybe", "2", "JA", "Nee", "TRUE", "y", "j", "ｙ", "ıes"],
    "identity_number": ["\x0b", "ß-1", "ı1", "a-b-c"],
    "sex": ["", "f", "X", " F ", "F;M", "\u2003M"],
    "nationality": ["", "nl", "NL;", ";NL", "NL; PL", "NLD", "N L", "NL;;PL", "XX", "１２", "ÅB"],
    "residence_status": ["", "unknown", "Unknown\x1c"],
    "municipality": ["Den\nHaag", "Ede"],
    "forms_of_exploitation": [
        "",
        "Other",
        "SexualExploitation; ForcedLabour",
        "SexualExploitation;",
        "sexualexploitation",
        ";",
    ],
    "sector": ["Nothing", "Other", "other"],
    "age_at_exploitation": NUMBERS,
    "shelter": ["yes", "no", "Y", "N", "ja ", "1.0", "waar", "\u3000"],
    "consent": ["", "0", "j"],
}


def _rows() -> list[dict[str, str]]:
    """Every bad value alone, then 300 rows with three fields changed at random (seeded)."""
    rows = [{**GOOD, name: value} for name, values in BAD_VALUES.items() for value in values]
    rng = random.Random(20261207)
    for _ in range(300):
        row = dict(GOOD)
        for name in rng.sample(sorted(BAD_VALUES), 3):
            row[name] = rng.choice(BAD_VALUES[name])
        rows.append(row)
    for i, row in enumerate(rows):  # unique good ids
        if row["registration_id"] == GOOD["registration_id"]:
            row["registration_id"] = f"R{i}"
    return rows


def test_the_same_bad_rows_give_the_same_problems_both_ways() -> None:
    rows = _rows()
    frame = pd.DataFrame(rows, dtype=object).astype(TEXT)
    by_file = validate("f.csv", frame, REGISTRATION_FIELDS, today=TODAY)
    repeated = [p for p in by_file if p.reason == "repeats the id of an earlier row in this file"]
    assert repeated  # the file's own check (a bad id drawn twice), which a record has not
    by_file = [p for p in by_file if p not in repeated]
    by_record = [
        p
        for i, row in enumerate(rows)
        for p in check_record(row, REGISTRATION_FIELDS, TODAY, "f.csv", i + 1)
    ]
    rows_with_problems = {p.row for p in by_file}
    assert 0.8 * len(rows) < len(rows_with_problems) < len(rows)  # some good ones too
    # every rule fires somewhere (a rule the corpus missed would be checked by neither)
    assert len({p.reason for p in by_file}) >= 15
    assert by_record == by_file


def test_the_same_good_rows_give_the_same_store_rows_both_ways(tmp_path: Path) -> None:
    params = WorldParams(scale=0.05, background_events=0, seed=11)
    generate(params, tmp_path)
    frame = read_text_frame(tmp_path / "registrations.csv")
    extra = pd.DataFrame(
        [
            GOOD,
            {**GOOD, "registration_id": "R2", "date_of_birth": "", "age_at_exploitation": "1e1"},
            {**GOOD, "registration_id": "R3", "date_of_birth": "1990-01-01", "first_names": ""},
            {**GOOD, "registration_id": "R4", "identity_number": "ß-ı1", "last_name": "Øre"},
            {**GOOD, "registration_id": "R5", "nationality": "XX", "date_of_birth_estimated": "1"},
        ],
        dtype=object,
    ).astype(TEXT)
    frame = pd.concat([frame, extra.reindex(columns=frame.columns, fill_value="")])
    frame = frame.reset_index(drop=True)
    assert len(frame) > 300
    assert validate("r.csv", frame, REGISTRATION_FIELDS) == []
    encoder = Encoder(KEY)
    expected = prepare_rows("registrations", frame, encoder, "sha")
    records = [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]
    got = [prepare_record(r, encoder, sha="sha", row=i + 1) for i, r in enumerate(records)]
    assert all(list(row) == list(expected.columns) for row in got)
    for column in expected.columns:
        want = [_plain(v) for v in expected[column]]
        have = [row[column] for row in got]
        assert have == want, column
        assert {type(v) for v in have} == {type(v) for v in want}, column


def _plain(value: object) -> object:
    """A pandas cell as a plain Python value (missing as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, bytes) else value


@pytest.mark.parametrize("values", [{}, {"registration_date": "2020-01-01"}])
def test_a_field_the_record_lacks_is_empty(values: dict[str, str]) -> None:
    problems = check_record(values, REGISTRATION_FIELDS, TODAY)
    required = [f.name for f in REGISTRATION_FIELDS if f.required and f.name not in values]
    assert [p.field for p in problems] == required
    assert {p.reason for p in problems} == {"is required but empty"}
