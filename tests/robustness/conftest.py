"""A tiny synthetic world for the robustness tests (generated once per session, in seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor.synth import WorldParams, generate

SCALE = 0.05  # about 660 registrations
BACKGROUND = 3000  # police events of non-victims (and about 1,200 residents)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with registrations.csv, police_register.parquet, population_register.parquet,
    population_denominators.csv and truth/ (do not write into it: copy what a test changes)."""
    root = tmp_path_factory.mktemp("tiny_world")
    generate(WorldParams(scale=SCALE, background_events=BACKGROUND, seed=11), root)
    return root
