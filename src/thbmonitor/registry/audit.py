"""The audit log: who did what, when, to which record and which fields, never the values.

The database writes an entry for every insert, update and delete of a registration (a
trigger, :mod:`.security`); the service adds reads, logins (and failed ones), uploads,
extracts, purges and administrative actions with :func:`record`. Each entry's hash covers its
fields and the previous entry's hash; :func:`verify` recomputes the chain here, in Python,
independently of the database's trigger, and names the first entry that breaks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection

from thbmonitor.registry.tenancy import Scope, scoped

GENESIS = "0" * 64
SEP = "\x1f"


def record(
    action: str,
    *,
    object_type: str = "",
    object_ids: Sequence[str] = ("",),
    fields: Iterable[str] = (),
    detail: str = "",
) -> None:
    """Append one entry per object to the audit log, inside the caller's scoped transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_audit (actor, org_id, action, object_type, object_id, fields, "
            "detail) SELECT current_setting('app.user_id', true), "
            "NULLIF(current_setting('app.org_id', true), '')::bigint, %s, %s, o, %s, %s "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(o, n) ORDER BY n",
            [action, object_type, ",".join(sorted(fields)), detail, list(object_ids)],
        )


def record_as(scope: Scope, action: str, **kwargs: Any) -> None:
    """:func:`record` in a transaction of its own."""
    with scoped(scope):
        record(action, **kwargs)


def entry_text(row: Sequence[Any]) -> str:
    """The text an entry's hash covers (the same as the database trigger's)."""
    seq, at, actor, org_id, action, object_type, object_id, fields, detail, prev_hash = row
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    parts = [
        str(seq),
        stamp,
        actor,
        "" if org_id is None else str(org_id),
        action,
        object_type,
        object_id,
        fields,
        detail,
        prev_hash,
    ]
    return SEP.join(parts)


def entry_hash(row: Sequence[Any]) -> str:
    return hashlib.sha256(entry_text(row).encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None  # the seq of the first entry that breaks the chain
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(cursor: Any, batch: int = 10_000) -> ChainCheck:
    """Recompute the chain from the first entry: numbers without gaps, each entry's hash over
    its own fields and its predecessor's hash, and the head equal to the last entry."""
    cursor.execute("SELECT set_config('app.role', 'auditor', false)")
    prev, expected, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        cursor.execute(
            "SELECT seq, at, actor, org_id, action, object_type, object_id, fields, detail, "
            "prev_hash, hash FROM registry_audit WHERE seq > %s ORDER BY seq LIMIT %s",
            [last_seq, batch],
        )
        rows = cursor.fetchall()
        if not rows:
            break
        for row in rows:
            seq = row[0]
            if seq != expected:
                return ChainCheck(count, expected, f"entry {expected} is missing")
            if row[9] != prev:
                return ChainCheck(count, seq, "it does not carry the previous entry's hash")
            if entry_hash(row[:10]) != row[10]:
                return ChainCheck(count, seq, "its fields do not match its hash")
            prev, expected, count = row[10], seq + 1, count + 1
        last_seq = rows[-1][0]
    cursor.execute("SELECT seq, hash FROM registry_audit_head WHERE id = 1")
    head = cursor.fetchone()
    if head is None or head[0] != count or head[1] != prev:
        return ChainCheck(count, count + 1, "entries after the last one were removed")
    return ChainCheck(count, None)


def connect_login_signals() -> None:
    """Log every sign-in, failed sign-in and sign-out (the user, never the password)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    def logged_in(sender: object, request: object, user: Any, **_: object) -> None:
        record_as(Scope.of(user, "web"), "login", object_type="user", object_ids=[str(user.pk)])

    def logged_out(sender: object, request: object, user: Any, **_: object) -> None:
        if user is not None:
            record_as(
                Scope.of(user, "web"), "logout", object_type="user", object_ids=[str(user.pk)]
            )

    def failed(
        sender: object, credentials: dict[str, Any], request: object = None, **_: object
    ) -> None:
        model = get_user_model()
        user = model.objects.filter(username=credentials.get("username") or "").first()
        scope = Scope(None, "", "anonymous", "web")
        ids = [str(user.pk)] if user is not None else [""]
        detail = "" if user is not None else "unknown user"
        record_as(scope, "login.failed", object_type="user", object_ids=ids, detail=detail)

    user_logged_in.connect(logged_in, weak=False, dispatch_uid="registry-login")
    user_logged_out.connect(logged_out, weak=False, dispatch_uid="registry-logout")
    user_login_failed.connect(failed, weak=False, dispatch_uid="registry-login-failed")
