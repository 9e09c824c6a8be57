"""The round extract (into a monitoring store) and the retention purge.

``extract`` reads a round's registrations as an analyst (row-level security lets an analyst
read every organisation's, pseudonymised) and writes them into a monitoring store through
:func:`thbmonitor.ingest.store_rows`, as ``ingest`` writes a file: ``link`` and ``report`` run
on it unchanged. ``purge`` deletes the registrations whose registration date lies before a
date, under the retention role that only it uses; both leave an audit entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from django.db import connection
from django.db.models import Count

from thbmonitor.errors import StoreError
from thbmonitor.ingest import store_rows
from thbmonitor.registry import audit
from thbmonitor.registry.models import Registration, RegistryFact
from thbmonitor.registry.tenancy import Scope, scoped
from thbmonitor.store import IDENTIFIER_COLUMNS, REGISTRATION_COLUMNS, open_store

FINGERPRINT = "key_fingerprint"  # the registry_meta row that holds it
INT_COLUMNS = ("registration_year", "age_at_exploitation", "birth_year", "source_row")
BOOL_COLUMNS = (
    "shelter",
    "victim_scheme_applied",
    "victim_scheme_granted",
    "care_referral",
    "consent",
    "dob_uncertain",
    "dob_missing",
)


@dataclass(frozen=True)
class Extracted:
    rows: int
    digest: str


def shared_references() -> set[str]:
    """The submitted registration ids that more than one organisation uses (each organisation's
    own are unique): those registrations keep the registry's id in an extract."""
    return set(
        Registration.objects.exclude(reference="")
        .values("reference")
        .annotate(orgs=Count("organisation", distinct=True))
        .filter(orgs__gt=1)
        .values_list("reference", flat=True)
    )


def round_frame(year: int) -> pd.DataFrame:
    """The round's registrations with the monitoring store's columns, in a stable order.

    A registration keeps the registration id its organisation submitted (as ``ingest`` keeps a
    file's), so that the extract links and reports as the organisations' own files would
    (``link`` breaks ties by registration id) and its ids name the submitters' records; one
    submitted without an id, or with an id another organisation uses too, gets the registry's
    own (a UUID)."""
    kept = [
        c
        for c in (*REGISTRATION_COLUMNS, *IDENTIFIER_COLUMNS)
        if c not in ("registration_id", "source_sha256", "source_row")
    ]
    records = list(
        Registration.objects.filter(registration_year=year)
        .order_by("id")
        .values("id", "reference", *kept)
    )
    frame = pd.DataFrame.from_records(records, columns=["id", "reference", *kept])
    shared = shared_references()
    own = frame.pop("reference").astype(str)
    registry_id = frame.pop("id").astype(str)
    frame.insert(0, "registration_id", own.where((own != "") & ~own.isin(shared), registry_id))
    frame = frame.sort_values("registration_id", kind="stable", ignore_index=True)
    for col in ("bf_first", "bf_last", "bf_full"):
        frame[col] = [None if v is None else bytes(v) for v in frame[col]]
    return frame


def key_fingerprint_of_registry() -> str:
    """The fingerprint of the key the registry's registrations were made with (set by the
    first ``serve``): the store made from them takes that key only."""
    fact = RegistryFact.objects.filter(key=FINGERPRINT).first()
    if fact is None:
        raise StoreError(
            "the registry has no key fingerprint yet (no service has run on it): nothing to extract"
        )
    return str(fact.value)


def extract(year: int, store_path: Path, actor: str) -> Extracted:
    """Write round ``year`` into the monitoring store at ``store_path``, all or nothing."""
    scope = Scope(None, "analyst", actor, "cli")
    with scoped(scope):
        frame = round_frame(year)
        digest = hashlib.sha256(
            f"registry round {year}\n".encode()
            + "\n".join(frame["registration_id"]).encode()
            + pd.util.hash_pandas_object(
                frame.drop(columns=["bf_first", "bf_last", "bf_full"]), index=False
            )
            .to_numpy()
            .tobytes()
        ).hexdigest()
        frame["source_sha256"] = digest
        frame["source_row"] = range(1, len(frame) + 1)
        frame = frame[[*REGISTRATION_COLUMNS, *IDENTIFIER_COLUMNS]]
        for col in INT_COLUMNS:
            frame[col] = frame[col].astype("Int64")
        for col in BOOL_COLUMNS:
            frame[col] = frame[col].astype("boolean")
        audit.record(
            "extract", object_type="round", object_ids=[str(year)], detail=f"rows={len(frame)}"
        )
        fingerprint = key_fingerprint_of_registry()
        with open_store(str(store_path), create=True) as store:
            if store.scalar("SELECT count(*) FROM ingested_files WHERE sha256 = ?", [digest]):
                raise StoreError("this store holds this extract already; nothing was added")
            if len(frame):
                store.register("_ids", frame[["registration_id"]])
                try:
                    clash = store.scalar(
                        "SELECT count(*) FROM registrations r JOIN _ids i USING (registration_id)"
                    )
                finally:
                    store.unregister("_ids")
                if clash:
                    raise StoreError(
                        "this store holds registrations of an earlier extract of the round; "
                        "write the extract into a new store"
                    )
            store_rows(store, "registrations", frame, digest, f"registry round {year}", fingerprint)
    return Extracted(len(frame), digest)


def purge(before: date, actor: str) -> int:
    """Delete every registration dated before ``before`` (and its idempotency keys)."""
    scope = Scope(None, "retention", actor, "cli")
    with scoped(scope), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM registry_idempotencykey k USING registry_registration r "
            "WHERE k.registration_id = r.id AND r.registration_date < %s",
            [before],
        )
        cursor.execute("DELETE FROM registry_registration WHERE registration_date < %s", [before])
        count = cursor.rowcount
        audit.record(
            "purge",
            object_type="registrations",
            object_ids=[""],
            detail=f"before={before.isoformat()} rows={count}",
        )
    return count
