"""Submissions in, pseudonymised rows out: the same validation and pseudonymisation as ingest.

A submission is one registration as text, keyed by the registrations file's field names,
from the web form, a row of an uploaded file or a JSON body. :func:`prepare` builds one frame
of a batch of submissions and runs :func:`thbmonitor.ingest.validate.validate` and
:func:`thbmonitor.ingest.prepare_rows` on it, as ``thbmonitor ingest`` does on a file: every
problem at once, by row and field, never the value; identifiers become keyed tokens and Bloom
filters here, in the service process, before anything reaches the database.

What the registry adds to ingest's checks: the reporting organisation is the submitter's own,
the victim's consent where the rules require it, and the lengths its columns hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from thbmonitor.errors import Problem
from thbmonitor.ingest import prepare_rows
from thbmonitor.ingest.readers import TEXT
from thbmonitor.ingest.validate import validate
from thbmonitor.pseudonymise import Encoder
from thbmonitor.schema import CONSENT_NOT_REQUIRED, REGISTRATION_FIELDS

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in REGISTRATION_FIELDS)
IDENTIFYING: tuple[str, ...] = tuple(f.name for f in REGISTRATION_FIELDS if f.identifying)
# what is encoded together with the identifiers (the estimate flag marks the birth date as
# uncertain): given again, all of them, with any correction of one
IDENTIFIER_GROUP: tuple[str, ...] = (*IDENTIFYING, "date_of_birth_estimated")
# set by the registry, never by the submitter (registration_id is the organisation's reference)
SET_BY_REGISTRY = ("reporting_organisation",)
MAX_LENGTH = {"registration_id": 100, "municipality": 100, "nationality": 100}
MAX_TEXT = 200  # any other field
# the store's columns that the registry does not keep (it has its own id and provenance)
NOT_KEPT = ("registration_id", "source_sha256", "source_row")


@dataclass(frozen=True)
class Submission:
    """One registration as text ('' for empty), and the type of the organisation submitting."""

    values: Mapping[str, str]
    org_type: str


@dataclass(frozen=True)
class Prepared:
    """The registry's row of a submission (None when it has problems), and its problems."""

    row: dict[str, Any] | None
    problems: tuple[Problem, ...] = field(default=())


def as_text(value: object) -> str:
    """A JSON or form value as the text a registrations file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def needs_consent(org_type: str) -> bool:
    return org_type not in CONSENT_NOT_REQUIRED


def prepare(
    submissions: Sequence[Submission],
    encoder: Encoder,
    source: str = "submission",
    *,
    own_ids: bool = False,
) -> list[Prepared]:
    """Validate and pseudonymise a batch of submissions, each on its own.

    ``own_ids``: the submissions come from one file, whose registration_id (the organisation's
    reference) must not repeat within it; otherwise each submission is checked alone and its
    problems are numbered as row 1."""
    if not submissions:
        return []
    frame = pd.DataFrame(
        [[s.values.get(f, "") for f in FIELD_NAMES] for s in submissions],
        columns=list(FIELD_NAMES),
        dtype=object,
    ).astype(TEXT)
    placeholders = pd.Series([f"#{i}" for i in range(len(frame))], dtype=TEXT)
    given = frame["registration_id"].str.strip()
    frame["registration_id"] = given.where((given != "") & own_ids, placeholders)
    own_org = pd.Series([s.org_type for s in submissions], dtype=TEXT)
    stated = frame["reporting_organisation"].str.strip()
    wrong_org = (stated != "") & (stated != own_org)
    frame["reporting_organisation"] = own_org

    found: dict[int, list[Problem]] = {}

    def add(row: int, name: str, reason: str) -> None:
        found.setdefault(row, []).append(Problem(source, row, name, reason))

    for i in wrong_org[wrong_org].index:
        add(i + 1, "reporting_organisation", "is not the type of your organisation")
    for i, s in enumerate(submissions):
        for name, text in s.values.items():
            limit = MAX_LENGTH.get(name, MAX_TEXT)
            if len(text) > limit:
                add(i + 1, name, f"is longer than {limit} characters")
    for p in validate(source, frame, REGISTRATION_FIELDS):
        add(p.row, p.field, p.reason)
    consent = frame["consent"].str.strip().str.lower()
    for i, s in enumerate(submissions):
        if needs_consent(s.org_type) and consent.iloc[i] not in (
            "1",
            "true",
            "yes",
            "ja",
            "y",
            "j",
        ):
            add(
                i + 1,
                "consent",
                "is required: reports by this organisation need the victim's consent",
            )

    ok = [i for i in range(len(frame)) if i + 1 not in found]
    rows: dict[int, dict[str, Any]] = {}
    if ok:
        prepared = prepare_rows("registrations", frame.iloc[ok], encoder, "")
        prepared = prepared.drop(columns=list(NOT_KEPT))
        for i, record in zip(ok, prepared.to_dict("records"), strict=True):
            rows[i] = {str(k): _plain(v) for k, v in record.items()}
    out = []
    for i in range(len(frame)):
        problems = found.get(i + 1, [])
        if not own_ids:
            problems = [Problem(source, 1, p.field, p.reason) for p in problems]
        out.append(Prepared(rows.get(i), tuple(problems)))
    return out


def _plain(value: Any) -> Any:
    """A pandas cell as a plain Python value (missing as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, bytes):
        return value.item()
    return value
