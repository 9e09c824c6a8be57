"""The registry's tests share one running service on a copy of a migrated template database
(each test module is in the xdist group "registry", so one worker runs them all); a test that
must break a registry gets a copy of its own (``lone_registry``). Every database is dropped at
the end, and leftovers of killed runs at the start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry.service import (
    Browserless,
    Registry,
    Template,
    drop_database,
    drop_stale_databases,
    make_registry,
    make_template,
    pg_or_skip,
)


@pytest.fixture(scope="session")
def registry_template() -> Iterator[Template]:
    pg_or_skip()
    drop_stale_databases()
    template = make_template()
    try:
        yield template
    finally:
        drop_database(template.db)


@pytest.fixture(scope="session")
def registry(
    registry_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    reg = make_registry(registry_template, Path(tmp_path_factory.mktemp("registry")))
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()
        drop_database(reg.db)


@pytest.fixture
def lone_registry(registry_template: Template) -> Iterator[str]:
    """A copy of the template of its own (not served), for a test that breaks it."""
    db = registry_template.copy("lone")
    try:
        yield db
    finally:
        drop_database(db)


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    yield
    Browserless.close_all()
