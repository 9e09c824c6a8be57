"""The registry's commands: ``thbmonitor intake ...`` and ``thbmonitor serve``.

Everything of the registry (Django, PostgreSQL) is imported inside the commands, so the rest
of the command line neither needs nor loads the ``registry`` extra.
"""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from thbmonitor.cli.common import ConfigOption, app, console, settings_from
from thbmonitor.errors import ConfigError, InputError

intake = typer.Typer(
    help="The registry: schema, organisations, users, round extract, retention, audit.",
    no_args_is_help=True,
)
app.add_typer(intake, name="intake")

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="THBMONITOR_DATABASE_URL",
        help="PostgreSQL URL, e.g. postgresql://USER@127.0.0.1:5432/registry "
        "(or the environment variable THBMONITOR_DATABASE_URL).",
    ),
]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid
        return "cli"


def _configure(database: str, *, key_config: Path | None = None, need_key: bool = False) -> None:
    """Configure Django for one command (with the key when the command needs it)."""
    try:
        import django  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the registry needs its extra: pip install 'thbmonitor[registry]'"
        ) from exc
    from thbmonitor.registry.settings import Registry, configure

    encoder = None
    if need_key:
        from thbmonitor.pseudonymise import Encoder, load_key

        settings = settings_from(key_config)
        key = load_key(settings.key_file, settings.key_env)
        encoder = Encoder(key, settings.bloom_bits, settings.bloom_hashes)
    configure(database, Registry(encoder))
    _check_connection()


def _check_connection() -> None:
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        raise ConfigError(
            "cannot connect to the registry's database: check the --database URL "
            "(host, port, user, database name) and that PostgreSQL runs"
        ) from exc


@intake.command("migrate")
def migrate_command(
    database: DatabaseOption,
    service_role: Annotated[
        str, typer.Option("--service-role", help="The role the service connects as.")
    ] = "thbmonitor_service",
) -> None:
    """Create or upgrade the registry's schema (versioned migrations) and the service role."""
    _configure(database)
    from django.core.management import call_command
    from django.db import connection

    from thbmonitor.registry.security import grant_service

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        grant_service(cursor, service_role)
    console.print(f"schema up to date; the service connects as {service_role}", highlight=False)


@intake.command("add-org")
def add_org_command(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    org_type: Annotated[
        str, typer.Option("--type", help="Police, KMar, LabourInspectorate, NGOCare or Other.")
    ],
    database: DatabaseOption,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Country profile of its uploads: a shipped profile (nl, htcds) or a profile "
            "folder (default: the default profile).",
        ),
    ] = "",
) -> None:
    """Add a reporting organisation (or the registry's own staff organisation)."""
    _configure(database)
    from thbmonitor.registry.accounts import add_org

    org = add_org(name, org_type, _actor(), profile)
    console.print(f"organisation {org.pk} added", highlight=False)


@intake.command("add-user")
def add_user_command(
    email: Annotated[str, typer.Argument(help="The user's work e-mail address.")],
    org: Annotated[str, typer.Option("--org", help="The organisation's name.")],
    role: Annotated[str, typer.Option("--role", help="submitter, org_admin, analyst or auditor.")],
    database: DatabaseOption,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"user": ..., "password": ..., "token": ...}.')
    ] = False,
) -> None:
    """Add a user with a one-time password and an API token (both shown once)."""
    _configure(database)
    from thbmonitor.registry.accounts import add_user

    new = add_user(email, org, role, _actor())
    if as_json:
        typer.echo(json.dumps({"user": new.user, "password": new.password, "token": new.token}))
    else:
        typer.echo(f"user: {new.user}\none-time password: {new.password}\nAPI token: {new.token}")


@intake.command("extract")
def extract_command(
    database: DatabaseOption,
    round_year: Annotated[int, typer.Option("--round", help="The round (registration year).")],
    store: Annotated[Path, typer.Option("--store", help="The monitoring store to write.")],
) -> None:
    """Write a round's pseudonymised registrations into a monitoring store (for link, report)."""
    _configure(database)
    from thbmonitor.registry.extract import extract

    done = extract(round_year, store, _actor())
    console.print(
        f"{done.rows:,} registrations of {round_year} written to {store}", highlight=False
    )


@intake.command("purge")
def purge_command(
    before: Annotated[str, typer.Option("--before", help="Delete registrations dated before.")],
    database: DatabaseOption,
) -> None:
    """Delete the registrations that the retention period no longer allows (audited)."""
    try:
        when = date.fromisoformat(before)
    except ValueError as exc:
        raise InputError("--before must be a date written YYYY-MM-DD") from exc
    _configure(database)
    from thbmonitor.registry.extract import purge

    count = purge(when, _actor())
    console.print(f"{count:,} registrations dated before {when} deleted", highlight=False)


@intake.command("verify-audit")
def verify_audit_command(database: DatabaseOption) -> None:
    """Check the audit log's hash chain; exit 1 if it is broken."""
    _configure(database)
    from django.db import connection

    from thbmonitor.registry.audit import verify

    with connection.cursor() as cursor:
        check = verify(cursor)
    if check.ok:
        console.print(f"audit chain verified: {check.entries:,} entries", highlight=False)
        return
    console.print(
        f"[bold red]audit chain broken[/bold red] at entry {check.broken_at}: {check.reason} "
        f"({check.entries:,} entries verified before it)",
        highlight=False,
    )
    raise typer.Exit(1)


@app.command("serve")
def serve_command(
    database: DatabaseOption,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option("--threads", help="Threads per worker.")] = 16,
    certfile: Annotated[
        Path | None, typer.Option("--certfile", help="TLS certificate (PEM).", exists=True)
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option("--keyfile", help="TLS private key (PEM).", exists=True)
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log each request (method, path, status).")
    ] = False,
    batch_window: Annotated[
        float,
        typer.Option(
            "--batch-window",
            help="Milliseconds a validation batch stays open for more submissions (0: none; "
            "each submission is validated on its own, so waiting only adds latency).",
        ),
    ] = 0.0,
    config: ConfigOption = None,
) -> None:
    """Run the registry (web form, upload, JSON API) on its PostgreSQL database."""
    if (certfile is None) != (keyfile is None):
        raise ConfigError("--certfile and --keyfile go together")
    _configure(database, key_config=config, need_key=True)
    from thbmonitor.registry.server import ServeOptions, serve

    serve(
        ServeOptions(
            host,
            port,
            workers,
            threads,
            str(certfile) if certfile else None,
            str(keyfile) if keyfile else None,
            access_log,
            batch_window / 1000,
        )
    )
