"""The registry: the intake web service where reporting organisations submit registrations.

A Django application on PostgreSQL (installed with ``pip install thbmonitor[registry]``);
nothing of the monitor imports it. Reporting organisations submit registrations through a
web form (nl, en), a file upload or a JSON API; every submission passes the same validation
and pseudonymisation as ``thbmonitor ingest`` (:mod:`thbmonitor.ingest`,
:mod:`thbmonitor.pseudonymise`) in the service process, before anything reaches the
database. The round extract writes a monitoring store that ``link`` and ``report`` use
unchanged.

Security is enforced in the database where a bug in the web layer cannot undo it:

- row-level security (FORCE ROW LEVEL SECURITY) on the registrations, with the organisation
  set per transaction by ``SET LOCAL`` (``set_config(..., true)``); the service connects as a
  role that owns nothing (``thbmonitor serve`` refuses to start otherwise);
- an append-only, hash-chained audit log (:mod:`.audit`): triggers record every write of a
  registration, the service records reads, logins, uploads, extracts and purges; a trigger
  refuses update, delete and truncate, and ``thbmonitor intake verify-audit`` checks the chain.

Modules: :mod:`.settings` (Django settings from a database URL), :mod:`.models`,
:mod:`.security` (roles, grants, row-level security), :mod:`.intake` (validation and
pseudonymisation of submissions), :mod:`.batch` and :mod:`.intake_process` (one process that
validates every worker's submissions in batches), :mod:`.submit` (storing them),
:mod:`.tenancy` (the per-transaction scope),
:mod:`.audit`, :mod:`.api` (JSON API), :mod:`.views` (web form, upload, lists),
:mod:`.accounts` (organisations, users, tokens), :mod:`.extract` (round extract, purge),
:mod:`.server` (``thbmonitor serve``).
"""
