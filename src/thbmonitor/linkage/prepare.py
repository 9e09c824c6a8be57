"""The linkage input: pseudonymised columns of registrations or police events, plus blocking keys.

Splink works in an in-memory scratch database attached to the store's connection (``lk``), so
that its many intermediate tables never reach the store file; :func:`workspace` switches to it
and back. The input tables hold an integer ``unique_id`` (faster joins than text ids), the
tokens and Bloom filters, ``tok_full`` (a hash of the first- and last-name tokens, as
pseudonymous as they are, whose frequencies adjust the weight of a full-name agreement), and
derived columns that identify no one on their own: ``birth_year_approx`` (the middle of the
birth year; without a birth date, the date of the record minus the age at exploitation, in
fractional years: to compare birth years that differ by one) and MinHash band keys of the
full-name Bloom filter (``lsh_0`` ...; locality-sensitive hashing after Broder 1997) for
blocking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from thbmonitor.engine.duckdb import memory_capped
from thbmonitor.errors import LinkageError

log = logging.getLogger(__name__)

SCRATCH = "lk"
MEMORY_LIMIT = "3GB"

TOKEN_COLUMNS: tuple[str, ...] = (
    "tok_first",
    "tok_last",
    "tok_first1",
    "tok_first_sdx",
    "tok_last_sdx",
    "tok_first_nysiis",
    "tok_last_nysiis",
    "bf_first",
    "bf_last",
    "bf_full",
    "tok_dob",
    "tok_birth_year",
    "tok_birth_md",
    "tok_identity",
)


# a registration without a birth date has the age at exploitation, which the form asks for
# even when the birth date is unknown (a year or two early at most); the store keeps it only
# for such registrations
REGISTRATION_AGE = "age_at_exploitation"


@dataclass(frozen=True)
class LshSpec:
    """MinHash banding of the full-name Bloom filter: ``bands`` keys of ``rows`` minima each."""

    bands: int = 4
    rows: int = 2
    seed: int = 20211207


@contextmanager
def workspace(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """Attach the in-memory scratch database, make it the default, and yield the store's name.

    Inside, unqualified names resolve to the scratch database; the store's tables are reached
    as ``<store>.main.<table>``. The previous default is restored and the scratch dropped after.
    """
    home = str(con.execute("SELECT current_database()").fetchall()[0][0])
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
    con.execute(f"USE {SCRATCH}")
    try:
        # Splink's pair tables are wide; cap DuckDB's memory so that it spills to disk instead
        # of holding several GB (the scratch database lives in memory but its operators spill)
        with memory_capped(con, MEMORY_LIMIT):
            yield home
    finally:
        con.execute(f"USE {_quote(home)}")
        con.execute(f"DETACH {SCRATCH}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# a day and month of birth held by more than DEFAULT_DAY_FACTOR times its share of 1/366 of the
# birth dates of an input table (and by at least DEFAULT_DAY_MIN records) is that source's
# default for an unknown day (1 January, or 1 July in some registers; every date of a
# register that records only the birth year): births spread over the year within about 20%
DEFAULT_DAY_FACTOR = 4.0
DEFAULT_DAY_MIN = 20


def flag_default_days(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Mark birth dates on a default day as uncertain in input table ``name``; their number.

    Registrations say so themselves (``dob_uncertain``: an estimate or a 1 January); a police
    or population register does not, and a 1 January there met with the registration's true
    date was only "same year". The default days are found from the keyed day-and-month
    tokens' frequencies alone, so the key is not needed and nothing new is stored.
    """
    row = con.execute(
        f"""
        UPDATE {name} SET dob_uncertain = true
        WHERE NOT dob_uncertain AND tok_birth_md IN (
            SELECT tok_birth_md FROM {name} WHERE tok_birth_md IS NOT NULL
            GROUP BY tok_birth_md
            HAVING count(*) >= $min
               AND count(*) > $factor * (SELECT count(tok_birth_md) FROM {name}) / 366.0
        )
        """,
        {"min": DEFAULT_DAY_MIN, "factor": DEFAULT_DAY_FACTOR},
    ).fetchall()[0]
    log.debug("%d birth dates of %s on a default day", row[0], name)
    return int(row[0])


