"""Storing submissions: one registration, a correction, or a whole file, all or nothing.

Shared by the JSON API, the web form and the upload. Single submissions are validated and
pseudonymised in batches by the service's intake process (:mod:`.intake_process`,
:mod:`.batch`, :mod:`.intake`; a file is one batch of its own), then written inside a scoped
transaction (:mod:`.tenancy`), where row-level security holds the organisation to its own
rows and the database's trigger writes the audit entries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

import pandas as pd
from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from psycopg.errors import DeadlockDetected, SerializationFailure

from thbmonitor.errors import Problem
from thbmonitor.ingest.validate import check_columns
from thbmonitor.pseudonymise import Encoder
from thbmonitor.registry import audit
from thbmonitor.registry.batch import Batcher
from thbmonitor.registry.intake import (
    FIELD_NAMES,
    IDENTIFIER_GROUP,
    SET_BY_REGISTRY,
    Prepared,
    Submission,
    prepare,
)
from thbmonitor.registry.intake_process import IntakeClient
from thbmonitor.registry.models import IdempotencyKey, Registration
from thbmonitor.registry.tenancy import Actor, Scope, scoped, set_scope
from thbmonitor.schema import REGISTRATION_FIELDS
from thbmonitor.store import IDENTIFIER_COLUMNS

# a correction of any of these re-encodes the identifiers, so all identifiers must be sent
REENCODE_TRIGGERS = (*IDENTIFIER_GROUP, "registration_date")
DERIVED_FROM_IDENTIFIERS = (*IDENTIFIER_COLUMNS, "age_band", "dob_missing")


@dataclass(frozen=True)
class Outcome:
    """What became of a submission."""

    id: UUID | None = None
    problems: tuple[Problem, ...] = ()
    matches: int = 0  # the organisation's own registrations of a matching person
    replayed: bool = False  # the Idempotency-Key was seen before: nothing stored twice
    rows: int = 0


def encoder() -> Encoder:
    enc = settings.REGISTRY.encoder
    if enc is None:  # pragma: no cover - serve always has a key
        raise RuntimeError("the registry was started without a pseudonymisation key")
    return enc


@cache
def _batcher() -> Callable[[Submission], Prepared]:
    """The service's intake process, or a batcher in this process where none runs."""
    registry = settings.REGISTRY
    if registry.intake is not None:
        return IntakeClient(registry.intake)
    return Batcher(validate_batch, window=registry.batch_window)


def validate_batch(submissions: Sequence[Submission]) -> list[Prepared]:
    return prepare(submissions, encoder())


def _problem(name: str, reason: str, source: str = "submission") -> tuple[Problem, ...]:
    return (Problem(source, 1, name, reason),)


def request_digest(values: Mapping[str, str]) -> str:
    """A keyed digest of a request's values (the same body gives the same digest)."""
    return encoder().token("idempotency", json.dumps(dict(values), sort_keys=True))


def _constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


# One statement stores a registration: it counts the organisation's own registrations of a
# matching person (same identity number, or same last name, first name and birth date; the
# snapshot is taken before the insert), inserts the registration and, with an
# Idempotency-Key, the key. Row-level security applies to every part.
_STORE = """
WITH same AS (
    SELECT count(*) AS n FROM registry_registration
    WHERE org_id = %(org)s::bigint AND (tok_identity = %(tok_identity)s::text
        OR (tok_last = %(tok_last)s::text AND tok_dob = %(tok_dob)s::text
            AND tok_first1 = %(tok_first1)s::text))
), stored AS (
    INSERT INTO registry_registration
        (id, org_id, reference, created_by, created_at, updated_at, {columns})
    VALUES (%(id)s, %(org)s::bigint, %(reference)s, %(user)s, now(), now(), {values})
    RETURNING id
), keyed AS (
    INSERT INTO registry_idempotencykey (org_id, key, request_digest, registration_id, created_at)
    SELECT %(org)s::bigint, %(key)s::text, %(digest)s, id, now() FROM stored
    WHERE %(key)s::text IS NOT NULL
)
SELECT n FROM same
"""


_REPEATED = ("tok_identity", "tok_last", "tok_dob", "tok_first1")  # typed alike in both uses


@cache
def _store_sql(columns: tuple[str, ...]) -> str:
    return _STORE.format(columns=", ".join(columns), values=", ".join(f"%({c})s" for c in columns))


@dataclass(frozen=True)
class _Store:
    """One validated submission on its way to the database."""

    scope: Scope
    actor: Actor
    prepared: Prepared
    key: str | None
    digest: str
    reference: str


_RETRIED = (DeadlockDetected, SerializationFailure)  # the whole group is tried again


