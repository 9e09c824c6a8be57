"""The audit log: every access leaves an entry, never a value; append-only even for the owner;
``intake verify-audit`` recomputes the hash chain and exits 1 on any tampering."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import tests.registry.service as svc
from tests.registry.service import Browserless, Registry
from tests.registry.test_api import VALID

pytestmark = pytest.mark.xdist_group("registry")


def test_reads_and_writes_are_logged_without_values(registry: Registry) -> None:
    with registry.api("police") as api:
        reg_id = api.post("/api/registrations", json=VALID).json()["id"]
        api.get(f"/api/registrations/{reg_id}")
        api.patch(f"/api/registrations/{reg_id}", json={"municipality": "Ede", "sector": "Other"})
    rows = svc.admin(
        "SELECT action, fields, detail, actor FROM registry_audit WHERE object_id = %s "
        "ORDER BY seq",
        registry.db,
        [reg_id],
    )
    actions = [r[0] for r in rows]
    assert actions == ["registration.insert", "registration.read", "registration.update"]
    assert rows[2][1] == "municipality,sector"
    everything = str(svc.admin("SELECT * FROM registry_audit", registry.db))
    for value in ("Eva", "Dijk", "2004-02-03", "Ede", "Utrecht"):
        assert value not in everything
    assert svc.cli("intake", "verify-audit", "--database", registry.owner_url).returncode == 0


def test_append_only_even_for_the_owner_and_tampering_is_found(lone_registry: str) -> None:
    db = lone_registry
    url = f"{svc.PG}/{db}"
    entries = svc.admin("SELECT count(*) FROM registry_audit", db)[0][0]
    assert entries > 3  # the template's organisations and users
    ok = svc.cli("intake", "verify-audit", "--database", url)
    assert f"{entries} entries" in ok.stderr
    with psycopg.connect(url, autocommit=True) as con:  # the owner (here a superuser)
        for sql in (
            "UPDATE registry_audit SET detail = 'x'",
            "DELETE FROM registry_audit",
            "TRUNCATE registry_audit",
            "DELETE FROM registry_audit_head",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(sql)
        # a superuser can drop the guard; the chain still tells
        (detail,) = con.execute("SELECT detail FROM registry_audit WHERE seq = 2").fetchone()
        con.execute("ALTER TABLE registry_audit DISABLE TRIGGER audit_append_only")
        con.execute("UPDATE registry_audit SET detail = 'edited' WHERE seq = 2")
    broken = svc.cli("intake", "verify-audit", "--database", url, check=False)
    assert broken.returncode == 1
    assert "entry 2" in broken.stderr
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE registry_audit SET detail = %s WHERE seq = 2", [detail])  # put back
    assert svc.cli("intake", "verify-audit", "--database", url).returncode == 0
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DELETE FROM registry_audit WHERE seq = %s", [entries])  # the last entry
    cut = svc.cli("intake", "verify-audit", "--database", url, check=False)
    assert cut.returncode == 1 and f"entry {entries}" in cut.stderr


def test_every_kind_of_access_leaves_an_entry(registry: Registry, tmp_path: Path) -> None:
    """Sign-in, failed sign-in (web and API), sign-out, upload, extract and the
    administrative actions each leave their entry: who, which object, never a value. Only
    the entries after this test's start are read (other tests share the registry)."""
    from tests.registry.test_web import CSV_HEAD, signed_in

    start = svc.admin("SELECT max(seq) FROM registry_audit", registry.db)[0][0]
    run = uuid.uuid4().hex[:8]
    svc.cli("intake", "add-org", f"Org {run}", "--type", "Other", "--database", registry.owner_url)
    email = f"audit-{run}@example.org"
    added = svc.cli(
        "intake",
        "add-user",
        email,
        "--org",
        f"Org {run}",
        "--role",
        "auditor",
        "--json",
        "--database",
        registry.owner_url,
    )

    def one(sql: str, value: str) -> str:
        return str(svc.admin(sql, registry.db, [value])[0][0])

    user_id = one("SELECT id FROM registry_user WHERE username = %s", email)
    org_id = one("SELECT id FROM registry_organisation WHERE name = %s", f"Org {run}")
    web = Browserless(registry.base)
    assert web.login(email, "not the password!").status_code == 200
    assert web.login(f"nobody-{run}@example.org", "not the password!").status_code == 200
    assert web.login(email, json.loads(added.stdout)["password"]).status_code == 302
    web.post("/en/logout/", {"csrfmiddlewaretoken": web.csrf("/en/password/")})
    forged = httpx.get(
        f"{registry.base}/api/registrations", headers={"Authorization": f"Bearer thb_{run}"}
    )
    assert forged.status_code == 401
    care = signed_in(registry, "care")
    upload = CSV_HEAD + f"a{run},2020-05-06,Ana,Lopes,1990-01-01,F,BR,NoLegalStatus,Other,1\n"
    sent = care.post(
        "/en/upload/",
        {"csrfmiddlewaretoken": care.csrf("/en/upload/")},
        files={"file": ("audit.csv", upload.encode(), "text/csv")},
    )
    assert sent.status_code == 302
    store = tmp_path / "round.duckdb"
    svc.cli(
        "intake", "extract", "--database", registry.owner_url, "--round", "2020",
        "--store", str(store),
    )  # fmt: skip

    rows = svc.admin(
        "SELECT action, actor, object_id, detail FROM registry_audit WHERE seq > %s ORDER BY seq",
        registry.db,
        [start],
    )
    entries = {(a, o) for a, _, o, _ in rows}
    sha = hashlib.sha256(upload.encode()).hexdigest()
    for expected in (
        ("org.add", org_id),
        ("user.add", user_id),
        ("login.failed", user_id),
        ("login.failed", ""),  # an unknown user: the name tried is not kept
        ("login", user_id),
        ("logout", user_id),
        ("upload", sha),
        ("extract", "2020"),
    ):
        assert expected in entries, expected
    who = {(a, o): (actor, detail) for a, actor, o, detail in rows}
    assert who[("org.add", org_id)][0].startswith("cli")
    assert who[("login", user_id)][0] == f"user:{user_id}"
    assert who[("upload", sha)][1] == "rows=1"
    assert ("login.failed", "api token") in {(a, d) for a, _, _, d in rows}
    inserted = [o for a, _, o, _ in rows if a == "registration.insert"]
    assert len(inserted) == 1  # the uploaded row, by the trigger
    everything = str(rows)
    for value in (f"nobody-{run}", "Lopes", "1990-01-01", "not the password", email):
        assert value not in everything
    assert svc.cli("intake", "verify-audit", "--database", registry.owner_url).returncode == 0
