"""The web pages: sign-in, registrations (list, form, correction), upload, users, audit log.

Django's own authentication, sessions and CSRF protection guard every page; django-axes
throttles sign-ins. Pages render with autoescaping and no script (the CSP forbids any). URLs
hold no identifier: a registration is named by its random id only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from uuid import UUID

import pandas as pd
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from thbmonitor.errors import ConfigError, InputError, Problem
from thbmonitor.ingest.readers import SUFFIXES, file_sha256
from thbmonitor.profiles import DEFAULT_PROFILE
from thbmonitor.registry import accounts, forms, submit
from thbmonitor.registry.accounts import ORG_ROLES
from thbmonitor.registry.intake import IDENTIFIER_GROUP, needs_consent
from thbmonitor.registry.models import AuditEntry, Registration, User
from thbmonitor.registry.tenancy import Actor, Scope, scoped
from thbmonitor.registry.texts import field_label, language, page, reason

PAGE_SIZE = 50
STATIC = Path(__file__).parent / "static"
View = Callable[..., HttpResponse]
LIST_COLUMNS = ("registration_id", "sex", "nationality", "forms_of_exploitation", "age_band")
LIST_LABELS = {
    lang: {n: field_label(n, lang) for n in LIST_COLUMNS}
    | {"age_band": "age" if lang == "en" else "leeftijd"}
    for lang in ("en", "nl")
}


def roles(*allowed: str) -> Callable[[View], View]:
    """Signed in, with one of these roles."""

    def wrap(view: View) -> View:
        @login_required
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(request.user, "role", None) not in allowed:
                return HttpResponseForbidden(page("not_found", language(request)))
            return view(request, *args, **kwargs)

        return inner

    return wrap


class LoginView(auth_views.LoginView):
    template_name = "registry/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registry/password.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        User.objects.filter(pk=self.request.user.pk).update(must_change_password=False)
        return response

    def get_success_url(self) -> str:
        return reverse("home")


def password_gate(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Middleware: a user with a one-time password changes it before anything else."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith("/api/")
            and not request.path.startswith("/static/")
        ):
            allowed = (reverse("password_change"), reverse("logout"))
            if request.path not in allowed:
                return redirect("password_change")
        response = get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)  # pages may hold what a user just typed
        return response

    return middleware


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    role = getattr(user, "role", "")
    target = {"org_admin": "users", "auditor": "audit"}.get(role, "registrations")
    return redirect(target)


def _flash(request: HttpRequest, key: str | None = None, **extra: Any) -> dict[str, Any]:
    if key is not None:
        request.session["flash"] = {"key": key, **extra}
        return {}
    return request.session.pop("flash", None) or {}


@roles("submitter", "analyst")
def registrations(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    flash = _flash(request)
    with scoped(Scope.of(user, "web")):
        rows = Registration.objects.all()
        if user.role == "submitter":
            rows = rows.filter(organisation_id=user.organisation_id)
        count = rows.count()
        shown = list(
            rows.order_by("-created_at", "id")[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        )
        submit.record_reads([r.id for r in shown])
    return render(
        request,
        "registry/list.html",
        {
            "rows": shown,
            "count": count,
            "page": number,
            "has_next": number * PAGE_SIZE < count,
            "flash": flash,
            "analyst": user.role == "analyst",
            "labels": LIST_LABELS[language(request)],
        }
        | ({"flash_text": page(flash["key"], language(request))} if flash else {}),
    )


def _form_page(
    request: HttpRequest,
    values: dict[str, str],
    problems: tuple[Problem, ...],
    *,
    reg: Registration | None = None,
    status: int = 200,
) -> HttpResponse:
    lang = language(request)
    summary = [
        (f"id_{p.field}", field_label(p.field, lang), reason(p.reason, lang)) for p in problems
    ]
    return render(
        request,
        "registry/form.html",
        {
            "fieldsets": forms.build(values, problems, lang),
            "summary": summary,
            "reg": reg,
            "consent_needed": request.user.organisation is not None
            and needs_consent(request.user.organisation.type),
        },
        status=status,
    )


@roles("submitter")
@require_http_methods(["GET", "POST"])
def new_registration(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, {}, ())
    values = forms.posted(request.POST)
    outcome = submit.create(Actor.of(request.user), values, "web")
    if outcome.problems:
        return _form_page(request, values, outcome.problems, status=422)
    _flash(request, "stored", match=outcome.matches > 0)
    return redirect("registrations")


@roles("submitter")
@require_http_methods(["GET", "POST"])
def edit_registration(request: HttpRequest, reg_id: UUID) -> HttpResponse:
    user = request.user
    with scoped(Scope.of(user, "web")):
        reg = Registration.objects.filter(pk=reg_id, organisation_id=user.organisation_id).first()
        if reg is not None and request.method == "GET":
            submit.record_reads([reg.id])
    if reg is None:
        raise Http404
    stored = submit.stored_values(reg)
    if request.method == "GET":
        return _form_page(request, stored, (), reg=reg)
    values = forms.posted(request.POST)
    # identifiers are not stored, so an empty one means "not given again", not "erase it"
    changes = {
        k: v for k, v in values.items() if k not in IDENTIFIER_GROUP and v != stored.get(k, "")
    }
    had_none = not (reg.tok_first or reg.tok_last or reg.tok_dob or reg.tok_identity)
    if forms.identifiers_given(values) or (had_none and "registration_date" in changes):
        changes.update({k: values.get(k, "") for k in IDENTIFIER_GROUP})
    outcome = submit.correct(Actor.of(user), reg.id, changes, "web")
    if outcome is None:
        raise Http404
    if outcome.problems:
        return _form_page(request, values, outcome.problems, reg=reg, status=422)
    _flash(request, "corrected")
    return redirect("registrations")


def read_upload(path: Path, profile: str) -> pd.DataFrame:
    """An uploaded registrations file (CSV or XLSX) in the organisation's country profile's
    layout (its delimiter, encoding, column names, date formats, yes/no and code spellings;
    the default profile's where none is set), in the registrations file's own layout. What the
    profile cannot map is left as it was, so that validation names its row and field."""
    from thbmonitor.profiles import default_profile, load_profile
    from thbmonitor.profiles.translate import read_in_profile

    translated = read_in_profile(path, load_profile(profile) if profile else default_profile())
    if translated.kind != "registrations":
        raise InputError(f"{path.name}: not a registrations file (it reads as {translated.kind})")
    return translated.frame


@roles("submitter")
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    profile = request.user.organisation.profile
    context: dict[str, Any] = {"problems": [], "error": "", "profile": profile or DEFAULT_PROFILE}
    lang = language(request)
    if request.method == "POST":
        sent = request.FILES.get("file")
        suffix = Path(sent.name).suffix.lower() if sent is not None else ""
        if sent is None or SUFFIXES.get(suffix) not in ("csv", "xlsx"):
            context["error"] = page("file", lang)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"upload{suffix}"
                with open(path, "wb") as fh:
                    for chunk in sent.chunks():
                        fh.write(chunk)
                try:
                    frame = read_upload(path, profile)
                    outcome = submit.upload(
                        Actor.of(request.user), frame, sent.name, file_sha256(path)
                    )
                except (InputError, ConfigError) as exc:
                    context["error"] = str(exc).replace(str(path), sent.name)
                    outcome = None
            if outcome is not None and outcome.problems:
                context["problems"] = [
                    (p.row, field_label(p.field, lang), reason(p.reason, lang))
                    for p in outcome.problems[:500]
                ]
                context["more"] = max(0, len(outcome.problems) - 500)
            elif outcome is not None:
                _flash(
                    request,
                    "uploaded_before" if outcome.replayed else "uploaded",
                    rows=outcome.rows,
                )
                return redirect("registrations")
    status = 422 if context["problems"] or context["error"] else 200
    return render(request, "registry/upload.html", context, status=status)


@roles("org_admin")
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"roles": ORG_ROLES, "error": "", "new": None}
    if request.method == "POST":
        role = request.POST.get("role", "")
        if role not in ORG_ROLES:
            context["error"] = page("role", language(request))
        else:
            try:
                context["new"] = accounts.add_user(
                    request.POST.get("email", ""),
                    user.organisation.name,
                    role,
                    f"user:{user.pk}",
                    "web",
                )
            except InputError as exc:
                context["error"] = str(exc)
    context["people"] = User.objects.filter(organisation_id=user.organisation_id).order_by(
        "username"
    )
    return render(request, "registry/users.html", context, status=422 if context["error"] else 200)


@roles("auditor")
def audit_log(request: HttpRequest) -> HttpResponse:
    try:
        before = int(request.GET.get("before", "0"))
    except ValueError:
        before = 0
    with scoped(Scope.of(request.user, "web")):
        rows = AuditEntry.objects.order_by("-seq")
        if before > 0:
            rows = rows.filter(seq__lt=before)
        shown = list(rows[:PAGE_SIZE])
    return render(
        request,
        "registry/audit.html",
        {
            "rows": shown,
            "before": shown[-1].seq if len(shown) == PAGE_SIZE else None,
        },
    )


def stylesheet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse((STATIC / "registry.css").read_bytes(), content_type="text/css")
    response["Cache-Control"] = "max-age=3600"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request, "registry/message.html", {"message": page("csrf", language(request))}, status=403
    )