def _store_group(items: Sequence[_Store]) -> list[Outcome | BaseException]:
    """Store a group of concurrent submissions in one transaction (group commit).

    Every registration is written under its own scope (set anew where it changes from the
    previous submission's), so row-level security and the audit trigger see each submitter's
    organisation and user. One commit, and one turn of the audit chain's lock, serve the whole
    group. The group is first written in one go, each new registration with its key in one
    statement; when any statement fails (a retried key, a reused reference: rare), the group
    is rolled back and written again with each submission in a savepoint of its own and its
    key looked up first, so that a conflict answers that submission only. A deadlock with
    another worker's group (two retries of one key, each in a group) rolls the group back,
    and it is tried again."""
    close_old_connections()  # a connection that broke (PostgreSQL restarted) is replaced
    for attempt in range(3):
        try:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    return _write_all(cursor, items)
            except DatabaseError as exc:
                if isinstance(exc.__cause__, _RETRIED):
                    raise
            with transaction.atomic():
                return [_store_one(item) for item in items]
        except OperationalError as exc:
            if attempt == 2 or not isinstance(exc.__cause__, _RETRIED):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _write_all(cursor: Any, items: Sequence[_Store]) -> list[Outcome | BaseException]:
    """The group in one go (no savepoints, keys not looked up first): any conflict raises."""
    out: list[Outcome | BaseException] = []
    scope = None
    for item in items:
        if item.scope != scope:
            set_scope(cursor, item.scope)
            scope = item.scope
        out.append(_insert(cursor, item, look_up=item.prepared.row is None))
    return out


def _store_one(item: _Store) -> Outcome | BaseException:
    """One submission, in a savepoint of the group's transaction."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            set_scope(cursor, item.scope)
            return _insert(cursor, item, look_up=True)
    except IntegrityError as exc:
        if _constraint(exc) == "idempotency_key_unique" and item.key is not None:
            # a concurrent retry stored it (committed now: its key was waited for)
            with transaction.atomic(), connection.cursor() as cursor:
                set_scope(cursor, item.scope)
                seen = _seen(cursor, item.actor, item.key, item.digest)
            if seen is not None:
                return seen
        if _constraint(exc) == "registration_reference_unique":
            return Outcome(
                problems=_problem("registration_id", "is already registered by your organisation")
            )
        return exc
    except DatabaseError as exc:  # this submission's alone: the others go on
        if isinstance(exc.__cause__, _RETRIED):
            raise
        return exc


def _insert(cursor: Any, item: _Store, look_up: bool) -> Outcome:
    """Store one submission (``look_up``: answer a key seen before first, as before)."""
    if look_up and item.key is not None:
        seen = _seen(cursor, item.actor, item.key, item.digest)
        if seen is not None:
            return seen
    if item.prepared.row is None:
        return Outcome(problems=item.prepared.problems)
    row = item.prepared.row
    new_id = uuid.uuid4()
    params = dict(row)
    params.update(
        id=new_id,
        org=item.actor.organisation_id,
        user=item.actor.pk,
        key=item.key,
        digest=item.digest,
        reference=item.reference,
    )
    cursor.execute(_store_sql(tuple(row)), params)
    return Outcome(id=new_id, matches=int(cursor.fetchone()[0]), rows=1)


@cache
def _committer() -> Batcher[_Store, Outcome | BaseException]:
    """This process's group commit: a thread with its own connection stores the submissions
    that arrive while it stores the previous group (no wait when it is idle)."""
    return Batcher(_store_group, window=0.0)


def create(
    actor: Actor, values: Mapping[str, str], channel: str, key: str | None = None
) -> Outcome:
    """Validate, pseudonymise and store one registration of the actor's organisation.

    With an Idempotency-Key, a registration stored before under the same key (and body) is
    answered again, and nothing is stored twice: the key is looked up in the transaction that
    stores, and its unique constraint settles a race between two retries. The answer comes
    once the registration is committed (with the concurrent ones, :func:`_store_group`)."""
    digest = request_digest(values) if key is not None else ""
    prepared = _batcher()(Submission(values, actor.org_type))
    item = _Store(
        Scope.of(actor, channel),
        actor,
        prepared,
        key,
        digest,
        values.get("registration_id", "").strip(),
    )
    outcome = _committer()(item)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _seen(cursor: Any, actor: Actor, key: str, digest: str) -> Outcome | None:
    """What an Idempotency-Key was answered before (inside a scoped transaction), or None."""
    cursor.execute(
        "SELECT registration_id, request_digest FROM registry_idempotencykey "
        "WHERE org_id = %s AND key = %s",
        [actor.organisation_id, key],
    )
    seen = cursor.fetchone()
    if seen is None:
        return None
    if seen[1] != digest:
        return Outcome(
            problems=_problem("Idempotency-Key", "was used before for a different registration")
        )
    return Outcome(id=seen[0], replayed=True)


def stored_values(reg: Registration) -> dict[str, str]:
    """The registration's non-identifying fields as the text of a registrations file."""
    out: dict[str, str] = {}
    for f in REGISTRATION_FIELDS:
        if f.name in IDENTIFIER_GROUP or f.name == "registration_id":
            continue
        value = getattr(reg, f.name, None)
        if isinstance(value, bool):
            out[f.name] = "1" if value else "0"
        else:
            out[f.name] = "" if value is None else str(value)
    out["registration_id"] = reg.reference
    return out


