"""Ingest: read, validate, pseudonymise and store registrations and register events.

Four kinds of file: registrations of presumed victims, the police register (victim and
suspect events), the population register (deaths and emigrations, which end follow-up) and
population denominators (residents by year, sex and age band: rates per 100,000, SDG 16.2.2).

A file is imported whole or not at all: every problem is reported at once (row, field and
reason; never the value), and a file with any problem adds nothing. Rows are pseudonymised
before they reach the store: names, birth dates and identity numbers never do (denominators
hold no person and are stored as they are). A file already
imported (same SHA-256) is skipped, so ingesting it twice adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from thbmonitor.engine import Store
from thbmonitor.errors import InputError, Problem, ValidationError
from thbmonitor.ingest.readers import TEXT, file_sha256
from thbmonitor.ingest.validate import parse_bool, parse_dates, validate
from thbmonitor.profiles import Profile, default_profile
from thbmonitor.pseudonymise import Encoder, encode_identifiers
from thbmonitor.schema import (
    HELP_FLAGS,
    MULTI_SEPARATOR,
    POPULATION_DENOMINATOR_KEY,
    Field,
    PopulationEvent,
    denominator_fields,
    police_fields,
    population_fields,
    registration_fields,
)
from thbmonitor.store import (
    BIT_COLUMNS,
    IDENTIFIER_COLUMNS,
    POLICE_COLUMNS,
    POPULATION_COLUMNS,
    POPULATION_DENOMINATOR_COLUMNS,
    REGISTRATION_COLUMNS,
    bind_key,
    bind_profile,
    check_key,
    check_profile,
    new_data,
)

if TYPE_CHECKING:
    from thbmonitor.profiles.translate import Translated

__all__ = ["KINDS", "IngestResult", "detect_kind", "ingest_file", "prepare_rows", "store_rows"]

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
# Rows pseudonymised and inserted at a time, in one transaction for the whole file. Measured by
# benchmarks/bench_ingest_memory.py (1M registrations): the whole frame pseudonymised at once
# peaked at 3.4 GiB; in chunks 2.65 GiB, because DuckDB kept every chunk's Arrow buffers and its
# own copy of the uncommitted rows in memory until the commit. Chunks are now appended without
# registering them (Store.append) and DuckDB's memory is capped during the ingest, so that it
# writes the open transaction's rows to the store file rather than keeping them: 200,000 rows
# peaked at 0.94 GiB before, 0.67 GiB after; 1M rows 1.18 GiB (was 2.65).
CHUNK_ROWS = 50_000
INGEST_MEMORY_LIMIT = "512MB"


@dataclass(frozen=True)
class IngestResult:
    file: str
    kind: str  # "registrations", "police", "population" or "population_denominators"
    rows_added: int
    already_ingested: bool


@dataclass(frozen=True)
class _Kind:
    """One kind of input file: its layout, its table and how its rows are derived."""

    name: str
    layout: Callable[[Profile], tuple[Field, ...]]  # its fields under a profile's code lists
    table: str
    id_column: str
    date_column: str  # the date ages (bands) are taken at
    columns: tuple[str, ...]
    derive: Callable[[pd.DataFrame, str, Profile], pd.DataFrame]
    key: tuple[str, ...] | None = None  # columns identifying a row, if not id_column alone
    identifiers: bool = True  # rows carry a person's identifiers (pseudonymised at the door)


def detect_kind(frame: pd.DataFrame, file: str) -> str:
    if "population" in frame.columns and "event_id" not in frame.columns:
        return "population_denominators"
    if "registration_id" in frame.columns:
        return "registrations"
    if "event_id" in frame.columns:
        return "population" if "event_type" in frame.columns else "police"
    raise InputError(
        f"{file}: not a registrations file (column registration_id), a police register "
        "(columns event_id, role), a population register (columns event_id, event_type) or "
        "population denominators (columns year, sex, age_band, population)"
    )


def ingest_file(
    store: Store,
    path: Path,
    encoder: Encoder,
    progress: Progress | None = None,
    today: date | None = None,
    profile: Profile | None = None,
) -> IngestResult:
    """Import one file into the store, all or nothing. No date may lie after ``today`` (by
    default the day of ingest). ``profile``: the country profile whose code lists the file
    uses (default: the default profile)."""
    from thbmonitor.profiles.translate import read_in_profile

    profile = profile or default_profile()
    say = progress or (lambda _msg: None)
    path = Path(path)
    sha = file_sha256(path)
    say(f"reading {path.name}")
    translated = read_in_profile(path, profile)
    frame, kind = translated.frame, KINDS[translated.kind]
    if store.scalar("SELECT count(*) FROM ingested_files WHERE sha256 = ?", [sha]):
        log.info("%s was ingested before; nothing added", path.name)
        return IngestResult(path.name, kind.name, 0, True)
    check_key(store, encoder.fingerprint)  # before any work: a store takes one key only
    check_profile(store, profile, ingest=True)  # ... and one country profile
    say(f"validating {len(frame):,} rows")
    problems = validate(path.name, frame, kind.layout(profile), kind.key, today)
    problems += _clashes_with_store(store, path.name, frame, kind)
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: p.row), notes=_notes(translated))
    with store.memory_capped(INGEST_MEMORY_LIMIT), store.transaction():  # all chunks or none
        bind_key(store, encoder.fingerprint)
        bind_profile(store, profile)
        for start in range(0, len(frame), CHUNK_ROWS):
            say(f"pseudonymising and storing rows {start + 1:,} to {len(frame):,}")
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            rows = prepare_rows(kind.name, chunk, encoder, sha, profile)
            _insert(store, kind, rows)
            if kind.name == "registrations":
                _insert_record_keys(store, rows["registration_id"], encoder)
        _record_source(store, kind, sha, path.name, len(frame))
    return IngestResult(path.name, kind.name, len(frame), False)


def _notes(translated: Translated) -> list[str]:
    """What the profile could not map, by column and number of rows, without the values (an
    ingest message holds none: ``thbmonitor profile check`` shows the coded ones)."""
    if not translated.unmapped:
        return []
    lines = [str(replace(u, value=None)) for u in translated.unmapped]
    return [
        "Values the country profile cannot map ('thbmonitor profile check' lists the codes):",
        *(f"  * {line}" for line in lines),
    ]


def prepare_rows(
    kind_name: str,
    frame: pd.DataFrame,
    encoder: Encoder,
    sha: str,
    profile: Profile | None = None,
) -> pd.DataFrame:
    """The store's rows of a validated frame: derived columns (the profile's groups and age
    bands; default: the default profile's), identifiers pseudonymised.

    Shared by ``ingest_file`` and the registry, which validates and pseudonymises its
    submissions the same way before anything reaches its database. The frame's plaintext
    identifiers are not among the returned columns.
    """
    kind = KINDS[kind_name]
    profile = profile or default_profile()
    rows = kind.derive(frame, sha, profile)
    if not kind.identifiers:
        return rows[list(kind.columns)]
    estimated = None
    if kind.name == "registrations":
        estimated = parse_bool(_text(frame, "date_of_birth_estimated")).fillna(False)
    ids = encode_identifiers(frame, encoder, rows[kind.date_column], estimated)
    age = ids.pop("age")  # never stored: see encode_identifiers
    if kind.name == "registrations":
        rows["age_band"] = [profile.age_band(None if pd.isna(a) else int(a)) for a in age]
    for col in ids.columns:
        rows[col] = ids[col]
    rows["dob_missing"] = _text(frame, "date_of_birth").eq("")
    return rows[list(kind.columns + IDENTIFIER_COLUMNS)]


def store_rows(
    store: Store,
    kind_name: str,
    rows: pd.DataFrame,
    sha: str,
    name: str,
    fingerprint: str,
    profile: Profile | None = None,
) -> None:
    """Insert prepared rows (see :func:`prepare_rows`) and record their source, all or nothing.

    ``sha`` identifies the source (a file's SHA-256, or a registry extract's digest): a source
    already recorded is refused by the store's primary key, so nothing is added twice.
    ``fingerprint`` is the key's (:func:`thbmonitor.pseudonymise.key_fingerprint`): a store
    takes rows of one key only, and of one country profile (``profile``, the one the rows were
    prepared with; default: the default profile).
    """
    kind = KINDS[kind_name]
    with store.transaction():
        bind_key(store, fingerprint)
        bind_profile(store, profile or default_profile())
        _insert(store, kind, rows)
        _record_source(store, kind, sha, name, len(rows))


def _insert(store: Store, kind: _Kind, rows: pd.DataFrame) -> None:
    store.append(kind.table, rows, dict.fromkeys(BIT_COLUMNS & set(rows.columns), "BIT"))


def _insert_record_keys(store: Store, ids: pd.Series, encoder: Encoder) -> None:
    """The record keys of new registrations, for the cell-key method
    (:mod:`thbmonitor.disclosure.cellkey`; see :meth:`Encoder.record_key`)."""
    keys = pd.DataFrame({"registration_id": ids, "record_key": ids.map(encoder.record_key)})
    store.append("record_keys", keys)


def _record_source(store: Store, kind: _Kind, sha: str, name: str, n_rows: int) -> None:
    store.execute(
        "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?)",
        [sha, kind.name, name, n_rows, datetime.now()],
    )
    if kind.identifiers:
        new_data(store)


def _clashes_with_store(store: Store, file: str, frame: pd.DataFrame, kind: _Kind) -> list[Problem]:
    """Ids already in the store (from another file) are problems too."""
    if kind.key is not None:
        return _key_clashes(store, file, frame, kind, kind.key)
    if kind.id_column not in frame.columns:
        return []
    if not store.scalar(f"SELECT count(*) FROM {kind.table}"):
        return []
    ids = pd.DataFrame({"id": _text(frame, kind.id_column)})
    store.register("_ids", ids)
    try:
        known = set(
            store.df(f"SELECT i.id FROM _ids i JOIN {kind.table} t ON t.{kind.id_column} = i.id")[
                "id"
            ]
        )
    finally:
        store.unregister("_ids")
    rows = ids.index[ids["id"].isin(known)] + 1
    return [
        Problem(file, int(r), kind.id_column, "is already in the store, imported from another file")
        for r in rows
    ]


def _key_clashes(
    store: Store, file: str, frame: pd.DataFrame, kind: _Kind, key: tuple[str, ...]
) -> list[Problem]:
    """Rows whose key (several columns) is already in the store, from another file."""
    if not all(k in frame.columns for k in key):
        return []
    if not store.scalar(f"SELECT count(*) FROM {kind.table}"):
        return []
    keys = pd.DataFrame({k: _text(frame, k).astype(object) for k in key})
    keys["_row"] = np.arange(1, len(keys) + 1)
    on = " AND ".join(f"CAST(t.{k} AS VARCHAR) = i.{k}" for k in key)
    store.register("_keys", keys)
    try:
        rows = store.df(f"SELECT DISTINCT i._row FROM _keys i JOIN {kind.table} t ON {on}")["_row"]
    finally:
        store.unregister("_keys")
    what = ", ".join(key)
    return [
        Problem(file, int(r), key[0], f"({what}) is already in the store, from another file")
        for r in sorted(rows)
    ]


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as stripped text; a column the file does not have is empty."""
    if name in frame.columns:
        return frame[name].astype(TEXT).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _split(text: pd.Series) -> pd.Series:
    return text.str.split(MULTI_SEPARATOR).map(lambda xs: [x.strip() for x in xs if x.strip()])


