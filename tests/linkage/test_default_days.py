"""Birth dates on a register's default day are treated as uncertain (linkage.prepare)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from thbmonitor.linkage.prepare import DEFAULT_DAY_FACTOR, flag_default_days
from thbmonitor.pseudonymise import Encoder, encode_identifiers, new_key


def _table(dates: list[str], flags: list[bool] | None = None) -> duckdb.DuckDBPyConnection:
    frame = pd.DataFrame({"first_names": "a", "last_name": "b", "date_of_birth": dates})
    enc = encode_identifiers(
        frame, Encoder(new_key()), pd.Series(pd.Timestamp("2020-01-01"), index=frame.index)
    )
    con = duckdb.connect()
    con.register(
        "input",
        pd.DataFrame(
            {
                "tok_birth_md": enc["tok_birth_md"].replace("", None),
                "dob_uncertain": flags if flags is not None else [False] * len(dates),
            }
        ),
    )
    con.execute("CREATE TABLE t AS SELECT * FROM input")
    return con


def _dates(
    rng: np.random.Generator, n: int, day: str | None = None, share: float = 0.0
) -> list[str]:
    """``n`` birth dates spread over the year; a share of them on ``day`` (MM-DD)."""
    days = pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    out = [d.strftime("%Y-%m-%d") for d in days]
    for i in np.flatnonzero(rng.random(n) < share):
        out[i] = f"1990-{day}"
    return out


def test_a_day_far_above_its_share_is_flagged_and_nothing_else() -> None:
    """5,000 dates spread evenly (about 14 a day, the largest day about 30 < 4 x 5000/366 =
    55) plus 3% on 1 July (a register's default): every 1 July is flagged, no other date."""
    rng = np.random.default_rng(3)
    dates = _dates(rng, 5000, "07-01", 0.03)
    con = _table(dates)
    flagged = flag_default_days(con, "t")
    july = sum(d.endswith("-07-01") for d in dates)
    assert flagged == july
    rows = con.execute("SELECT count(*) FILTER (WHERE dob_uncertain) FROM t").fetchall()[0][0]
    assert rows == july


def test_a_register_of_birth_years_only_is_all_uncertain() -> None:
    """Every date 1 January (the register records the year only): all flagged."""
    dates = [f"{1960 + i % 40}-01-01" for i in range(200)]
    con = _table(dates)
    assert flag_default_days(con, "t") == 200


def test_even_dates_and_small_tables_are_left_alone() -> None:
    """Evenly spread dates flag nothing; a day held by fewer than DEFAULT_DAY_MIN records is
    never a default (ten records, all on 1 January); a date flagged already stays so."""
    rng = np.random.default_rng(4)
    assert flag_default_days(_table(_dates(rng, 5000)), "t") == 0
    assert flag_default_days(_table(["1990-01-01"] * 10), "t") == 0
    flags = [True] + [False] * 99
    con = _table(["1990-01-01"] * 100, flags)
    assert flag_default_days(con, "t") == 99
    assert DEFAULT_DAY_FACTOR > 1
