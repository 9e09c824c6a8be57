"""The monitor's counting units, as portable SQL over the store, and the counts of one table.

Three units, each one row per unit with the same columns:

``registrations``   every registration in the window.
``victims``         victim-years: a person (per ``registration_person``) with at least one
                    registration in year Y counts once in Y; attributes come from the
                    person's first registration that year (earliest date, then lowest id).
``persons``         distinct persons in the whole window; attributes from the first
                    registration in the window; ``years_registered`` is the number of
                    distinct years with a registration.

Help flags (shelter, residence scheme for victims applied/granted, care referral) of a person
are ``yes`` if any of the unit's registrations records it, else ``no`` if any records ``no``,
else ``unknown``.
A registration without a ``registration_person`` row (linkage not run for it) is its own person.

SQL values are bound parameters; only column names from the fixed list below are generated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from thbmonitor.disclosure.cellkey import KEY_SCALE
from thbmonitor.engine import Store
from thbmonitor.errors import InputError
from thbmonitor.monitor.regions import regions_frame
from thbmonitor.profiles import Profile

log = logging.getLogger(__name__)

__all__ = [
    "HELP_MEASURES",
    "UNITS",
    "count_cells",
    "top_nationalities",
    "unit_sql",
    "unit_tables",
]

UNITS: tuple[str, ...] = ("registrations", "victims", "persons")
HELP_MEASURES: tuple[str, ...] = (
    "shelter",
    "victim_scheme_applied",
    "victim_scheme_granted",
    "care_referral",
)
REGIONS_VIEW = "monitor_regions"

# the columns every unit query returns (after COALESCE to the code lists' unknown values)
_ATTRIBUTES = """
    CAST(f.registration_year AS VARCHAR) AS year,
    COALESCE(f.monitor_group, 'other_unknown') AS "group",
    COALESCE(f.sex, 'U') AS sex,
    COALESCE(f.age_band, 'unknown') AS age_band,
    COALESCE(f.nationality_group, 'unknown') AS nationality_group,
    COALESCE(f.nationality_primary, 'XX') AS nationality_primary,
    COALESCE(f.residence_status, 'Unknown') AS residence_status,
    COALESCE(f.reporting_organisation, 'Other') AS reporting_organisation,
    COALESCE(f.sector, 'Unknown') AS sector,
    COALESCE(mr.region, 'unknown') AS region,
    lower(trim(f.municipality)) AS municipality_key,
    f.registration_id AS record_id
