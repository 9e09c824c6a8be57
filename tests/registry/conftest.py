"""The registry's tests share one database and one running service (each test module is in
the xdist group "registry", so one worker runs them all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry.service import (
    Browserless,
    Registry,
    drop_database,
    make_registry,
    pg_or_skip,
)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    pg_or_skip()
    reg = make_registry(Path(tmp_path_factory.mktemp("registry")))
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()
        drop_database(reg.db)


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    yield
    Browserless.close_all()
