"""``thbmonitor serve``: the registry under gunicorn, after checks that refuse an unsafe start.

The service refuses to start when its database role could defeat row-level security (a
superuser, BYPASSRLS, or a role that owns the tables), when the schema is not migrated, or
when the key is not the one the registry's registrations were pseudonymised with (its
fingerprint is kept in the database; the key never is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from thbmonitor.errors import ConfigError, KeyMissingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 16
    certfile: str | None = None
    keyfile: str | None = None
    access_log: bool = False
    batch_window: float = 0.0  # seconds


def preflight() -> None:
    """Check the role, the schema and the key before serving; raise ConfigError otherwise."""
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from thbmonitor.registry.extract import FINGERPRINT
    from thbmonitor.registry.models import RegistryFact
    from thbmonitor.registry.security import check_service_role

    with connection.cursor() as cursor:
        problem = check_service_role(cursor)
    if problem:
        raise ConfigError(
            f"{problem}: the service must connect as the role that owns nothing "
            "(default thbmonitor_service, created by 'thbmonitor intake migrate'); "
            "give serve a --database URL with that user"
        )
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise ConfigError(
            "the registry's schema is not up to date: run 'thbmonitor intake migrate'"
        )
    encoder = settings.REGISTRY.encoder
    if encoder is None:
        raise KeyMissingError("the registry needs the pseudonymisation key to serve")
    mine = encoder.fingerprint  # the same fingerprint as a monitoring store's
    fact, _ = RegistryFact.objects.get_or_create(key=FINGERPRINT, defaults={"value": mine})
    if fact.value != mine:
        raise KeyMissingError(
            "this is not the key the registry's registrations were pseudonymised with; "
            "start the service with that key"
        )
    connection.close()


DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body up to this is read and dropped, not cut off


def refuse_oversized(application: Any, api_limit: int, page_limit: int) -> Any:
    """WSGI middleware: a body larger than the limit (the API's, or the pages' with their
    uploads) gets 413 before Django parses it.

    The body is read and dropped first (up to :data:`DRAIN_LIMIT`), so that the client, still
    sending, receives the answer rather than a reset connection."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = api_limit if environ.get("PATH_INFO", "").startswith("/api/") else page_limit
        if length <= limit:
            return application(environ, start_response)
        stream = environ["wsgi.input"]
        left = min(length, DRAIN_LIMIT)
        while left > 0:
            chunk = stream.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
        body = b'{"detail": "the request body is too large"}'
        start_response(
            "413 Request Entity Too Large",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def start_intake(window: float) -> None:
    """Fork the service's intake process (before gunicorn forks its workers) and tell the
    registry's settings its address: every worker's submissions are then validated and
    pseudonymised there, in batches that close ``window`` seconds after their first
    submission, rather than in each worker."""
    from dataclasses import replace

    from django.conf import settings

    from thbmonitor.registry import intake_process
    from thbmonitor.registry.submit import validate_batch

    address = intake_process.start(validate_batch, window)
    settings.REGISTRY = replace(settings.REGISTRY, intake=address, batch_window=window)
    log.info("intake process %d validates every worker's submissions", address.pid)


def serve(options: ServeOptions) -> None:
    """Run the configured registry under gunicorn until stopped."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    preflight()
    from thbmonitor.registry.settings import MAX_API_BODY, MAX_UPLOAD

    application = refuse_oversized(get_wsgi_application(), MAX_API_BODY, MAX_UPLOAD + 65536)
    connections.close_all()  # no connection crosses the fork into the workers
    start_intake(options.batch_window)

    config: dict[str, Any] = {
        "bind": f"{options.host}:{options.port}",
        "workers": options.workers,
        "threads": options.threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "accesslog": "-" if options.access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": True,
        "proc_name": "thbmonitor-registry",
    }
    if options.certfile:
        config["certfile"] = options.certfile
        config["keyfile"] = options.keyfile

    class Service(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Service().run()
