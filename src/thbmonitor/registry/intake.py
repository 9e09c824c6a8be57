"""Submissions in, pseudonymised rows out: the same validation and pseudonymisation as ingest.

A submission is one registration as text, keyed by the registrations file's field names,
from the web form, a row of an uploaded file or a JSON body. A single submission goes through
:func:`prepare_one`: ingest's rules and derivations applied to one record without a frame
(:mod:`thbmonitor.ingest.record`, tested to agree with ingest on the same rows). The rows of an
uploaded file are checked as ``thbmonitor ingest`` checks a file, in one frame
(:func:`thbmonitor.ingest.validate.validate`, :func:`thbmonitor.ingest.prepare_rows`). Either
way: every problem at once, by row and field, never the value; identifiers become keyed
tokens and Bloom filters here, in the service process, before anything reaches the database.

What the registry adds to ingest's checks: the reporting organisation is the submitter's own,
the victim's consent where the rules require it, and the lengths its columns hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from thbmonitor.errors import Problem
from thbmonitor.ingest import prepare_rows
from thbmonitor.ingest.readers import TEXT
from thbmonitor.ingest.record import check_record, prepare_record
from thbmonitor.ingest.validate import TRUE_TEXT, validate
from thbmonitor.profiles import Profile, default_profile
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


def _registry_problems(s: Submission) -> list[tuple[str, str]]:
    """What the registry checks beyond ingest: the organisation, the lengths its columns
    hold (before ingest's rules) and consent (after them)."""
    stated = s.values.get("reporting_organisation", "").strip()
    out = []
    if stated and stated != s.org_type:
        out.append(("reporting_organisation", "is not the type of your organisation"))
    for name, text in s.values.items():
        limit = MAX_LENGTH.get(name, MAX_TEXT)
        if len(text) > limit:
            out.append((name, f"is longer than {limit} characters"))
    return out


def _consent_problem(s: Submission, consent: str) -> list[tuple[str, str]]:
    if needs_consent(s.org_type) and consent.lower() not in TRUE_TEXT:
        return [("consent", "is required: reports by this organisation need the victim's consent")]
    return []


@cache
def _profile() -> Profile:
    """The registry's profile (the default), loaded once per process: loading checks its
    files' dates, which costs more than validating a submission."""
    return default_profile()


def prepare_one(s: Submission, encoder: Encoder) -> Prepared:
    """Validate and pseudonymise one submission without a frame (:mod:`thbmonitor.ingest.
    record`: ingest's rules and derivations, one record at a time); its problems are row 1."""
    values = dict(s.values)
    values["registration_id"] = values.get("registration_id", "").strip() or "#1"
    values["reporting_organisation"] = s.org_type
    found = _registry_problems(s)
    found += [(p.field, p.reason) for p in check_record(values, REGISTRATION_FIELDS)]
    found += _consent_problem(s, values.get("consent", "").strip())
    if found:
        return Prepared(None, tuple(Problem("submission", 1, n, r) for n, r in found))
    row = prepare_record(values, encoder, _profile())
    for name in NOT_KEPT:
        del row[name]
    return Prepared(row)


def prepare(
    submissions: Sequence[Submission],
    encoder: Encoder,
    source: str = "submission",
    *,
    own_ids: bool = False,
) -> list[Prepared]:
    """Validate and pseudonymise a batch of submissions, each on its own.

    ``own_ids``: the submissions are the rows of one file, checked as ingest checks a file
    (one frame), whose registration_id (the organisation's reference) must not repeat within
    it; otherwise each submission is checked alone (:func:`prepare_one`) and its problems are
    numbered as row 1."""
    if not own_ids:
        return [prepare_one(s, encoder) for s in submissions]
    if not submissions:
        return []
    frame = pd.DataFrame(
        [[s.values.get(f, "") for f in FIELD_NAMES] for s in submissions],
        columns=list(FIELD_NAMES),
        dtype=object,
    ).astype(TEXT)
    placeholders = pd.Series([f"#{i}" for i in range(len(frame))], dtype=TEXT)
    given = frame["registration_id"].str.strip()
    frame["registration_id"] = given.where(given != "", placeholders)
    frame["reporting_organisation"] = pd.Series([s.org_type for s in submissions], dtype=TEXT)

    found: dict[int, list[Problem]] = {}

    def add(row: int, name: str, reason: str) -> None:
        found.setdefault(row, []).append(Problem(source, row, name, reason))

    for i, s in enumerate(submissions):
        for name, reason in _registry_problems(s):
            add(i + 1, name, reason)
    for p in validate(source, frame, REGISTRATION_FIELDS):
        add(p.row, p.field, p.reason)
    consent = frame["consent"].str.strip()
    for i, s in enumerate(submissions):
        for name, reason in _consent_problem(s, str(consent.iloc[i])):
            add(i + 1, name, reason)

    ok = [i for i in range(len(frame)) if i + 1 not in found]
    rows: dict[int, dict[str, Any]] = {}
    if ok:
        prepared = prepare_rows("registrations", frame.iloc[ok], encoder, "")
        prepared = prepared.drop(columns=list(NOT_KEPT))
        for i, record in zip(ok, prepared.to_dict("records"), strict=True):
            rows[i] = {str(k): _plain(v) for k, v in record.items()}
    return [Prepared(rows.get(i), tuple(found.get(i + 1, []))) for i in range(len(frame))]


def _plain(value: Any) -> Any:
    """A pandas cell as a plain Python value (missing as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, bytes):
        return value.item()
    return value