def correct(actor: Actor, reg_id: UUID, changes: Mapping[str, str], channel: str) -> Outcome | None:
    """Correct a registration of the actor's organisation; None when it sees no such one."""
    scope = Scope.of(actor, channel)
    reencode = any(k in changes for k in REENCODE_TRIGGERS)
    missing = [k for k in IDENTIFIER_GROUP if k not in changes]
    if reencode and missing:
        reason = (
            "must be sent again with any correction of an identifier or of the registration "
            "date: identifiers are not stored, so all of them are encoded anew (send empty "
            "where unknown)"
        )
        return Outcome(problems=tuple(Problem("submission", 1, k, reason) for k in missing))
    with scoped(scope):
        reg = Registration.objects.filter(pk=reg_id, organisation_id=actor.organisation_id).first()
    if reg is None:
        return None
    merged = stored_values(reg) | dict(changes)
    prepared = _batcher()(Submission(merged, actor.org_type))
    if prepared.row is None:
        return Outcome(problems=prepared.problems)
    row = dict(prepared.row)
    if not reencode:
        for name in DERIVED_FROM_IDENTIFIERS:
            row.pop(name, None)
    changed = [k for k, v in row.items() if getattr(reg, k) != v]
    new_ref = merged.get("registration_id", "").strip()
    if new_ref != reg.reference:
        reg.reference = new_ref
        changed.append("reference")
    for k in changed:
        if k != "reference":
            setattr(reg, k, row[k])
    try:
        with scoped(scope):
            if changed:
                reg.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        if _constraint(exc) == "registration_reference_unique":
            return Outcome(
                problems=_problem("registration_id", "is already registered by your organisation")
            )
        raise
    return Outcome(id=reg.id, rows=1)


def upload(actor: Actor, frame: pd.DataFrame, file_name: str, sha256: str) -> Outcome:
    """Store every row of a file, or none: every problem of every row is reported at once."""
    org_id, org_type = actor.organisation_id, actor.org_type
    scope = Scope.of(actor, "upload")
    key = f"file:{sha256}"
    with scoped(scope):
        if IdempotencyKey.objects.filter(organisation_id=org_id, key=key).exists():
            return Outcome(replayed=True)
    for name in ("registration_id", *SET_BY_REGISTRY):
        if name not in frame.columns:
            frame[name] = ""
    check_columns(file_name, frame, REGISTRATION_FIELDS)
    records = frame.reindex(columns=list(FIELD_NAMES), fill_value="").to_dict("records")
    subs = [Submission({str(k): str(v) for k, v in r.items()}, org_type) for r in records]
    prepared = prepare(subs, encoder(), file_name, own_ids=True)
    problems = [p for r in prepared for p in r.problems]
    refs = [s.values.get("registration_id", "").strip() for s in subs]
    with scoped(scope):
        taken = set(
            Registration.objects.filter(
                organisation_id=org_id, reference__in=[r for r in refs if r]
            ).values_list("reference", flat=True)
        )
    problems += [
        Problem(file_name, i + 1, "registration_id", "is already registered by your organisation")
        for i, r in enumerate(refs)
        if r and r in taken
    ]
    if problems:
        return Outcome(problems=tuple(sorted(problems, key=lambda p: p.row)))
    regs = [
        Registration(organisation_id=org_id, created_by_id=actor.pk, reference=ref, **p.row)
        for ref, p in zip(refs, prepared, strict=True)
        if p.row is not None
    ]
    with scoped(scope):
        Registration.objects.bulk_create(regs, batch_size=500)
        if regs:
            IdempotencyKey.objects.create(
                organisation_id=org_id, key=key, request_digest=sha256, registration=regs[0]
            )
        audit.record("upload", object_type="file", object_ids=[sha256], detail=f"rows={len(regs)}")
    return Outcome(rows=len(regs))


def record_reads(ids: Sequence[UUID]) -> None:
    """Record the reads of these registrations (inside the caller's scoped transaction)."""
    if ids:
        audit.record(
            "registration.read", object_type="registration", object_ids=[str(i) for i in ids]
        )
