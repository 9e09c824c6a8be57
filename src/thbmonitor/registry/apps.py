"""The Django application of the registry."""

from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "thbmonitor.registry"
    label = "registry"
    verbose_name = "thbmonitor registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from thbmonitor.registry import audit

        audit.connect_login_signals()
