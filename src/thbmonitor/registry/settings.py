"""Django settings of the registry, built from a database URL: there is no settings file.

Django is configured once per process, by :func:`configure`, from the command line's options
(``--database URL``) and the pseudonymisation key; nothing reads the environment here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from thbmonitor.errors import ConfigError

if TYPE_CHECKING:
    from thbmonitor.pseudonymise import Encoder
    from thbmonitor.registry.intake_process import Address

SERVICE_ROLE = "thbmonitor_service"  # the database role the service connects as
MAX_API_BODY = 64 * 1024  # bytes: a registration is far smaller
MAX_UPLOAD = 20 * 1024 * 1024  # bytes: an upload file


@dataclass(frozen=True)
class Registry:
    """What the registry needs besides Django's own settings (held in ``settings.REGISTRY``)."""

    encoder: Encoder | None  # None for commands that never see an identifier
    service_role: str = SERVICE_ROLE
    batch_window: float = 0.0  # seconds a validation batch stays open for more submissions
    intake: Address | None = None  # the intake process of a running service (serve sets it)


def database_settings(url: str) -> dict[str, Any]:
    """Django's DATABASES entry of a ``postgresql://user:password@host:port/name`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise ConfigError(
            "the database URL must look like postgresql://USER@HOST:PORT/DATABASE "
            "(the password, if any, after USER and a colon)"
        )
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.strip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 300,
        "CONN_HEALTH_CHECKS": False,  # a broken connection is dropped on its first error
        # server-side binding: parameters travel apart from the statement, and psycopg
        # prepares a statement used often (the submission's) instead of quoting its values
        "OPTIONS": {"server_side_binding": True, **options},
    }


def secret_key(encoder: Encoder | None) -> str:
    """Django's signing key (sessions, CSRF): derived from the pseudonymisation key, so that
    every worker of the service agrees and nothing secret is kept in the database; a random one
    for commands without a key (they sign nothing that outlives them)."""
    if encoder is None:
        return os.urandom(32).hex()
    return hmac.new(encoder.key, b"thbmonitor registry django secret", hashlib.sha256).hexdigest()


def django_settings(url: str, registry: Registry, *, secure_cookies: bool = True) -> dict[str, Any]:
    """Every Django setting of the registry."""
    return {
        "DEBUG": False,
        "SECRET_KEY": secret_key(registry.encoder),
        "ALLOWED_HOSTS": ["*"],  # the service binds to the host it is told; no Host-based routing
        "DATABASES": {"default": database_settings(url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "axes",
            "thbmonitor.registry.apps.RegistryConfig",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "csp.middleware.CSPMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.locale.LocaleMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "thbmonitor.registry.views.password_gate",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "axes.middleware.AxesMiddleware",
        ],
        "ROOT_URLCONF": "thbmonitor.registry.urls",
        "AUTH_USER_MODEL": "registry.User",
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.Argon2PasswordHasher"],
        "AUTH_PASSWORD_VALIDATORS": [
            {
                "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                "OPTIONS": {"min_length": 12},
            },
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        ],
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "registrations",
        "LOGOUT_REDIRECT_URL": "login",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.template.context_processors.csrf",
                        "django.contrib.auth.context_processors.auth",
                        "thbmonitor.registry.texts.context",
                    ],
                    "autoescape": True,
                },
            }
        ],
        "LANGUAGE_CODE": "nl",
        "LANGUAGES": [("nl", "Nederlands"), ("en", "English")],
        "USE_I18N": True,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        # sessions and cookies (ASVS 3.2-3.4): server-side sessions, short idle timeout
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "SESSION_COOKIE_NAME": "__Host-session" if secure_cookies else "session",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_AGE": 30 * 60,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "CSRF_COOKIE_NAME": "__Host-csrftoken" if secure_cookies else "csrftoken",
        "CSRF_COOKIE_SECURE": secure_cookies,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Strict",
        "CSRF_FAILURE_VIEW": "thbmonitor.registry.views.csrf_failure",
        "LANGUAGE_COOKIE_SECURE": secure_cookies,
        "LANGUAGE_COOKIE_HTTPONLY": True,
        "LANGUAGE_COOKIE_SAMESITE": "Strict",
        # headers
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {
                "default-src": ["'none'"],
                "script-src": ["'none'"],
                "style-src": ["'self'"],
                "img-src": ["'self'"],
                "form-action": ["'self'"],
                "frame-ancestors": ["'none'"],
                "base-uri": ["'none'"],
            }
        },
        # sizes: a body over the limit is refused with 400/413 before it is parsed
        "DATA_UPLOAD_MAX_MEMORY_SIZE": MAX_API_BODY,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": MAX_UPLOAD,
        "DATA_UPLOAD_MAX_NUMBER_FIELDS": 200,
        # login throttling (django-axes): 5 failures per account and address, then 15 minutes
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": timedelta(minutes=15),
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_VERBOSE": False,
        "AXES_LOCKOUT_TEMPLATE": "registry/locked.html",
        "AXES_USERNAME_FORM_FIELD": "username",
        "LOGGING": logging_settings(),
        "REGISTRY": registry,
    }


def logging_settings() -> dict[str, Any]:
    """Log lines name no value: exceptions are logged by type only (a database error's detail
    can quote a value), request lines by method and path (paths hold no identifier)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_values": {"()": "thbmonitor.registry.logs.NoValues"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "filters": ["no_values"],
                "formatter": "plain",
            }
        },
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "loggers": {
            "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "axes": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
            "thbmonitor": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def configure(url: str, registry: Registry, *, secure_cookies: bool = True) -> None:
    """Configure Django for this process (once) and load the registry's application."""
    import django
    from django.conf import settings

    if settings.configured:
        raise ConfigError("the registry is configured once per process")
    settings.configure(**django_settings(url, registry, secure_cookies=secure_cookies))
    django.setup()
