"""The audit log: every access leaves an entry, never a value; append-only even for the owner;
``intake verify-audit`` recomputes the hash chain and exits 1 on any tampering."""

from __future__ import annotations

import psycopg
import pytest
import tests.registry.service as svc
from tests.registry.service import Registry
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