def _registrations(frame: pd.DataFrame, sha: str, profile: Profile) -> pd.DataFrame:
    # the columns are gathered first and framed once (a column added at a time costs about a
    # millisecond each, which the registry pays per batch of submissions)
    out: dict[str, object] = {}
    out["registration_id"] = _text(frame, "registration_id")
    out["source_sha256"] = sha
    out["source_row"] = frame.index + 1
    out["reporting_organisation"] = _text(frame, "reporting_organisation")
    dates = parse_dates(_text(frame, "registration_date"))
    out["registration_date"] = dates.dt.date
    out["registration_year"] = dates.dt.year.astype("int32")
    out["sex"] = _text(frame, "sex")
    nats = _split(_text(frame, "nationality"))
    forms = _split(_text(frame, "forms_of_exploitation"))
    out["nationality"] = nats.map(MULTI_SEPARATOR.join)
    out["nationality_primary"] = nats.map(lambda xs: xs[0] if xs else None)
    # EU membership on the registration date (dual nationals with the own nationality: own)
    on = [None if pd.isna(d) else d.date() for d in dates]
    group_of = profile.nationality.group_of_all
    out["nationality_group"] = [group_of(n, d) for n, d in zip(nats, on, strict=True)]
    out["residence_status"] = _text(frame, "residence_status")
    out["municipality"] = _text(frame, "municipality").replace("", None)
    out["forms_of_exploitation"] = forms.map(MULTI_SEPARATOR.join)
    out["monitor_group"] = [profile.monitor_group(f, n) for f, n in zip(forms, nats, strict=True)]
    out["sector"] = _text(frame, "sector").replace("", None)
    # the age at exploitation is kept only where the birth date is missing (the linkage's age
    # then); beside a birth year and a date it would tell on which side of the birthday the
    # registration lies, which the store must not (see encode_identifiers)
    age = pd.to_numeric(_text(frame, "age_at_exploitation"), errors="coerce").astype("Int32")
    out["age_at_exploitation"] = age.where(_text(frame, "date_of_birth").eq(""))
    for flag in HELP_FLAGS:
        out[flag] = parse_bool(_text(frame, flag))
    return pd.DataFrame(out, index=frame.index)