"""

_HELP = ",\n".join(
    f"CASE WHEN a.{m} = 1 THEN 'yes' WHEN a.{m} = 0 THEN 'no' ELSE 'unknown' END AS {m}"
    for m in HELP_MEASURES
)
_HELP_AGG = ",\n".join(
    f"MAX(CASE WHEN {m} THEN 1 WHEN NOT {m} THEN 0 END) AS {m}" for m in HELP_MEASURES
)

_WINDOW = """
    reg AS (
        SELECT r.*, COALESCE(rp.person_id, 'unlinked:' || r.registration_id) AS person_id
        FROM registrations r
        LEFT JOIN registration_person rp ON rp.registration_id = r.registration_id
        WHERE r.registration_year BETWEEN ? AND ?
    )"""


def unit_sql(unit: str) -> str:
    """A SELECT returning one row per unit; parameters: (first year, last year)."""
    if unit == "registrations":
        return f"""
        WITH {_WINDOW},
        a AS (SELECT registration_id, {_HELP_AGG} FROM reg GROUP BY registration_id)
        SELECT {_ATTRIBUTES}, 1 AS years_registered, {_HELP}
        FROM reg f
        JOIN a ON a.registration_id = f.registration_id
        LEFT JOIN {REGIONS_VIEW} mr ON mr.municipality_key = lower(trim(f.municipality))
        """
    if unit not in ("victims", "persons"):
        raise ValueError(f"unknown counting unit {unit!r}; use one of {UNITS}")
    part = "person_id, registration_year" if unit == "victims" else "person_id"
    join = " AND ".join(f"a.{c.strip()} = f.{c.strip()}" for c in part.split(","))
    return f"""
    WITH {_WINDOW},
    ranked AS (
        SELECT reg.*, ROW_NUMBER() OVER (
            PARTITION BY {part} ORDER BY registration_date, registration_id
        ) AS rank_in_unit
        FROM reg
    ),
    a AS (
        SELECT {part}, COUNT(DISTINCT registration_year) AS n_years, {_HELP_AGG}
        FROM reg GROUP BY {part}
    )
    SELECT {_ATTRIBUTES}, a.n_years AS years_registered, {_HELP}
    FROM ranked f
    JOIN a ON {join}
    LEFT JOIN {REGIONS_VIEW} mr ON mr.municipality_key = lower(trim(f.municipality))
    WHERE f.rank_in_unit = 1
    """


class _Regions:
    """Expose the municipality -> region code list to SQL for the duration of a block."""

    def __init__(self, store: Store, profile: Profile | None = None) -> None:
        self.store = store
        self.profile = profile

    def __enter__(self) -> Store:
        self.store.register(REGIONS_VIEW, regions_frame(self.profile))
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.unregister(REGIONS_VIEW)


@contextmanager
def unit_tables(
    store: Store, window: tuple[int, int], profile: Profile | None = None
) -> Iterator[dict[str, str]]:
    """Materialise the three units once as temporary tables (dropped on exit); regions are
    the profile's (default: the default profile's)."""
    names = {unit: f"monitor_unit_{unit}" for unit in UNITS}
    with _Regions(store, profile):
        for unit, name in names.items():
            store.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS {unit_sql(unit)}", [window[0], window[1]]
            )
    try:
        yield names
    finally:
        for name in names.values():
            store.execute(f"DROP TABLE IF EXISTS {name}")


def count_cells(
    store: Store,
    unit: str,
    dims: Sequence[str],
    window: tuple[int, int],
    *,
    where: dict[str, Sequence[Any]] | None = None,
    source: str | None = None,
    key_sums: bool = False,
) -> pd.DataFrame:
    """Counts of ``unit`` by ``dims`` (inner cells only, observed combinations), as a frame.

    ``where`` keeps only units whose dimension takes one of the given values (bound).
    ``source`` names a table made by :func:`unit_tables` (else the unit is computed here).
    ``key_sums`` adds ``key_sum``: the sum of the units' record keys (a unit's is that of the
    registration its attributes come from; the store's ``record_keys``), for the cell-key
    method; a unit without a record key is an error.
    """
    allowed = {
        "year", "group", "sex", "age_band", "nationality_group", "nationality_primary",
        "residence_status", "reporting_organisation", "sector", "region", "years_registered",
        "municipality_key", *HELP_MEASURES,
    }  # fmt: skip
    cols = [*dims, *(where or {})]
    unknown = [c for c in cols if c not in allowed]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}")
    params: list[Any] = [] if source else [window[0], window[1]]
    conditions = []
    for col, values in (where or {}).items():
        conditions.append(f'u."{col}" IN ({", ".join("?" for _ in values)})')
        params.extend(values)
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    select = ", ".join(f'u."{d}"' for d in dims)
    group = f"GROUP BY {select}" if dims else ""
    scale = KEY_SCALE  # whole units of 2**-40, summed exactly (see disclosure.cellkey)
    keys = (
        f", CAST(SUM(CAST(floor(k.record_key * {scale}) AS BIGINT)) % {scale} AS BIGINT) "
        "AS key_sum, COUNT(k.record_key) AS keyed"
    )
    keys = keys if key_sums else ""
    join = "LEFT JOIN record_keys k ON k.registration_id = u.record_id" if key_sums else ""
    sql = (
        f"SELECT {select}{', ' if dims else ''}COUNT(*) AS count{keys} "
        f"FROM {source or '(' + unit_sql(unit) + ')'} u {join} {where_sql} {group}"
    )
    with _Regions(store):
        frame = store.df(sql, params)
    frame["count"] = frame["count"].astype("int64")
    if key_sums:
        missing = int((frame["count"] - frame.pop("keyed")).sum())
        if missing:
            raise InputError(
                f"{missing} {unit} have no record key, which the cell-key method needs; "
                "registrations get one when ingested by 'thbmonitor ingest' (ingest them "
                "again into a new store, or use disclosure_method = 'suppression')"
            )
        frame["key_sum"] = frame["key_sum"].fillna(0).astype("int64")
    return frame


def top_nationalities(store: Store, window: tuple[int, int], k: int) -> list[str]:
    """The ``k`` most frequent known primary nationalities of registrations in the window."""
    rows = store.rows(
        """
        SELECT nationality_primary, COUNT(*) AS n FROM registrations
        WHERE registration_year BETWEEN ? AND ?
          AND nationality_primary IS NOT NULL AND nationality_primary <> ?
        GROUP BY nationality_primary ORDER BY n DESC, nationality_primary LIMIT ?
        """,
        [window[0], window[1], "XX", k],
    )
    return [str(r[0]) for r in rows]
