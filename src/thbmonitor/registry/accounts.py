"""Organisations, users and API tokens (``thbmonitor intake add-org | add-user``).

A new user gets a one-time password (to be changed at first sign-in) and an API token; the
token is shown once and only its SHA-256 digest is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from thbmonitor.errors import InputError
from thbmonitor.registry import audit
from thbmonitor.registry.models import ORG_TYPES, ROLES, ApiToken, Organisation
from thbmonitor.registry.tenancy import Actor, Scope, scoped

ORG_ROLES = ("submitter", "org_admin")  # roles an organisation's admin may give


@dataclass(frozen=True)
class NewUser:
    user: str
    password: str
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_org(name: str, org_type: str, actor: str, profile: str = "") -> Organisation:
    types = [t for t, _ in ORG_TYPES]
    if org_type not in types:
        raise InputError(f"--type must be one of: {', '.join(types)}")
    if not name.strip():
        raise InputError("the organisation needs a name")
    if profile:
        from thbmonitor.profiles import load_profile

        load_profile(profile)  # a profile that does not load is refused now, not at upload
    try:
        with scoped(Scope(None, "admin", actor, "cli")):
            org = Organisation.objects.create(name=name.strip(), type=org_type, profile=profile)
            audit.record("org.add", object_type="organisation", object_ids=[str(org.pk)])
    except IntegrityError as exc:
        raise InputError("an organisation of that name exists already") from exc
    return org


def add_user(email: str, org_name: str, role: str, actor: str, channel: str = "cli") -> NewUser:
    """Create a user of an organisation with a one-time password and an API token."""
    if role not in [r for r, _ in ROLES]:
        raise InputError(f"--role must be one of: {', '.join(r for r, _ in ROLES)}")
    email = email.strip().lower()
    if "@" not in email or len(email) > 150:
        raise InputError("the user name must be a work e-mail address")
    org = Organisation.objects.filter(name=org_name).first()
    if org is None:
        raise InputError("no organisation of that name; add it first with 'intake add-org'")
    password = secrets.token_urlsafe(18)
    token = "thb_" + secrets.token_urlsafe(32)
    model = get_user_model()
    try:
        with scoped(Scope(org.pk, "admin", actor, channel)), transaction.atomic():
            user = model.objects.create_user(
                username=email, email=email, password=password, organisation=org, role=role
            )
            ApiToken.objects.create(user=user, digest=token_digest(token))
            audit.record(
                "user.add", object_type="user", object_ids=[str(user.pk)], detail=f"role={role}"
            )
    except IntegrityError as exc:
        raise InputError("a user with that e-mail address exists already") from exc
    return NewUser(email, password, token)


def actor_of_token(token: str) -> Actor | None:
    """The actor of an active API token, or None (one query: this runs on every API call)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.id, u.role, u.organisation_id, coalesce(o.type, '') "
            "FROM registry_apitoken t JOIN registry_user u ON u.id = t.user_id "
            "LEFT JOIN registry_organisation o ON o.id = u.organisation_id "
            "WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active",
            [token_digest(token)],
        )
        row = cursor.fetchone()
    return None if row is None else Actor(int(row[0]), str(row[1]), row[2], str(row[3]))
