"""Row-level security holds with raw SQL: connected as the service role, with one
organisation set by SET LOCAL, no other organisation's row can be read or written."""

from __future__ import annotations

import psycopg
import pytest
from tests.registry.service import Registry
from tests.registry.test_api import VALID

pytestmark = pytest.mark.xdist_group("registry")


def _org_ids(registry: Registry) -> dict[str, int]:
    import tests.registry.service as svc

    rows = svc.admin("SELECT name, id FROM registry_organisation", registry.db)
    return dict(rows)


def test_service_role_cannot_reach_another_organisations_rows(registry: Registry) -> None:
    with registry.api("police") as api:
        police_reg = api.post("/api/registrations", json=VALID).json()["id"]
    with registry.api("care") as api:  # a row of its own to try to move (whatever ran before)
        care_reg = api.post("/api/registrations", json={**VALID, "consent": True}).json()["id"]
    orgs = _org_ids(registry)
    police, care = orgs["Politie Oost"], orgs["Zorg Zuid"]
    with psycopg.connect(registry.service_url) as con:
        # no organisation set: no row at all
        assert con.execute("SELECT count(*) FROM registry_registration").fetchone() == (0,)
        con.commit()
        with con.transaction():
            con.execute(f"SET LOCAL app.org_id = {int(care)}")
            assert con.execute(
                "SELECT count(*) FROM registry_registration WHERE id = %s", [police_reg]
            ).fetchone() == (0,)
            updated = con.execute(
                "UPDATE registry_registration SET sex = 'M' WHERE id = %s", [police_reg]
            )
            assert updated.rowcount == 0
            # what it sees is its own, and its own only
            seen = con.execute("SELECT DISTINCT org_id FROM registry_registration").fetchall()
            assert seen == [(care,)]
        # writing a row for another organisation is refused by the policy's WITH CHECK: moving
        # its own row there, or inserting one
        with pytest.raises(psycopg.errors.InsufficientPrivilege), con.transaction():
            con.execute(f"SET LOCAL app.org_id = {int(care)}")
            con.execute(
                "UPDATE registry_registration SET org_id = %s WHERE id = %s", [police, care_reg]
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege), con.transaction():
            con.execute(f"SET LOCAL app.org_id = {int(care)}")
            con.execute(
                "INSERT INTO registry_registration (id, org_id, reference, created_at, updated_at,"
                " reporting_organisation, registration_date, registration_year, sex, nationality,"
                " nationality_group, residence_status, forms_of_exploitation, monitor_group,"
                " age_band, dob_missing) VALUES (gen_random_uuid(), %s, '', now(),"
                " now(), 'Police', '2020-01-01', 2020, 'F', 'NL', 'NL', 'DutchNational',"
                " 'ForcedLabour', 'labour', 'unknown', true)",
                [police],
            )
        # the setting ends with its transaction: the next one sees nothing again
        with con.transaction():
            con.execute(f"SET LOCAL app.org_id = {int(police)}")
            assert con.execute(
                "SELECT count(*) FROM registry_registration WHERE id = %s", [police_reg]
            ).fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM registry_registration").fetchone() == (0,)
        con.commit()
        # and it may delete nothing, nor touch the audit log but to append
        for sql in (
            "DELETE FROM registry_registration",
            "DELETE FROM registry_audit",
            "TRUNCATE registry_audit",
            "UPDATE registry_audit SET detail = ''",
            "ALTER TABLE registry_registration DISABLE ROW LEVEL SECURITY",
            "SELECT * FROM registry_audit_head",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), con.transaction():
                con.execute(f"SET LOCAL app.org_id = {int(police)}")
                con.execute(sql)
    # the police's registration is untouched, and care's is still care's
    with registry.api("police") as api:
        assert api.get(f"/api/registrations/{police_reg}").json()["sex"] == "F"
    with registry.api("care") as api:
        assert api.get(f"/api/registrations/{care_reg}").status_code == 200


def test_the_service_refuses_to_run_as_the_owner(registry: Registry) -> None:
    import tests.registry.service as svc

    done = svc.cli(
        "serve",
        "--database",
        registry.owner_url,
        "--port",
        "1",
        env={"THBMONITOR_KEY": svc.KEY},
        check=False,
    )
    assert done.returncode == 2
    assert "owns nothing" in done.stderr