def _events(frame: pd.DataFrame, sha: str) -> pd.DataFrame:
    """Columns common to police and population-register events."""
    out = pd.DataFrame(index=frame.index)
    out["event_id"] = _text(frame, "event_id")
    out["source_sha256"] = sha
    out["source_row"] = frame.index + 1
    dates = parse_dates(_text(frame, "event_date"))
    out["event_date"] = dates.dt.date
    out["event_year"] = dates.dt.year.astype("int32")
    out["sex"] = _text(frame, "sex").replace("", None)
    return out


def _police(frame: pd.DataFrame, sha: str, _profile: Profile) -> pd.DataFrame:
    out = _events(frame, sha)
    out["role"] = _text(frame, "role")
    out["crime_type"] = _text(frame, "crime_type")
    return out


def _population(frame: pd.DataFrame, sha: str, _profile: Profile) -> pd.DataFrame:
    out = _events(frame, sha)
    out["event_type"] = _text(frame, "event_type")
    # a resident record keeps the year from which the person is resident, not the date: for
    # residents from birth that date is the birth date
    resident = out["event_type"].eq(PopulationEvent.RESIDENT.value)
    out["event_date"] = out["event_date"].where(~resident, None)
    return out


def _denominators(frame: pd.DataFrame, sha: str, _profile: Profile) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["year"] = pd.to_numeric(_text(frame, "year")).astype("int32")
    out["sex"] = _text(frame, "sex")
    out["age_band"] = _text(frame, "age_band")
    out["population"] = pd.to_numeric(_text(frame, "population")).astype("int64")
    out["source_sha256"] = sha
    out["source_row"] = frame.index + 1
    return out


KINDS: dict[str, _Kind] = {
    "registrations": _Kind(
        "registrations",
        registration_fields,
        "registrations",
        "registration_id",
        "registration_date",
        REGISTRATION_COLUMNS,
        _registrations,
    ),
    "police": _Kind(
        "police",
        police_fields,
        "police_events",
        "event_id",
        "event_date",
        POLICE_COLUMNS,
        _police,
    ),
    "population": _Kind(
        "population",
        population_fields,
        "population_events",
        "event_id",
        "event_date",
        POPULATION_COLUMNS,
        _population,
    ),
    "population_denominators": _Kind(
        "population_denominators",
        denominator_fields,
        "population_denominators",
        "",
        "",
        POPULATION_DENOMINATOR_COLUMNS,
        _denominators,
        key=POPULATION_DENOMINATOR_KEY,
        identifiers=False,
    ),
}