def input_sql(
    source: str,
    *,
    id_column: str,
    date_column: str,
    age_column: str | None = None,
    extra_columns: tuple[str, ...] = (),
    dense_id_column: str | None = None,
) -> str:
    """SELECT of the linkage input columns from ``source`` (a registrations-like table).

    ``unique_id`` is a dense integer (``dense_id_column`` when the source has one, which
    saves sorting wide rows); ``record_id`` keeps the text id for the way back. The birth
    year comes from ``birth_year``, else from ``age_column`` (an age at some time before the
    record's date) where the source has one.
    """
    tokens = ", ".join(TOKEN_COLUMNS + tuple(extra_columns))
    unique = dense_id_column or f"row_number() OVER (ORDER BY {id_column})"
    from_age = (
        f"""WHEN {age_column} IS NOT NULL AND {date_column} IS NOT NULL
                    THEN year({date_column}) + (dayofyear({date_column}) - 0.5) / 365.25
                         - {age_column} - 0.5"""
        if age_column
        else ""
    )
    return f"""
        SELECT {unique} AS unique_id,
               {id_column} AS record_id, {tokens}, {date_column} AS record_date,
               CASE WHEN tok_first IS NOT NULL AND tok_last IS NOT NULL
                    THEN hash(tok_first, tok_last) END AS tok_full,
               coalesce(dob_uncertain, false) AS dob_uncertain,
               CASE WHEN birth_year IS NOT NULL THEN birth_year + 0.5
                    {from_age} END AS birth_year_approx,
               CASE WHEN sex IN ('F', 'M') THEN sex END AS sex,
               {{nationality}} AS nationality_primary
        FROM {source}
    """


def create_input(
    con: duckdb.DuckDBPyConnection,
    name: str,
    source: str,
    *,
    id_column: str,
    date_column: str,
    age_column: str | None,
    nationality_column: str | None,
    lsh: LshSpec | None,
    extra_columns: tuple[str, ...] = (),
    dense_id_column: str | None = None,
) -> int:
    """Materialise the linkage input table ``name`` in the scratch database; its row count."""
    sql = input_sql(
        source,
        id_column=id_column,
        date_column=date_column,
        age_column=age_column,
        extra_columns=extra_columns,
        dense_id_column=dense_id_column,
    )
    nationality = (
        f"CASE WHEN {nationality_column} NOT IN ('', 'XX') THEN {nationality_column} END"
        if nationality_column
        else "CAST(NULL AS VARCHAR)"
    )
    con.execute(f"CREATE OR REPLACE TABLE {name} AS " + sql.format(nationality=nationality))
    flag_default_days(con, name)
    if lsh is not None and lsh.bands > 0:
        add_lsh_keys(con, name, lsh)
    add_filter_words(con, name)
    row = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0]
    return int(row[0]) if row else 0


WORD_FILTERS = ("bf_first", "bf_last")


