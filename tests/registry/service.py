"""A registry for tests: a fresh PostgreSQL database, migrated, with organisations and users,
and the service running on a free loopback port (the real ``thbmonitor serve``)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

PG = os.environ.get("THBMONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
KEY = "registry-test-key-" + "0123456789abcdef" * 2
CLI = [sys.executable, "-c", "from thbmonitor.cli import main; main()"]

ORGS = {
    "Politie Oost": "Police",
    "Zorg Zuid": "NGOCare",
    "Inspectie": "LabourInspectorate",
    "Registratiecentrum": "Other",
    "Marechaussee": "KMar",
    "Partner HTCDS": "NGOCare",
}
PROFILES = {"Partner HTCDS": "htcds"}  # its uploads are in the HTCDS profile's layout
USERS = {
    "police": ("politie@example.org", "Politie Oost", "submitter"),
    "care": ("zorg@example.org", "Zorg Zuid", "submitter"),
    "inspection": ("inspectie@example.org", "Inspectie", "submitter"),
    "care_admin": ("beheer@example.org", "Zorg Zuid", "org_admin"),
    "analyst": ("analist@example.org", "Registratiecentrum", "analyst"),
    "auditor": ("auditor@example.org", "Registratiecentrum", "auditor"),
    "kmar": ("kmar@example.org", "Marechaussee", "submitter"),
    "htcds": ("partner@example.org", "Partner HTCDS", "submitter"),
}


def pg_or_skip() -> None:
    """PostgreSQL must run; in CI a missing server is a failure, elsewhere a skip."""
    import psycopg

    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running at 127.0.0.1:5432 (make test starts it)")
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")


def cli(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args[:2]} failed ({done.returncode}):\n{done.stderr}")
    return done


def admin(sql: str, db: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"{PG}/{db}", autocommit=True) as con:
        cur = con.execute(sql, params)
        return cur.fetchall() if cur.description else []


TEST_PREFIX = "thb_test_"  # every database the tests make: thb_test_<pid>_<what>_<random>


def new_database(what: str = "registry", template: str | None = None) -> str:
    """A new database (a copy of ``template`` when given: CREATE DATABASE ... TEMPLATE copies
    a migrated registry in a fraction of a second). Its name carries this process's id, so
    that :func:`drop_stale_databases` can tell a leftover of a killed run."""
    name = f"{TEST_PREFIX}{os.getpid()}_{what}_{uuid.uuid4().hex[:8]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin(f'CREATE DATABASE "{name}"{copy}', "postgres")
    return name


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', "postgres")


def drop_stale_databases() -> list[str]:
    """Drop the test databases of test processes that no longer run (a run killed before it
    could drop its own); another live run's databases are left alone."""
    stale = []
    for (name,) in admin(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", "postgres", [TEST_PREFIX + "%"]
    ):
        pid = name[len(TEST_PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            admin(f'ALTER DATABASE "{name}" IS_TEMPLATE false', "postgres")
            drop_database(name)
            stale.append(name)
    return stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    db: str
    port: int
    users: dict[str, dict[str, str]]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def owner_url(self) -> str:
        return f"{PG}/{self.db}"

    @property
    def service_url(self) -> str:
        return PG.replace("postgres@", "thbmonitor_service@") + f"/{self.db}"

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    def api(self, who: str) -> httpx.Client:
        token = self.users[who]["token"]
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def start(self, workers: int = 1, threads: int = 8) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *CLI,
                    "serve",
                    "--database",
                    self.service_url,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--access-log",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "THBMONITOR_KEY": KEY},
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("serve exited:\n" + self.log.read_text())
            try:
                if httpx.get(f"{self.base}/api/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError("serve did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


SETUP = """
import json, sys
from thbmonitor.registry.settings import Registry, configure
configure(sys.argv[1], Registry(None))
from thbmonitor.registry.accounts import add_org, add_user
orgs, users, profiles = (json.loads(a) for a in sys.argv[2:5])
for name, kind in orgs.items():
    add_org(name, kind, "test", profiles.get(name, ""))
out = {}
for who, (email, org, role) in users.items():
    new = add_user(email, org, role, "test")
    out[who] = {"user": new.user, "password": new.password, "token": new.token}
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Template:
    """A migrated registry with the organisations and users above, never served: the tests'
    registries are copies of it."""

    db: str
    users: dict[str, dict[str, str]]

    def copy(self, what: str) -> str:
        return new_database(what, template=self.db)


def make_template() -> Template:
    """Migrate a new database with ``thbmonitor intake migrate`` and add the organisations and
    users with the functions behind ``intake add-org`` and ``add-user``, in one process (the
    commands themselves are tested in test_extract)."""
    db = new_database("template")
    url = f"{PG}/{db}"
    try:
        cli("intake", "migrate", "--database", url)
        done = subprocess.run(
            [sys.executable, "-c", SETUP, url, *map(json.dumps, (ORGS, USERS, PROFILES))],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    except BaseException:
        drop_database(db)
        raise
    return Template(db, json.loads(done.stdout))


def make_registry(template: Template, tmp: Path) -> Registry:
    """A copy of the template, to be served (the service not started)."""
    users = {who: dict(user) for who, user in template.users.items()}
    return Registry(template.copy("registry"), free_port(), users, tmp / "serve.log")


class Browserless:
    """A web session over plain HTTP on loopback: keeps the Secure cookies a browser keeps for
    localhost (httpx's cookie jar sends Secure cookies over https only)."""

    opened: list[Browserless] = []  # noqa: RUF012  (closed after each test by conftest)

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        Browserless.opened.append(self)

    @classmethod
    def close_all(cls) -> None:
        while cls.opened:
            cls.opened.pop().client.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, url, headers=headers, **kwargs)
        for raw in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def csrf(self, url: str) -> str:
        page = self.get(url)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {url}"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, data=data, **kwargs)

    def login(self, email: str, password: str, lang: str = "en") -> httpx.Response:
        token = self.csrf(f"/{lang}/login/")
        return self.post(
            f"/{lang}/login/",
            {"csrfmiddlewaretoken": token, "username": email, "password": password},
        )
