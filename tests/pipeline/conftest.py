"""One small demo run shared by the end-to-end tests (synthetic world at a fifth of the size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor.config import Settings
from thbmonitor.pipeline import RunResult, run_demo

SCALE = 0.25
BACKGROUND = 40_000


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    out: Path = tmp_path_factory.mktemp("demo")
    return run_demo(out, Settings(seed=11), scale=SCALE, background_events=BACKGROUND)
