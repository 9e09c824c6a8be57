"""What the database enforces: row-level security, the audit chain, the service role's grants.

``SCHEMA_SQL`` is applied by a versioned migration (``0002_security``): the policies, the audit
chain and its guard triggers. :func:`grant_service` is applied after every migration by
``thbmonitor intake migrate``: the service role (a role that owns nothing, neither superuser nor
BYPASSRLS) gets exactly the privileges the service needs and no more. :func:`check_service_role`
is how ``thbmonitor serve`` refuses to run as anything else.

The organisation, role and user of a transaction are read from settings that the service sets
with ``set_config(..., true)`` (``SET LOCAL``) at the start of each transaction
(:mod:`.tenancy`). Outside such a transaction ``current_setting(..., true)`` is '' and the
policies give no row.
"""

from __future__ import annotations

from typing import Any

ORG = "NULLIF(current_setting('app.org_id', true), '')::bigint"
ROLE = "current_setting('app.role', true)"

# the text each audit hash covers; thbmonitor.registry.audit.entry_text computes the same
AUDIT_TEXT = (
    "concat_ws(E'\\x1f', e.seq::text, "
    "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), e.actor, "
    "coalesce(e.org_id::text, ''), e.action, e.object_type, e.object_id, e.fields, e.detail, "
    "e.prev_hash)"
)

SCHEMA_SQL = f"""
-- row-level security: an organisation sees and writes its own registrations only;
-- analysts read all; only the retention purge deletes
ALTER TABLE registry_registration ENABLE ROW LEVEL SECURITY;
ALTER TABLE registry_registration FORCE ROW LEVEL SECURITY;
CREATE POLICY own_organisation ON registry_registration
    USING (org_id = {ORG}) WITH CHECK (org_id = {ORG});
CREATE POLICY analyst_reads ON registry_registration FOR SELECT
    USING ({ROLE} = 'analyst');
CREATE POLICY retention_reads ON registry_registration FOR SELECT
    USING ({ROLE} = 'retention');
CREATE POLICY retention_purge ON registry_registration FOR DELETE
    USING ({ROLE} = 'retention');

ALTER TABLE registry_idempotencykey ENABLE ROW LEVEL SECURITY;
ALTER TABLE registry_idempotencykey FORCE ROW LEVEL SECURITY;
CREATE POLICY own_organisation ON registry_idempotencykey
    USING (org_id = {ORG}) WITH CHECK (org_id = {ORG});
CREATE POLICY retention_reads ON registry_idempotencykey FOR SELECT
    USING ({ROLE} = 'retention');
CREATE POLICY retention_purge ON registry_idempotencykey FOR DELETE
    USING ({ROLE} = 'retention');

-- the audit log: anyone may append; auditors (and verify-audit) read
ALTER TABLE registry_audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE registry_audit FORCE ROW LEVEL SECURITY;
CREATE POLICY append ON registry_audit FOR INSERT WITH CHECK (true);
CREATE POLICY auditors_read ON registry_audit FOR SELECT USING ({ROLE} = 'auditor');

CREATE TABLE registry_audit_head (
    id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL
);
INSERT INTO registry_audit_head VALUES (1, 0, repeat('0', 64));

-- each entry takes the next number and the hash of the one before it; the head row's lock
-- is held to the end of the transaction, so the chain's order is the order of commits
CREATE FUNCTION registry_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head registry_audit_head%ROWTYPE;
    e registry_audit%ROWTYPE;
BEGIN
    SELECT * INTO head FROM registry_audit_head WHERE id = 1 FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.at := clock_timestamp();
    NEW.actor := coalesce(NEW.actor, '');
    NEW.object_type := coalesce(NEW.object_type, '');
    NEW.object_id := coalesce(NEW.object_id, '');
    NEW.fields := coalesce(NEW.fields, '');
    NEW.detail := coalesce(NEW.detail, '');
    NEW.prev_hash := head.hash;
    e := NEW;
    NEW.hash := encode(sha256(convert_to({AUDIT_TEXT}, 'UTF8')), 'hex');
    UPDATE registry_audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_chain BEFORE INSERT ON registry_audit
    FOR EACH ROW EXECUTE FUNCTION registry_audit_chain();

CREATE FUNCTION registry_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON registry_audit
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON registry_audit
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_refuse();
CREATE TRIGGER audit_head_guard BEFORE DELETE OR TRUNCATE ON registry_audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_refuse();

-- every write of a registration is logged by the database itself (raw SQL included):
-- which record and which fields changed, never the values
CREATE FUNCTION registry_registration_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    changed text := '';
    rec registry_registration%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(string_agg(n.key, ',' ORDER BY n.key), '') INTO changed
        FROM jsonb_each(to_jsonb(NEW)) n JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
        WHERE n.value IS DISTINCT FROM o.value AND n.key NOT IN ('updated_at');
        rec := NEW;
    ELSIF TG_OP = 'INSERT' THEN
        rec := NEW;
    ELSE
        rec := OLD;
    END IF;
    INSERT INTO registry_audit (actor, org_id, action, object_type, object_id, fields, detail)
    VALUES (coalesce(current_setting('app.user_id', true), ''), rec.org_id,
            'registration.' || lower(TG_OP), 'registration', rec.id::text, changed,
            coalesce(current_setting('app.channel', true), ''));
    RETURN NULL;
END $$;
CREATE TRIGGER registration_audit AFTER INSERT OR UPDATE OR DELETE ON registry_registration
    FOR EACH ROW EXECUTE FUNCTION registry_registration_audit();
"""

