"""The registry's tables.

A registration holds what the monitoring store holds of it, and nothing more: the
non-identifying fields of the registrations file, the derived columns, and the pseudonymised
identifiers (keyed tokens and Bloom filters, :mod:`thbmonitor.pseudonymise`). Names, birth
dates and identity numbers never reach the database. The audit log's table is written only
through its trigger (:mod:`.audit`).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models

from thbmonitor.profiles import default_profile

ORG_TYPES = [(c, c) for c in default_profile().field_codes("reporting_organisation")]
ROLES = [
    ("submitter", "submitter"),
    ("org_admin", "org_admin"),
    ("analyst", "analyst"),
    ("auditor", "auditor"),
]


class Organisation(models.Model):
    """A reporting organisation (its type is the registrations' ``reporting_organisation``)."""

    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=40, choices=ORG_TYPES)
    profile = models.CharField(max_length=40, default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: the user name is the work e-mail address."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True)
    role = models.CharField(max_length=20, choices=ROLES)
    must_change_password = models.BooleanField(default=True)  # a one-time password was given


class ApiToken(models.Model):
    """A bearer token of the JSON API; only its SHA-256 digest is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class Registration(models.Model):
    """One registration, pseudonymised; the columns follow the monitoring store's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, db_column="org_id", related_name="+"
    )
    reference = models.CharField(max_length=100, default="", blank=True)  # the org's own id
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, db_column="created_by", related_name="+"
    )
    # the registrations file's fields (non-identifying) and what is derived from them
    reporting_organisation = models.CharField(max_length=40)
    registration_date = models.DateField()
    registration_year = models.IntegerField()
    sex = models.CharField(max_length=2)
    nationality = models.CharField(max_length=100)
    nationality_primary = models.CharField(max_length=4, null=True)
    nationality_group = models.CharField(max_length=20)
    residence_status = models.CharField(max_length=40)
    municipality = models.CharField(max_length=100, null=True)
    forms_of_exploitation = models.CharField(max_length=300)
    monitor_group = models.CharField(max_length=40)
    sector = models.CharField(max_length=40, null=True)
    age_at_exploitation = models.IntegerField(null=True)
    shelter = models.BooleanField(null=True)
    victim_scheme_applied = models.BooleanField(null=True)
    victim_scheme_granted = models.BooleanField(null=True)
    care_referral = models.BooleanField(null=True)
    consent = models.BooleanField(null=True)
    age_band = models.CharField(max_length=20)
    # pseudonymised identifiers (thbmonitor.pseudonymise)
    tok_first = models.CharField(max_length=32, null=True)
    tok_last = models.CharField(max_length=32, null=True)
    tok_first1 = models.CharField(max_length=32, null=True)
    tok_first_sdx = models.CharField(max_length=32, null=True)
    tok_last_sdx = models.CharField(max_length=32, null=True)
    tok_first_nysiis = models.CharField(max_length=32, null=True)
    tok_last_nysiis = models.CharField(max_length=32, null=True)
    bf_first = models.BinaryField(null=True)
    bf_last = models.BinaryField(null=True)
    bf_full = models.BinaryField(null=True)
    tok_dob = models.CharField(max_length=32, null=True)
    tok_birth_year = models.CharField(max_length=32, null=True)
    tok_birth_md = models.CharField(max_length=32, null=True)
    birth_year = models.IntegerField(null=True)
    dob_uncertain = models.BooleanField(null=True)
    dob_missing = models.BooleanField(default=True)
    tok_identity = models.CharField(max_length=32, null=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["organisation", "reference"],
                condition=~models.Q(reference=""),
                name="registration_reference_unique",
            ),
        )
        indexes = (
            models.Index(fields=["organisation", "created_at"], name="registration_org_created"),
            models.Index(fields=["organisation", "tok_identity"], name="registration_org_ident"),
            models.Index(
                fields=["organisation", "tok_last", "tok_dob"], name="registration_org_person"
            ),
            models.Index(fields=["registration_year"], name="registration_year"),
        )


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key: a retried POST finds the registration stored the first time."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, db_column="org_id", related_name="+"
    )
    key = models.CharField(max_length=200)
    request_digest = models.CharField(max_length=64)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_key_unique"),
        )


class AuditEntry(models.Model):
    """One entry of the append-only audit log (written by the chain trigger only)."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=100, default="")
    org_id = models.IntegerField(null=True)
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50, default="")
    object_id = models.CharField(max_length=100, default="")
    fields = models.TextField(default="")
    detail = models.TextField(default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "registry_audit"


class RegistryFact(models.Model):
    """Facts about the registry: the key's fingerprint (the key itself is never stored)."""

    key = models.CharField(max_length=50, primary_key=True)
    value = models.TextField()

    class Meta:
        db_table = "registry_meta"
