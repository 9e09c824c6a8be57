"""The JSON API (django-ninja), described by OpenAPI at ``/api/openapi.json``.

``POST /api/registrations`` takes a registration with the registrations file's field names
and answers 201 with ``{"id": ...}``; an ``Idempotency-Key`` header makes a retried POST store
nothing twice. ``GET /api/registrations`` lists the organisation's own registrations,
``GET``/``PATCH /api/registrations/{id}`` read and correct one; another organisation's
registration answers 404, as one that does not exist. Identifiers are write-only: they are
pseudonymised on arrival and no answer holds them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict, create_model

from thbmonitor.registry import submit
from thbmonitor.registry.accounts import actor_of_token
from thbmonitor.registry.audit import record_as
from thbmonitor.registry.intake import MAX_LENGTH, MAX_TEXT, as_text
from thbmonitor.registry.intake_process import IntakeUnavailable
from thbmonitor.registry.models import Registration
from thbmonitor.registry.tenancy import Scope, scoped
from thbmonitor.schema import REGISTRATION_FIELDS

SUBMITTERS = ("submitter",)
MAX_KEY = 200


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if len(token) > 200:
            return None
        user = actor_of_token(token)
        if user is None:
            record_as(Scope(None, "", "anonymous", "api"), "login.failed", detail="api token")
        return user


api = NinjaAPI(
    title="thbmonitor registry",
    version="1",
    description="Submit and correct registrations of presumed victims of trafficking in "
    "human beings. Identifiers (names, birth date, identity number) are pseudonymised on "
    "arrival and never returned.",
    auth=TokenAuth(),
    docs_url=None,  # the interactive docs load scripts from elsewhere; the CSP forbids them
    openapi_url="/openapi.json",
    urls_namespace="api",
)


def _type(kind: str) -> Any:
    return {"bool": bool | None, "int": int | None}.get(kind, str | None)


def _field(f: Any, patch: bool) -> tuple[Any, Any]:
    limit = MAX_LENGTH.get(f.name, MAX_TEXT)
    extra: dict[str, Any] = {"description": f.help}
    if f.kind not in ("bool", "int"):
        extra["max_length"] = limit
    if f.kind == "int":
        extra["ge"] = 0
        extra["le"] = 110
    required = (
        f.required and not patch and f.name not in ("registration_id", "reporting_organisation")
    )
    if f.name == "registration_id":
        extra["description"] = "Your organisation's own reference (optional; unique in it)."
    if f.name == "reporting_organisation":
        extra["description"] = "Set by the registry to your organisation's type."
    if f.codes:
        extra["description"] += " Codes: " + ", ".join(f.codes) + "."
    if required:
        return (str, Field(..., **extra))
    return (_type(f.kind), Field(None, **extra))


_STRICT = ConfigDict(extra="forbid", strict=True)
RegistrationIn = create_model(  # type: ignore[call-overload]
    "RegistrationIn",
    __config__=_STRICT,
    **{f.name: _field(f, False) for f in REGISTRATION_FIELDS},
)
RegistrationPatch = create_model(  # type: ignore[call-overload]
    "RegistrationPatch",
    __config__=_STRICT,
    **{f.name: _field(f, True) for f in REGISTRATION_FIELDS},
)


class Created(Schema):
    id: UUID
    matching_own_registrations: int = Field(
        0, description="Registrations of your own organisation of a matching person."
    )


class ProblemOut(Schema):
    field: str
    reason: str


class Problems(Schema):
    detail: list[ProblemOut]


class Message(Schema):
    detail: str


class RegistrationOut(Schema):
    id: UUID
    registration_id: str = Field(description="Your organisation's reference.")
    created_at: datetime
    updated_at: datetime
    reporting_organisation: str
    registration_date: date
    sex: str
    nationality: str
    residence_status: str
    municipality: str | None
    forms_of_exploitation: str
    sector: str | None
    age_at_exploitation: int | None
    shelter: bool | None
    victim_scheme_applied: bool | None
    victim_scheme_granted: bool | None
    care_referral: bool | None
    consent: bool | None
    age_band: str
    monitor_group: str
    identifiers_given: list[str] = Field(description="Which identifiers were given (not what).")


class RegistrationList(Schema):
    count: int
    items: list[RegistrationOut]


def _out(reg: Registration) -> dict[str, Any]:
    given = [
        n
        for n, tok in (
            ("name", reg.tok_last or reg.tok_first),
            ("date_of_birth", reg.tok_dob),
            ("identity_number", reg.tok_identity),
        )
        if tok
    ]
    data = {k: getattr(reg, k) for k in RegistrationOut.model_fields if hasattr(reg, k)}
    data.update(registration_id=reg.reference, identifiers_given=given)
    return data


def _problems(outcome: submit.Outcome) -> dict[str, Any]:
    return {"detail": [{"field": p.field, "reason": p.reason} for p in outcome.problems]}


def _submitter(request: HttpRequest) -> Any:
    user: Any = getattr(request, "auth", None)
    if user.role not in SUBMITTERS or user.organisation_id is None:
        raise HttpError(403, "only a submitter of a reporting organisation may do this")
    return user


# what any call may answer besides its own statuses (described in the OpenAPI document)
COMMON = {401: Message, 413: Message}
# a body that is not JSON (400); the intake process cannot validate now (503)
WRITES = {**COMMON, 400: Message, 503: Message}


@api.post(
    "/registrations",
    response={201: Created, 200: Created, 403: Message, 422: Problems, **WRITES},
    summary="Submit a registration",
)
def create_registration(
    request: HttpRequest,
    body: RegistrationIn,  # type: ignore[valid-type]
    key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="1 to 200 characters of the client's choice, new for each registration: "
        "a POST retried with the same key and body answers the first one's id and stores "
        "nothing twice (the same key with another body is refused).",
    ),
) -> tuple[int, Any]:
    user = _submitter(request)
    if key is not None and not (0 < len(key) <= MAX_KEY):
        return 422, {
            "detail": [{"field": "Idempotency-Key", "reason": "must be 1 to 200 characters"}]
        }
    values = {k: as_text(v) for k, v in body.model_dump().items()}  # type: ignore[attr-defined]
    outcome = submit.create(user, values, "api", key)
    if outcome.problems:
        return 422, _problems(outcome)
    return 201, {"id": outcome.id, "matching_own_registrations": outcome.matches}


@api.get(
    "/registrations",
    response={200: RegistrationList, 403: Message, **COMMON},
    summary="Your organisation's registrations",
)
def list_registrations(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> tuple[int, dict[str, Any]]:
    user = _submitter(request)
    with scoped(Scope.of(user, "api")):
        own = Registration.objects.filter(organisation_id=user.organisation_id)
        count = own.count()
        regs = list(own.order_by("-created_at", "id")[offset : offset + limit])
        submit.record_reads([r.id for r in regs])
    return 200, {"count": count, "items": [_out(r) for r in regs]}


@api.get(
    "/registrations/{reg_id}",
    response={200: RegistrationOut, 403: Message, 404: Message, **COMMON},
    summary="One of your organisation's registrations",
)
def get_registration(request: HttpRequest, reg_id: UUID) -> tuple[int, Any]:
    user = _submitter(request)
    with scoped(Scope.of(user, "api")):
        reg = Registration.objects.filter(pk=reg_id, organisation_id=user.organisation_id).first()
        if reg is not None:
            submit.record_reads([reg.id])
    if reg is None:
        return 404, {"detail": "no such registration"}
    return 200, _out(reg)


@api.patch(
    "/registrations/{reg_id}",
    response={200: RegistrationOut, 403: Message, 404: Message, 422: Problems, **WRITES},
    summary="Correct one of your organisation's registrations",
)
def patch_registration(
    request: HttpRequest,
    reg_id: UUID,
    body: RegistrationPatch,  # type: ignore[valid-type]
) -> tuple[int, Any]:
    user = _submitter(request)
    sent = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    changes = {k: as_text(v) for k, v in sent.items()}
    outcome = submit.correct(user, reg_id, changes, "api")
    if outcome is None:
        return 404, {"detail": "no such registration"}
    if outcome.problems:
        return 422, _problems(outcome)
    with scoped(Scope.of(user, "api")):
        reg = Registration.objects.get(pk=reg_id, organisation_id=user.organisation_id)
    return 200, _out(reg)


@api.exception_handler(NinjaValidationError)
def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """Pydantic's errors without the input they refused (it may be an identifier)."""
    detail = [
        {
            "field": ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "body")),
            "reason": str(e.get("msg", "is not valid")),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "the request body is too large"}, status=413)


@api.exception_handler(IntakeUnavailable)
def unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "the service cannot validate submissions now; retry"}, status=503
    )
    response["Retry-After"] = "5"
    return response


@api.exception_handler(AuthenticationError)
def unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "a valid bearer token is required"}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response
