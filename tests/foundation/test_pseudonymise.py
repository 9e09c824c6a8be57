"""Pseudonymisation: normalisation, keyed tokens and Bloom filters."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.errors import KeyMissingError
from thbmonitor.pseudonymise import (
    Encoder,
    ages_at,
    encode_identifiers,
    load_key,
    normalise_name,
    split_surname,
)


def dice(a: bytes, b: bytes) -> float:
    x = int.from_bytes(a)
    y = int.from_bytes(b)
    return 2 * bin(x & y).count("1") / (bin(x).count("1") + bin(y).count("1"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller-Lüdenscheidt", "muller ludenscheidt"),
        ("  ŁUKASZ  ", "lukasz"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Straße", "strasse"),
        ("Nguyễn Thị", "nguyen thi"),
        ("O'Brien", "o brien"),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_particles_are_split_off_in_any_order() -> None:
    for raw in ("Van der Berg", "Berg, van der", "VAN DER BERG"):
        assert split_surname(normalise_name(raw)) == ("van der", "berg")
    assert split_surname("van") == ("", "van")


def test_tokens_depend_on_key_and_purpose() -> None:
    a, b = Encoder(b"a" * 32), Encoder(b"b" * 32)
    assert a.token("dob", "1990-01-02") != b.token("dob", "1990-01-02")
    assert a.token("dob", "1990-01-02") != a.token("by", "1990-01-02")
    assert a.token("dob", "1990-01-02") == Encoder(b"a" * 32).token("dob", "1990-01-02")
    assert len(a.token("x", "y")) == 32


def test_bloom_filters_keep_similarity() -> None:
    e = Encoder(b"k" * 32)
    typo = dice(e.bloom("jansen"), e.bloom("janssen"))
    other = dice(e.bloom("jansen"), e.bloom("kowalczyk"))
    assert typo > 0.8
    assert other < 0.4
    assert e.bloom("jansen") == e.bloom("jansen")
    assert len(e.bloom("jansen")) == 1000 // 8


def test_encoded_frame_holds_no_identifier() -> None:
    frame = pd.DataFrame(
        {
            "first_names": ["Maria", "Maria"],
            "last_name": ["de Vries", "Vries"],
            "date_of_birth": ["2003-04-05", "2003-05-04"],
            "identity_number": ["AB-123", "ab123"],
        }
    )
    out = encode_identifiers(frame, Encoder(b"k" * 32), pd.Series(["2020-04-04", "2020-04-06"]))
    text = out.to_csv()
    for value in ("Maria", "maria", "Vries", "vries", "2003", "AB-123", "ab123"):
        assert value not in text
    assert out.loc[0, "tok_last"] == out.loc[1, "tok_last"]  # particle ignored
    assert out.loc[0, "tok_identity"] == out.loc[1, "tok_identity"]  # normalised id
    assert out.loc[0, "tok_dob"] == out.loc[1, "tok_dob_swap"]  # day and month swapped
    assert list(out["age"]) == [16, 16]  # a day before, a month before the birthday


def test_ages_at_birthday_boundaries() -> None:
    dob = pd.Series(["2000-02-29", "2000-06-15", ""])
    at = pd.Series(["2018-02-28", "2018-06-15", "2018-01-01"])
    assert ages_at(dob, at).tolist() == [17, 18, pd.NA]


def test_missing_key_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("THB_TEST_KEY", raising=False)
    with pytest.raises(KeyMissingError, match="no pseudonymisation key"):
        load_key("", "THB_TEST_KEY")
    monkeypatch.setenv("THB_TEST_KEY", "short")
    with pytest.raises(KeyMissingError, match="shorter"):
        load_key("", "THB_TEST_KEY")
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123\n")
    assert load_key(key_file, "THB_TEST_KEY") == b"0123456789abcdef0123"
