"""The round extract: the same rows, byte for byte, as ``thbmonitor ingest`` stores from the
same registrations with the same key (``link`` and ``report`` on an extract: the end-to-end
benchmark, benchmarks/bench_registry_e2e.py); purge is audited."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
import tests.registry.service as svc
from tests.registry.service import Registry

pytestmark = pytest.mark.xdist_group("registry")

ROWS = [
    {
        "registration_id": f"X{i}",
        "reporting_organisation": "LabourInspectorate",
        "registration_date": f"{year}-0{1 + i % 9}-1{i % 10}",
        "first_names": first,
        "last_name": last,
        "date_of_birth": dob,
        "identity_number": ident,
        "sex": sex,
        "nationality": nat,
        "residence_status": status,
        "forms_of_exploitation": forms,
        "municipality": "Venlo",
        "shelter": "1" if i % 2 else "",
        "consent": "",
        "age_at_exploitation": str(20 + i),
    }
    for i, (year, first, last, dob, ident, sex, nat, status, forms) in enumerate(
        [
            (2019, "Jan", "de Vries", "1980-05-06", "", "M", "PL", "EUCitizen", "ForcedLabour"),
            (
                2020,
                "Marta",
                "Kowalska",
                "1999-01-01",
                "AB123",
                "F",
                "PL;NL",
                "EUCitizen",
                "SexualExploitation",
            ),
            (2020, "Li", "Wei", "", "", "U", "CN", "NoLegalStatus", "CriminalExploitation;Other"),
            (2020, "Jan", "de Vries", "1980-05-06", "", "M", "PL", "EUCitizen", "ForcedLabour"),
        ]
    )
]


def test_extract_equals_ingest(registry: Registry, tmp_path: Path) -> None:
    # the labour inspectorate submits through the API
    with registry.api("inspection") as api:
        for row in ROWS:
            body = {k: v for k, v in row.items() if v != "" and k != "reporting_organisation"}
            body["shelter"] = body.get("shelter") == "1" if "shelter" in body else None
            body["age_at_exploitation"] = int(body["age_at_exploitation"])
            assert api.post("/api/registrations", json=body).status_code == 201
    store = tmp_path / "round.duckdb"
    svc.cli(
        "intake",
        "extract",
        "--database",
        registry.owner_url,
        "--round",
        "2020",
        "--store",
        str(store),
    )
    # the same rows through ingest, with the same key
    path = tmp_path / "registrations.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(r for r in ROWS if r["registration_date"].startswith("2020"))
    ingested = tmp_path / "ingest.duckdb"
    svc.cli("ingest", str(path), "--store", str(ingested), env={"THBMONITOR_KEY": svc.KEY})

    from thbmonitor.store import IDENTIFIER_COLUMNS, REGISTRATION_COLUMNS

    # the submitted registration ids are kept, as ingest keeps a file's
    compared = [
        c
        for c in (*REGISTRATION_COLUMNS, *IDENTIFIER_COLUMNS)
        if c not in ("source_sha256", "source_row")
    ]
    query = f"SELECT {', '.join(compared)} FROM registrations ORDER BY registration_date, tok_last"
    with (
        duckdb.connect(str(store), read_only=True) as a,
        duckdb.connect(str(ingested), read_only=True) as b,
    ):
        from_registry = a.execute(query).fetchall()
        from_ingest = b.execute(query).fetchall()
        kind = a.execute("SELECT kind FROM ingested_files").fetchall()
    # other tests share the registry and may submit registrations of 2020 too: this test's
    # own are told by their ids
    ref = compared.index("registration_id")
    registry_rows = [r for r in from_registry if r[ref] in {"X1", "X2", "X3"}]
    assert len(registry_rows) == 3 and kind == [("registrations",)]
    assert registry_rows == from_ingest
    # a second extract of the round into the same store adds nothing
    again = svc.cli(
        "intake",
        "extract",
        "--database",
        registry.owner_url,
        "--round",
        "2020",
        "--store",
        str(store),
        check=False,
    )
    assert again.returncode == 2
    # an id that another organisation submitted too is not kept (the registry's own instead)
    with registry.api("police") as api:
        clash = {
            k: v
            for k, v in ROWS[1].items()
            if v != "" and k not in ("reporting_organisation", "shelter")
        }
        clash.update(municipality="Arnhem", age_at_exploitation=20)
        answer = api.post("/api/registrations", json=clash)
        assert answer.status_code == 201, answer.text
    second = tmp_path / "second.duckdb"
    svc.cli(
        "intake",
        "extract",
        "--database",
        registry.owner_url,
        "--round",
        "2020",
        "--store",
        str(second),
    )
    with duckdb.connect(str(store), read_only=True) as c:
        (marta,) = c.execute(
            "SELECT tok_identity FROM registrations WHERE registration_id = 'X1'"
        ).fetchone()
    with duckdb.connect(str(second), read_only=True) as c:
        ids = c.execute(
            "SELECT municipality, registration_id FROM registrations "
            "WHERE registration_id IN ('X1', 'X2', 'X3') OR tok_identity = ? "
            "ORDER BY registration_id",
            [marta],
        ).fetchall()
    kept = [i for _, i in ids if i.startswith("X")]
    registrys = [m for m, i in ids if not i.startswith("X") and len(i) == 36]
    assert kept == ["X2", "X3"] and sorted(registrys) == ["Arnhem", "Venlo"]


def test_purge_deletes_what_retention_no_longer_allows(registry: Registry) -> None:
    def count(year: int) -> int:
        return svc.admin(
            "SELECT count(*) FROM registry_registration WHERE registration_year = %s",
            registry.db,
            [year],
        )[0][0]

    old = count(2011)  # other tests share the registry: count from what is there
    with registry.api("police") as api:
        api.post(
            "/api/registrations",
            json={
                "registration_date": "2011-06-01",
                "sex": "F",
                "nationality": "NL",
                "residence_status": "Unknown",
                "forms_of_exploitation": "Unknown",
            },
            headers={"Idempotency-Key": "purge-me"},
        )
    assert count(2011) == old + 1
    gone = svc.admin(
        "SELECT count(*) FROM registry_registration WHERE registration_date < '2012-01-01'",
        registry.db,
    )[0][0]
    kept = count(2020)
    done = svc.cli("intake", "purge", "--before", "2012-01-01", "--database", registry.owner_url)
    assert f"{gone} registrations dated before 2012-01-01 deleted" in done.stderr
    assert count(2011) == 0 and count(2020) == kept
    entries = svc.admin(
        "SELECT detail FROM registry_audit WHERE action = 'purge' ORDER BY seq", registry.db
    )
    assert entries[-1:] == [(f"before=2012-01-01 rows={gone}",)]
    assert svc.cli("intake", "verify-audit", "--database", registry.owner_url).returncode == 0


def test_add_user_prints_password_and_token_once(registry: Registry) -> None:
    done = svc.cli(
        "intake",
        "add-user",
        "nieuw@kmar.example",
        "--org",
        "Inspectie",
        "--role",
        "submitter",
        "--json",
        "--database",
        registry.owner_url,
    )
    printed = json.loads(done.stdout)
    assert set(printed) == {"user", "password", "token"}
    stored = str(
        svc.admin(
            "SELECT * FROM registry_user u JOIN registry_apitoken t "
            "ON t.user_id = u.id WHERE u.username = 'nieuw@kmar.example'",
            registry.db,
        )
    )
    assert printed["password"] not in stored and printed["token"] not in stored
    assert "argon2" in stored
    twice = svc.cli(
        "intake",
        "add-user",
        "nieuw@kmar.example",
        "--org",
        "Inspectie",
        "--role",
        "submitter",
        "--database",
        registry.owner_url,
        check=False,
    )
    assert twice.returncode == 2 and "exists already" in twice.stderr


def test_an_organisation_profile_that_does_not_load_is_refused(registry: Registry) -> None:
    done = svc.cli(
        "intake",
        "add-org",
        "Nergens",
        "--type",
        "Other",
        "--profile",
        "no-such-profile",
        "--database",
        registry.owner_url,
        check=False,
    )
    assert done.returncode == 2 and "not a shipped profile" in done.stderr
    assert not svc.admin("SELECT 1 FROM registry_organisation WHERE name = 'Nergens'", registry.db)
