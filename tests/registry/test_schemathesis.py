"""Schemathesis fuzzes the API from its OpenAPI description: no server error (5xx) for any
generated request, valid or not, with a submitter's token."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.registry.service import Registry

pytestmark = pytest.mark.xdist_group("registry")


def test_no_server_error(registry: Registry, tmp_path: Path) -> None:
    token = registry.users["police"]["token"]
    st = Path(sys.executable).with_name("schemathesis")
    done = subprocess.run(
        [
            str(st),
            "run",
            f"{registry.base}/api/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "25",
            "--seed",
            "16",
            "--suppress-health-check",
            "all",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\d+ generated, \d+ passed", done.stdout), done.stdout[-2000:]
