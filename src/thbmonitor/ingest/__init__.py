"""Ingest: read, validate, pseudonymise and store registrations and police-register events.

A file is imported whole or not at all: every problem is reported at once (row, field and
reason; never the value), and a file with any problem adds nothing. Rows are pseudonymised
before they reach the store: names, birth dates and identity numbers never do. A file already
imported (same SHA-256) is skipped, so ingesting it twice adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from thbmonitor.engine import Store
from thbmonitor.errors import InputError, Problem, ValidationError
from thbmonitor.ingest.readers import file_sha256, read_text_frame
from thbmonitor.ingest.validate import parse_bool, parse_dates, validate
from thbmonitor.pseudonymise import Encoder, encode_identifiers
from thbmonitor.schema import (
    MULTI_SEPARATOR,
    POLICE_FIELDS,
    REGISTRATION_FIELDS,
    NationalityGroup,
    age_band,
    monitor_group,
    nationality_group,
)
from thbmonitor.store import (
    BIT_COLUMNS,
    IDENTIFIER_COLUMNS,
    POLICE_COLUMNS,
    REGISTRATION_COLUMNS,
)

__all__ = ["IngestResult", "detect_kind", "ingest_file"]

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class IngestResult:
    file: str
    kind: str  # "registrations" or "police"
    rows_added: int
    already_ingested: bool


def detect_kind(frame: pd.DataFrame, file: str) -> str:
    if "registration_id" in frame.columns:
        return "registrations"
    if "event_id" in frame.columns:
        return "police"
    raise InputError(
        f"{file}: neither a registrations file (column registration_id) nor a police register "
        "(column event_id)"
    )


def ingest_file(
    store: Store, path: Path, encoder: Encoder, progress: Progress | None = None
) -> IngestResult:
    """Import one file into the store, all or nothing."""
    say = progress or (lambda _msg: None)
    path = Path(path)
    sha = file_sha256(path)
    say(f"reading {path.name}")
    frame = read_text_frame(path)
    kind = detect_kind(frame, path.name)
    if store.scalar("SELECT count(*) FROM ingested_files WHERE sha256 = ?", [sha]):
        log.info("%s was ingested before; nothing added", path.name)
        return IngestResult(path.name, kind, 0, True)
    say(f"validating {len(frame):,} rows")
    fields = REGISTRATION_FIELDS if kind == "registrations" else POLICE_FIELDS
    problems = validate(path.name, frame, fields)
    problems += _clashes_with_store(store, path.name, frame, kind)
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: p.row))
    say("pseudonymising")
    rows = _registrations(frame, sha) if kind == "registrations" else _police(frame, sha)
    when = rows["registration_date" if kind == "registrations" else "event_date"]
    ids = encode_identifiers(frame, encoder, when)
    rows["age_at_registration" if kind == "registrations" else "age_at_event"] = ids.pop("age")
    if kind == "registrations":
        rows["age_band"] = [
            age_band(None if pd.isna(a) else int(a)).value for a in rows["age_at_registration"]
        ]
    rows["dob_missing"] = (
        frame["date_of_birth"].str.strip().eq("") if ("date_of_birth" in frame.columns) else True
    )
    for col in ids.columns:
        rows[col] = ids[col]
    say("storing")
    table = "registrations" if kind == "registrations" else "police_events"
    columns = (REGISTRATION_COLUMNS if kind == "registrations" else POLICE_COLUMNS) + (
        IDENTIFIER_COLUMNS
    )
    select = ", ".join(f"CAST({c} AS BIT)" if c in BIT_COLUMNS else c for c in columns)
    with store.transaction():
        store.register("_incoming", rows[list(columns)])
        try:
            store.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM _incoming"
            )
        finally:
            store.unregister("_incoming")
        store.execute(
            "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?)",
            [sha, kind, path.name, len(rows), datetime.now()],
        )
    return IngestResult(path.name, kind, len(rows), False)


def _clashes_with_store(store: Store, file: str, frame: pd.DataFrame, kind: str) -> list[Problem]:
    """Ids already in the store (from another file) are problems too."""
    id_col, table = (
        ("registration_id", "registrations")
        if kind == "registrations"
        else ("event_id", "police_events")
    )
    if id_col not in frame.columns or not store.scalar(f"SELECT count(*) FROM {table}"):
        return []
    ids = pd.DataFrame({"id": frame[id_col].astype(str).str.strip()})
    store.register("_ids", ids)
    try:
        known = set(store.df(f"SELECT i.id FROM _ids i JOIN {table} t ON t.{id_col} = i.id")["id"])
    finally:
        store.unregister("_ids")
    rows = ids.index[ids["id"].isin(known)] + 1
    return [
        Problem(file, int(r), id_col, "is already in the store, imported from another file")
        for r in rows
    ]


def _split(text: pd.Series) -> pd.Series:
    return text.str.split(MULTI_SEPARATOR).map(lambda xs: [x.strip() for x in xs if x.strip()])


def _registrations(frame: pd.DataFrame, sha: str) -> pd.DataFrame:
    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype(str).str.strip()
        return pd.Series([""] * len(frame), index=frame.index)

    out = pd.DataFrame(index=frame.index)
    out["registration_id"] = col("registration_id")
    out["source_sha256"] = sha
    out["source_row"] = frame.index + 1
    out["reporting_organisation"] = col("reporting_organisation")
    dates = parse_dates(col("registration_date"))
    out["registration_date"] = dates.dt.date
    out["registration_year"] = dates.dt.year.astype("int32")
    out["sex"] = col("sex")
    nats = _split(col("nationality"))
    forms = _split(col("forms_of_exploitation"))
    out["nationality"] = nats.map(MULTI_SEPARATOR.join)
    out["nationality_primary"] = nats.map(lambda xs: xs[0] if xs else None)
    out["nationality_group"] = nats.map(_group_of)
    out["residence_status"] = col("residence_status")
    out["municipality"] = col("municipality").replace("", None)
    out["forms_of_exploitation"] = forms.map(MULTI_SEPARATOR.join)
    out["monitor_group"] = [monitor_group(f, n).value for f, n in zip(forms, nats, strict=True)]
    out["sector"] = col("sector").replace("", None)
    out["age_at_exploitation"] = pd.to_numeric(col("age_at_exploitation"), errors="coerce").astype(
        "Int32"
    )
    for flag in ("shelter", "b8_applied", "b8_granted", "care_referral", "consent"):
        out[flag] = parse_bool(col(flag))
    out["dob_estimated"] = parse_bool(col("date_of_birth_estimated")).fillna(False)
    return out


def _group_of(nats: list[str]) -> str:
    """Dual nationals with a Dutch nationality count as NL; otherwise the first one listed."""
    if "NL" in nats:
        return NationalityGroup.NL.value
    return nationality_group(nats[0] if nats else None).value


def _police(frame: pd.DataFrame, sha: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["event_id"] = frame["event_id"].astype(str).str.strip()
    out["source_sha256"] = sha
    out["source_row"] = frame.index + 1
    dates = parse_dates(frame["event_date"].astype(str).str.strip())
    out["event_date"] = dates.dt.date
    out["event_year"] = dates.dt.year.astype("int32")
    out["role"] = frame["role"].astype(str).str.strip()
    out["crime_type"] = frame["crime_type"].astype(str).str.strip()
    out["sex"] = frame["sex"].astype(str).str.strip().replace("", None) if "sex" in frame else None
    return out
