"""The scope of a transaction: whose organisation, which role, which user.

Every transaction that touches registrations or the audit log starts by setting them with
``set_config(name, value, true)``, the function form of ``SET LOCAL``: they end with the
transaction, so a pooled connection never carries one request's organisation into the next.
Row-level security (:mod:`.security`) reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction


@dataclass(frozen=True)
class Actor:
    """Who submits: a signed-in user or an API token's user, with their organisation."""

    pk: int
    role: str
    organisation_id: int | None
    org_type: str

    @classmethod
    def of(cls, user: object) -> Actor:
        """The actor of a Django user (one query for the organisation's type)."""
        org = getattr(user, "organisation", None)
        return cls(
            int(getattr(user, "pk", 0)),
            str(getattr(user, "role", "")),
            None if org is None else int(org.pk),
            "" if org is None else str(org.type),
        )


@dataclass(frozen=True)
class Scope:
    """Who acts: the organisation (None for none), the role and the actor's label."""

    org_id: int | None
    role: str
    actor: str
    channel: str = ""  # web, api, upload, cli: recorded with every write

    @classmethod
    def of(cls, user: object, channel: str) -> Scope:
        org = getattr(user, "organisation_id", None)
        return cls(org, str(getattr(user, "role", "")), f"user:{getattr(user, 'pk', '')}", channel)


def set_scope(cursor: Any, scope: Scope) -> None:
    """Set the scope until the end of the transaction (it may be set anew within it: each
    statement sees the scope last set)."""
    cursor.execute(
        "SELECT set_config('app.org_id', %s, true), set_config('app.role', %s, true), "
        "set_config('app.user_id', %s, true), set_config('app.channel', %s, true)",
        [
            "" if scope.org_id is None else str(scope.org_id),
            scope.role,
            scope.actor,
            scope.channel,
        ],
    )


@contextmanager
def scoped(scope: Scope) -> Iterator[None]:
    """A transaction with the scope set locally; all or nothing."""
    with transaction.atomic(), connection.cursor() as cursor:
        set_scope(cursor, scope)
        yield
