"""Pseudonymisation: normalisation, keyed tokens and Bloom filters."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.errors import KeyMissingError
from thbmonitor.pseudonymise import (
    Encoder,
    ages_at,
    encode_identifiers,
    key_fingerprint,
    load_key,
    normalise_name,
    split_surname,
)

KEY_A = b"key-a-0123456789abcdef0123456789abcdef"
KEY_B = b"key-b-0123456789abcdef0123456789abcdef"


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
    a, b = Encoder(KEY_A), Encoder(KEY_B)
    assert a.token("dob", "1990-01-02") != b.token("dob", "1990-01-02")
    assert a.token("dob", "1990-01-02") != a.token("by", "1990-01-02")
    assert a.token("dob", "1990-01-02") == Encoder(KEY_A).token("dob", "1990-01-02")
    assert len(a.token("x", "y")) == 32


def test_bloom_filters_keep_similarity() -> None:
    e = Encoder(KEY_A)
    typo = dice(e.bloom("jansen"), e.bloom("janssen"))
    other = dice(e.bloom("jansen"), e.bloom("kowalczyk"))
    assert typo > 0.8
    assert other < 0.4
    assert e.bloom("jansen") == e.bloom("jansen")
    assert len(e.bloom("jansen")) == 1000 // 8


def test_encoded_frame_holds_no_identifier() -> None:
    frame = pd.DataFrame(
        {
            "first_names": ["Maria", "Maria", "Ana"],
            "last_name": ["de Vries", "Vries", "Lopes"],
            "date_of_birth": ["2003-04-05", "2003-05-04", "2001-01-01"],
            "identity_number": ["AB-123", "ab123", ""],
        }
    )
    out = encode_identifiers(
        frame,
        Encoder(KEY_A),
        pd.Series(["2020-04-04", "2020-04-06", "2020-01-01"]),
        pd.Series([False, True, False]),
    )
    text = out.drop(columns=["birth_year", "age"]).to_csv()
    for value in ("Maria", "maria", "Vries", "vries", "2003", "AB-123", "ab123", "04-05"):
        assert value not in text
    assert out.loc[0, "tok_last"] == out.loc[1, "tok_last"]  # particle ignored
    assert out.loc[0, "tok_identity"] == out.loc[1, "tok_identity"]  # normalised id
    assert not {"tok_dob_swap", "tok_birth_ym"} & set(out)  # README "What the store holds"
    assert list(out["age"]) == [16, 16, 19]  # a day before, a month before the birthday
    assert list(out["birth_year"]) == [2003, 2003, 2001]
    # estimated or a 1 January: uncertain
    assert list(out["dob_uncertain"]) == [False, True, True]


def test_ages_at_birthday_boundaries() -> None:
    dob = pd.Series(["2000-02-29", "2000-06-15", ""])
    at = pd.Series(["2018-02-28", "2018-06-15", "2018-01-01"])
    assert ages_at(dob, at).tolist() == [17, 18, pd.NA]


def test_missing_key_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("THB_TEST_KEY", raising=False)
    with pytest.raises(KeyMissingError, match="no pseudonymisation key"):
        load_key("", "THB_TEST_KEY")
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef\n")
    key_file.chmod(0o600)
    assert load_key(key_file, "THB_TEST_KEY") == b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("k3y-x", "shorter than 32 bytes"),
        ("0123456789abcdef0123456789abcde", "shorter than 32 bytes"),  # 31 bytes
        ("a" * 64, "fewer than 8 different characters"),
        ("ab" * 32, "fewer than 8 different characters"),
    ],
)
def test_weak_keys_are_refused(tmp_path, monkeypatch, key: str, reason: str) -> None:
    """Issue 11 item 2: keys of fewer than 32 bytes or of one repeated character."""
    monkeypatch.setenv("THB_TEST_KEY", key)
    with pytest.raises(KeyMissingError, match=reason) as info:
        load_key("", "THB_TEST_KEY")
    assert key not in str(info.value)
    key_file = tmp_path / "key"
    key_file.write_text(key)
    key_file.chmod(0o600)
    with pytest.raises(KeyMissingError, match=reason) as info:
        load_key(key_file, "THB_TEST_KEY")
    assert str(key_file.resolve()) in str(info.value) and key not in str(info.value)
    with pytest.raises(KeyMissingError, match=reason):
        Encoder(key.encode())


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o620])
def test_a_key_file_others_can_read_is_refused(tmp_path, monkeypatch, mode: int) -> None:
    """Issue 11 item 2: the key file must be the owner's alone; the error names its path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys").mkdir()
    key_file = tmp_path / "keys" / "round.key"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    key_file.chmod(mode)
    with pytest.raises(KeyMissingError, match="chmod 600") as info:
        load_key("keys/../keys/round.key", "THB_TEST_KEY")  # relative: resolved in the message
    assert str(key_file.resolve()) in str(info.value)


def test_a_missing_key_file_is_named_by_its_resolved_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyMissingError) as info:
        load_key("nowhere.key", "THB_TEST_KEY")
    assert str(tmp_path.resolve() / "nowhere.key") in str(info.value)
    with pytest.raises(KeyMissingError, match="not a regular file"):
        load_key(tmp_path, "THB_TEST_KEY")


def test_key_fingerprint_is_a_keyed_hash_of_a_constant() -> None:
    import hashlib
    import hmac

    a = key_fingerprint(KEY_A)
    assert a == key_fingerprint(KEY_A) == Encoder(KEY_A).fingerprint
    assert a != key_fingerprint(KEY_B)
    assert a == hmac.new(KEY_A, b"thbmonitor key fingerprint/1", hashlib.sha256).hexdigest()[:32]
    assert KEY_A.hex() not in a and KEY_A.decode() not in a
