"""The JSON API: submit, list, read, correct; idempotency; 404 across organisations; 4xx on
bad input, with the same validation as ingest and never a submitted value in an answer."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import tests.registry.service as svc
from tests.registry.service import Registry

from thbmonitor.schema import REGISTRATION_FIELDS

pytestmark = pytest.mark.xdist_group("registry")

VALID = {
    "registration_date": "2020-03-04",
    "first_names": "Eva Maria",
    "last_name": "van Dijk",
    "date_of_birth": "2004-02-03",
    "sex": "F",
    "nationality": "NL",
    "residence_status": "DutchNational",
    "forms_of_exploitation": "SexualExploitation;ForcedLabour",
    "municipality": "Utrecht",
    "shelter": True,
}


def test_submit_list_read_correct(registry: Registry) -> None:
    with registry.api("police") as api:
        created = api.post("/api/registrations", json=VALID)
        assert created.status_code == 201, created.text
        reg_id = created.json()["id"]
        uuid.UUID(reg_id)
        listed = api.get("/api/registrations", params={"limit": 500}).json()
        assert reg_id in [r["id"] for r in listed["items"]]
        one = api.get(f"/api/registrations/{reg_id}").json()
        assert one["reporting_organisation"] == "Police"
        assert one["monitor_group"] == "domestic_sexual"
        assert one["age_band"] == "minor"
        assert one["identifiers_given"] == ["name", "date_of_birth"]
        # identifiers are write-only: no answer holds them
        for value in ("Eva", "Dijk", "2004-02-03"):
            assert value not in created.text + str(listed) + str(one)
        fixed = api.patch(f"/api/registrations/{reg_id}", json={"municipality": "Zeist"})
        assert fixed.status_code == 200 and fixed.json()["municipality"] == "Zeist"
        assert fixed.json()["age_band"] == "minor"  # identifiers kept


def test_correcting_the_date_needs_the_identifiers_again(registry: Registry) -> None:
    with registry.api("police") as api:
        reg_id = api.post("/api/registrations", json=VALID).json()["id"]
        refused = api.patch(
            f"/api/registrations/{reg_id}", json={"registration_date": "2021-03-04"}
        )
        assert refused.status_code == 422
        assert {p["field"] for p in refused.json()["detail"]} == {
            "first_names",
            "last_name",
            "date_of_birth",
            "identity_number",
            "date_of_birth_estimated",
        }
        again = {k: VALID[k] for k in ("first_names", "last_name", "date_of_birth")}
        done = api.patch(
            f"/api/registrations/{reg_id}",
            json={
                "registration_date": "2021-03-04",
                "identity_number": None,
                "date_of_birth_estimated": None,
                **again,
            },
        )
        assert done.status_code == 200, done.text
        assert done.json()["age_band"] == "minor"


def test_another_organisations_registration_is_not_found(registry: Registry) -> None:
    with registry.api("police") as police, registry.api("inspection") as other:
        reg_id = police.post("/api/registrations", json=VALID).json()["id"]
        assert other.get(f"/api/registrations/{reg_id}").status_code == 404
        assert other.patch(f"/api/registrations/{reg_id}", json={"sex": "M"}).status_code == 404
        assert reg_id not in [r["id"] for r in other.get("/api/registrations").json()["items"]]
        missing = other.get(f"/api/registrations/{uuid.uuid4()}")
        assert missing.status_code == 404 and missing.json() == {"detail": "no such registration"}
        assert police.get(f"/api/registrations/{reg_id}").json()["sex"] == "F"


def test_idempotency_key_stores_once(registry: Registry) -> None:
    key = uuid.uuid4().hex
    with registry.api("police") as api:
        first = api.post("/api/registrations", json=VALID, headers={"Idempotency-Key": key})
        again = api.post("/api/registrations", json=VALID, headers={"Idempotency-Key": key})
        assert first.status_code == 201 and again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        other = api.post(
            "/api/registrations", json={**VALID, "sex": "M"}, headers={"Idempotency-Key": key}
        )
        assert other.status_code == 422
        assert other.json()["detail"][0]["field"] == "Idempotency-Key"


def test_every_problem_at_once_by_field_never_the_value(registry: Registry) -> None:
    bad = {
        **VALID,
        "registration_date": "2020-02-30",
        "sex": "X",
        "nationality": "Dutch",
        "date_of_birth": "2021-01-01",
        "forms_of_exploitation": "Bedelarij",
    }
    with registry.api("police") as api:
        answer = api.post("/api/registrations", json=bad)
    assert answer.status_code == 422
    fields = [p["field"] for p in answer.json()["detail"]]
    assert set(fields) == {"registration_date", "sex", "nationality", "forms_of_exploitation"}
    for value in ("2020-02-30", "Dutch", "Bedelarij", "van Dijk"):
        assert value not in answer.text


def test_consent_is_required_where_the_rules_say(registry: Registry) -> None:
    with registry.api("care") as care, registry.api("inspection") as inspection:
        refused = care.post("/api/registrations", json=VALID)
        assert refused.status_code == 422
        assert [p["field"] for p in refused.json()["detail"]] == ["consent"]
        assert care.post("/api/registrations", json={**VALID, "consent": True}).status_code == 201
        # the labour inspectorate must report: no consent needed
        assert inspection.post("/api/registrations", json=VALID).status_code == 201


def test_matching_person_of_own_organisation_only(registry: Registry) -> None:
    person = {
        **VALID,
        "last_name": "Test" + uuid.uuid4().hex[:8],
        "consent": True,
        "identity_number": "NX" + uuid.uuid4().hex[:8],
    }
    with registry.api("police") as police, registry.api("care") as care:
        assert (
            police.post("/api/registrations", json=person).json()["matching_own_registrations"] == 0
        )
        # another organisation learns nothing of the police's registration
        assert (
            care.post("/api/registrations", json=person).json()["matching_own_registrations"] == 0
        )
        assert (
            police.post("/api/registrations", json=person).json()["matching_own_registrations"] == 1
        )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**VALID, "unknown_field": "x"}, 422),
        ({**VALID, "sex": 1}, 422),
        ({**VALID, "shelter": "maybe"}, 422),
        ({**VALID, "age_at_exploitation": 500}, 422),
        ({**VALID, "municipality": "x" * 5000}, 422),
        ({k: v for k, v in VALID.items() if k != "sex"}, 422),
        ([VALID], 422),
    ],
)
def test_bad_bodies_get_a_clear_4xx(registry: Registry, body: object, status: int) -> None:
    with registry.api("police") as api:
        answer = api.post("/api/registrations", json=body)
    assert answer.status_code == status
    assert answer.json()["detail"]
    assert "x" * 100 not in answer.text


def test_oversized_and_malformed_bodies(registry: Registry) -> None:
    with registry.api("police") as api:
        huge = api.post(
            "/api/registrations",
            content=b'{"a": "' + b"x" * 200_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert huge.status_code == 413
        broken = api.post(
            "/api/registrations", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert 400 <= broken.status_code < 500


def test_tokens_and_roles(registry: Registry) -> None:
    with registry.api("analyst") as analyst:
        assert analyst.get("/api/registrations").status_code == 403
    import httpx

    anonymous = httpx.get(f"{registry.base}/api/registrations")
    assert anonymous.status_code == 401
    forged = httpx.get(
        f"{registry.base}/api/registrations", headers={"Authorization": "Bearer thb_forged"}
    )
    assert forged.status_code == 401


def test_openapi_description_names_the_endpoints(registry: Registry) -> None:
    import httpx

    spec = httpx.get(f"{registry.base}/api/openapi.json").json()
    assert set(spec["paths"]) == {"/api/registrations", "/api/registrations/{reg_id}"}
    assert set(spec["paths"]["/api/registrations/{reg_id}"]) == {"get", "patch"}
    assert spec["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }
    # the body: the registrations file's field names, nothing else
    body = spec["components"]["schemas"]["RegistrationIn"]
    assert list(body["properties"]) == [f.name for f in REGISTRATION_FIELDS]
    assert body["additionalProperties"] is False
    assert set(body["required"]) == {
        f.name
        for f in REGISTRATION_FIELDS
        if f.required and f.name not in ("registration_id", "reporting_organisation")
    }
    post = spec["paths"]["/api/registrations"]["post"]
    assert [(p["name"], p["in"]) for p in post["parameters"]] == [("Idempotency-Key", "header")]


def test_every_answer_is_described(registry: Registry) -> None:
    """Each status the API answers is among its operation's responses in the OpenAPI
    description (a client generated from it knows every answer)."""
    import httpx

    spec = httpx.get(f"{registry.base}/api/openapi.json").json()["paths"]
    one = "/api/registrations/{reg_id}"
    seen: set[tuple[str, str, int]] = set()
    with registry.api("police") as api, registry.api("analyst") as analyst:
        created = api.post("/api/registrations", json=VALID)
        reg = f"/api/registrations/{created.json()['id']}"
        answers = [
            ("/api/registrations", "post", created),
            ("/api/registrations", "post", api.post("/api/registrations", json={"sex": 1})),
            ("/api/registrations", "post", analyst.post("/api/registrations", json=VALID)),
            ("/api/registrations", "post", httpx.post(f"{registry.base}/api/registrations")),
            (
                "/api/registrations",
                "post",
                api.post("/api/registrations", content=b"x" * 200_000),
            ),
            (
                "/api/registrations",
                "post",
                api.post(
                    "/api/registrations",
                    content=b"{not json",
                    headers={"Content-Type": "application/json"},
                ),
            ),
            ("/api/registrations", "get", api.get("/api/registrations")),
            ("/api/registrations", "get", analyst.get("/api/registrations")),
            ("/api/registrations", "get", httpx.get(f"{registry.base}/api/registrations")),
            (one, "get", api.get(reg)),
            (one, "get", api.get(f"/api/registrations/{uuid.uuid4()}")),
            (one, "patch", api.patch(reg, json={"municipality": "Ede"})),
            (one, "patch", api.patch(reg, json={"sex": "X"})),
            (one, "patch", api.patch(f"/api/registrations/{uuid.uuid4()}", json={})),
        ]
    for path, method, answer in answers:
        seen.add((path, method, answer.status_code))
        described = spec[path][method]["responses"]
        assert str(answer.status_code) in described, (path, method, answer.status_code)
    assert {code for _, _, code in seen} >= {200, 201, 401, 403, 404, 413, 422}


def test_concurrent_submissions_commit_together_each_under_its_own_organisation(
    registry: Registry,
) -> None:
    """Concurrent submissions share a transaction (group commit): each keeps its submitter's
    organisation and audit entry, and a reused reference refuses that submission only."""
    orgs = {"police": "Politie Oost", "inspection": "Inspectie"}
    ids = dict(svc.admin("SELECT username, id FROM registry_user", registry.db))

    def who(i: int) -> str:
        return "police" if i % 2 else "inspection"

    def submit(run: str, i: int) -> tuple[int, str]:
        ref = f"{run}-{i}" if i != 5 else f"{run}-taken"  # 5 reuses a police reference
        with registry.api(who(i)) as api:
            answer = api.post("/api/registrations", json={**VALID, "registration_id": ref})
        return answer.status_code, answer.text

    shared = 0
    for _ in range(3):  # until a group held two registrations (almost always the first time)
        run = uuid.uuid4().hex[:8]
        with registry.api("police") as api:
            taken = {**VALID, "registration_id": f"{run}-taken"}
            assert api.post("/api/registrations", json=taken).status_code == 201
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda i, run=run: submit(run, i), range(12)))
        assert [code for code, _ in answers] == [422 if i == 5 else 201 for i in range(12)]
        assert "registration_id" in answers[5][1]
        rows = svc.admin(
            "SELECT r.reference, o.name, r.created_at, u.username, a.actor "
            "FROM registry_registration r JOIN registry_organisation o ON o.id = r.org_id "
            "JOIN registry_user u ON u.id = r.created_by JOIN registry_audit a "
            "ON a.object_id = r.id::text AND a.action = 'registration.insert' "
            "WHERE r.reference LIKE %s AND r.reference <> %s",
            registry.db,
            [f"{run}-%", f"{run}-taken"],
        )
        assert len(rows) == 11
        for ref, org, _, username, actor in rows:
            submitter = who(int(ref.rsplit("-", 1)[1]))
            assert org == orgs[submitter]
            assert username == registry.users[submitter]["user"]
            assert actor == f"user:{ids[username]}"
        shared = len(rows) - len(
            {began for _, _, began, _, _ in rows}
        )  # now(): one per transaction
        if shared:
            break
    assert shared > 0, "no two concurrent submissions were committed in one transaction"


def test_submissions_are_validated_in_the_intake_process(registry: Registry) -> None:
    """The service's intake process (forked by serve before its workers) validates and
    pseudonymises the workers' submissions: it reads each submission from its socket and
    writes the prepared row back (counted by the kernel in /proc/<pid>/io; its CPU time is
    no measure: five submissions cost it less than a clock tick)."""
    from pathlib import Path

    found = re.findall(r"intake process (\d+) validates", registry.log.read_text())
    assert found, "serve did not start its intake process"
    pid = found[-1]

    def parent() -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])

    def io() -> tuple[int, int]:
        counts = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        return int(counts["rchar"]), int(counts["wchar"])

    assert registry.process is not None and parent() == registry.process.pid
    read, written = io()
    with registry.api("police") as api:
        for _ in range(5):
            assert api.post("/api/registrations", json=VALID).status_code == 201
    read_now, written_now = io()
    assert read_now - read > 5 * 300  # five submissions in
    assert written_now - written > 5 * 1000  # five rows of tokens and Bloom filters out


def test_concurrent_retries_of_one_key_store_it_once(registry: Registry) -> None:
    key = uuid.uuid4().hex
    body = {**VALID, "last_name": "Retry" + key[:8]}

    def post(_: int) -> tuple[int, str]:
        with registry.api("police") as api:
            answer = api.post("/api/registrations", json=body, headers={"Idempotency-Key": key})
        return answer.status_code, answer.json().get("id", "")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {code for code, _ in answers} == {201} and len({i for _, i in answers}) == 1
    stored = svc.admin(
        "SELECT count(*) FROM registry_idempotencykey WHERE key = %s", registry.db, [key]
    )
    assert stored == [(1,)]
