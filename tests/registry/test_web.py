"""The web pages as an attacker and a user meet them: headers, cookies, CSRF, sign-in
throttling, one-time passwords, escaping, the form's errors (nl, en), upload, roles, logs."""

from __future__ import annotations

import re
from typing import Any

import pytest
import tests.registry.service as svc
from tests.registry.service import Browserless, Registry
from tests.registry.test_api import VALID

pytestmark = pytest.mark.xdist_group("registry")
NEW_PASSWORD = "a settled passphrase 4 tests"


def signed_in(registry: Registry, who: str, lang: str = "en") -> Browserless:
    """A session of ``who``, with the one-time password changed on first use."""
    web = Browserless(registry.base)
    user = registry.users[who]
    if not user.get("settled"):
        answer = web.login(user["user"], user["password"], lang)
        assert answer.status_code == 302, answer.text
        gate = web.get(f"/{lang}/registrations/")
        assert gate.status_code == 302 and gate.headers["location"].endswith("/password/")
        token = web.csrf(f"/{lang}/password/")
        changed = web.post(
            f"/{lang}/password/",
            {
                "csrfmiddlewaretoken": token,
                "old_password": user["password"],
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 302, changed.text
        user["settled"] = NEW_PASSWORD
        return web
    answer = web.login(user["user"], user["settled"], lang)
    assert answer.status_code == 302, answer.text
    return web


def test_headers_and_cookies(registry: Registry) -> None:
    web = Browserless(registry.base)
    page = web.get("/en/login/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in page.text and " style=" not in page.text
    cookie = page.headers["set-cookie"]
    assert "__Host-csrftoken" in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert flag in cookie
    token = web.csrf("/en/login/")
    user = registry.users["analyst"]
    signed = web.post(
        "/en/login/",
        {
            "csrfmiddlewaretoken": token,
            "username": user["user"],
            "password": user.get("settled") or user["password"],
        },
    )
    session = [c for c in signed.headers.get_list("set-cookie") if c.startswith("__Host-session")]
    assert session
    for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert flag in session[0]


def test_csrf_is_required_on_every_form(registry: Registry) -> None:
    web = signed_in(registry, "police")
    for url in ("/en/registrations/new/", "/en/upload/", "/en/password/", "/en/logout/"):
        refused = web.post(url, {"sex": "F"})
        assert refused.status_code == 403, url
    anonymous = Browserless(registry.base)
    assert anonymous.post("/en/login/", {"username": "x@y.z", "password": "p"}).status_code == 403


def test_sign_in_is_throttled(registry: Registry) -> None:
    web = Browserless(registry.base)
    user = registry.users["inspection"]
    for _ in range(4):
        assert web.login(user["user"], "wrong password!").status_code == 200
    assert web.login(user["user"], "wrong password!").status_code == 429  # the fifth
    locked = web.login(user["user"], user["password"])  # the right one, too late
    assert locked.status_code == 429
    assert "15 minutes" in locked.text
    failures = svc.admin(
        "SELECT count(*) FROM registry_audit WHERE action = 'login.failed'", registry.db
    )[0][0]
    assert failures >= 5


def test_form_errors_next_to_their_fields_in_dutch(registry: Registry) -> None:
    web = signed_in(registry, "police", "nl")
    token = web.csrf("/nl/registrations/new/")
    answer = web.post(
        "/nl/registrations/new/",
        {
            "csrfmiddlewaretoken": token,
            "registration_date": "2020-05-01",
            "sex": "",
            "nationality": "NL",
            "residence_status": "DutchNational",
            "forms_of_exploitation": "ForcedLabour",
            "last_name": "Bakker-Testpersoon",
        },
    )
    assert answer.status_code == 422
    html = answer.text
    assert '<html lang="nl">' in html
    assert re.search(r'id="err_sex">is verplicht maar leeg<', html)
    assert re.search(
        r'<select name="sex" id="id_sex"[^>]*aria-invalid="true" '
        r'aria-describedby="err_sex"',
        html,
    )
    assert 'href="#id_sex"' in html  # the summary links to the field
    assert "no-store" in answer.headers["cache-control"]  # what was typed is not cached
    done = web.post(
        "/nl/registrations/new/",
        {
            "csrfmiddlewaretoken": token,
            "registration_date": "2020-05-01",
            "sex": "M",
            "nationality": "NL",
            "residence_status": "DutchNational",
            "forms_of_exploitation": "ForcedLabour",
            "forms_of_exploitation_more": ["Servitude"],
            "municipality": "Lelystad",
        },
    )
    assert done.status_code == 302
    listed = web.get("/nl/registrations/").text
    assert "De registratie is opgeslagen." in listed
    assert "ForcedLabour;Servitude" in listed


def test_every_error_is_announced_by_its_control(registry: Registry) -> None:
    """A screen reader reads a control's errors through aria-describedby: a field with two
    problems names both, every id on the page is unique, and every control has its label."""
    web = signed_in(registry, "police")
    answer = web.post(
        "/en/registrations/new/",
        {
            "csrfmiddlewaretoken": web.csrf("/en/registrations/new/"),
            "registration_date": "2020-05-01",
            "sex": "F",
            "nationality": "N\x01L",  # a control character, and no country code
            "residence_status": "DutchNational",
            "forms_of_exploitation": "ForcedLabour",
        },
    )
    assert answer.status_code == 422
    html = answer.text
    errors = re.findall(r'<p class="error" id="(err_nationality[^"]*)">', html)
    assert len(errors) == 2
    control = re.search(r'<input [^>]*name="nationality"[^>]*>', html)
    assert control is not None
    described = re.search(r'aria-describedby="([^"]*)"', control.group(0))
    assert described is not None and described.group(1).split() == errors
    assert 'aria-invalid="true"' in control.group(0)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "an id is used twice"
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = re.findall(r'<(?:input|select|textarea) [^>]*\bid="([^"]+)"', html)
    assert controls and set(controls) <= labelled


def test_output_is_escaped(registry: Registry) -> None:
    with registry.api("police") as api:
        reg = api.post(
            "/api/registrations", json={**VALID, "municipality": "<script>alert(1)</script>"}
        )
    html = signed_in(registry, "police").get(f"/en/registrations/{reg.json()['id']}/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_roles_see_their_own_pages(registry: Registry) -> None:
    analyst = signed_in(registry, "analyst")
    page = analyst.get("/en/registrations/")
    assert page.status_code == 200 and "Zorg" not in page.text  # types, not names, are shown
    assert analyst.get("/en/upload/").status_code == 403
    assert analyst.get("/en/audit/").status_code == 403
    auditor = signed_in(registry, "auditor")
    # The page shows the newest entries first; other tests share this registry and may have
    # filled a page since their inserts, so this test makes its own insert just before reading.
    with registry.api("police") as api:
        assert api.post("/api/registrations", json=VALID).status_code == 201
    assert "registration.insert" in auditor.get("/en/audit/").text
    assert auditor.get("/en/registrations/").status_code == 403
    admin = signed_in(registry, "care_admin")
    token = admin.csrf("/en/users/")
    added = admin.post(
        "/en/users/",
        {"csrfmiddlewaretoken": token, "email": "nieuw@zorg.example", "role": "submitter"},
    )
    assert added.status_code == 200 and "thb_" in added.text
    refused = admin.post(
        "/en/users/",
        {"csrfmiddlewaretoken": token, "email": "baas@zorg.example", "role": "analyst"},
    )
    assert refused.status_code == 422


CSV_HEAD = (
    "registration_id,registration_date,first_names,last_name,date_of_birth,sex,"
    "nationality,residence_status,forms_of_exploitation,consent\n"
)


def test_upload_all_or_nothing(registry: Registry) -> None:
    web = signed_in(registry, "care")
    bad = CSV_HEAD + (
        "u1,2019-01-05,Ana,Lopes,1990-01-01,F,BR,NoLegalStatus,ForcedLabour,1\n"
        "u2,2019-01-06,Ion,Popescu,1985-13-01,M,RO,EUCitizen,ForcedLabour,0\n"
    )
    token = web.csrf("/en/upload/")
    answer = web.post(
        "/en/upload/",
        {"csrfmiddlewaretoken": token},
        files={"file": ("batch.csv", bad.encode(), "text/csv")},
    )
    assert answer.status_code == 422
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td>", answer.text)
    assert rows == [("2", "Date of birth"), ("2", "The victim consented to registration")]
    assert "Popescu" not in answer.text and "1985-13-01" not in answer.text
    assert not svc.admin("SELECT 1 FROM registry_registration WHERE reference = 'u1'", registry.db)
    good = bad.replace("1985-13-01", "1985-12-01").replace("ForcedLabour,0", "ForcedLabour,1")
    stored = web.post(
        "/en/upload/",
        {"csrfmiddlewaretoken": token},
        files={"file": ("batch.csv", good.encode(), "text/csv")},
    )
    assert stored.status_code == 302
    assert "2 rows were stored." in web.get("/en/registrations/").text
    again = web.post(
        "/en/upload/",
        {"csrfmiddlewaretoken": token},
        files={"file": ("batch.csv", good.encode(), "text/csv")},
    )
    assert again.status_code == 302
    assert "uploaded before" in web.get("/en/registrations/").text


def test_upload_in_the_organisations_profile_layout(registry: Registry) -> None:
    """An organisation with the HTCDS profile uploads HTCDS column names and values (Yes/No,
    Feminine, ...): they are read into the registrations file's layout; a value the profile
    cannot map is a problem of its row and field."""
    web = signed_in(registry, "htcds")
    assert "htcds" in web.get("/en/upload/").text
    head = (
        "ext_RegistrationId,cas_IncomingReferralDate,prs_FirstName,prs_SecondName,"
        "prs_Birthdate,prs_Gender,prs_Citizenship,ext_ResidenceStatus,"
        "vic_TypeOfExploitation,ext_Shelter,con_Consent\n"
    )
    rows = (
        "h1,2019-02-05,Ana,Lopes,1990-01-01,Feminine,BR,NoLegalStatus,ForcedLabour,Yes,Yes\n"
        "h2,2019-02-06,Ion,Popescu,1985-11-01,Masculine,RO,EUCitizen,ForcedLabour,No,Yes\n"
    )
    token = web.csrf("/en/upload/")

    def send(text: str) -> Any:
        return web.post(
            "/en/upload/",
            {"csrfmiddlewaretoken": token},
            files={"file": ("htcds.csv", text.encode(), "text/csv")},
        )

    refused = send(head + rows.replace("Masculine", "Mannish"))
    assert refused.status_code == 422
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td>", refused.text) == [("2", "Sex")]
    assert send(head + rows).status_code == 302
    stored = svc.admin(
        "SELECT reference, sex, shelter, consent, residence_status FROM registry_registration "
        "WHERE reference IN ('h1', 'h2') ORDER BY reference",
        registry.db,
    )
    assert stored == [
        ("h1", "F", True, True, "NoLegalStatus"),
        ("h2", "M", False, True, "EUCitizen"),
    ]


def test_no_identifier_in_any_log_line(registry: Registry) -> None:
    # submissions of its own (the test may run first): stored, refused, and as a form
    with registry.api("police") as api:
        assert api.post("/api/registrations", json=VALID).status_code == 201
        wrong = {**VALID, "last_name": "Bakker", "date_of_birth": "1990-01-01", "sex": "X"}
        assert api.post("/api/registrations", json=wrong).status_code == 422
    web = signed_in(registry, "police")
    token = web.csrf("/en/registrations/new/")
    form = {**wrong, "csrfmiddlewaretoken": token, "first_names": "Lopes", "shelter": ""}
    assert web.post("/en/registrations/new/", form).status_code == 422
    log = registry.log.read_text()
    assert "POST /api/registrations" in log  # the access log is on
    for value in ("Eva", "Dijk", "2004-02-03", "Lopes", "Popescu", "Bakker", "1990-01-01"):
        assert value not in log