def add_filter_words(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Split the first- and last-name filters into 64-bit words with their bit counts.

    DuckDB counts bits of ``UBIGINT`` words about three times faster than of a ``BIT``
    string, and the Dice levels are evaluated for every compared pair.
    """
    row = con.execute(
        f"SELECT max(bit_length(bf_first)), max(bit_length(bf_last)) FROM {name}"
    ).fetchall()[0]
    width = max(int(row[0] or 0), int(row[1] or 0))
    if width == 0:
        if con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] == 0:
            return  # nothing to compare (e.g. no event shares a key with a registration)
        raise LinkageError("no name Bloom filters in the linkage input")
    words = -(-width // 64)
    # names repeat: split each distinct filter once, then join the words back to the rows
    joins, selected = [], []
    for col in WORD_FILTERS:
        parts = [f"bit_count(f) AS {col}_n"]
        for i in range(words):
            chunk = f"substring(f::VARCHAR, {1 + 64 * i}, 64)"
            parts.append(f"{chunk}::BIT::UBIGINT AS {col}_w{i}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _lk_words_{col} AS SELECT f, {', '.join(parts)} "
            f"FROM (SELECT DISTINCT {col} AS f FROM {name} WHERE {col} IS NOT NULL)"
        )
        joins.append(f"LEFT JOIN _lk_words_{col} w_{col} ON t.{col} = w_{col}.f")
        selected.append(f"w_{col}.* EXCLUDE (f)")
    # the BIT strings themselves are not needed any more: the full name keeps a hash key
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT t.* EXCLUDE (bf_first, bf_last, bf_full), "
        f"hash(t.bf_full::VARCHAR) AS bf_full_key, {', '.join(selected)} "
        f"FROM {name} t {' '.join(joins)} ORDER BY t.unique_id"
    )
    for col in WORD_FILTERS:
        con.execute(f"DROP TABLE IF EXISTS _lk_words_{col}")


def minhash_bands(bits: np.ndarray, spec: LshSpec, chunk: int = 20_000) -> np.ndarray:
    """Band keys (int64, one column per band) of 0/1 rows; all-zero rows give -1.

    Each band combines ``spec.rows`` MinHash values, each the smallest rank of a set bit under
    a seeded random permutation of the bit positions.
    """
    n, width = bits.shape
    rng = np.random.default_rng(spec.seed)
    ranks = np.stack([rng.permutation(width) for _ in range(spec.bands * spec.rows)])
    out = np.empty((n, spec.bands), dtype=np.int64)
    big = np.int64(width)
    for start in range(0, n, chunk):
        block = bits[start : start + chunk].astype(bool)
        mins = np.stack([np.where(block, r, big).min(axis=1) for r in ranks], axis=1)
        for b in range(spec.bands):
            key = np.zeros(len(block), dtype=np.int64)
            for j in range(spec.rows):
                key = key * (width + 1) + mins[:, b * spec.rows + j]
            key[~block.any(axis=1)] = -1
            out[start : start + chunk, b] = key
    return out


LSH_COLUMNS: dict[str, str] = {"bf_first": "lshf", "bf_last": "lshl", "bf_full": "lsh"}


def add_lsh_keys(con: duckdb.DuckDBPyConnection, name: str, spec: LshSpec) -> None:
    """Add MinHash band columns to the input table: ``lshf_<b>`` of the first-name filter,
    ``lshl_<b>`` of the last name and ``lsh_<b>`` of the full name (per distinct filter)."""
    for column, prefix in LSH_COLUMNS.items():
        distinct = con.execute(
            f"SELECT DISTINCT {column}::VARCHAR AS f FROM {name} WHERE {column} IS NOT NULL"
        ).fetchall()
        cols = [f"{prefix}_{b}" for b in range(spec.bands)]
        if distinct:
            texts = [row[0] for row in distinct]
            width = len(texts[0])
            raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
            bits = (raw.reshape(len(texts), width) == ord("1")).astype(np.uint8)
            lookup = pd.DataFrame(minhash_bands(bits, spec), columns=cols)
            lookup.insert(0, "f", texts)
        else:
            lookup = pd.DataFrame({"f": pd.Series([], dtype=object)} | {c: [] for c in cols})
        con.register("_lk_lsh_lookup", lookup)
        try:
            selected = ", ".join(f"CASE WHEN k.{c} >= 0 THEN k.{c} END AS {c}" for c in cols)
            con.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT t.*, {selected} FROM {name} t "
                f"LEFT JOIN _lk_lsh_lookup k ON t.{column}::VARCHAR = k.f"
            )
        finally:
            con.unregister("_lk_lsh_lookup")
        log.debug("MinHash band keys of %d distinct %s filters", len(distinct), column)