# what the service role may do, table by table (everything else: nothing)
SERVICE_GRANTS: dict[str, str] = {
    "registry_registration": "SELECT, INSERT, UPDATE",
    "registry_idempotencykey": "SELECT, INSERT",
    "registry_audit": "SELECT, INSERT",
    "registry_organisation": "SELECT",
    "registry_user": "SELECT, INSERT, UPDATE",
    "registry_user_groups": "SELECT",
    "registry_user_user_permissions": "SELECT",
    "registry_apitoken": "SELECT, INSERT, UPDATE",
    "registry_meta": "SELECT, INSERT",
    "django_session": "SELECT, INSERT, UPDATE, DELETE",
    "django_content_type": "SELECT",
    "django_migrations": "SELECT",
    "auth_permission": "SELECT",
    "auth_group": "SELECT",
    "auth_group_permissions": "SELECT",
    "axes_accessattempt": "SELECT, INSERT, UPDATE, DELETE",
    "axes_accessfailurelog": "SELECT, INSERT, UPDATE, DELETE",
    "axes_accesslog": "SELECT, INSERT, UPDATE, DELETE",
    "axes_accessattemptexpiration": "SELECT, INSERT, UPDATE, DELETE",
}


def grant_service(cursor: Any, role: str) -> None:
    """Create the service role if needed (LOGIN, no password: set one for password auth) and
    give it exactly :data:`SERVICE_GRANTS`. Idempotent; run after every migration."""
    from psycopg import sql

    ident = sql.Identifier(role)
    cursor.execute(
        sql.SQL(
            "DO $$ BEGIN CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ).format(ident)
    )
    cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    if cursor.fetchone()[0]:
        from thbmonitor.errors import ConfigError

        raise ConfigError(f"the service role {role} is a superuser or bypasses row-level security")
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    cursor.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(ident))
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
        [list(SERVICE_GRANTS)],
    )
    for (table,) in cursor.fetchall():
        cursor.execute(
            sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(SERVICE_GRANTS[table]), sql.Identifier(table), ident
            )
        )
    cursor.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))


def check_service_role(cursor: Any) -> str | None:
    """Why the current connection's role must not serve, or None when it may.

    The service must connect as a role that is no superuser, does not bypass row-level
    security, owns no table of the registry and cannot act as its owner."""
    cursor.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    user, superuser, bypass = cursor.fetchone()
    if superuser or bypass:
        return f"the role {user} is a superuser or bypasses row-level security"
    cursor.execute(
        "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
        "AND pg_has_role(current_user, c.relowner, 'USAGE')"
    )
    if cursor.fetchone()[0]:
        return f"the role {user} owns tables (or may act as their owner)"
    return None
