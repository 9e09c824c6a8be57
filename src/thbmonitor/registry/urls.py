"""The registry's URLs: pages under /nl/ and /en/, the JSON API under /api/."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import path

from thbmonitor.registry import views
from thbmonitor.registry.api import api

urlpatterns = [
    path("api/", api.urls),
    path("static/registry.css", views.stylesheet, name="stylesheet"),
    path("", lambda request: redirect("/nl/")),
]
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("registrations/", views.registrations, name="registrations"),
    path("registrations/new/", views.new_registration, name="new_registration"),
    path("registrations/<uuid:reg_id>/", views.edit_registration, name="edit_registration"),
    path("upload/", views.upload, name="upload"),
    path("users/", views.users, name="users"),
    path("audit/", views.audit_log, name="audit"),
    prefix_default_language=True,
)
